#include "collection/tiers.hpp"

#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "collection/rows.hpp"
#include "core/log.hpp"
#include "disk/index_reader.hpp"

namespace strata::collection {

Result<std::unique_ptr<HotTier>> HotTier::create(const CollectionParams& p,
                                                 const CollectionOptions& o, uint64_t seed) {
    graph::HnswOptions ho;
    ho.dim = p.dim;
    ho.dtype = stored_dtype(p);
    ho.metric = p.metric;
    ho.M = o.hot_m;
    ho.ef_construction = o.hot_ef_construction;
    ho.seed = seed;
    STRATA_ASSIGN_OR_RETURN(auto hnsw, graph::Hnsw::create(ho));
    std::unique_ptr<HotTier> t(new HotTier());
    t->hnsw_ = std::move(hnsw);
    t->exact_ = distance::distance_fn(ho.dtype, p.metric);
    t->dim_ = p.dim;
    t->chunk_count_ = (ho.max_elements + kChunk - 1) / kChunk;
    t->chunks_ = std::make_unique<std::atomic<Chunk*>[]>(t->chunk_count_);
    for (uint32_t i = 0; i < t->chunk_count_; ++i) t->chunks_[i].store(nullptr);
    return t;
}

HotTier::~HotTier() {
    if (!chunks_) return;
    for (uint32_t i = 0; i < chunk_count_; ++i) delete chunks_[i].load();
}

Result<uint32_t> HotTier::add(uint64_t id, const void* vec, std::vector<uint32_t> labels) {
    STRATA_ASSIGN_OR_RETURN(uint32_t slot, hnsw_->add(vec));
    const uint32_t c = slot >> kBits;
    if (chunks_[c].load(std::memory_order_acquire) == nullptr) {
        std::lock_guard<std::mutex> lock(grow_mu_);
        if (chunks_[c].load(std::memory_order_acquire) == nullptr) {
            auto* fresh = new Chunk();
            for (auto& f : fresh->live) f.store(0, std::memory_order_relaxed);
            chunks_[c].store(fresh, std::memory_order_release);
        }
    }
    chunk(slot)->ids[slot & kMask] = id;
    chunk(slot)->labels[slot & kMask] = std::move(labels);
    return slot;
}

size_t HotTier::memory_bytes() const {
    size_t chunks = 0;
    for (uint32_t i = 0; i < chunk_count_; ++i) {
        if (chunks_[i].load(std::memory_order_acquire) != nullptr) ++chunks;
    }
    return hnsw_->memory_bytes() + chunks * sizeof(Chunk) + chunk_count_ * sizeof(void*);
}

Result<uint32_t> HotTier::search(const void* query, uint32_t k, uint32_t ef, uint64_t* ids,
                                 float* dists, const LabelFilter* filter,
                                 const IdMatch* id_match) const {
    if (size() == 0) return 0u;
    thread_local std::vector<uint32_t> slots;
    slots.resize(k);
    if (filter != nullptr && filter->empty()) filter = nullptr;
    if (id_match != nullptr && !id_match->active()) id_match = nullptr;
    if (filter == nullptr && id_match == nullptr) {
        const graph::SlotFilter alive = [](uint32_t slot, const void* ctx) {
            return static_cast<const HotTier*>(ctx)->live(slot);
        };
        STRATA_ASSIGN_OR_RETURN(uint32_t got, hnsw_->search(query, k, std::max(ef, k), alive, this,
                                                            slots.data(), dists));
        for (uint32_t i = 0; i < got; ++i) ids[i] = id(slots[i]);
        return got;
    }
    struct Ctx {
        const HotTier* tier;
        const LabelFilter* filter;
        const IdMatch* id_match;
    } ctx{this, filter, id_match};
    const graph::SlotFilter match = [](uint32_t slot, const void* c) {
        const auto* x = static_cast<const Ctx*>(c);
        return x->tier->live(slot) &&
               (x->filter == nullptr || x->filter->matches(x->tier->labels(slot))) &&
               (x->id_match == nullptr || (*x->id_match)(x->tier->id(slot)));
    };
    const uint32_t wide = std::min(std::max(ef, k) * 4, std::max(size(), k));
    STRATA_ASSIGN_OR_RETURN(uint32_t got,
                            hnsw_->search(query, k, wide, match, &ctx, slots.data(), dists));
    if (got < k) {
        // Few matches reachable: the exact k nearest of the matching slots.
        thread_local std::vector<std::pair<float, uint32_t>> best;
        best.clear();
        const uint32_t n = size();
        for (uint32_t s = 0; s < n; ++s) {
            if (!match(s, &ctx)) continue;
            best.emplace_back(exact_(query, hnsw_->vector(s), dim_), s);
        }
        got = static_cast<uint32_t>(std::min<size_t>(k, best.size()));
        std::partial_sort(best.begin(), best.begin() + got, best.end());
        for (uint32_t i = 0; i < got; ++i) {
            dists[i] = best[i].first;
            slots[i] = best[i].second;
        }
    }
    for (uint32_t i = 0; i < got; ++i) ids[i] = id(slots[i]);
    return got;
}

Result<std::shared_ptr<Generation>> Generation::open(const std::string& dir, uint64_t number,
                                                     const DiskIndexOptions& options) {
    STRATA_ASSIGN_OR_RETURN(auto index, DiskIndex::open(dir, options));
    std::shared_ptr<Generation> g(new Generation());
    g->number_ = number;
    g->dir_ = dir;
    const uint64_t n = index->info().node_count;
    std::vector<std::pair<uint64_t, uint32_t>> pairs(n);
    for (uint64_t i = 0; i < n; ++i) pairs[i] = {index->external_id(i), static_cast<uint32_t>(i)};
    std::sort(pairs.begin(), pairs.end());
    g->ids_.resize(n);
    g->nodes_.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
        if (i > 0 && pairs[i].first == pairs[i - 1].first) {
            return Status::corruption(
                fmt::format("{}: external id {} appears twice", dir, pairs[i].first));
        }
        g->ids_[i] = pairs[i].first;
        g->nodes_[i] = pairs[i].second;
    }
    const uint64_t words = (n + 63) / 64;
    g->dead_ = std::make_unique<std::atomic<uint64_t>[]>(words);
    for (uint64_t i = 0; i < words; ++i) g->dead_[i].store(0);
    g->index_ = std::move(index);
    g->max_list_ = options.max_list_size;
    return g;
}

