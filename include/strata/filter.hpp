// Label filters of filtered search, Qdrant-style: every `must` clause holds, at least one
// `should` clause holds when there are any, and no `must_not` clause holds. A clause is a set of
// label ids and matches a row that carries any of them: a match condition's labels, or for a
// range condition on a field every label "field=<number>" with the number in range. Build one with
// DiskIndex::parse_filter (label names resolved against the index) or fill the ids directly.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace strata {

/// A range condition's bounds ({"range": {"gt"|"gte"|"lt"|"lte": x}}): it matches the labels
/// "field=<number>" whose number lies within them.
struct NumericRange {
    double lo = -std::numeric_limits<double>::infinity();
    double hi = std::numeric_limits<double>::infinity();
    bool lo_open = false;  ///< gt (else gte)
    bool hi_open = false;  ///< lt (else lte)
    bool contains(double v) const {
        return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
    }
};

struct LabelFilter {
    /// A label no row carries (a name the index has never seen): its clause matches nothing.
    static constexpr uint32_t kUnknown = UINT32_MAX;
    /// Each clause ascending, without repeats.
    std::vector<std::vector<uint32_t>> must, should, must_not;

    bool empty() const { return must.empty() && should.empty() && must_not.empty(); }
    /// `row`: a row's label ids, ascending.
    bool matches(std::span<const uint32_t> row) const;
};

}  // namespace strata
