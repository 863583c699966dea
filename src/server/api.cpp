#include "server/api.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <shared_mutex>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "collection/rows.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "core/sysinfo.hpp"
#include "server/filter_fields.hpp"
#include "server/json_input.hpp"

namespace strata::server {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using Clock = std::chrono::steady_clock;
using namespace json;

// ---- responses --------------------------------------------------------------------------------

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

Response ok_response(std::string_view result_json, Clock::time_point start) {
    Response r;
    r.body.reserve(result_json.size() + 48);
    r.body += "{\"result\":";
    r.body += result_json;
    r.body += fmt::format(",\"status\":\"ok\",\"time\":{:.6f}}}", since(start));
    return r;
}

Response from_status(const Status& s) { return error_response(http_status(s), s.message()); }

std::string_view distance_name(Metric m) {
    switch (m) {
        case Metric::kL2:
            return "Euclid";
        case Metric::kInnerProduct:
            return "Dot";
        case Metric::kCosine:
            return "Cosine";
    }
    return "?";
}

std::string_view datatype_name(DType t) {
    switch (t) {
        case DType::kF32:
            return "float32";
        case DType::kU8:
            return "uint8";
        case DType::kI8:
            return "int8";
    }
    return "?";
}

// Qdrant's convention: similarity for Cosine and Dot (higher is closer), distance for Euclid.
float score_of(Metric m, float dist) {
    switch (m) {
        case Metric::kL2:
            return std::sqrt(std::max(dist, 0.0f));
        case Metric::kInnerProduct:
            return -dist;
        case Metric::kCosine:
            return 1.0f - dist;
    }
    return dist;
}

// The request path split at '/', without the query string.
std::vector<std::string_view> split_path(std::string_view target) {
    const size_t q = target.find('?');
    if (q != std::string_view::npos) target = target.substr(0, q);
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i < target.size()) {
        while (i < target.size() && target[i] == '/') ++i;
        const size_t j = target.find('/', i);
        const size_t end = j == std::string_view::npos ? target.size() : j;
        if (end > i) parts.push_back(target.substr(i, end - i));
        i = end;
    }
    return parts;
}

struct SearchRequest {
    std::vector<float> vector;
    CollectionSearchParams params;
    bool with_payload = false;
    bool with_vector = false;
    std::optional<LabelFilter> filter;  // params.label_filter is set from it when run
};

}  // namespace

int http_status(const Status& s) {
    switch (s.code()) {
        case StatusCode::kOk:
            return 200;
        case StatusCode::kInvalidArgument:
        case StatusCode::kOutOfRange:
            return 400;
        case StatusCode::kNotFound:
            return 404;
        case StatusCode::kAlreadyExists:
        case StatusCode::kBusy:
            return 409;
        case StatusCode::kNotSupported:
            return 501;
        case StatusCode::kResourceExhausted:
            return 503;
        default:
            return 500;
    }
}

Response error_response(int status, std::string_view message, std::string_view endpoint) {
    Response r;
    r.status = status;
    JsonWriter w;
    w.begin_object().key("status").begin_object().field("error", message).end_object();
    w.field("time", 0.0).end_object();
    r.body = w.take();
    r.error = std::string(message);
    if (!endpoint.empty()) r.endpoint = std::string(endpoint);
    return r;
}

Api::Api(Registry& registry, Metrics& metrics, RecallMonitor* monitor, const ApiLimits& limits)
    : registry_(registry), metrics_(metrics), monitor_(monitor), limits_(limits) {}

struct Api::Handlers {
    Api& api;
    Clock::time_point start;
    simdjson::dom::parser& parser;
    simdjson::padded_string body_copy;

    Result<element> parse(std::string_view body) {
        if (body.empty()) return bad("the request needs a JSON body");
        body_copy = simdjson::padded_string(body);
        element doc;
        if (auto err = parser.parse(body_copy).get(doc); err) {
            if (err == simdjson::DEPTH_ERROR) {
                return bad(
                    fmt::format("JSON nested deeper than {} levels", api.limits_.max_json_depth));
            }
            return bad(fmt::format("invalid JSON: {}", simdjson::error_message(err)));
        }
        return doc;
    }

    Response completed(std::string_view what, uint64_t n) {
        JsonWriter w;
        w.begin_object().field("status", "completed").field(what, n).end_object();
        return ok_response(w.str(), start);
    }

    // A collection held open (shared) for the request: drop and recover wait for it.
    struct Held {
        std::shared_ptr<CollectionEntry> entry;
        std::shared_lock<std::shared_mutex> use;
        CollectionEntry* operator->() const { return entry.get(); }
    };
    Result<Held> hold(std::string_view name) {
        STRATA_ASSIGN_OR_RETURN(auto e, api.registry_.get(name));
        std::shared_lock<std::shared_mutex> use(e->use);
        if (e->closed) return Status::not_found(fmt::format("collection '{}' was dropped", name));
        return Held{std::move(e), std::move(use)};
    }

