// JSON input helpers of the HTTP API (simdjson DOM): typed reads whose refusals name the field
// ("points[3].vector[7] = 1e+39 is outside the float range").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include <strata/status.hpp>

namespace strata::server::json {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

/// InvalidArgument with `msg`.
Status bad(std::string msg);
/// "an array", "a number", ... for messages.
std::string_view type_name(element_type t);
Result<object> as_object(element el, std::string_view field);
/// Refuses keys outside `allowed`: a typo must not be silently ignored.
Status only_keys(object o, std::string_view field, std::initializer_list<std::string_view> allowed);
/// The member `key` of `o`, or null when absent.
element member(object o, std::string_view key);
/// The member exists and is not null.
bool present(object o, std::string_view key);
Result<uint64_t> as_u64(element el, std::string_view field);
/// A point id: any u64 but 2^64 - 1 (it marks "no result").
Result<uint64_t> as_id(element el, std::string_view field);
Result<uint32_t> as_u32_in(element el, std::string_view field, uint32_t lo, uint32_t hi);
Result<bool> as_bool(element el, std::string_view field);
Result<std::string_view> as_string(element el, std::string_view field);
/// Appends the ids of array `el` (at most `max`) to `out`.
Status read_ids(element el, std::string_view field, uint32_t max, std::vector<uint64_t>& out);
/// Appends the `dim` numbers of array `el` to `out` as finite floats.
Status read_vector(element el, uint32_t dim, std::string_view field, std::vector<float>& out);

}  // namespace strata::server::json
