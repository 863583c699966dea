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

namespace strata::io {
class LabelSets;
}

namespace strata::search {

class FieldLabels;
using LabelFilter = strata::LabelFilter;

/// Maps a condition's key and match value (as text: a string as is, an integer in decimal,
/// true/false) to a label id, LabelFilter::kUnknown when no row carries it, or an error (a key
/// that is not filterable) that the parser reports with the condition's place.
using FilterResolver =
    std::function<Result<uint32_t>(std::string_view key, std::string_view value)>;

/// The label ids a range condition on `key` stands for (any order), or an error as above.
using RangeResolver =
    std::function<Result<std::vector<uint32_t>>(std::string_view key, const NumericRange& range)>;

/// Parses a filter object: InvalidArgument naming the part for anything else than
/// {"must"|"should"|"must_not": [{"key": K, "match": {"value": v} | {"any": [v, ...]}} |
/// {"key": K, "range": {"gt"|"gte"|"lt"|"lte": number, ...}}]}. Without `range`, range
/// conditions are refused. A range no label falls in matches nothing.
Result<LabelFilter> parse_filter(std::string_view json, const FilterResolver& resolve,
                                 const RangeResolver& range = {});

/// parse_label_filter() over the labels of a labels file (io::LabelSets): ids are the file's,
/// fields and ranges as for an index built from it (a key no label's field is: InvalidArgument).
Result<LabelFilter> parse_labels_file_filter(std::string_view json, const io::LabelSets& labels);

/// What a condition on a field no label belongs to means.
enum class UnknownField : uint8_t { kError, kMatchesNothing };

/// parse_filter() over labels resolved by `by_name`: key "label" matches label names as they
/// are; with `fields`, any other key K matches the labels "K=value" and ranges over their
/// numbers (FieldLabels). Without `fields`, only key "label".
Result<LabelFilter> parse_label_filter(std::string_view json,
                                       const std::function<uint32_t(std::string_view)>& by_name,
                                       const FieldLabels* fields = nullptr,
                                       UnknownField unknown = UnknownField::kError);

}  // namespace strata::search