    // ---- collections ----------------------------------------------------------------------

    Response create(std::string_view name, std::string_view body) {
        if (Status s = validate_name(name); !s.is_ok()) return from_status(s);
        auto doc = parse(body);
        if (!doc.is_ok()) return from_status(doc.status());
        std::vector<std::string> filterable;
        auto params = [&]() -> Result<CollectionParams> {
            STRATA_ASSIGN_OR_RETURN(object o, as_object(*doc, "body"));
            STRATA_RETURN_IF_ERROR(only_keys(o, "", {"vectors", "index", "filterable"}));
            if (present(o, "filterable")) {
                simdjson::dom::array fa;
                if (member(o, "filterable").get_array().get(fa) || fa.size() > 64) {
                    return bad("filterable must be an array of at most 64 payload field names");
                }
                size_t i = 0;
                for (element x : fa) {
                    const std::string where = fmt::format("filterable[{}]", i++);
                    STRATA_ASSIGN_OR_RETURN(auto field, as_string(x, where));
                    STRATA_RETURN_IF_ERROR(check_field_name(field, where));
                    if (std::find(filterable.begin(), filterable.end(), field) !=
                        filterable.end()) {
                        return bad(fmt::format("{}: '{}' is listed twice", where, field));
                    }
                    filterable.emplace_back(field);
                }
            }
            if (!present(o, "vectors"))
                return bad("vectors is required: {\"size\": N, \"distance\": ...}");
            STRATA_ASSIGN_OR_RETURN(object v, as_object(member(o, "vectors"), "vectors"));
            STRATA_RETURN_IF_ERROR(only_keys(v, "vectors", {"size", "distance", "datatype"}));
            CollectionParams p;
            if (!present(v, "size")) return bad("vectors.size is required");
            STRATA_ASSIGN_OR_RETURN(p.dim,
                                    as_u32_in(member(v, "size"), "vectors.size", 1, kMaxDimension));
            if (!present(v, "distance"))
                return bad("vectors.distance is required (Cosine, Euclid or Dot)");
            STRATA_ASSIGN_OR_RETURN(auto d, as_string(member(v, "distance"), "vectors.distance"));
            if (d == "Cosine") {
                p.metric = Metric::kCosine;
            } else if (d == "Euclid") {
                p.metric = Metric::kL2;
            } else if (d == "Dot") {
                p.metric = Metric::kInnerProduct;
            } else {
                return bad(fmt::format("vectors.distance '{}' is not Cosine, Euclid or Dot", d));
            }
            if (present(v, "datatype")) {
                STRATA_ASSIGN_OR_RETURN(auto t,
                                        as_string(member(v, "datatype"), "vectors.datatype"));
                if (t == "float32") {
                    p.dtype = DType::kF32;
                } else if (t == "uint8") {
                    p.dtype = DType::kU8;
                } else if (t == "int8") {
                    p.dtype = DType::kI8;
                } else {
                    return bad(
                        fmt::format("vectors.datatype '{}' is not float32, uint8 or int8", t));
                }
            }
            if (present(o, "index")) {
                STRATA_ASSIGN_OR_RETURN(object ix, as_object(member(o, "index"), "index"));
                STRATA_RETURN_IF_ERROR(only_keys(ix, "index", {"R", "L", "alpha", "pq_bytes"}));
                if (present(ix, "R")) {
                    STRATA_ASSIGN_OR_RETURN(p.degree_max,
                                            as_u32_in(member(ix, "R"), "index.R", 2, 512));
                }
                if (present(ix, "L")) {
                    STRATA_ASSIGN_OR_RETURN(p.list_size,
                                            as_u32_in(member(ix, "L"), "index.L", 1, 10000));
                }
                if (present(ix, "pq_bytes")) {
                    STRATA_ASSIGN_OR_RETURN(
                        p.pq_bytes, as_u32_in(member(ix, "pq_bytes"), "index.pq_bytes", 0, 4096));
                }
                if (present(ix, "alpha")) {
                    double a = 0;
                    if (member(ix, "alpha").get_double().get(a) || !(a >= 1.0 && a <= 2.0)) {
                        return bad("index.alpha must be a number in [1, 2]");
                    }
                    p.alpha = static_cast<float>(a);
                }
            }
            STRATA_RETURN_IF_ERROR(p.validate());
            return p;
        }();
        if (!params.is_ok()) return from_status(params.status());
        auto e = api.registry_.create(name, *params, filterable);
        if (!e.is_ok()) return from_status(e.status());
        return ok_response("true", start);
    }

    Response list() {
        JsonWriter w;
        w.begin_object().key("collections").begin_array();
        for (const auto& e : api.registry_.list())
            w.begin_object().field("name", e->name).end_object();
        w.end_array().end_object();
        return ok_response(w.str(), start);
    }

