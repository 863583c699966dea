// Memory-bounded Vamana build (DiskANN's sharded build): k-means the data into shards, put each
// vector in its `overlap` nearest shards (capacity-bounded), build one shard at a time within the
// budget, stream each shard's graph to a temp file, then merge the files in id order, re-pruning
// lists longer than R. Only one shard's vectors and graph are in memory at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include <strata/status.hpp>

#include "distance/exact_knn.hpp"
#include "graph/vamana.hpp"
#include "graph/vector_store.hpp"

namespace strata::graph {

/// Builds a store over a subset of rows (ascending row numbers), applying the metric's transform
/// (normalization, MIPS augmentation) exactly as the one-shot build would.
using StoreFactory =
    std::function<Result<std::unique_ptr<VectorStore>>(std::span<const uint32_t> rows)>;

/// Receives the merged graph one node at a time, in increasing id order.
using NodeSink = std::function<Status(uint32_t node, std::span<const uint32_t> neighbors)>;

struct ShardedBuildOptions {
    /// Vamana parameters used for every shard and for the merge's re-prune.
    VamanaOptions vamana;
    /// Number of shards; 0 = the fewest that fit the budget. Default 0.
    uint32_t shards = 0;
    /// Shards each vector joins (its nearest ones). Default 2.
    uint32_t overlap = 2;
    /// Memory for one shard's vectors and graph, bytes (> 0).
    uint64_t shard_budget_bytes = 0;
    /// Bytes one vector costs inside a shard build (store row + graph slots + scratch).
    uint64_t bytes_per_vector = 0;
    /// Rows sampled for the shard k-means. Default 100,000.
    uint64_t kmeans_sample = 100000;
    /// Directory for the shard files (created and removed inside). Required.
    std::string temp_dir;
    /// Called after each large pass over the rows so the caller can drop resident pages of a
    /// memory-mapped input (may be empty).
    std::function<void()> release_input;
    /// Optional progress over nodes (shard builds then merge). Not owned.
    Progress* progress = nullptr;
    /// Optional labels of every row (row ids): each shard is built filter-aware over its rows'
    /// labels and the merge re-prunes with FilteredRobustPrune. Not owned.
    const LabelView* labels = nullptr;

    Status validate() const;
};

struct ShardedBuildReport {
    uint32_t shards = 0;
    uint64_t largest_shard = 0;
    uint64_t reprunes = 0;  ///< merged lists longer than R that were pruned
    uint32_t medoid = 0;
    double seconds_partition = 0;
    double seconds_shards = 0;
    double seconds_merge = 0;
};

/// Builds the graph of all rows of `data` (the raw input, used for k-means and assignment)
/// through `make_store`, emitting nodes to `sink`. `medoid` is the entry point to report (the
/// caller computes it over the full data).
Result<ShardedBuildReport> build_vamana_sharded(const distance::MatrixView& data,
                                                const StoreFactory& make_store,
                                                const ShardedBuildOptions& options,
                                                const NodeSink& sink);

/// The row closest (squared L2, in double) to the mean of all rows, computed in two streaming
/// passes of bounded memory; `release_input` (may be empty) runs between blocks.
uint32_t find_medoid_streaming(const distance::MatrixView& data,
                               const std::function<void()>& release_input);

/// Shards needed so that each holds at most what the budget allows, with headroom for the
/// uneven sizes k-means produces.
uint32_t shards_for_budget(uint64_t rows, uint32_t overlap, uint64_t shard_budget_bytes,
                           uint64_t bytes_per_vector);

}  // namespace strata::graph
