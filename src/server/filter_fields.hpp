// Filterable payload fields of the server: a point's values of the fields declared at create
// become its filter labels "field=value"; a search's Qdrant filter resolves against them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include <strata/filter.hpp>
#include <strata/status.hpp>

#include "server/registry.hpp"

namespace strata::server {

/// InvalidArgument (prefixed by `where`) unless `field` is 1-64 characters of A-Z a-z 0-9 _ . -.
Status check_field_name(std::string_view field, const std::string& where);

/// Appends the labels of one point's payload: "field=value" for each of `fields` it holds (a
/// string, integer or boolean, or an array of them; null or absent: none). InvalidArgument
/// naming `where`.field for another type.
Status payload_labels(simdjson::dom::object payload, const std::vector<std::string>& fields,
                      const std::string& where, std::vector<std::string>& out);

/// Most filterable fields of a collection.
inline constexpr size_t kMaxFilterable = 64;

/// Declares `field` filterable on a collection that exists: every point whose payload holds the
/// field is rewritten (its stored vector, its labels of all declared fields) through the log,
/// then the field list is saved. Holds the collection's write lock throughout (writes wait;
/// searches go on and see the field once the list is saved). Returns the points relabelled (0
/// when the field was declared already). InvalidArgument, with nothing changed, for a bad name,
/// too many fields, or a point whose value of the field cannot be a label (an object, a
/// string with a comma, ...). A crash midway leaves the field undeclared; declaring it again
/// completes it.
Result<uint64_t> declare_filterable(CollectionEntry& e, std::string_view field,
                                    simdjson::dom::parser& parser);

/// Parses a search's `filter` against the collection's declared fields and labels: a field not
/// declared is InvalidArgument naming the condition; a value no point has matches nothing.
Result<LabelFilter> parse_field_filter(simdjson::dom::element filter, const CollectionEntry& e);

}  // namespace strata::server