    Response info(std::string_view name) {
        auto e = hold(name);
        if (!e.is_ok()) return from_status(e.status());
        const Collection& c = *(*e)->col;
        const CollectionStats s = c.stats();
        const CollectionParams& p = c.params();
        JsonWriter w;
        w.begin_object();
        w.field("status",
                !s.last_error.empty() ? "yellow" : (s.consolidating ? "consolidating" : "green"));
        w.field("ready", (*e)->ready.load());
        w.field("points_count", s.live);
        w.field("vectors_count", s.live);
        w.field("payloads_count", (*e)->payloads->count());
        w.key("config").begin_object();
        w.key("vectors")
            .begin_object()
            .field("size", p.dim)
            .field("distance", distance_name(p.metric));
        w.field("datatype", datatype_name(p.dtype)).end_object();
        w.key("index").begin_object().field("R", p.degree_max).field("L", p.list_size);
        w.field("alpha", p.alpha).field("pq_bytes", p.pq_bytes).end_object();
        w.key("filterable").begin_array();
        for (const auto& f : *(*e)->fields()) w.value(f);
        w.end_array();
        w.end_object();
        w.field("labels", s.labels);
        w.key("tiers").begin_object();
        w.field("generation", s.generation).field("generation_points", s.generation_nodes);
        w.field("generation_deleted", s.generation_deleted).field("hot_points", s.hot);
        w.field("frozen_points", s.frozen)
            .field("hot_bytes", s.hot_bytes)
            .field("wal_bytes", s.wal_bytes);
        w.end_object();
        w.field("consolidating", s.consolidating).field("consolidations", s.consolidations);
        w.field("generation_recall", s.generation_recall);
        if (api.monitor_) {
            const double r = api.monitor_->recall((*e)->name);
            if (r >= 0) w.field("monitored_recall", r);
        }
        if (!s.last_error.empty()) w.field("last_error", s.last_error);
        w.end_object();
        return ok_response(w.str(), start);
    }

    Response drop(std::string_view name) {
        if (Status s = api.registry_.drop(name); !s.is_ok()) return from_status(s);
        if (api.monitor_) api.monitor_->forget(std::string(name));
        return ok_response("true", start);
    }

    // ---- points ---------------------------------------------------------------------------