Generation::~Generation() {
    index_.reset();
    if (retired_.load()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        if (ec)
            detail::log(LogLevel::kWarn, "could not remove retired generation {}: {}", dir_,
                        ec.message());
    }
}

Status Generation::search(const void* query, DType dtype, uint32_t dim,
                          const CollectionSearchParams& p, uint64_t* ids, float* dists,
                          QueryStats* stats) const {
    SearchParams sp;
    sp.k = p.k;
    sp.list_size = std::max(p.list_size, p.k);
    sp.beam_width = p.beam_width;
    if (p.label_filter != nullptr && !p.label_filter->empty()) {
        if (index_->info().label_count > 0) {
            sp.label_filter = p.label_filter;
        } else if (!p.label_filter->matches({})) {
            // A generation written before any label: its nodes carry none, so none matches.
            std::fill_n(ids, p.k, std::numeric_limits<uint64_t>::max());
            if (dists) std::fill_n(dists, p.k, std::numeric_limits<float>::infinity());
            if (stats) *stats = QueryStats{};
            return Status::ok();
        }
    }
    // Tombstones and the caller's id match, composed into the disk search's result filter.
    struct Ctx {
        const Generation* gen;
        IdMatch id_match;
    } ctx{this, IdMatch::of(p)};
    if (ctx.id_match.active()) {
        sp.filter = [](uint64_t id, const void* c) {
            const auto* x = static_cast<const Ctx*>(c);
            const int64_t node = x->gen->node_of(id);
            return node >= 0 && !x->gen->dead(static_cast<uint64_t>(node)) && x->id_match(id);
        };
        sp.filter_context = &ctx;
    } else if (dead_count() > 0) {
        sp.filter = [](uint64_t id, const void* c) {
            const auto* g = static_cast<const Generation*>(c);
            const int64_t node = g->node_of(id);
            return node >= 0 && !g->dead(static_cast<uint64_t>(node));
        };
        sp.filter_context = this;
    }
    const uint32_t max_list = std::max(max_list_, sp.list_size);
    if (stats) *stats = QueryStats{};
    for (;;) {
        QueryStats qs;
        STRATA_RETURN_IF_ERROR(index_->search(query, dtype, dim, sp, ids, dists, &qs));
        if (stats) {
            stats->reads += qs.reads;
            stats->bytes_read += qs.bytes_read;
            stats->hops += qs.hops;
            stats->mate_expansions += qs.mate_expansions;
            stats->cache_hits += qs.cache_hits;
            stats->nav_hops += qs.nav_hops;
            stats->io_us += qs.io_us;
            stats->cpu_us += qs.cpu_us;
            stats->total_us += qs.total_us;
            stats->scanned += qs.scanned;
        }
        uint32_t got = 0;
        while (got < p.k && ids[got] != std::numeric_limits<uint64_t>::max()) ++got;
        if (got == p.k || got >= live_count() || sp.list_size >= max_list) return Status::ok();
        // A filter scan that met at most L matching nodes read every one of them: a wider list
        // cannot find more.
        if (qs.scanned > 0 && qs.scanned <= sp.list_size) return Status::ok();
        sp.list_size = std::min(sp.list_size * 2, max_list);
    }
}

}  // namespace strata::collection
