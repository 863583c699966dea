// Fields of labels: a label named "field=value" belongs to `field`, and when `value` is a number
// it also takes part in range conditions on that field ({"key": "price", "range": {"lt": 50}}
// is the union of the labels "price=<v>" with v < 50). Payload fields of the server and labels
// files alike use this naming, so one index answers match and range conditions on a field.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <strata/filter.hpp>

namespace strata::search {

/// The number a label value spells (decimal integer or floating point as JSON writes it, finite,
/// the whole text), or nothing.
std::optional<double> label_number(std::string_view value);

class FieldLabels {
  public:
    /// Records label `id` named `name` (nothing for a name without '=').
    void add(uint32_t id, std::string_view name);
    /// True when some label is named "field=...".
    bool has_field(std::string_view field) const;
    /// Appends the ids of the labels "field=<number>" whose number lies in `range`.
    void in_range(std::string_view field, const NumericRange& range,
                  std::vector<uint32_t>& out) const;
    /// Heap bytes held (approximate).
    uint64_t memory_bytes() const;

  private:
    std::set<std::string, std::less<>> fields_;
    std::map<std::string, std::multimap<double, uint32_t>, std::less<>> numbers_;
    uint64_t entries_ = 0;
};

}  // namespace strata::search