    Response upsert(std::string_view name, std::string_view body) {
        auto e = hold(name);
        if (!e.is_ok()) return from_status(e.status());
        auto doc = parse(body);
        if (!doc.is_ok()) return from_status(doc.status());
        Collection& c = *(*e)->col;
        const CollectionParams& p = c.params();
        std::vector<uint64_t> ids;
        std::vector<float> vectors;
        std::vector<std::string> payloads;
        // Payload objects (row, where) whose filterable fields give the row's labels: turned
        // into labels under the write lock, against the field list current then.
        std::vector<std::pair<size_t, object>> pls;
        std::vector<std::string> pl_where;
        Status parsed = [&]() -> Status {
            STRATA_ASSIGN_OR_RETURN(object o, as_object(*doc, "body"));
            STRATA_RETURN_IF_ERROR(only_keys(o, "", {"points", "batch"}));
            if (present(o, "points") == present(o, "batch")) {
                return bad("the body needs exactly one of points (a list) or batch (columns)");
            }
            if (present(o, "points")) {
                simdjson::dom::array a;
                if (member(o, "points").get_array().get(a)) return bad("points must be an array");
                if (a.size() == 0) return bad("points is empty");
                if (a.size() > api.limits_.max_points) {
                    return bad(fmt::format("points holds {} points; at most {} per request",
                                           a.size(), api.limits_.max_points));
                }
                size_t i = 0;
                for (element pt : a) {
                    const std::string f = fmt::format("points[{}]", i);
                    STRATA_ASSIGN_OR_RETURN(object po, as_object(pt, f));
                    STRATA_RETURN_IF_ERROR(only_keys(po, f, {"id", "vector", "payload"}));
                    if (!present(po, "id")) return bad(f + ".id is required");
                    STRATA_ASSIGN_OR_RETURN(uint64_t id, as_id(member(po, "id"), f + ".id"));
                    ids.push_back(id);
                    if (!present(po, "vector")) return bad(f + ".vector is required");
                    STRATA_RETURN_IF_ERROR(
                        read_vector(member(po, "vector"), p.dim, f + ".vector", vectors));
                    payloads.emplace_back();
                    if (present(po, "payload")) {
                        STRATA_ASSIGN_OR_RETURN(object pl,
                                                as_object(member(po, "payload"), f + ".payload"));
                        payloads.back() = simdjson::minify(pl);
                        pls.emplace_back(i, pl);
                        pl_where.push_back(f + ".payload");
                    }
                    ++i;
                }
                return Status::ok();
            }
            STRATA_ASSIGN_OR_RETURN(object b, as_object(member(o, "batch"), "batch"));
            STRATA_RETURN_IF_ERROR(only_keys(b, "batch", {"ids", "vectors", "payloads"}));
            STRATA_RETURN_IF_ERROR(
                read_ids(member(b, "ids"), "batch.ids", api.limits_.max_points, ids));
            if (ids.empty()) return bad("batch.ids is empty");
            simdjson::dom::array va, pa;
            if (member(b, "vectors").get_array().get(va) || va.size() != ids.size()) {
                return bad(
                    fmt::format("batch.ids has {} ids but batch.vectors is not an array of "
                                "as many vectors",
                                ids.size()));
            }
            size_t i = 0;
            for (element x : va) {
                STRATA_RETURN_IF_ERROR(
                    read_vector(x, p.dim, fmt::format("batch.vectors[{}]", i++), vectors));
            }
            payloads.assign(ids.size(), std::string());
            if (present(b, "payloads")) {
                if (member(b, "payloads").get_array().get(pa) || pa.size() != ids.size()) {
                    return bad(
                        "batch.payloads must be an array with one entry (object or null) per id");
                }
                i = 0;
                for (element x : pa) {
                    if (x.type() != element_type::NULL_VALUE) {
                        const std::string where = fmt::format("batch.payloads[{}]", i);
                        STRATA_ASSIGN_OR_RETURN(object pl, as_object(x, where));
                        payloads[i] = simdjson::minify(pl);
                        pls.emplace_back(i, pl);
                        pl_where.push_back(where);
                    }
                    ++i;
                }
            }
            return Status::ok();
        }();
        if (!parsed.is_ok()) return from_status(parsed);
        // Validate everything the collection would refuse before the payloads are written.
        {
            std::vector<uint8_t> stored;
            if (Status s = collection::to_stored(p, vectors.data(), DType::kF32, ids.size(), stored,
                                                 "point");
                !s.is_ok()) {
                return from_status(s);
            }
            if (Status s = collection::check_unique_ids(ids.data(), ids.size()); !s.is_ok()) {
                return from_status(s);
            }
        }
        std::vector<std::string_view> views(payloads.begin(), payloads.end());
        {
            std::lock_guard<std::mutex> write((*e)->write);
            const CollectionEntry::Fields fields = (*e)->fields();
            std::vector<std::vector<std::string>> labels;
            if (!fields->empty()) {
                labels.assign(ids.size(), {});
                for (size_t j = 0; j < pls.size(); ++j) {
                    if (Status s = payload_labels(pls[j].second, *fields, pl_where[j],
                                                  labels[pls[j].first]);
                        !s.is_ok()) {
                        return from_status(s);
                    }
                }
                if (Status s = collection::check_label_rows(labels, ids.size()); !s.is_ok()) {
                    return from_status(
                        Status::invalid_argument("a filterable payload value: " + s.message()));
                }
            }
            if (Status s = (*e)->payloads->write(ids.data(), views.data(), ids.size());
                !s.is_ok()) {
                return from_status(s);
            }
            const Status s =
                fields->empty()
                    ? c.upsert(ids.data(), ids.size(), vectors.data(), DType::kF32)
                    : c.upsert(ids.data(), ids.size(), vectors.data(), DType::kF32, labels);
            if (!s.is_ok()) return from_status(s);
        }
        return completed("upserted", ids.size());
    }

    Response remove(std::string_view name, std::string_view body) {
        auto e = hold(name);
        if (!e.is_ok()) return from_status(e.status());
        auto doc = parse(body);
        if (!doc.is_ok()) return from_status(doc.status());
        std::vector<uint64_t> ids;
        Status parsed = [&]() -> Status {
            STRATA_ASSIGN_OR_RETURN(object o, as_object(*doc, "body"));
            STRATA_RETURN_IF_ERROR(only_keys(o, "", {"points"}));
            return read_ids(member(o, "points"), "points", api.limits_.max_points, ids);
        }();
        if (!parsed.is_ok()) return from_status(parsed);
        {
            std::lock_guard<std::mutex> write((*e)->write);
            if (Status s = (*e)->col->remove(ids.data(), ids.size()); !s.is_ok())
                return from_status(s);
            if (Status s = (*e)->payloads->remove(ids.data(), ids.size()); !s.is_ok()) {
                return from_status(s);
            }
        }
        return completed("deleted", ids.size());
    }

    void write_vector(JsonWriter& w, const CollectionParams& p, const uint8_t* v) {
        w.begin_array();
        for (uint32_t j = 0; j < p.dim; ++j) {
            if (p.dtype == DType::kF32) {
                float f;
                std::memcpy(&f, v + 4 * j, 4);
                w.value(f);
            } else if (p.dtype == DType::kU8) {
                w.value(static_cast<int>(v[j]));
            } else {
                w.value(static_cast<int>(static_cast<int8_t>(v[j])));
            }
        }
        w.end_array();
    }

