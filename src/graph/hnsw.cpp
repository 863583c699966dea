// HNSW: layered proximity graph, built incrementally with concurrent inserts.
#include "graph/hnsw.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "core/aligned_buffer.hpp"
#include "core/check.hpp"
#include "core/dtype_util.hpp"
#include "core/rng.hpp"

namespace strata::graph {
namespace {

using Scored = std::pair<float, uint32_t>;  // distance, slot

constexpr uint32_t kMaxLevel = 15;

}  // namespace

struct Hnsw::Chunk {
    AlignedBuffer<uint8_t> vectors;
    std::unique_ptr<uint32_t[]> links0;  // per slot: count, then max0 ids
    uint8_t levels[kChunk] = {};
    std::unique_ptr<uint32_t[]> upper[kChunk];  // per level >= 1: count, then max_up ids
};

/// Per-thread working memory, reused across searches (and across indexes).
struct Hnsw::Scratch {
    std::vector<uint32_t> visited;
    uint32_t epoch = 0;
    std::vector<Scored> cand, res, found;
    std::vector<uint32_t> entries, nbrs;
    std::vector<float> query;  // normalized copy for cosine
};

Status HnswOptions::validate() const {
    if (dim < 1 || dim > kMaxDimension) {
        return Status::invalid_argument(
            fmt::format("dimension {} is outside [1, {}]", dim, kMaxDimension));
    }
    if (M < 2 || M > 128)
        return Status::invalid_argument(fmt::format("M = {} outside [2, 128]", M));
    if (ef_construction < 1 || ef_construction > 10000) {
        return Status::invalid_argument(
            fmt::format("ef_construction {} outside [1, 10000]", ef_construction));
    }
    if (max_elements < 1 || max_elements > (1u << 30)) {
        return Status::invalid_argument(
            fmt::format("max_elements {} outside [1, 2^30]", max_elements));
    }
    if (metric == Metric::kCosine && dtype != DType::kF32) {
        return Status::invalid_argument("cosine stores normalized f32 vectors: dtype must be f32");
    }
    return Status::ok();
}

Result<std::unique_ptr<Hnsw>> Hnsw::create(const HnswOptions& o) {
    STRATA_RETURN_IF_ERROR(o.validate());
    std::unique_ptr<Hnsw> h(new Hnsw());
    h->o_ = o;
    h->stride_ = (size_t{o.dim} * dtype_size(o.dtype) + 63) / 64 * 64;
    h->max0_ = 2 * o.M;
    h->max_up_ = o.M;
    h->ml_ = 1.0 / std::log(static_cast<double>(o.M));
    if (o.metric == Metric::kCosine) {
        h->fn_ = distance::distance_fn(DType::kF32, Metric::kInnerProduct);
        h->offset_ = 1;
    } else {
        h->fn_ = distance::distance_fn(o.dtype, o.metric);
    }
    h->chunk_count_ = (o.max_elements + kChunk - 1) / kChunk;
    h->chunks_.reset(new std::atomic<Chunk*>[h->chunk_count_]);
    for (uint32_t i = 0; i < h->chunk_count_; ++i) h->chunks_[i].store(nullptr);
    h->locks_.reset(new std::mutex[kLockStripes]);
    return h;
}

Hnsw::~Hnsw() {
    for (uint32_t i = 0; i < chunk_count_; ++i) delete chunks_[i].load();
}

uint8_t* Hnsw::vec_ptr(uint32_t slot) const {
    return chunk(slot)->vectors.data() + size_t{slot & (kChunk - 1)} * stride_;
}

const void* Hnsw::vector(uint32_t slot) const { return vec_ptr(slot); }

uint32_t* Hnsw::links(uint32_t slot, uint32_t level) const {
    Chunk* c = chunk(slot);
    const uint32_t i = slot & (kChunk - 1);
    if (level == 0) return c->links0.get() + size_t{i} * (max0_ + 1);
    return c->upper[i].get() + size_t{level - 1} * (max_up_ + 1);
}

uint32_t Hnsw::level_of(uint32_t slot) const { return chunk(slot)->levels[slot & (kChunk - 1)]; }

float Hnsw::dist(const void* a, uint32_t b) const { return fn_(a, vec_ptr(b), o_.dim) + offset_; }

size_t Hnsw::memory_bytes() const {
    size_t chunks = 0;
    for (uint32_t i = 0; i < chunk_count_; ++i) chunks += chunks_[i].load() != nullptr;
    return chunks * (sizeof(Chunk) + kChunk * (stride_ + (max0_ + 1) * 4)) + upper_bytes_.load() +
           sizeof(*this);
}

void Hnsw::search_layer(const void* q, uint32_t level, uint32_t ef, Scratch& s, SlotFilter filter,
                        const void* ctx) const {
    const uint32_t allocated = next_.load(std::memory_order_acquire);
    if (s.visited.size() < allocated) s.visited.resize(allocated + allocated / 2 + 64, 0);
    if (++s.epoch == 0) {
        std::fill(s.visited.begin(), s.visited.end(), 0u);
        s.epoch = 1;
    }
    const auto far = [](const Scored& a, const Scored& b) { return a.first < b.first; };
    const auto near = [](const Scored& a, const Scored& b) { return a.first > b.first; };
    s.cand.clear();
    s.res.clear();
    const auto admit = [&](uint32_t n) { return filter == nullptr || filter(n, ctx); };
    for (uint32_t e : s.entries) {
        if (s.visited[e] == s.epoch) continue;
        s.visited[e] = s.epoch;
        const float d = dist(q, e);
        s.cand.push_back({d, e});
        std::push_heap(s.cand.begin(), s.cand.end(), near);
        if (admit(e)) {
            s.res.push_back({d, e});
            std::push_heap(s.res.begin(), s.res.end(), far);
        }
    }
    const uint32_t width = level == 0 ? max0_ : max_up_;
    s.nbrs.resize(width);
    while (!s.cand.empty()) {
        const Scored c = s.cand.front();
        if (s.res.size() >= ef && c.first > s.res.front().first) break;
        std::pop_heap(s.cand.begin(), s.cand.end(), near);
        s.cand.pop_back();
        uint32_t count = 0;
        {
            std::lock_guard lock(lock_of(c.second));
            const uint32_t* l = links(c.second, level);
            count = l[0];
            std::copy_n(l + 1, count, s.nbrs.begin());
        }
        for (uint32_t j = 0; j < count; ++j) {
            const uint32_t n = s.nbrs[j];
            if (n >= s.visited.size()) s.visited.resize(n + n / 2 + 64, 0);
            if (s.visited[n] == s.epoch) continue;
            s.visited[n] = s.epoch;
            const float d = dist(q, n);
            if (s.res.size() < ef || d < s.res.front().first) {
                s.cand.push_back({d, n});
                std::push_heap(s.cand.begin(), s.cand.end(), near);
                if (admit(n)) {
                    s.res.push_back({d, n});
                    std::push_heap(s.res.begin(), s.res.end(), far);
                    if (s.res.size() > ef) {
                        std::pop_heap(s.res.begin(), s.res.end(), far);
                        s.res.pop_back();
                    }
                }
            }
        }
    }
    s.found.assign(s.res.begin(), s.res.end());
    std::sort(s.found.begin(), s.found.end());
}

void Hnsw::select(uint32_t m, Scratch& s, uint32_t* out, uint32_t& count) const {
    count = 0;
    for (const Scored& c : s.found) {
        if (count >= m) break;
        bool good = true;
        const void* cv = vec_ptr(c.second);
        for (uint32_t i = 0; i < count && good; ++i) {
            good = dist(cv, out[i]) >= c.first;
        }
        if (good) out[count++] = c.second;
    }
}

void Hnsw::connect(uint32_t slot, uint32_t level, uint32_t neighbor, Scratch& s) {
    const uint32_t width = level == 0 ? max0_ : max_up_;
    std::lock_guard lock(lock_of(neighbor));
    uint32_t* l = links(neighbor, level);
    if (l[0] < width) {
        l[1 + l[0]] = slot;
        ++l[0];
        return;
    }
    // Full: keep the heuristic's choice among the old links and the new node.
    const void* nv = vec_ptr(neighbor);
    std::vector<Scored> keep;
    keep.reserve(width + 1);
    for (uint32_t j = 0; j < l[0]; ++j) keep.push_back({dist(nv, l[1 + j]), l[1 + j]});
    keep.push_back({dist(nv, slot), slot});
    std::sort(keep.begin(), keep.end());
    s.found.swap(keep);
    uint32_t count = 0;
    select(width, s, l + 1, count);
    l[0] = count;
    s.found.swap(keep);
}

Result<uint32_t> Hnsw::add(const void* vec) {
    if (vec == nullptr) return Status::invalid_argument("vector is null");
    thread_local Scratch s;
    std::vector<float> normalized;
    const void* v = vec;
    if (o_.dtype == DType::kF32) {
        const auto* f = static_cast<const float*>(vec);
        for (uint32_t j = 0; j < o_.dim; ++j) {
            if (!std::isfinite(f[j])) {
                return Status::invalid_argument(
                    fmt::format("element {} is {} (vectors must be finite)", j, f[j]));
            }
        }
        if (o_.metric == Metric::kCosine) {
            normalized.assign(f, f + o_.dim);
            if (distance::normalize_f32(normalized.data(), o_.dim) == 0) {
                return Status::invalid_argument("vector has norm 0, which cosine cannot rank");
            }
            v = normalized.data();
        }
    }
    // A slot, its chunk, its vector and its (empty) link lists.
    uint32_t slot = 0;
    {
        std::lock_guard grow(grow_mu_);
        slot = next_.load(std::memory_order_relaxed);
        if (slot >= o_.max_elements) {
            return Status::resource_exhausted(
                fmt::format("the HNSW holds its maximum of {} vectors", o_.max_elements));
        }
        if (chunk(slot) == nullptr) {
            auto* c = new Chunk();
            c->vectors.reset(size_t{kChunk} * stride_);
            std::memset(c->vectors.data(), 0, size_t{kChunk} * stride_);
            c->links0.reset(new uint32_t[size_t{kChunk} * (max0_ + 1)]());
            chunks_[slot >> kChunkBits].store(c, std::memory_order_release);
        }
        // Taken: searches reach the slot only through links made after its vector is stored.
        next_.store(slot + 1, std::memory_order_release);
    }
    uint64_t h = o_.seed ^ (uint64_t{slot} * 0x9E3779B97F4A7C15ull);
    const double u = (static_cast<double>(splitmix64(h) >> 11) + 0.5) * 0x1.0p-53;
    const auto lv =
        static_cast<uint32_t>(std::min<double>(kMaxLevel, std::floor(-std::log(u) * ml_)));
    Chunk* c = chunk(slot);
    const uint32_t i = slot & (kChunk - 1);
    std::memcpy(c->vectors.data() + size_t{i} * stride_, v, size_t{o_.dim} * dtype_size(o_.dtype));
    c->levels[i] = static_cast<uint8_t>(lv);
    if (lv > 0) {
        c->upper[i].reset(new uint32_t[size_t{lv} * (max_up_ + 1)]());
        upper_bytes_ += size_t{lv} * (max_up_ + 1) * 4;
    }
    int64_t ep = -1;
    uint32_t top = 0;
    {
        std::lock_guard lock(entry_mu_);
        if (entry_ < 0) {
            entry_ = slot;
            max_level_ = lv;
            done_.fetch_add(1, std::memory_order_release);
            return slot;
        }
        ep = entry_;
        top = max_level_;
    }
    const void* q = vec_ptr(slot);
    uint32_t cur = static_cast<uint32_t>(ep);
    for (uint32_t l = top; l > lv; --l) {
        s.entries.assign(1, cur);
        search_layer(q, l, 1, s);
        if (!s.found.empty()) cur = s.found[0].second;
    }
    // The node's own links at every level go in before any back-link makes it reachable: a
    // search entering it at an upper level must find its level-0 links (else a filtered walk
    // from it finds nothing).
    const uint32_t levels = std::min(lv, top) + 1;
    std::vector<uint32_t> chosen(size_t{levels} * max0_);
    std::vector<uint32_t> counts(levels, 0);
    for (int64_t l = levels - 1; l >= 0; --l) {
        const auto level_u = static_cast<uint32_t>(l);
        s.entries.assign(1, cur);
        search_layer(q, level_u, o_.ef_construction, s);
        if (s.found.empty()) continue;
        cur = s.found[0].second;
        uint32_t* mine = chosen.data() + size_t{level_u} * max0_;
        select(level_u == 0 ? max0_ : max_up_, s, mine, counts[level_u]);
        std::lock_guard lock(lock_of(slot));
        uint32_t* own = links(slot, level_u);
        std::copy_n(mine, counts[level_u], own + 1);
        own[0] = counts[level_u];
    }
    for (uint32_t l = 0; l < levels; ++l) {
        for (uint32_t j = 0; j < counts[l]; ++j) {
            connect(slot, l, chosen[size_t{l} * max0_ + j], s);
        }
    }
    if (lv > top) {
        std::lock_guard lock(entry_mu_);
        if (lv > max_level_) {
            entry_ = slot;
            max_level_ = lv;
        }
    }
    done_.fetch_add(1, std::memory_order_release);
    return slot;
}

Result<uint32_t> Hnsw::search(const void* query, uint32_t k, uint32_t ef, SlotFilter filter,
                              const void* filter_context, uint32_t* slots, float* dists) const {
    if (query == nullptr || slots == nullptr) return Status::invalid_argument("null argument");
    if (k == 0) return Status::invalid_argument("k must be >= 1");
    thread_local Scratch s;
    const void* q = query;
    if (o_.metric == Metric::kCosine) {
        s.query.assign(static_cast<const float*>(query), static_cast<const float*>(query) + o_.dim);
        if (distance::normalize_f32(s.query.data(), o_.dim) == 0) {
            return Status::invalid_argument("query has norm 0, which cosine cannot rank");
        }
        q = s.query.data();
    }
    int64_t ep = -1;
    uint32_t top = 0;
    {
        std::lock_guard lock(entry_mu_);
        ep = entry_;
        top = max_level_;
    }
    if (ep < 0) return 0u;
    uint32_t cur = static_cast<uint32_t>(ep);
    for (uint32_t l = top; l > 0; --l) {
        s.entries.assign(1, cur);
        search_layer(q, l, 1, s);
        if (!s.found.empty()) cur = s.found[0].second;
    }
    s.entries.assign(1, cur);
    search_layer(q, 0, std::max(ef, k), s, filter, filter_context);
    const auto n = static_cast<uint32_t>(std::min<size_t>(k, s.found.size()));
    for (uint32_t i = 0; i < n; ++i) {
        slots[i] = s.found[i].second;
        if (dists != nullptr) dists[i] = s.found[i].first;
    }
    return n;
}

}  // namespace strata::graph
