#include "server/json_input.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace strata::server::json {

// ---- JSON input helpers: every refusal names the field --------------------------------------

Status bad(std::string msg) { return Status::invalid_argument(std::move(msg)); }

std::string_view type_name(element_type t) {
    switch (t) {
        case element_type::ARRAY:
            return "an array";
        case element_type::OBJECT:
            return "an object";
        case element_type::INT64:
        case element_type::UINT64:
        case element_type::DOUBLE:
            return "a number";
        case element_type::STRING:
            return "a string";
        case element_type::BOOL:
            return "a boolean";
        case element_type::NULL_VALUE:
            return "null";
    }
    return "a value";
}

Result<object> as_object(element el, std::string_view field) {
    object o;
    if (el.get_object().get(o)) {
        return bad(fmt::format("{} must be an object, not {}", field, type_name(el.type())));
    }
    return o;
}

// Refuses keys outside `allowed`: a typo must not be silently ignored.
Status only_keys(object o, std::string_view field,
                 std::initializer_list<std::string_view> allowed) {
    for (auto [key, value] : o) {
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            return bad(fmt::format("{}: unknown field '{}'", field.empty() ? "body" : field, key));
        }
    }
    return Status::ok();
}

// The member `key` of `o`, or null when absent.
element member(object o, std::string_view key) {
    element el;
    if (o.at_key(key).get(el)) return element();
    return el;
}
bool present(object o, std::string_view key) {
    element el;
    return !o.at_key(key).get(el) && el.type() != element_type::NULL_VALUE;
}

Result<uint64_t> as_u64(element el, std::string_view field) {
    uint64_t v = 0;
    if (el.get_uint64().get(v)) {
        return bad(fmt::format("{} must be an unsigned integer, not {}", field,
                               el.type() == element_type::DOUBLE || el.type() == element_type::INT64
                                   ? "a negative or fractional number"
                                   : type_name(el.type())));
    }
    return v;
}

// A point id: any u64 but the one reserved for "no result".
Result<uint64_t> as_id(element el, std::string_view field) {
    STRATA_ASSIGN_OR_RETURN(uint64_t v, as_u64(el, field));
    if (v == std::numeric_limits<uint64_t>::max()) {
        return bad(fmt::format("{}: id 18446744073709551615 is reserved", field));
    }
    return v;
}

Result<uint32_t> as_u32_in(element el, std::string_view field, uint32_t lo, uint32_t hi) {
    STRATA_ASSIGN_OR_RETURN(uint64_t v, as_u64(el, field));
    if (v < lo || v > hi)
        return bad(fmt::format("{} must be in [{}, {}], not {}", field, lo, hi, v));
    return static_cast<uint32_t>(v);
}

Result<bool> as_bool(element el, std::string_view field) {
    bool b = false;
    if (el.get_bool().get(b)) {
        return bad(fmt::format("{} must be true or false, not {}", field, type_name(el.type())));
    }
    return b;
}

Result<std::string_view> as_string(element el, std::string_view field) {
    std::string_view s;
    if (el.get_string().get(s)) {
        return bad(fmt::format("{} must be a string, not {}", field, type_name(el.type())));
    }
    return s;
}

// Appends the ids of array `el` (at most `max`) to `out`.
Status read_ids(element el, std::string_view field, uint32_t max, std::vector<uint64_t>& out) {
    simdjson::dom::array a;
    if (el.get_array().get(a)) return bad(fmt::format("{} must be an array of ids", field));
    if (a.size() > max) {
        return bad(fmt::format("{} holds {} ids; at most {} per request", field, a.size(), max));
    }
    size_t i = 0;
    for (element x : a) {
        STRATA_ASSIGN_OR_RETURN(uint64_t id, as_id(x, fmt::format("{}[{}]", field, i++)));
        out.push_back(id);
    }
    return Status::ok();
}

// Appends the dim numbers of array `el` to `out` as floats.
Status read_vector(element el, uint32_t dim, std::string_view field, std::vector<float>& out) {
    simdjson::dom::array a;
    if (el.get_array().get(a)) {
        return bad(fmt::format("{} must be an array of {} numbers, not {}", field, dim,
                               type_name(el.type())));
    }
    const size_t n = a.size();
    if (n != dim) {
        return bad(
            fmt::format("{} has {} elements; the collection's dimension is {}", field, n, dim));
    }
    size_t j = 0;
    for (element x : a) {
        double d = 0;
        if (x.get_double().get(d)) {
            return bad(
                fmt::format("{}[{}] must be a number, not {}", field, j, type_name(x.type())));
        }
        const auto f = static_cast<float>(d);
        if (!std::isfinite(f)) {
            return bad(fmt::format("{}[{}] = {} is outside the float range", field, j, d));
        }
        out.push_back(f);
        ++j;
    }
    return Status::ok();
}

}  // namespace strata::server::json