    Response get_point(std::string_view name, std::string_view id_text) {
        auto e = hold(name);
        if (!e.is_ok()) return from_status(e.status());
        uint64_t id = 0;
        const auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        if (ec != std::errc() || ptr != id_text.data() + id_text.size()) {
            return from_status(
                bad(fmt::format("point id '{}' is not an unsigned integer", id_text)));
        }
        const CollectionParams& p = (*e)->col->params();
        std::vector<uint8_t> v(size_t{p.dim} * dtype_size(p.dtype));
        if (Status s = (*e)->col->get(id, v.data()); !s.is_ok()) return from_status(s);
        std::string payload;
        auto has = (*e)->payloads->get(id, payload);
        if (!has.is_ok()) return from_status(has.status());
        JsonWriter w;
        w.begin_object().field("id", id).key("vector");
        write_vector(w, p, v.data());
        w.key("payload");
        if (*has) {
            w.raw(payload);
        } else {
            w.null();
        }
        w.end_object();
        return ok_response(w.str(), start);
    }

    // ---- search ---------------------------------------------------------------------------

    Status parse_search(element el, std::string_view f, const CollectionEntry& e, uint32_t dim,
                        SearchRequest& out) {
        STRATA_ASSIGN_OR_RETURN(object o, as_object(el, f.empty() ? "body" : f));
        STRATA_RETURN_IF_ERROR(only_keys(
            o, f, {"vector", "limit", "top", "params", "with_payload", "with_vector", "filter"}));
        const std::string pre = f.empty() ? "" : std::string(f) + ".";
        if (present(o, "filter")) {
            element fe = member(o, "filter");
            if (fe.type() != element_type::NULL_VALUE) {
                auto parsed = parse_field_filter(fe, e);
                if (!parsed.is_ok()) {
                    return Status::invalid_argument(pre + parsed.status().message());
                }
                if (!parsed->empty()) out.filter = std::move(*parsed);
            }
        }
        if (!present(o, "vector")) return bad(pre + "vector is required");
        STRATA_RETURN_IF_ERROR(read_vector(member(o, "vector"), dim, pre + "vector", out.vector));
        for (const char* key : {"limit", "top"}) {
            if (present(o, key)) {
                STRATA_ASSIGN_OR_RETURN(out.params.k,
                                        as_u32_in(member(o, key), pre + key, 1, api.limits_.max_k));
            }
        }
        if (present(o, "params")) {
            STRATA_ASSIGN_OR_RETURN(object po, as_object(member(o, "params"), pre + "params"));
            STRATA_RETURN_IF_ERROR(only_keys(po, pre + "params", {"search_list", "beam_width"}));
            if (present(po, "search_list")) {
                STRATA_ASSIGN_OR_RETURN(
                    out.params.list_size,
                    as_u32_in(member(po, "search_list"), pre + "params.search_list", 1,
                              api.limits_.max_search_list));
            }
            if (present(po, "beam_width")) {
                STRATA_ASSIGN_OR_RETURN(
                    out.params.beam_width,
                    as_u32_in(member(po, "beam_width"), pre + "params.beam_width", 1,
                              api.limits_.max_beam_width));
            }
        }
        if (out.params.list_size < out.params.k) out.params.list_size = out.params.k;
        if (out.params.list_size > api.limits_.max_search_list) {
            return bad(fmt::format("{}limit {} exceeds the largest search list {}", pre,
                                   out.params.k, api.limits_.max_search_list));
        }
        if (present(o, "with_payload")) {
            STRATA_ASSIGN_OR_RETURN(out.with_payload,
                                    as_bool(member(o, "with_payload"), pre + "with_payload"));
        }
        if (present(o, "with_vector")) {
            STRATA_ASSIGN_OR_RETURN(out.with_vector,
                                    as_bool(member(o, "with_vector"), pre + "with_vector"));
        }
        return Status::ok();
    }

    // Runs one search and writes its result array.
    Status run_search(const std::shared_ptr<CollectionEntry>& e, const SearchRequest& sr,
                      JsonWriter& w) {
        const Collection& c = *e->col;
        const CollectionParams& p = c.params();
        const uint32_t k = sr.params.k;
        thread_local std::vector<uint64_t> ids;
        thread_local std::vector<float> dists;
        ids.resize(k);
        dists.resize(k);
        QueryStats qs;
        CollectionSearchParams params = sr.params;
        if (sr.filter) params.label_filter = &*sr.filter;
        const auto t0 = Clock::now();
        STRATA_RETURN_IF_ERROR(
            c.search(sr.vector.data(), DType::kF32, p.dim, params, ids.data(), dists.data(), &qs));
        const double seconds = since(t0);
        uint32_t got = 0;
        while (got < k && ids[got] != std::numeric_limits<uint64_t>::max()) ++got;
        api.metrics_.search(e->name, seconds, qs.reads, qs.hops, qs.cache_hits, got, k,
                            got > 0 ? score_of(p.metric, dists[0]) : 0.0);
        // The recall monitor re-scores unfiltered searches (its exact search has no filter).
        if (api.monitor_ && !sr.filter && api.monitor_->sample()) {
            api.monitor_->offer(e, sr.vector.data(), p.dim, k, ids.data());
        }
        thread_local uint32_t served = 0;
        if ((served++ & 7) == 0) e->remember_query(sr.vector.data(), p.dim);
        std::string payload;
        std::vector<uint8_t> v;
        w.begin_array();
        for (uint32_t i = 0; i < got; ++i) {
            w.begin_object().field("id", ids[i]).field("score", score_of(p.metric, dists[i]));
            if (sr.with_payload) {
                w.key("payload");
                STRATA_ASSIGN_OR_RETURN(bool has, e->payloads->get(ids[i], payload));
                if (has) {
                    w.raw(payload);
                } else {
                    w.null();
                }
            }
            if (sr.with_vector) {
                v.resize(size_t{p.dim} * dtype_size(p.dtype));
                w.key("vector");
                if (c.get(ids[i], v.data()).is_ok()) {
                    write_vector(w, p, v.data());
                } else {
                    w.null();  // deleted since the search
                }
            }
            w.end_object();
        }
        w.end_array();
        return Status::ok();
    }

