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

/// Maps a condition's key and match value (as text: a string as is, an integer in decimal,
/// true/false) to a label id, LabelFilter::kUnknown when no row carries it, or an error (a key
/// that is not filterable) that the parser reports with the condition's place.
using FilterResolver =
    std::function<Result<uint32_t>(std::string_view key, std::string_view value)>;

/// Parses a filter object: InvalidArgument naming the part for anything else than
/// {"must"|"should"|"must_not": [{"key": K, "match": {"value": v} | {"any": [v, ...]}}]}, with
/// `range` conditions refused until numeric attributes exist.
Result<LabelFilter> parse_filter(std::string_view json, const FilterResolver& resolve);

/// parse_filter() over key "label" only, whose values are label names resolved by `by_name`
/// (the labels of an index built from a labels file).
Result<LabelFilter> parse_label_filter(std::string_view json,
                                       const std::function<uint32_t(std::string_view)>& by_name);

}  // namespace strata::search
