#include "server/filter_fields.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "search/filter.hpp"
#include "search/filter_value.hpp"

namespace strata::server {
namespace {

std::string field_label(std::string_view field, std::string_view value) {
    std::string label(field);
    label += '=';
    label += value;
    return label;
}

}  // namespace

Status check_field_name(std::string_view field, const std::string& where) {
    bool ok = !field.empty() && field.size() <= 64;
    for (char c : field) {
        ok =
            ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    }
    if (!ok) {
        return Status::invalid_argument(fmt::format(
            "{}: field name '{}' must be 1-64 characters of A-Z a-z 0-9 _ . -", where, field));
    }
    return Status::ok();
}

Status payload_labels(simdjson::dom::object payload, const std::vector<std::string>& fields,
                      const std::string& where, std::vector<std::string>& out) {
    std::string text;
    for (const auto& f : fields) {
        simdjson::dom::element v;
        if (payload.at_key(f).get(v)) continue;
        const auto one = [&](simdjson::dom::element x) -> Status {
            if (search::filter_value_text(x, text)) {
                out.push_back(field_label(f, text));
            } else if (x.type() != simdjson::dom::element_type::NULL_VALUE) {
                return Status::invalid_argument(fmt::format(
                    "{}.{}: a filterable field takes strings, integers, booleans or arrays of "
                    "them",
                    where, f));
            }
            return Status::ok();
        };
        simdjson::dom::array arr;
        if (!v.get_array().get(arr)) {
            for (simdjson::dom::element x : arr) STRATA_RETURN_IF_ERROR(one(x));
        } else {
            STRATA_RETURN_IF_ERROR(one(v));
        }
    }
    return Status::ok();
}

Result<LabelFilter> parse_field_filter(simdjson::dom::element filter, const CollectionEntry& e) {
    return search::parse_filter(
        simdjson::minify(filter),
        [&](std::string_view key, std::string_view value) -> Result<uint32_t> {
            if (std::find(e.filterable.begin(), e.filterable.end(), key) != e.filterable.end()) {
                return e.col->label_id(field_label(key, value));
            }
            std::string declared;
            for (const auto& x : e.filterable) declared += (declared.empty() ? "" : ", ") + x;
            return Status::invalid_argument(fmt::format(
                "'{}' is not a filterable field of collection '{}' ({})", key, e.name,
                declared.empty() ? std::string("none declared: list fields in \"filterable\" "
                                               "at create")
                                 : "filterable: " + declared));
        });
}

}  // namespace strata::server