    Response search(std::string_view name, std::string_view body, bool batch) {
        auto e = hold(name);
        if (!e.is_ok()) return from_status(e.status());
        auto doc = parse(body);
        if (!doc.is_ok()) return from_status(doc.status());
        const uint32_t dim = (*e)->col->params().dim;
        std::vector<SearchRequest> reqs;
        Status parsed = [&]() -> Status {
            if (!batch) {
                reqs.emplace_back();
                return parse_search(*doc, "", *e->entry, dim, reqs.back());
            }
            STRATA_ASSIGN_OR_RETURN(object o, as_object(*doc, "body"));
            STRATA_RETURN_IF_ERROR(only_keys(o, "", {"searches"}));
            simdjson::dom::array a;
            if (member(o, "searches").get_array().get(a)) return bad("searches must be an array");
            if (a.size() > api.limits_.max_searches) {
                return bad(fmt::format("searches holds {} searches; at most {} per request",
                                       a.size(), api.limits_.max_searches));
            }
            size_t i = 0;
            for (element x : a) {
                reqs.emplace_back();
                STRATA_RETURN_IF_ERROR(
                    parse_search(x, fmt::format("searches[{}]", i++), *e->entry, dim, reqs.back()));
            }
            return Status::ok();
        }();
        if (!parsed.is_ok()) return from_status(parsed);
        JsonWriter w;
        if (batch) w.begin_array();
        for (const auto& r : reqs) {
            if (Status s = run_search(e->entry, r, w); !s.is_ok()) return from_status(s);
        }
        if (batch) w.end_array();
        return ok_response(w.str(), start);
    }

    // ---- maintenance ----------------------------------------------------------------------

    // PUT /collections/{c}/index {"field_name": f, "field_schema": ...}: declares a payload
    // field filterable after creation (Qdrant's payload index).
    Response create_index(std::string_view name, std::string_view body) {
        auto e = hold(name);
        if (!e.is_ok()) return from_status(e.status());
        auto doc = parse(body);
        if (!doc.is_ok()) return from_status(doc.status());
        std::string field;
        Status parsed = [&]() -> Status {
            STRATA_ASSIGN_OR_RETURN(object o, as_object(*doc, "body"));
            STRATA_RETURN_IF_ERROR(only_keys(o, "", {"field_name", "field_schema"}));
            std::string_view f;
            if (!present(o, "field_name") || member(o, "field_name").get_string().get(f)) {
                return bad("field_name is required: the payload field to make filterable");
            }
            if (present(o, "field_schema")) {
                // Types are taken from the values (strings, integers, floats, booleans); a
                // schema is accepted for Qdrant clients when it names one of those.
                std::string_view sch;
                if (member(o, "field_schema").get_string().get(sch) ||
                    (sch != "keyword" && sch != "integer" && sch != "float" && sch != "bool")) {
                    return bad("field_schema must be keyword, integer, float or bool");
                }
            }
            field.assign(f);
            return Status::ok();
        }();
        if (!parsed.is_ok()) return from_status(parsed);
        // The stored payloads are parsed with the request's parser: its document is not used
        // past this point.
        auto n = declare_filterable(*e->entry, field, parser);
        if (!n.is_ok()) return from_status(n.status());
        JsonWriter w;
        w.begin_object().field("status", "completed").field("field_name", field);
        w.field("relabelled", *n).end_object();
        return ok_response(w.str(), start);
    }

