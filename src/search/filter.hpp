// Filters on labels (filtered search, issue 7), Qdrant-style: every `must` clause holds, at least
// one `should` clause holds when there are any, and no `must_not` clause holds. A clause is a
// set of labels and matches a row that carries any of them ({"match": {"value": x}} is a set of
// one, {"match": {"any": [...]}} a larger one).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <strata/status.hpp>

namespace strata::search {

struct LabelFilter {
    /// A label no row carries (a name the collection has never seen): its clause matches nothing.
    static constexpr uint32_t kUnknown = UINT32_MAX;
    std::vector<std::vector<uint32_t>> must, should, must_not;  ///< each clause sorted

    bool empty() const { return must.empty() && should.empty() && must_not.empty(); }
    /// `row`: the row's label ids, ascending.
    bool matches(std::span<const uint32_t> row) const;
};

/// Parses a filter object. `resolve` maps a label name to its id, or LabelFilter::kUnknown.
/// InvalidArgument naming the part for anything else than
/// {"must"|"should"|"must_not": [{"key": "label", "match": {"value": "x"} | {"any": ["x", ...]}}]}
/// (condition keys other than "label", and "range", are refused until attributes exist).
Result<LabelFilter> parse_label_filter(std::string_view json,
                                       const std::function<uint32_t(std::string_view)>& resolve);

}  // namespace strata::search
