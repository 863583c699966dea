// DiskIndex: opening an index for SSD search, the per-thread scratch pool, query validation.
#include <strata/disk_index.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "core/aligned_buffer.hpp"
#include "core/check.hpp"
#include "core/dtype_util.hpp"
#include "core/log.hpp"
#include "disk/index_reader.hpp"
#include "disk/labels_file.hpp"
#include "disk/nav_graph.hpp"
#include "search/beam_search.hpp"
#include "search/field_labels.hpp"
#include "search/filter.hpp"
#include "search/testing_hooks.hpp"

namespace strata {

const char* search_mode_name(SearchMode mode) {
    return mode == SearchMode::kRounds ? "rounds" : "pipelined";
}

Result<SearchMode> parse_search_mode(const std::string& name) {
    if (name == "pipelined") return SearchMode::kPipelined;
    if (name == "rounds") return SearchMode::kRounds;
    return Status::invalid_argument(
        fmt::format("unknown search mode '{}' (expected pipelined or rounds)", name));
}

Status DiskIndexOptions::validate() const {
    STRATA_RETURN_IF_ERROR(io::parse_io_backend(io).status());
    if (max_list_size < 1 || max_list_size > 10000) {
        return Status::invalid_argument(
            fmt::format("max list size {} is outside [1, 10000]", max_list_size));
    }
    if (max_beam_width < 1 || max_beam_width > 64) {
        return Status::invalid_argument(
            fmt::format("max beam width {} is outside [1, 64]", max_beam_width));
    }
    return Status::ok();
}

struct DiskIndex::Impl {
    DiskIndexOptions options;
    DiskIndexInfo info;
    std::optional<disk::IndexReader> reader;
    std::shared_ptr<const io::SectorFile> file;
    std::optional<quant::PqCodebook> pq;
    std::string codes;
    // External ids: none when they are the row numbers, u32 when they all fit, else u64.
    std::vector<uint32_t> ids32;
    std::vector<uint64_t> ids;
    uint64_t external_id(uint32_t node) const { return ctx.external_id(node); }
    std::optional<disk::NavGraph> nav;
    std::optional<disk::IndexLabels> labels;
    search::FieldLabels label_fields;  // labels named field=value: match and range conditions
    search::NodeCache cache;
    search::IndexContext ctx;

    std::mutex pool_mu;
    std::vector<std::unique_ptr<search::QueryScratch>> pool;
    std::optional<io::FaultInjection> faults;  // tests only; guarded by pool_mu

    Result<std::unique_ptr<search::QueryScratch>> acquire() {
        std::optional<io::FaultInjection> f;
        {
            std::lock_guard lock(pool_mu);
            if (!pool.empty()) {
                auto s = std::move(pool.back());
                pool.pop_back();
                return s;
            }
            f = faults;
        }
        return search::QueryScratch::create(ctx, file, f ? &*f : nullptr);
    }
    void release(std::unique_ptr<search::QueryScratch> s) {
        std::lock_guard lock(pool_mu);
        pool.push_back(std::move(s));
    }