    Response consolidate(std::string_view name) {
        auto e = hold(name);
        if (!e.is_ok()) return from_status(e.status());
        auto rep = (*e)->col->consolidate();
        if (!rep.is_ok()) return from_status(rep.status());
        JsonWriter w;
        w.begin_object().field("swapped", rep->swapped);
        if (!rep->reason.empty()) w.field("reason", rep->reason);
        w.field("generation", rep->generation)
            .field("kept", rep->kept)
            .field("deleted", rep->deleted);
        w.field("inserted", rep->inserted).field("incremental", rep->incremental);
        if (!rep->full_build_reason.empty()) w.field("full_build_reason", rep->full_build_reason);
        w.field("recall", rep->recall).field("previous_recall", rep->previous_recall);
        w.field("seconds", rep->seconds_total).end_object();
        return ok_response(w.str(), start);
    }

    static void write_snapshot(JsonWriter& w, const SnapshotInfo& s) {
        w.begin_object().field("name", s.name).field("creation_time", s.created);
        w.field("size", s.size_bytes);
        if (s.points) w.field("points", s.points);
        w.end_object();
    }

    Response snapshot(std::string_view name) {
        auto info = api.registry_.snapshot(name);
        if (!info.is_ok()) return from_status(info.status());
        JsonWriter w;
        write_snapshot(w, *info);
        return ok_response(w.str(), start);
    }

    Response list_snapshots(std::string_view name) {
        auto list = api.registry_.snapshots(name);
        if (!list.is_ok()) return from_status(list.status());
        JsonWriter w;
        w.begin_array();
        for (const auto& s : *list) write_snapshot(w, s);
        w.end_array();
        return ok_response(w.str(), start);
    }

    Response recover(std::string_view name, std::string_view body) {
        if (Status s = validate_name(name); !s.is_ok()) return from_status(s);
        auto doc = parse(body);
        if (!doc.is_ok()) return from_status(doc.status());
        auto location = [&]() -> Result<std::string_view> {
            STRATA_ASSIGN_OR_RETURN(object o, as_object(*doc, "body"));
            STRATA_RETURN_IF_ERROR(only_keys(o, "", {"location"}));
            if (!present(o, "location")) return bad("location (a snapshot name) is required");
            return as_string(member(o, "location"), "location");
        }();
        if (!location.is_ok()) return from_status(location.status());
        if (Status s = api.registry_.recover(name, std::string(*location)); !s.is_ok()) {
            return from_status(s);
        }
        if (api.monitor_) api.monitor_->forget(std::string(name));
        return ok_response("true", start);
    }

    Response metrics() {
        std::string out;
        out.reserve(16384);
        api.metrics_.write(out);
        if (api.monitor_) api.monitor_->write(out);
        metric_header(out, "strata_memory_rss_bytes", "gauge", "Resident memory of the server.");
        out += fmt::format("strata_memory_rss_bytes {}\n", current_rss_bytes());
        metric_header(out, "strata_memory_peak_rss_bytes", "gauge", "Peak resident memory.");
        out += fmt::format("strata_memory_peak_rss_bytes {}\n", peak_rss_bytes());
        struct G {
            const char* name;
            const char* help;
            const char* type = "gauge";
        };
        const G gauges[] = {
            {"strata_collection_points", "Live points."},
            {"strata_collection_generation", "Number of the disk generation (0: none yet)."},
            {"strata_collection_generation_points", "Points of the disk generation."},
            {"strata_collection_generation_deleted",
             "Generation points deleted or replaced since."},
            {"strata_collection_hot_points", "Points in the in-RAM hot tier."},
            {"strata_collection_frozen_points", "Hot points being consolidated."},
            {"strata_collection_hot_bytes", "RAM of the hot tier."},
            {"strata_collection_wal_bytes", "Bytes of the write-ahead log."},
            {"strata_collection_consolidating", "1 while a consolidation runs."},
            {"strata_collection_consolidations_total", "Consolidations completed since start.",
             "counter"},
            {"strata_collection_generation_recall",
             "Recall@10 the generation measured at its swap."},
            {"strata_collection_ready", "1 once the collection is open and warmed up."},
        };
        std::vector<std::pair<std::string, std::array<double, 12>>> rows;
        for (const auto& e : api.registry_.list()) {
            std::shared_lock<std::shared_mutex> use(e->use);
            if (e->closed) continue;
            const CollectionStats s = e->col->stats();
            rows.push_back({e->name,
                            {double(s.live), double(s.generation), double(s.generation_nodes),
                             double(s.generation_deleted), double(s.hot), double(s.frozen),
                             double(s.hot_bytes), double(s.wal_bytes), s.consolidating ? 1.0 : 0.0,
                             double(s.consolidations), s.generation_recall, e->ready ? 1.0 : 0.0}});
        }
        for (size_t g = 0; g < std::size(gauges); ++g) {
            metric_header(out, gauges[g].name, gauges[g].type, gauges[g].help);
            for (const auto& [n, v] : rows) {
                out += fmt::format("{}{{collection=\"{}\"}} {}\n", gauges[g].name, label_value(n),
                                   v[g]);
            }
        }
        Response r = ok_response("", start);
        r.body = std::move(out);
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return r;
    }
};

