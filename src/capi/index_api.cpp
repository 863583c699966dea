// The C API over strata::DiskIndex, read-only (see include/strata/strata.h).
#include <strata/strata.h>
#include <strata/disk_index.hpp>

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "capi/common.hpp"

using strata::DiskIndex;
using strata::DiskIndexOptions;
using strata::DType;
using strata::SearchParams;
using strata::Status;
using namespace strata::capi;

struct strata_index {
    std::unique_ptr<DiskIndex> index;
    uint32_t max_list_size = 0;  // of its options: how far a filtered search may widen
};

namespace {

/// The caller's predicate and allow-list, as the index's result filter.
struct IdFilter {
    strata_id_filter_fn fn;
    void* context;
    const AllowList* allow;
    static bool call(uint64_t id, const void* ctx) {
        const auto* f = static_cast<const IdFilter*>(ctx);
        if (f->allow->active && !f->allow->contains(id)) return false;
        return f->fn == nullptr || f->fn(id, f->context);
    }
};

/// One query; with a filter, the list doubles while fewer than k pass, up to the index's limit.
Status search_one(const DiskIndex& index, const void* query, DType dt, uint32_t dim,
                  SearchParams sp, uint32_t max_list, uint64_t* ids, float* dists) {
    for (;;) {
        STRATA_RETURN_IF_ERROR(index.search(query, dt, dim, sp, ids, dists));
        if (sp.filter == nullptr || sp.list_size >= max_list) return Status::ok();
        uint32_t got = 0;
        while (got < sp.k && ids[got] != std::numeric_limits<uint64_t>::max()) ++got;
        if (got == sp.k || got >= index.info().node_count) return Status::ok();
        sp.list_size = std::min(sp.list_size * 2, max_list);
    }
}

}  // namespace

extern "C" {

void strata_index_options_init(strata_index_options* o) {
    if (o == nullptr) return;
    const DiskIndexOptions d;
    *o = strata_index_options{};
    o->struct_size = sizeof(*o);
    o->cache_bytes = d.cache_bytes;
    o->max_list_size = d.max_list_size;
    o->use_nav_graph = d.use_nav_graph ? 1 : 0;
    o->io = nullptr;
}

void strata_index_info_init(strata_index_info* info) {
    if (info == nullptr) return;
    *info = strata_index_info{};
    info->struct_size = sizeof(*info);
}

strata_status strata_index_open(const char* dir, const strata_index_options* options,
                                strata_index** out, char** errmsg) {
    return guarded(errmsg, [&] {
        if (out == nullptr) return invalid(errmsg, "out is NULL");
        *out = nullptr;
        if (dir == nullptr || *dir == '\0') return invalid(errmsg, "dir is NULL or empty");
        strata_index_options x;
        strata_index_options_init(&x);
        if (strata_status s = read_struct(options, x, "options", errmsg); s != STRATA_OK) return s;
        DiskIndexOptions o;
        o.cache_bytes = x.cache_bytes;
        o.max_list_size = x.max_list_size;
        o.use_nav_graph = x.use_nav_graph != 0;
        if (x.io != nullptr) o.io = x.io;
        const BlockSignals block;
        auto opened = DiskIndex::open(dir, o);
        if (!opened.is_ok()) return report(errmsg, opened.status());
        auto handle = std::make_unique<strata_index>();
        handle->index = std::move(*opened);
        handle->max_list_size = o.max_list_size;
        *out = handle.release();
        return STRATA_OK;
    });
}

void strata_index_close(strata_index* index) {
    try {
        delete index;
    } catch (...) {
    }
}

strata_status strata_index_get_info(const strata_index* index, strata_index_info* out,
                                    char** errmsg) {
    return guarded(errmsg, [&] {
        if (index == nullptr) return invalid(errmsg, "index is NULL");
        if (strata_status s = check_out_struct(out, "info", errmsg); s != STRATA_OK) return s;
        const strata::DiskIndexInfo& i = index->index->info();
        strata_index_info_init(out);
        out->dim = i.dim;
        out->metric = static_cast<int32_t>(i.metric);
        out->dtype = static_cast<int32_t>(i.dtype);
        out->node_count = i.node_count;
        out->degree_max = i.degree_max;
        out->pq_bytes = i.pq_bytes;
        out->pq_ram_bytes = i.pq_ram_bytes;
        out->label_count = i.label_count;
        return STRATA_OK;
    });
}

strata_status strata_index_search(const strata_index* index, const void* queries, int32_t dtype,
                                  uint32_t dim, uint64_t nq, const strata_search_params* params,
                                  uint64_t* ids, float* distances, char** errmsg) {
    return guarded(errmsg, [&] {
        strata_search_params p;
        DType dt;
        const uint32_t idim = index != nullptr ? index->index->info().dim : 0;
        if (strata_status s =
                prepare_search(index, idim, params, queries, dtype, dim, nq, ids, p, dt, errmsg);
            s != STRATA_OK || nq == 0) {
            return s;
        }
        const DiskIndex& di = *index->index;
        SearchParams sp;
        sp.k = p.k;
        sp.list_size = std::max(p.list_size, p.k);
        sp.beam_width = p.beam_width;
        const AllowList allow(p);
        const IdFilter filter{p.filter, p.filter_context, &allow};
        if (p.filter != nullptr || allow.active) {
            sp.filter = IdFilter::call;
            sp.filter_context = &filter;
        }
        std::optional<strata::LabelFilter> labels;
        if (Status s = parse_label_filter(di, p.label_filter_json, labels); !s.is_ok()) {
            return report(errmsg, s);
        }
        if (labels) sp.label_filter = &*labels;
        const uint32_t max_list = std::max(sp.list_size, index->max_list_size);
        const size_t row_bytes = size_t{dim} * strata::dtype_size(dt);
        const auto* q = static_cast<const uint8_t*>(queries);
        return report(errmsg, for_each_query(nq, p.threads, [&](uint64_t i) {
                          return search_one(di, q + i * row_bytes, dt, dim, sp, max_list,
                                            ids + i * p.k,
                                            distances ? distances + i * p.k : nullptr)
                              .with_context(fmt::format("query {}", i));
                      }));
    });
}

}  // extern "C"
