#include "server/filter_fields.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/log.hpp"

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
                    "{}.{}: a filterable field takes strings, numbers, booleans or arrays of "
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
    const CollectionEntry::Fields fields = e.fields();
    const auto declared = [&](std::string_view key) -> Status {
        if (std::find(fields->begin(), fields->end(), key) != fields->end()) return Status::ok();
        std::string list;
        for (const auto& x : *fields) list += (list.empty() ? "" : ", ") + x;
        return Status::invalid_argument(fmt::format(
            "'{}' is not a filterable field of collection '{}' ({})", key, e.name,
            list.empty() ? std::string("none declared: list fields in \"filterable\" at create "
                                       "or PUT /collections/{name}/index")
                         : "filterable: " + list));
    };
    return search::parse_filter(
        simdjson::minify(filter),
        [&](std::string_view key, std::string_view value) -> Result<uint32_t> {
            STRATA_RETURN_IF_ERROR(declared(key));
            return e.col->label_id(field_label(key, value));
        },
        [&](std::string_view key, const NumericRange& r) -> Result<std::vector<uint32_t>> {
            STRATA_RETURN_IF_ERROR(declared(key));
            return e.col->labels_in_range(key, r);
        });
}

Result<uint64_t> declare_filterable(CollectionEntry& e, std::string_view field,
                                    simdjson::dom::parser& parser) {
    STRATA_RETURN_IF_ERROR(check_field_name(field, "field_name"));
    std::lock_guard<std::mutex> write(e.write);
    const CollectionEntry::Fields old = e.fields();
    if (std::find(old->begin(), old->end(), field) != old->end()) return uint64_t{0};
    if (old->size() >= kMaxFilterable) {
        return Status::invalid_argument(fmt::format(
            "collection '{}' already has {} filterable fields (the most)", e.name, kMaxFilterable));
    }
    std::vector<std::string> fields = *old;
    fields.emplace_back(field);
    const std::vector<std::string> one{std::string(field)};
    // Pass 1: the points holding the field, each value checked; nothing is written unless all
    // of them can be labelled.
    std::vector<uint64_t> ids;
    std::vector<std::string> scratch;
    const auto holds_field = [&](uint64_t id, std::string_view payload) -> Status {
        simdjson::dom::object o;
        if (parser.parse(payload.data(), payload.size()).get_object().get(o)) {
            return Status::corruption(
                fmt::format("the stored payload of point {} is not a JSON object", id));
        }
        scratch.clear();
        Status s = payload_labels(o, one, fmt::format("point {}: payload", id), scratch);
        if (s.is_ok() && !scratch.empty()) ids.push_back(id);
        return s;
    };
    STRATA_RETURN_IF_ERROR(e.payloads->for_each(holds_field));
    // Pass 2: rewrite those points with their labels of every declared field, in batches
    // through the log (their vectors as stored). Writes wait meanwhile (`write` is held).
    Collection& c = *e.col;
    const CollectionParams& p = c.params();
    const size_t row = p.dim * dtype_size(p.dtype);
    constexpr size_t kBatch = 1024;
    std::vector<uint64_t> batch;
    std::vector<uint8_t> vectors;
    std::vector<std::vector<std::string>> labels;
    std::string payload;
    for (size_t at = 0; at < ids.size(); at += kBatch) {
        batch.clear();
        labels.clear();
        vectors.resize(std::min(kBatch, ids.size() - at) * row);
        for (size_t i = at; i < std::min(ids.size(), at + kBatch); ++i) {
            STRATA_ASSIGN_OR_RETURN(bool found, e.payloads->get(ids[i], payload));
            if (!found) continue;
            if (Status s = c.get(ids[i], vectors.data() + batch.size() * row); !s.is_ok()) {
                if (s.code() == StatusCode::kNotFound) continue;  // a payload without a vector
                return s;
            }
            simdjson::dom::object o;
            if (parser.parse(payload).get_object().get(o)) {
                return Status::corruption(
                    fmt::format("the stored payload of point {} is not a JSON object", ids[i]));
            }
            labels.emplace_back();
            STRATA_RETURN_IF_ERROR(payload_labels(o, fields, "payload", labels.back()));
            batch.push_back(ids[i]);
        }
        STRATA_RETURN_IF_ERROR(
            c.upsert(batch.data(), batch.size(), vectors.data(), p.dtype, labels));
        if (ids.size() > kBatch) {
            STRATA_LOG_INFO("collection {}: declaring field '{}': {} of {} points relabelled",
                            e.name, field, std::min(ids.size(), at + kBatch), ids.size());
        }
    }
    STRATA_RETURN_IF_ERROR(write_filterable(e.dir, fields));
    e.set_fields(std::move(fields));
    return static_cast<uint64_t>(ids.size());
}

}  // namespace strata::server