    Status load(const std::string& dir);
    Status check_params(const SearchParams& p) const;
    Status prepare_query(const void* query, DType dtype, uint32_t dim,
                         search::QueryScratch& s) const;
};

namespace {

using Clock = std::chrono::steady_clock;

/// The node sets of the cache warm-up: the navigation graph's nodes (every query starts among
/// them), then the medoid.
std::vector<uint32_t> cache_starts(const DiskIndex::Impl& impl) {
    std::vector<uint32_t> starts;
    if (impl.nav) starts = impl.nav->nodes;
    starts.push_back(impl.ctx.medoid);
    return starts;
}

}  // namespace

Status DiskIndex::Impl::load(const std::string& dir) {
    STRATA_ASSIGN_OR_RETURN(auto r, disk::IndexReader::open(dir));
    reader.emplace(std::move(r));
    const disk::NodeLayout& layout = reader->layout();
    const uint64_t n = layout.node_count;
    if (n == 0 || reader->entry_point() == disk::kNoNode) {
        return Status::invalid_argument(dir + ": the index holds no nodes");
    }
    STRATA_ASSIGN_OR_RETURN(std::string blob, reader->read_file(disk::FileKind::kPqCodebook));
    STRATA_ASSIGN_OR_RETURN(auto codebook,
                            quant::PqCodebook::deserialize(blob, dir + "/pq.codebook"));
    if (codebook.dim() != layout.dim) {
        return Status::corruption(fmt::format("{}/pq.codebook: dimension {} != index dimension {}",
                                              dir, codebook.dim(), layout.dim));
    }
    pq.emplace(std::move(codebook));
    STRATA_ASSIGN_OR_RETURN(codes, reader->read_file(disk::FileKind::kPqCodes));
    if (codes.size() != n * pq->bytes()) {
        return Status::corruption(fmt::format("{}/pq.codes: {} bytes, expected {} codes of {}", dir,
                                              codes.size(), n, pq->bytes()));
    }
    STRATA_ASSIGN_OR_RETURN(std::string id_bytes, reader->read_file(disk::FileKind::kIds));
    if (id_bytes.size() != n * 8) {
        return Status::corruption(
            fmt::format("{}/ids.u64: {} bytes for {} nodes", dir, id_bytes.size(), n));
    }
    ids.resize(n);
    std::memcpy(ids.data(), id_bytes.data(), id_bytes.size());
    bool identity = true;
    uint64_t max_id = 0;
    for (uint64_t i = 0; i < n; ++i) {
        identity = identity && ids[i] == i;
        max_id = std::max(max_id, ids[i]);
    }
    if (identity) {
        std::vector<uint64_t>().swap(ids);
    } else if (max_id <= std::numeric_limits<uint32_t>::max()) {
        ids32.assign(ids.begin(), ids.end());
        std::vector<uint64_t>().swap(ids);
    }
    if (options.use_nav_graph && reader->has_file(disk::FileKind::kNavGraph)) {
        STRATA_ASSIGN_OR_RETURN(std::string nav_bytes,
                                reader->read_file(disk::FileKind::kNavGraph));
        STRATA_ASSIGN_OR_RETURN(auto g, disk::NavGraph::decode(nav_bytes, n, dir + "/nav.graph"));
        nav.emplace(std::move(g));
    }

    if (reader->has_file(disk::FileKind::kLabels)) {
        STRATA_ASSIGN_OR_RETURN(std::string label_bytes,
                                reader->read_file(disk::FileKind::kLabels));
        STRATA_ASSIGN_OR_RETURN(auto lb,
                                disk::IndexLabels::decode(label_bytes, n, dir + "/labels"));
        labels.emplace(std::move(lb));
        for (uint32_t l = 0; l < labels->label_count(); ++l) label_fields.add(l, labels->names[l]);
    }

    io::SectorFileOptions fo;
    STRATA_ASSIGN_OR_RETURN(fo.backend, io::parse_io_backend(options.io));
    STRATA_ASSIGN_OR_RETURN(file, io::SectorFile::open(reader->index_path(), fo));

    ctx.layout = layout;
    ctx.metric = reader->metric();
    ctx.pq = &*pq;
    ctx.codes = reinterpret_cast<const uint8_t*>(codes.data());
    ctx.nav = nav ? &*nav : nullptr;
    ctx.labels = labels ? &*labels : nullptr;
    ctx.medoid = reader->entry_point();
    ctx.ids32 = ids32.empty() ? nullptr : ids32.data();
    ctx.ids64 = ids.empty() ? nullptr : ids.data();
    ctx.exact = distance::distance_fn(layout.dtype, ctx.metric);
    ctx.max_list_size = options.max_list_size;
    ctx.max_beam_width = options.max_beam_width;
    ctx.cache = &cache;
    if (options.cache_bytes > 0) {
        io::SectorReaderOptions ro;
        ro.max_read_bytes = std::max<uint32_t>(layout.read_bytes(), io::kSectorBytes);
        STRATA_ASSIGN_OR_RETURN(auto warm, io::SectorReader::create(file, ro));
        STRATA_ASSIGN_OR_RETURN(cache, search::NodeCache::build(*warm, layout, cache_starts(*this),
                                                                options.cache_bytes));
    }

    info.dir = dir;
    info.metric = ctx.metric;
    info.dtype = layout.dtype;
    info.dim = layout.dim;
    info.node_count = n;
    info.degree_max = layout.degree_max;
    info.pq_bytes = pq->bytes();
    info.nodes_per_sector = layout.nodes_per_sector;
    info.entry_point = ctx.medoid;
    info.nav_nodes = nav ? nav->size() : 0;
    info.cache_nodes = cache.size();
    info.io_backend = std::string(io::io_backend_name(file->backend()));
    info.direct_io = file->direct_io();
    info.pq_ram_bytes = codes.size() + pq->memory_bytes();
    info.ids_ram_bytes = ids.size() * sizeof(uint64_t) + ids32.size() * sizeof(uint32_t);
    info.nav_ram_bytes = nav ? nav->memory_bytes() : 0;
    info.cache_ram_bytes = cache.memory_bytes();
    info.label_count = labels ? labels->label_count() : 0;
    info.labels_ram_bytes = labels ? labels->memory_bytes() + label_fields.memory_bytes() : 0;
    return Status::ok();
}

Status DiskIndex::Impl::check_params(const SearchParams& p) const {
    if (p.k < 1 || p.k > p.list_size) {
        return Status::invalid_argument(
            fmt::format("k = {} must be in [1, L = {}]", p.k, p.list_size));
    }
    if (p.list_size > options.max_list_size) {
        return Status::invalid_argument(fmt::format("L = {} is above this index's max list size {}",
                                                    p.list_size, options.max_list_size));
    }
    if (p.beam_width < 1 || p.beam_width > options.max_beam_width) {
        return Status::invalid_argument(
            fmt::format("beam width {} must be in [1, {}]", p.beam_width, options.max_beam_width));
    }
    if (p.mode != SearchMode::kPipelined && p.mode != SearchMode::kRounds) {
        return Status::invalid_argument("unknown search mode");
    }
    if (p.label_filter != nullptr && !labels) {
        return Status::invalid_argument(
            info.dir + ": the index holds no labels (build it with --labels to filter)");
    }
    if (p.filter_plan != FilterPlan::kAuto && p.filter_plan != FilterPlan::kGraph &&
        p.filter_plan != FilterPlan::kScan) {
        return Status::invalid_argument("unknown filter plan");
    }
    return Status::ok();
}

Status DiskIndex::Impl::prepare_query(const void* query, DType dtype, uint32_t dim,
                                      search::QueryScratch& s) const {
    const uint32_t d = info.dim;
    if (query == nullptr) return Status::invalid_argument("query is null");
    if (dim != d) {
        return Status::invalid_argument(
            fmt::format("query has dimension {}, the index has {}", dim, d));
    }
    float* qf = s.query_f32();
    if (dtype == info.dtype) {
        std::memcpy(s.query(), query, size_t{d} * dtype_size(dtype));
        to_float(dtype, query, d, qf);
    } else if (dtype == DType::kF32) {
        // Float values for an integer index must be integers it can hold.
        const auto* in = static_cast<const float*>(query);
        const double lo = info.dtype == DType::kU8 ? 0 : -128;
        const double hi = info.dtype == DType::kU8 ? 255 : 127;
        for (uint32_t j = 0; j < d; ++j) {
            const double v = in[j];
            if (!(v >= lo && v <= hi) || v != std::floor(v)) {
                return Status::invalid_argument(
                    fmt::format("query element {} = {} is not a {} value (the index stores {})", j,
                                in[j], dtype_name(info.dtype), dtype_name(info.dtype)));
            }
            qf[j] = in[j];
            if (info.dtype == DType::kU8) {
                s.query()[j] = static_cast<uint8_t>(in[j]);
            } else {
                reinterpret_cast<int8_t*>(s.query())[j] = static_cast<int8_t>(in[j]);
            }
        }
    } else {
        return Status::invalid_argument(fmt::format("query dtype {} does not match the index's {}",
                                                    dtype_name(dtype), dtype_name(info.dtype)));
    }
    if (info.dtype == DType::kF32) {
        for (uint32_t j = 0; j < d; ++j) {
            if (!std::isfinite(qf[j])) {
                return Status::invalid_argument(
                    fmt::format("query element {} is {} (queries must be finite)", j, qf[j]));
            }
        }
        if (info.metric == Metric::kCosine) {
            if (distance::normalize_f32(qf, d) == 0.0f) {
                return Status::invalid_argument("query has norm 0, which cosine cannot rank");
            }
            std::memcpy(s.query(), qf, size_t{d} * 4);
        }
    }
    return Status::ok();
}

struct DiskIndexTestAccess {
    static void set_faults(const DiskIndex& index, std::optional<io::FaultInjection> faults) {
        std::lock_guard lock(index.impl_->pool_mu);
        index.impl_->faults = faults;
        index.impl_->pool.clear();
    }
};

namespace search::testing {
void set_fault_injection(const DiskIndex& index, std::optional<io::FaultInjection> faults) {
    DiskIndexTestAccess::set_faults(index, faults);
}
}  // namespace search::testing

DiskIndex::DiskIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DiskIndex::~DiskIndex() = default;

Result<std::unique_ptr<DiskIndex>> DiskIndex::open(const std::string& dir,
                                                   const DiskIndexOptions& options) {
    try {
        STRATA_RETURN_IF_ERROR(options.validate());
        const auto t0 = Clock::now();
        auto impl = std::make_unique<Impl>();
        impl->options = options;
        STRATA_RETURN_IF_ERROR(impl->load(dir));
        impl->info.open_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        return std::unique_ptr<DiskIndex>(new DiskIndex(std::move(impl)));
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(dir + ": out of memory opening the index");
    } catch (const std::exception& e) {
        return Status::internal(dir + ": " + e.what());
    }
}

const DiskIndexInfo& DiskIndex::info() const { return impl_->info; }

Result<LabelFilter> DiskIndex::parse_filter(std::string_view json) const {
    const auto& labels = impl_->labels;
    if (!labels) {
        return Status::invalid_argument(impl_->info.dir +
                                        ": the index holds no labels (build it with --labels)");
    }
    try {
        return search::parse_label_filter(
            json, [&](std::string_view name) { return labels->resolve(name); },
            &impl_->label_fields);
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("out of memory parsing a filter");
    }
}

std::span<const uint32_t> DiskIndex::node_labels(uint64_t node) const {
    STRATA_CHECK(node < impl_->info.node_count);
    if (!impl_->labels) return {};
    return impl_->labels->of(static_cast<uint32_t>(node));
}

const std::string& DiskIndex::label_name(uint32_t id) const {
    STRATA_CHECK(impl_->labels && id < impl_->labels->label_count());
    return impl_->labels->names[id];
}

uint64_t DiskIndex::estimate_matches(const LabelFilter& filter) const {
    if (!impl_->labels) return 0;
    if (filter.empty()) return impl_->info.node_count;
    std::vector<uint32_t> clause;
    return search::plan_filter(*impl_->labels, filter, clause).matches;
}

uint64_t DiskIndex::external_id(uint64_t node) const {
    STRATA_CHECK(node < impl_->info.node_count);
    return impl_->external_id(static_cast<uint32_t>(node));
}

Status DiskIndex::read_vector(uint64_t node, void* out) const {
    const disk::NodeLayout& layout = impl_->reader->layout();
    if (node >= layout.node_count) {
        return Status::out_of_range(fmt::format("node {} is beyond the {} nodes of {}", node,
                                                layout.node_count, impl_->info.dir));
    }
    try {
        AlignedBuffer<uint8_t> buf(layout.node_bytes);
        STRATA_RETURN_IF_ERROR(impl_->reader->read_node(node, {buf.data(), buf.size()}));
        const disk::NodeView v = layout.view_node(buf.data());
        std::memcpy(out, v.vector, size_t{layout.dim} * dtype_size(layout.dtype));
        return Status::ok();
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("out of memory reading a node");
    }
}

Status DiskIndex::search(const void* query, DType dtype, uint32_t dim, const SearchParams& params,
                         uint64_t* ids, float* dists, QueryStats* stats) const {
    STRATA_RETURN_IF_ERROR(impl_->check_params(params));
    if (ids == nullptr) return Status::invalid_argument("ids output is null");
    try {
        STRATA_ASSIGN_OR_RETURN(std::unique_ptr<search::QueryScratch> s, impl_->acquire());
        Status status = impl_->prepare_query(query, dtype, dim, *s);
        QueryStats local;
        uint32_t count = 0;
        if (status.is_ok()) {
            auto r = search::beam_search(impl_->ctx, params, *s, local);
            if (r.is_ok()) {
                count = *r;
            } else {
                status = r.status();
            }
        }
        if (status.is_ok()) {
            const search::Scored* found = s->results();
            for (uint32_t i = 0; i < params.k; ++i) {
                if (i < count) {
                    ids[i] = impl_->external_id(found[i].id);
                    if (dists != nullptr) dists[i] = found[i].dist;
                } else {
                    ids[i] = std::numeric_limits<uint64_t>::max();
                    if (dists != nullptr) dists[i] = std::numeric_limits<float>::infinity();
                }
            }
            if (stats != nullptr) *stats = local;
        }
        // A ring whose reads could not be drained after an error is not reused.
        if (!s->broken()) impl_->release(std::move(s));
        return status;
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("out of memory for a search thread's scratch");
    } catch (const std::exception& e) {
        return Status::internal(std::string("search: ") + e.what());
    }
}

Status DiskIndex::search_batch(const void* queries, DType dtype, uint32_t dim, uint64_t nq,
                               size_t stride_bytes, const SearchParams& params, int threads,
                               uint64_t* ids, float* dists, QueryStats* stats) const {
    STRATA_RETURN_IF_ERROR(impl_->check_params(params));
    if (nq == 0) return Status::ok();
    if (queries == nullptr || ids == nullptr) {
        return Status::invalid_argument("queries or ids output is null");
    }
    if (threads < 0) return Status::invalid_argument("threads must be >= 0");
    std::mutex mu;
    Status first;
    std::atomic<bool> failed{false};
    const auto run = [&] {
        tbb::parallel_for(tbb::blocked_range<uint64_t>(0, nq, 1), [&](const auto& range) {
            for (uint64_t q = range.begin(); q != range.end(); ++q) {
                if (failed.load(std::memory_order_relaxed)) return;
                Status st =
                    search(static_cast<const uint8_t*>(queries) + q * stride_bytes, dtype, dim,
                           params, ids + q * params.k, dists ? dists + q * params.k : nullptr,
                           stats ? stats + q : nullptr);
                if (!st.is_ok()) {
                    std::lock_guard lock(mu);
                    if (first.is_ok()) {
                        first = Status(st.code(), fmt::format("query {}: {}", q, st.message()));
                    }
                    failed = true;
                }
            }
        });
    };
    try {
        if (threads == 0) {
            run();
        } else {
            tbb::task_arena arena(threads);
            arena.execute(run);
        }
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("out of memory during a batch search");
    } catch (const std::exception& e) {
        return Status::internal(std::string("batch search: ") + e.what());
    }
    return first;
}

}  // namespace strata