Response Api::handle(const Request& req) {
    thread_local simdjson::dom::parser parser = [&] {
        simdjson::dom::parser p;
        if (p.allocate(1 << 16, limits_.max_json_depth) != simdjson::SUCCESS) {
            STRATA_LOG_WARN("cannot allocate a JSON parser");
        }
        return p;
    }();
    // A large body grows the parser to its size; give the memory back after such a request.
    struct Shrink {
        simdjson::dom::parser& p;
        size_t depth;
        ~Shrink() {
            if (p.capacity() > (size_t{4} << 20) &&
                p.allocate(1 << 16, depth) != simdjson::SUCCESS) {
                STRATA_LOG_WARN("cannot shrink a JSON parser");
            }
        }
    } shrink{parser, limits_.max_json_depth};
    Handlers h{*this, Clock::now(), parser, simdjson::padded_string()};
    const auto parts = split_path(req.target);
    const std::string_view m = req.method;
    const size_t n = parts.size();
    auto is = [&](size_t i, std::string_view s) { return i < n && parts[i] == s; };
    auto route = [&](std::string_view endpoint, bool write, auto&& fn) -> Response {
        if (write && req.access == Access::kReadOnly) {
            return error_response(403, "this API key is read-only", endpoint);
        }
        Response r = fn();
        r.endpoint = std::string(endpoint);
        return r;
    };
    auto wrong_method = [&](std::string_view allowed) {
        return error_response(405,
                              fmt::format("{} does not accept {}; use {}", req.target, m, allowed),
                              "method_not_allowed");
    };

    if (n == 1 && parts[0] == "healthz") {
        if (m != "GET") return wrong_method("GET");
        return route("healthz", false,
                     [&] { return ok_response("{\"status\":\"alive\"}", h.start); });
    }
    if (n == 1 && parts[0] == "readyz") {
        if (m != "GET") return wrong_method("GET");
        return route("readyz", false, [&] {
            if (draining_) return error_response(503, "shutting down");
            if (!registry_.ready()) return error_response(503, "warming up");
            return ok_response("{\"status\":\"ready\"}", h.start);
        });
    }
    if (n == 1 && parts[0] == "metrics") {
        if (m != "GET") return wrong_method("GET");
        return route("metrics", false, [&] { return h.metrics(); });
    }
    if (n >= 1 && parts[0] == "collections") {
        if (n == 1) {
            if (m != "GET") return wrong_method("GET");
            return route("collections.list", false, [&] { return h.list(); });
        }
        const std::string_view c = parts[1];
        if (n == 2) {
            if (m == "PUT")
                return route("collections.create", true, [&] { return h.create(c, req.body); });
            if (m == "GET") return route("collections.get", false, [&] { return h.info(c); });
            if (m == "DELETE") return route("collections.delete", true, [&] { return h.drop(c); });
            return wrong_method("PUT, GET or DELETE");
        }
        if (n == 3 && is(2, "points")) {
            if (m != "PUT" && m != "POST") return wrong_method("PUT");
            return route("points.upsert", true, [&] { return h.upsert(c, req.body); });
        }
        if (n == 4 && is(2, "points") && is(3, "delete")) {
            if (m != "POST") return wrong_method("POST");
            return route("points.delete", true, [&] { return h.remove(c, req.body); });
        }
        if (n == 4 && is(2, "points") && is(3, "search")) {
            if (m != "POST") return wrong_method("POST");
            return route("points.search", false, [&] { return h.search(c, req.body, false); });
        }
        if (n == 5 && is(2, "points") && is(3, "search") && is(4, "batch")) {
            if (m != "POST") return wrong_method("POST");
            return route("points.search_batch", false, [&] { return h.search(c, req.body, true); });
        }
        if (n == 4 && is(2, "points")) {
            if (m != "GET") return wrong_method("GET");
            return route("points.get", false, [&] { return h.get_point(c, parts[3]); });
        }
        if (n == 3 && is(2, "index")) {
            if (m != "PUT") return wrong_method("PUT");
            return route("collections.index", true, [&] { return h.create_index(c, req.body); });
        }
        if (n == 3 && is(2, "consolidate")) {
            if (m != "POST") return wrong_method("POST");
            return route("collections.consolidate", true, [&] { return h.consolidate(c); });
        }
        if (n == 3 && is(2, "snapshots")) {
            if (m == "POST") return route("snapshots.create", true, [&] { return h.snapshot(c); });
            if (m == "GET")
                return route("snapshots.list", false, [&] { return h.list_snapshots(c); });
            return wrong_method("POST or GET");
        }
        if (n == 4 && is(2, "snapshots") && is(3, "recover")) {
            if (m != "PUT") return wrong_method("PUT");
            return route("snapshots.recover", true, [&] { return h.recover(c, req.body); });
        }
    }
    return error_response(404, fmt::format("no such endpoint: {} {}", m, req.target), "not_found");
}

}  // namespace strata::server
