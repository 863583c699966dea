// The C API over strata::Collection (see include/strata/strata.h).
#include <strata/strata.h>
#include <strata/collection.hpp>

#include <limits>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "capi/common.hpp"

using strata::Collection;
using strata::CollectionOptions;
using strata::CollectionParams;
using strata::CollectionSearchParams;
using strata::DType;
using strata::Status;
using namespace strata::capi;

struct strata_collection {
    std::unique_ptr<Collection> collection;  // holds the directory's lock while open
};

namespace {

strata_status to_options(const strata_open_options* in, CollectionOptions& o, char** errmsg) {
    strata_open_options x;
    strata_open_options_init(&x);
    if (strata_status s = read_struct(in, x, "options", errmsg); s != STRATA_OK) return s;
    if (x.wal_sync_interval_ms > 0) {
        o.wal_sync = CollectionOptions::Sync::kInterval;
        o.wal_interval_ms = x.wal_sync_interval_ms;
    }
    o.consolidate_at = x.consolidate_at;
    o.background = x.background != 0;
    o.consolidation_threads = x.consolidation_threads;
    o.consolidation_memory_gb = x.consolidation_memory_gb;
    o.disk.cache_bytes = x.cache_bytes;
    o.disk.max_list_size = x.max_list_size;
    if (x.io != nullptr) o.disk.io = x.io;
    if (x.consolidation_threads < 0) {
        return invalid(errmsg, "options.consolidation_threads must be >= 0 (0 = all cores)");
    }
    o.lock_timeout_ms = x.lock_timeout_ms;
    return report(errmsg, o.validate());
}

/// Opens (or creates, when params is not null) a collection behind its directory lock.
strata_status open_locked(const char* dir, const CollectionParams* params,
                          const strata_open_options* options, strata_collection** out,
                          char** errmsg) {
    if (out == nullptr) return invalid(errmsg, "out is NULL");
    *out = nullptr;
    if (dir == nullptr || *dir == '\0') return invalid(errmsg, "dir is NULL or empty");
    CollectionOptions o;
    if (strata_status s = to_options(options, o, errmsg); s != STRATA_OK) return s;
    auto handle = std::make_unique<strata_collection>();
    const BlockSignals block;  // the collection's threads start here
    if (params != nullptr) {
        auto made = Collection::create(dir, *params, o);
        if (!made.is_ok()) return report(errmsg, made.status());
        handle->collection = std::move(*made);
    } else {
        if (!Collection::exists(dir)) {
            return report(errmsg, Status::not_found(
                                      fmt::format("{} is not a collection (no MANIFEST)", dir)));
        }
        auto opened = Collection::open(dir, o);
        if (!opened.is_ok()) return report(errmsg, opened.status());
        handle->collection = std::move(*opened);
    }
    *out = handle.release();
    return STRATA_OK;
}

struct UserFilter {
    strata_id_filter_fn fn;
    void* context;
};

bool call_user_filter(uint64_t id, const void* context) {
    const auto* f = static_cast<const UserFilter*>(context);
    return f->fn(id, f->context);
}

}  // namespace

