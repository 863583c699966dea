// Parsing of label filters (include/strata/filter.hpp) from Qdrant-style JSON:
// {"match": {"value": x}} is a clause of one label, {"match": {"any": [...]}} a larger one.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <strata/filter.hpp>
#include <strata/status.hpp>

namespace strata::search {

using LabelFilter = strata::LabelFilter;

/// Parses a filter object. `resolve` maps a label name to its id, or LabelFilter::kUnknown.
/// InvalidArgument naming the part for anything else than
/// {"must"|"should"|"must_not": [{"key": "label", "match": {"value": "x"} | {"any": ["x", ...]}}]}
/// (condition keys other than "label", and "range", are refused until attributes exist).
Result<LabelFilter> parse_label_filter(std::string_view json,
                                       const std::function<uint32_t(std::string_view)>& resolve);

}  // namespace strata::search
