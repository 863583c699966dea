// HNSW (Malkov & Yashunin, TPAMI 2018) in RAM, for a collection's hot tier: concurrent adds and
// searches, storage that grows in fixed chunks (nothing a search holds ever moves), and a
// result filter (dead slots are walked through but never returned).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include <strata/status.hpp>
#include <strata/types.hpp>

#include "distance/distance.hpp"

namespace strata::graph {

struct HnswOptions {
    /// Vector dimension, in [1, kMaxDimension]. No default.
    uint32_t dim = 0;
    /// Element type of the stored vectors (cosine: f32 only; vectors are normalized on add).
    DType dtype = DType::kF32;
    Metric metric = Metric::kL2;
    /// Links per node on the upper layers (2M on layer 0), in [2, 128]. Default 16.
    uint32_t M = 16;
    /// Candidate list while inserting, in [1, 10000]. Default 200.
    uint32_t ef_construction = 200;
    /// Seed of the level draws. Default 42.
    uint64_t seed = 42;
    /// Most slots, in [1, 2^30]; add() past it is ResourceExhausted. Default 2^26.
    uint32_t max_elements = 1u << 26;
    Status validate() const;
};

/// Admits slot `slot` into the results (context as given to search).
using SlotFilter = bool (*)(uint32_t slot, const void* context);

class Hnsw {
  public:
    static Result<std::unique_ptr<Hnsw>> create(const HnswOptions& options);
    ~Hnsw();
    Hnsw(const Hnsw&) = delete;
    Hnsw& operator=(const Hnsw&) = delete;

    /// Adds `vec` (dim elements of dtype) and returns its slot (0, 1, 2, ... in call order).
    /// InvalidArgument for NaN/Inf or a zero vector under cosine, ResourceExhausted at
    /// max_elements; nothing changes then. Thread-safe with other adds and searches.
    Result<uint32_t> add(const void* vec);

    /// Up to k nearest admitted slots (closest first) with list ef >= k; `query` is dim
    /// elements of dtype (normalized for cosine by the caller or not: cosine normalizes a copy).
    /// Returns how many were written (< k only when fewer admitted slots are reachable).
    Result<uint32_t> search(const void* query, uint32_t k, uint32_t ef, SlotFilter filter,
                            const void* filter_context, uint32_t* slots, float* dists) const;

    /// Slots whose add() has finished (with one adding thread: exactly the slots 0..size-1).
    uint32_t size() const { return done_.load(std::memory_order_acquire); }
    /// The stored vector of a slot (normalized under cosine).
    const void* vector(uint32_t slot) const;
    size_t memory_bytes() const;
    const HnswOptions& options() const { return o_; }

  private:
    struct Chunk;
    struct Scratch;
    static constexpr uint32_t kChunkBits = 12;
    static constexpr uint32_t kChunk = 1u << kChunkBits;
    static constexpr uint32_t kLockStripes = 4096;

    Hnsw() = default;
    Chunk* chunk(uint32_t slot) const {
        return chunks_[slot >> kChunkBits].load(std::memory_order_acquire);
    }
    uint8_t* vec_ptr(uint32_t slot) const;
    uint32_t* links(uint32_t slot, uint32_t level) const;  // [count, ids...]
    uint32_t level_of(uint32_t slot) const;
    float dist(const void* a, uint32_t b) const;
    std::mutex& lock_of(uint32_t slot) const { return locks_[slot % kLockStripes]; }
    /// Best-first search of one layer from `entries`; leaves the ef closest in scratch.found.
    void search_layer(const void* q, uint32_t level, uint32_t ef, Scratch& s,
                      SlotFilter filter = nullptr, const void* ctx = nullptr) const;
    /// HNSW's neighbour heuristic: picks at most m of scratch.found (sorted) into out.
    void select(uint32_t m, Scratch& s, uint32_t* out, uint32_t& count) const;
    void connect(uint32_t slot, uint32_t level, uint32_t neighbor, Scratch& s);

    HnswOptions o_;
    distance::DistanceFn fn_ = nullptr;
    float offset_ = 0;  // cosine on normalized vectors: 1 + ip
    size_t stride_ = 0;
    uint32_t max0_ = 0, max_up_ = 0;
    double ml_ = 0;
    std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
    uint32_t chunk_count_ = 0;
    mutable std::unique_ptr<std::mutex[]> locks_;
    std::mutex grow_mu_;  // allocates chunks
    std::atomic<uint32_t> next_{0};
    std::atomic<uint32_t> done_{0};
    mutable std::mutex entry_mu_;
    int64_t entry_ = -1;
    uint32_t max_level_ = 0;
    std::atomic<uint64_t> upper_bytes_{0};
};

}  // namespace strata::graph