extern "C" {

void strata_collection_params_init(strata_collection_params* p) {
    if (p == nullptr) return;
    const CollectionParams d;
    *p = strata_collection_params{};
    p->struct_size = sizeof(*p);
    p->dim = d.dim;
    p->metric = static_cast<int32_t>(d.metric);
    p->dtype = static_cast<int32_t>(d.dtype);
    p->degree_max = d.degree_max;
    p->list_size = d.list_size;
    p->alpha = d.alpha;
    p->pq_bytes = d.pq_bytes;
}

void strata_open_options_init(strata_open_options* o) {
    if (o == nullptr) return;
    const CollectionOptions d;
    *o = strata_open_options{};
    o->struct_size = sizeof(*o);
    o->wal_sync_interval_ms = 0;
    o->consolidate_at = d.consolidate_at;
    o->background = d.background ? 1 : 0;
    o->consolidation_threads = d.consolidation_threads;
    o->consolidation_memory_gb = d.consolidation_memory_gb;
    o->cache_bytes = d.disk.cache_bytes;
    o->max_list_size = d.disk.max_list_size;
    o->lock_timeout_ms = 0;
    o->io = nullptr;
}

void strata_search_params_init(strata_search_params* p) {
    if (p == nullptr) return;
    const CollectionSearchParams d;
    *p = strata_search_params{};
    p->struct_size = sizeof(*p);
    p->k = d.k;
    p->list_size = d.list_size;
    p->beam_width = d.beam_width;
    p->threads = 1;
}

void strata_consolidation_report_init(strata_consolidation_report* r) {
    if (r == nullptr) return;
    *r = strata_consolidation_report{};
    r->struct_size = sizeof(*r);
}

void strata_collection_stats_init(strata_collection_stats* s) {
    if (s == nullptr) return;
    *s = strata_collection_stats{};
    s->struct_size = sizeof(*s);
}

bool strata_collection_exists(const char* dir) {
    if (dir == nullptr) return false;
    try {
        return Collection::exists(dir);
    } catch (...) {
        return false;
    }
}

strata_status strata_collection_create(const char* dir, const strata_collection_params* params,
                                       const strata_open_options* options, strata_collection** out,
                                       char** errmsg) {
    return guarded(errmsg, [&] {
        if (params == nullptr) return invalid(errmsg, "params is NULL");
        strata_collection_params x;
        strata_collection_params_init(&x);
        if (strata_status s = read_struct(params, x, "params", errmsg); s != STRATA_OK) return s;
        CollectionParams p;
        p.dim = x.dim;
        if (x.metric < 0 || x.metric > STRATA_METRIC_COSINE) {
            return invalid(errmsg, fmt::format("params.metric {} is not a strata_metric (0 = l2, "
                                               "1 = ip, 2 = cosine)",
                                               x.metric));
        }
        p.metric = static_cast<strata::Metric>(x.metric);
        if (!to_dtype(x.dtype, p.dtype)) {
            return invalid(errmsg, fmt::format("params.dtype {} is not a strata_dtype (0 = f32, "
                                               "1 = u8, 2 = i8)",
                                               x.dtype));
        }
        p.degree_max = x.degree_max;
        p.list_size = x.list_size;
        p.alpha = x.alpha;
        p.pq_bytes = x.pq_bytes;
        if (Status s = p.validate(); !s.is_ok()) return report(errmsg, s.with_context("params"));
        return open_locked(dir, &p, options, out, errmsg);
    });
}

strata_status strata_collection_open(const char* dir, const strata_open_options* options,
                                     strata_collection** out, char** errmsg) {
    return guarded(errmsg, [&] { return open_locked(dir, nullptr, options, out, errmsg); });
}

void strata_collection_close(strata_collection* c) {
    if (c == nullptr) return;
    try {
        c->collection.reset();
    } catch (...) {  // the destructor logs its own failures; nothing may escape
    }
    delete c;
}

strata_status strata_collection_upsert(strata_collection* c, const uint64_t* ids, uint64_t n,
                                       const void* vectors, int32_t dtype, char** errmsg) {
    return guarded(errmsg, [&] {
        if (c == nullptr) return invalid(errmsg, "collection is NULL");
        DType dt;
        if (!to_dtype(dtype, dt)) {
            return invalid(errmsg, fmt::format("dtype {} is not a strata_dtype", dtype));
        }
        if (n == 0) return STRATA_OK;
        if (ids == nullptr || vectors == nullptr) return invalid(errmsg, "ids or vectors is NULL");
        return report(errmsg, c->collection->upsert(ids, n, vectors, dt));
    });
}

strata_status strata_collection_delete(strata_collection* c, const uint64_t* ids, uint64_t n,
                                       char** errmsg) {
    return guarded(errmsg, [&] {
        if (c == nullptr) return invalid(errmsg, "collection is NULL");
        if (n == 0) return STRATA_OK;
        if (ids == nullptr) return invalid(errmsg, "ids is NULL");
        return report(errmsg, c->collection->remove(ids, n));
    });
}

strata_status strata_collection_search(const strata_collection* c, const void* queries,
                                       int32_t dtype, uint32_t dim, uint64_t nq,
                                       const strata_search_params* params, uint64_t* ids,
                                       float* distances, char** errmsg) {
    return guarded(errmsg, [&] {
        strata_search_params p;
        DType dt;
        const uint32_t cdim = c != nullptr ? c->collection->params().dim : 0;
        if (strata_status s =
                prepare_search(c, cdim, params, queries, dtype, dim, nq, ids, p, dt, errmsg);
            s != STRATA_OK || nq == 0) {
            return s;
        }
        const Collection& col = *c->collection;
        CollectionSearchParams sp;
        sp.k = p.k;
        sp.list_size = std::max(p.list_size, p.k);
        sp.beam_width = p.beam_width;
        const UserFilter user{p.filter, p.filter_context};
        if (p.filter != nullptr) {
            sp.id_filter = call_user_filter;
            sp.id_filter_context = &user;
        }
        const AllowList allow(p);
        sp.use_allow_ids = allow.active;
        sp.allow_ids = allow.ids;
        std::optional<strata::LabelFilter> labels;
        if (Status s = parse_label_filter(col, p.label_filter_json, labels); !s.is_ok()) {
            return report(errmsg, s);
        }
        if (labels) sp.label_filter = &*labels;
        const size_t row_bytes = size_t{dim} * strata::dtype_size(dt);
        const auto* q = static_cast<const uint8_t*>(queries);
        return report(errmsg, for_each_query(nq, p.threads, [&](uint64_t i) {
                          return col
                              .search(q + i * row_bytes, dt, dim, sp, ids + i * p.k,
                                      distances ? distances + i * p.k : nullptr)
                              .with_context(fmt::format("query {}", i));
                      }));
    });
}

strata_status strata_collection_get(const strata_collection* c, uint64_t id, void* out,
                                    uint64_t out_bytes, char** errmsg) {
    return guarded(errmsg, [&] {
        if (c == nullptr || out == nullptr) return invalid(errmsg, "collection or out is NULL");
        const CollectionParams& p = c->collection->params();
        const DType stored = p.metric == strata::Metric::kCosine ? DType::kF32 : p.dtype;
        const uint64_t need = uint64_t{p.dim} * strata::dtype_size(stored);
        if (out_bytes < need) {
            return invalid(errmsg,
                           fmt::format("out holds {} bytes, a vector takes {}", out_bytes, need));
        }
        return report(errmsg, c->collection->get(id, out));
    });
}

strata_status strata_collection_consolidate(strata_collection* c,
                                            strata_consolidation_report* report_out,
                                            char** errmsg) {
    return guarded(errmsg, [&] {
        if (c == nullptr) return invalid(errmsg, "collection is NULL");
        if (report_out != nullptr) {
            if (strata_status s = check_out_struct(report_out, "report", errmsg); s != STRATA_OK) {
                return s;
            }
        }
        const BlockSignals block;  // the consolidation's threads start here
        auto r = c->collection->consolidate();
        if (!r.is_ok()) return report(errmsg, r.status());
        if (report_out != nullptr) {
            strata_consolidation_report_init(report_out);
            report_out->swapped = r->swapped ? 1 : 0;
            report_out->generation = r->generation;
            report_out->kept = r->kept;
            report_out->deleted = r->deleted;
            report_out->inserted = r->inserted;
            report_out->incremental = r->incremental ? 1 : 0;
            report_out->recall = r->recall;
            report_out->previous_recall = r->previous_recall;
            report_out->seconds_total = r->seconds_total;
            copy_text(report_out->reason, r->reason);
        }
        return STRATA_OK;
    });
}

strata_status strata_collection_sync(strata_collection* c, char** errmsg) {
    return guarded(errmsg, [&] {
        if (c == nullptr) return invalid(errmsg, "collection is NULL");
        return report(errmsg, c->collection->sync());
    });
}

strata_status strata_collection_get_stats(const strata_collection* c, strata_collection_stats* out,
                                          char** errmsg) {
    return guarded(errmsg, [&] {
        if (c == nullptr) return invalid(errmsg, "collection is NULL");
        if (strata_status s = check_out_struct(out, "stats", errmsg); s != STRATA_OK) return s;
        const strata::CollectionStats st = c->collection->stats();
        strata_collection_stats_init(out);
        out->dim = st.dim;
        out->metric = static_cast<int32_t>(st.metric);
        out->dtype = static_cast<int32_t>(st.dtype);
        out->live = st.live;
        out->generation = st.generation;
        out->generation_nodes = st.generation_nodes;
        out->generation_deleted = st.generation_deleted;
        out->hot = st.hot;
        out->hot_bytes = st.hot_bytes;
        out->wal_bytes = st.wal_bytes;
        out->next_id = st.next_id;
        out->generation_recall = st.generation_recall;
        out->consolidating = st.consolidating ? 1 : 0;
        out->consolidations = st.consolidations;
        copy_text(out->last_error, st.last_error);
        return STRATA_OK;
    });
}

}  // extern "C"
