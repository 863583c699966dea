// The two tiers a collection searches: hot tiers (HNSW in RAM, one per write epoch: the active
// one takes writes, frozen ones await consolidation) and the current disk generation, each with
// the per-vector liveness that deletes and replacements clear.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <strata/collection.hpp>
#include <strata/disk_index.hpp>

#include "distance/distance.hpp"
#include "graph/hnsw.hpp"

namespace strata::collection {

/// The id restriction of a search (CollectionSearchParams::id_filter and allow_ids): an id is
/// kept only when every part that is set accepts it. Inactive when neither is set.
struct IdMatch {
    bool (*fn)(uint64_t id, const void* context) = nullptr;
    const void* context = nullptr;
    const uint64_t* allow = nullptr;  // ascending
    uint64_t allow_count = 0;
    bool use_allow = false;

    static IdMatch of(const CollectionSearchParams& p) {
        return {p.id_filter, p.id_filter_context, p.allow_ids.data(), p.allow_ids.size(),
                p.use_allow_ids};
    }
    bool active() const { return fn != nullptr || use_allow; }
    bool allowed(uint64_t id) const {
        return !use_allow || std::binary_search(allow, allow + allow_count, id);
    }
    bool operator()(uint64_t id) const { return allowed(id) && (fn == nullptr || fn(id, context)); }
};

/// HNSW plus, per slot, the external id and a live flag. Slots are added by concurrent writers
/// (not yet live) and published live in log order by the collection.
class HotTier {
  public:
    static Result<std::unique_ptr<HotTier>> create(const CollectionParams& p,
                                                   const CollectionOptions& o, uint64_t seed);
    ~HotTier();

    /// Adds a stored-form vector with its id and label ids (ascending), not live yet.
    /// Thread-safe.
    Result<uint32_t> add(uint64_t id, const void* vec, std::vector<uint32_t> labels = {});
    /// The label ids of a slot, ascending (set before the slot was published).
    std::span<const uint32_t> labels(uint32_t slot) const {
        return chunk(slot)->labels[slot & kMask];
    }
    void set_live(uint32_t slot, bool live) {
        const uint8_t prev = flags(slot).exchange(live ? 1 : 0, std::memory_order_acq_rel);
        if (prev != (live ? 1 : 0)) live_.fetch_add(live ? 1 : -1, std::memory_order_relaxed);
    }
    bool live(uint32_t slot) const { return flags(slot).load(std::memory_order_acquire) != 0; }
    uint64_t id(uint32_t slot) const { return chunk(slot)->ids[slot & kMask]; }
    const void* vector(uint32_t slot) const { return hnsw_->vector(slot); }
    uint32_t size() const { return hnsw_->size(); }
    uint64_t live_count() const { return static_cast<uint64_t>(live_.load()); }
    size_t memory_bytes() const;

    /// Up to k live slots nearest `query` (stored form): ids and distances, closest first.
    /// With a label filter or an active id match, only matching slots: the HNSW walk goes
    /// through every slot and returns matching ones (ef widened 4x); when it finds fewer than k,
    /// an exact scan of the matching slots gives min(k, matching live slots).
    Result<uint32_t> search(const void* query, uint32_t k, uint32_t ef, uint64_t* ids, float* dists,
                            const LabelFilter* filter = nullptr,
                            const IdMatch* id_match = nullptr) const;

    /// Writers that picked this tier and have not published yet (a freeze waits for 0).
    std::atomic<int> pending{0};

  private:
    static constexpr uint32_t kBits = 12, kChunk = 1u << kBits, kMask = kChunk - 1;
    struct Chunk {
        uint64_t ids[kChunk];
        std::atomic<uint8_t> live[kChunk];
        std::vector<uint32_t> labels[kChunk];
    };
    HotTier() = default;
    Chunk* chunk(uint32_t slot) const {
        return chunks_[slot >> kBits].load(std::memory_order_acquire);
    }
    std::atomic<uint8_t>& flags(uint32_t slot) const { return chunk(slot)->live[slot & kMask]; }
    std::unique_ptr<graph::Hnsw> hnsw_;
    std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
    uint32_t chunk_count_ = 0;
    std::mutex grow_mu_;
    std::atomic<int64_t> live_{0};
    distance::DistanceFn exact_ = nullptr;  // stored form, the collection's metric
    uint32_t dim_ = 0;
};

/// An open disk generation: the index, its id -> node map and a deleted-node bitmap.
/// When `retired` is set, the directory is removed when the last holder lets go.
class Generation {
  public:
    static Result<std::shared_ptr<Generation>> open(const std::string& dir, uint64_t number,
                                                    const DiskIndexOptions& options);
    ~Generation();

    uint64_t number() const { return number_; }
    const std::string& dir() const { return dir_; }
    const DiskIndex& index() const { return *index_; }
    uint64_t nodes() const { return ids_.size(); }
    /// Node of external id `id`, or -1.
    int64_t node_of(uint64_t id) const {
        const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
        if (it == ids_.end() || *it != id) return -1;
        return nodes_[static_cast<size_t>(it - ids_.begin())];
    }
    bool dead(uint64_t node) const {
        return (dead_[node >> 6].load(std::memory_order_acquire) >> (node & 63)) & 1;
    }
    /// Marks a node deleted; true when it was live.
    bool kill(uint64_t node) {
        const uint64_t bit = uint64_t{1} << (node & 63);
        const bool was = !(dead_[node >> 6].fetch_or(bit, std::memory_order_acq_rel) & bit);
        if (was) dead_count_.fetch_add(1, std::memory_order_relaxed);
        return was;
    }
    uint64_t dead_count() const { return dead_count_.load(std::memory_order_relaxed); }
    uint64_t live_count() const { return nodes() - dead_count(); }
    void retire() { retired_.store(true); }

    /// The k nearest live nodes (accepted by p's label filter and id match): the disk search
    /// with dead and refused nodes filtered, widening the list when the filters leave fewer
    /// than k while more live nodes exist.
    Status search(const void* query, DType dtype, uint32_t dim, const CollectionSearchParams& p,
                  uint64_t* ids, float* dists, QueryStats* stats = nullptr) const;

  private:
    Generation() = default;
    uint64_t number_ = 0;
    std::string dir_;
    std::unique_ptr<DiskIndex> index_;
    std::vector<uint64_t> ids_;    // sorted external ids
    std::vector<uint32_t> nodes_;  // node of ids_[i]
    std::unique_ptr<std::atomic<uint64_t>[]> dead_;
    std::atomic<uint64_t> dead_count_{0};
    std::atomic<bool> retired_{false};
    uint32_t max_list_ = 1000;
};

}  // namespace strata::collection
