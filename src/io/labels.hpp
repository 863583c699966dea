// Labels of rows (filtered search, issue 7): DiskANN's text format, line i = the comma-separated
// labels of row i (an empty line: none). Names map to dense u32 ids in order of first use.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <strata/status.hpp>

namespace strata::io {

class LabelSets {
  public:
    uint64_t rows() const { return offsets_.size() - 1; }
    uint32_t label_count() const { return static_cast<uint32_t>(names_.size()); }
    /// The label ids of `row`, ascending, without repeats.
    std::span<const uint32_t> of(uint64_t row) const {
        return {labels_.data() + offsets_[row], labels_.data() + offsets_[row + 1]};
    }
    bool has(uint64_t row, uint32_t label) const;
    const std::string& name(uint32_t id) const { return names_[id]; }
    /// NotFound naming the label when no row carries it.
    Result<uint32_t> id(std::string_view name) const;
    /// Rows carrying each label.
    std::vector<uint64_t> counts() const;

    /// Gives `name` the next id if it has none (no row is added): fixes the id order.
    void add_name(std::string_view name);
    /// Appends a row with labels `names` (each 1-256 bytes, no ',' or line break).
    Status add_row(std::span<const std::string_view> names);

  private:
    std::vector<std::string> names_;
    std::unordered_map<std::string, uint32_t> ids_;
    std::vector<uint64_t> offsets_{0};
    std::vector<uint32_t> labels_;
};

/// Reads a labels file. InvalidArgument naming the line for an empty label ("a,,b"), a label
/// over 256 bytes, or (when expected_rows > 0) a row count other than expected_rows.
/// `names_first` get ids 0, 1, ... in that order (whether rows use them or not); the file's
/// other names follow in order of first use.
Result<LabelSets> read_labels(const std::string& path, uint64_t expected_rows = 0,
                              std::span<const std::string> names_first = {});
/// One label per row drawn from a Zipf distribution over `labels` labels named L0, L1, ...
/// (P(L_i) proportional to 1 / (i + 1)^exponent: L0 the most frequent). Deterministic in `seed`.
Result<LabelSets> zipf_labels(uint64_t rows, uint32_t labels, double exponent, uint64_t seed);
/// Writes `labels` in the same format, atomically.
Status write_labels(const std::string& path, const LabelSets& labels);

}  // namespace strata::io
