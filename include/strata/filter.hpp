// Label filters of filtered search, Qdrant-style: every `must` clause holds, at least one
// `should` clause holds when there are any, and no `must_not` clause holds. A clause is a set of
// label ids and matches a row that carries any of them. Build one with DiskIndex::parse_filter
// (label names resolved against the index) or fill the ids directly.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace strata {

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
