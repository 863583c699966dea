#include "search/filter.hpp"

#include <algorithm>
#include <mutex>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/sorted_sets.hpp"
#include "io/labels.hpp"
#include "search/field_labels.hpp"
#include "search/filter_value.hpp"

namespace strata::search {
namespace {

Status bad(std::string m) { return Status::invalid_argument(std::move(m)); }

}  // namespace

}  // namespace strata::search

namespace strata {

bool LabelFilter::matches(std::span<const uint32_t> row) const {
    for (const auto& c : must) {
        if (!sorted_intersects(c, row)) return false;
    }
    for (const auto& c : must_not) {
        if (sorted_intersects(c, row)) return false;
    }
    if (should.empty()) return true;
    for (const auto& c : should) {
        if (sorted_intersects(c, row)) return true;
    }
    return false;
}

}  // namespace strata

namespace strata::search {

bool filter_value_text(simdjson::dom::element x, std::string& out) {
    std::string_view sv;
    int64_t i = 0;
    uint64_t u = 0;
    bool b = false;
    if (!x.get_string().get(sv)) {
        out.assign(sv);
    } else if (!x.get_int64().get(i)) {
        out = std::to_string(i);
    } else if (!x.get_uint64().get(u)) {
        out = std::to_string(u);
    } else if (!x.get_bool().get(b)) {
        out = b ? "true" : "false";
    } else if (double d = 0; !x.get_double().get(d)) {
        out = fmt::format("{}", d == 0 ? 0.0 : d);  // shortest round trip: 12.0 spells 12
    } else {
        return false;
    }
    return true;
}

Result<LabelFilter> parse_label_filter(std::string_view json,
                                       const std::function<uint32_t(std::string_view)>& by_name,
                                       const FieldLabels* fields, UnknownField unknown) {
    const auto check_field = [&](std::string_view key) -> Status {
        if (fields == nullptr) {
            return bad(fmt::format(
                "'{}' is not filterable here: this index filters on its labels (key \"label\")",
                key));
        }
        if (unknown == UnknownField::kError && !fields->has_field(key)) {
            return bad(fmt::format(
                "'{}' is not a field of these labels (no label is named {}=...; key \"label\" "
                "matches whole label names)",
                key, key));
        }
        return Status::ok();
    };
    std::string name;
    return parse_filter(
        json,
        [&](std::string_view key, std::string_view value) -> Result<uint32_t> {
            if (key == "label") return by_name(value);
            STRATA_RETURN_IF_ERROR(check_field(key));
            name.assign(key) += '=';
            name += value;
            return by_name(name);
        },
        [&](std::string_view key, const NumericRange& r) -> Result<std::vector<uint32_t>> {
            if (key == "label") {
                return bad("a range needs a field key: it matches the labels named field=<number>");
            }
            STRATA_RETURN_IF_ERROR(check_field(key));
            std::vector<uint32_t> ids;
            fields->in_range(key, r, ids);
            return ids;
        });
}

Result<LabelFilter> parse_labels_file_filter(std::string_view json, const io::LabelSets& labels) {
    FieldLabels fields;
    for (uint32_t l = 0; l < labels.label_count(); ++l) fields.add(l, labels.name(l));
    return parse_label_filter(
        json,
        [&](std::string_view name) {
            auto id = labels.id(name);
            return id.is_ok() ? *id : LabelFilter::kUnknown;
        },
        &fields);
}

namespace {

/// {"gt"|"gte"|"lt"|"lte": number, ...} into `r`.
Status parse_range(simdjson::dom::element v, const std::string& where, NumericRange& r) {
    simdjson::dom::object o;
    if (v.get_object().get(o) || o.size() == 0) {
        return bad(where + ".range must be an object with gt, gte, lt or lte");
    }
    bool have_lo = false, have_hi = false;
    for (auto [k, x] : o) {
        const bool lower = k == "gt" || k == "gte";
        if (!lower && k != "lt" && k != "lte") {
            return bad(fmt::format("{}.range: unknown field '{}' (gt, gte, lt or lte)", where, k));
        }
        double d = 0;
        if (x.get_double().get(d)) {
            return bad(fmt::format("{}.range.{} must be a number", where, k));
        }
        if (lower ? have_lo : have_hi) {
            return bad(fmt::format("{}.range has two {} bounds", where, lower ? "lower" : "upper"));
        }
        (lower ? have_lo : have_hi) = true;
        (lower ? r.lo : r.hi) = d;
        (lower ? r.lo_open : r.hi_open) = k == "gt" || k == "lt";
    }
    return Status::ok();
}

}  // namespace

Result<LabelFilter> parse_filter(std::string_view json, const FilterResolver& resolve,
                                 const RangeResolver& range) {
    // One parser for the process, never destroyed: destroying a simdjson parser built by
    // Debian's libsimdjson trips AddressSanitizer's alloc-dealloc check (its implementation is
    // allocated inside the library and freed in the header's inline code). Filters are small;
    // parsing them one at a time costs nothing that matters.
    static std::mutex mu;
    static auto* parser_ptr = new simdjson::dom::parser();
    std::lock_guard<std::mutex> lock(mu);
    simdjson::dom::parser& parser = *parser_ptr;
    simdjson::dom::element doc;
    const simdjson::padded_string padded(json);
    if (auto err = parser.parse(padded).get(doc); err) {
        return bad(fmt::format("filter: invalid JSON: {}", simdjson::error_message(err)));
    }
    simdjson::dom::object top;
    if (doc.get_object().get(top)) return bad("filter must be an object");
    LabelFilter f;
    for (auto [part, value] : top) {
        std::vector<std::vector<uint32_t>>* into = nullptr;
        if (part == "must") {
            into = &f.must;
        } else if (part == "should") {
            into = &f.should;
        } else if (part == "must_not") {
            into = &f.must_not;
        } else {
            return bad(fmt::format("filter: unknown part '{}' (must, should or must_not)", part));
        }
        simdjson::dom::array conds;
        if (value.get_array().get(conds))
            return bad(fmt::format("filter.{} must be an array", part));
        size_t i = 0;
        for (simdjson::dom::element cond : conds) {
            const std::string where = fmt::format("filter.{}[{}]", part, i++);
            simdjson::dom::object c;
            if (cond.get_object().get(c)) return bad(where + " must be an object");
            std::string_view key;
            simdjson::dom::object match;
            bool has_match = false;
            bool has_range = false;
            NumericRange r;
            for (auto [k, v] : c) {
                if (k == "key") {
                    if (v.get_string().get(key)) return bad(where + ".key must be a string");
                } else if (k == "match") {
                    if (v.get_object().get(match)) return bad(where + ".match must be an object");
                    has_match = true;
                } else if (k == "range") {
                    if (!range) return bad(where + ": range conditions are not supported here");
                    STRATA_RETURN_IF_ERROR(parse_range(v, where, r));
                    has_range = true;
                } else {
                    return bad(fmt::format("{}: unknown field '{}'", where, k));
                }
            }
            if (key.empty()) return bad(where + ".key is required");
            if (has_match && has_range) return bad(where + " has both match and range");
            std::vector<uint32_t> clause;
            if (has_range) {
                auto ids = range(key, r);
                if (!ids.is_ok()) {
                    return Status(ids.status().code(),
                                  fmt::format("{}.key: {}", where, ids.status().message()));
                }
                clause = std::move(*ids);
                std::sort(clause.begin(), clause.end());
                clause.erase(std::unique(clause.begin(), clause.end()), clause.end());
                // No label in range: a clause of an unknown label, which nothing carries.
                if (clause.empty()) clause.push_back(LabelFilter::kUnknown);
                into->push_back(std::move(clause));
                continue;
            }
            if (!has_match)
                return bad(where + " needs a match: {\"value\": ...} or {\"any\": [...]}");
            if (match.size() != 1) return bad(where + ".match needs exactly one of value or any");
            std::string text;
            auto add = [&](simdjson::dom::element x, const std::string& w) -> Status {
                if (!filter_value_text(x, text)) {
                    return bad(w + " must be a string, a number or a boolean");
                }
                auto id = resolve(key, text);
                if (!id.is_ok()) {
                    return Status(id.status().code(),
                                  fmt::format("{}.key: {}", where, id.status().message()));
                }
                clause.push_back(*id);
                return Status::ok();
            };
            for (auto [k, v] : match) {
                if (k == "value") {
                    STRATA_RETURN_IF_ERROR(add(v, where + ".match.value"));
                } else if (k == "any") {
                    simdjson::dom::array any;
                    if (v.get_array().get(any) || any.size() == 0) {
                        return bad(where + ".match.any must be a non-empty array");
                    }
                    size_t j = 0;
                    for (auto x : any) {
                        STRATA_RETURN_IF_ERROR(add(x, fmt::format("{}.match.any[{}]", where, j++)));
                    }
                } else {
                    return bad(
                        fmt::format("{}.match: unknown field '{}' (value or any)", where, k));
                }
            }
            std::sort(clause.begin(), clause.end());
            clause.erase(std::unique(clause.begin(), clause.end()), clause.end());
            into->push_back(std::move(clause));
        }
    }
    return f;
}

}  // namespace strata::search
