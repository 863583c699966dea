// IndexReader: opens a finished index directory after checking its header, layout and file set.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <strata/status.hpp>
#include <strata/types.hpp>

#include "disk/dir_util.hpp"
#include "disk/format.hpp"
#include "io/file_util.hpp"

namespace strata::disk {

/// A companion file mapped read-only; payload() skips its header. Movable, not copyable.
class CompanionMapping {
  public:
    const CompanionHeader& header() const { return header_; }
    std::span<const uint8_t> payload() const {
        return {file_.data() + header_.header_bytes, static_cast<size_t>(header_.payload_bytes)};
    }
    const std::string& path() const { return file_.path(); }

  private:
    friend class IndexReader;
    io::MappedFile file_;
    CompanionHeader header_;
};

/// A read-only view of one index directory. open() checks everything cheap: the header (magic,
/// version, checksum, field ranges, layout recomputed from dim/dtype/R), the size of
/// index.strata, and for every companion its presence, size and header; it does not hash the
/// node section or payloads (verify_index does). Const methods are thread-safe (pread).
class IndexReader {
  public:
    /// NotFound when `dir` or its index.strata is missing; InvalidArgument when `dir` is not a
    /// directory; Corruption (naming the file and the problem) for a damaged, truncated, foreign
    /// or unfinished index (including a writer's leftover temporary directory); NotSupported for
    /// another major format version; IOError when reading fails.
    static Result<IndexReader> open(const std::string& dir);

    const std::string& dir() const { return dir_; }
    /// `dir`/index.strata.
    const std::string& index_path() const { return index_path_; }
    const IndexHeader& header() const { return header_; }
    const NodeLayout& layout() const { return header_.layout; }
    Metric metric() const { return header_.metric; }
    DType dtype() const { return header_.layout.dtype; }
    uint32_t dim() const { return header_.layout.dim; }
    uint64_t node_count() const { return header_.layout.node_count; }
    uint32_t degree_max() const { return header_.layout.degree_max; }
    /// kNoNode only for an empty index.
    uint32_t entry_point() const { return header_.entry_point; }
    /// Read-only descriptor of index.strata (owned by the reader; valid while it lives).
    int index_fd() const { return fd_.get(); }

    bool has_file(FileKind kind) const { return header_.find(kind) != nullptr; }
    /// The payload of companion `kind` (for meta.json the whole file), read whole and checked
    /// against its checksum. NotFound when the index has no such file; Corruption on mismatch.
    Result<std::string> read_file(FileKind kind) const;
    /// Maps companion `kind` (not meta.json) without hashing its payload; its header is
    /// checked again. NotFound when absent.
    Result<CompanionMapping> map_file(FileKind kind) const;
    /// meta.json, checked against its checksum.
    Result<std::string> meta_json() const { return read_file(FileKind::kMetaJson); }

    /// Copies the node_bytes bytes of node `id` into `out` (at least node_bytes long) with one
    /// pread; decode with layout().view_node() (`out` 4-byte aligned). OutOfRange for an id
    /// >= node_count, InvalidArgument for a short buffer, IOError/Corruption when reading fails.
    Status read_node(uint64_t id, std::span<uint8_t> out) const;

  private:
    IndexReader() = default;
    Status check_companions();

    std::string dir_;
    std::string index_path_;
    detail::Fd fd_;
    IndexHeader header_;
};

}  // namespace strata::disk
