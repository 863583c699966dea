// Vamana graph construction (Subramanya et al., "DiskANN", NeurIPS 2019) and in-memory search.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <strata/status.hpp>

#include "graph/graph.hpp"
#include "graph/greedy_search.hpp"
#include "graph/labels.hpp"
#include "graph/vector_store.hpp"

namespace strata {
class Progress;
}

namespace strata::graph {

struct VamanaOptions {
    /// Maximum out-degree R. Default 64.
    uint32_t degree_max = 64;
    /// Candidate list size L of the build's greedy searches. Default 100.
    uint32_t list_size = 100;
    /// Pruning α (>= 1): larger keeps longer edges, fewer hops, bigger graphs. Default 1.2.
    float alpha = 1.2f;
    /// Largest candidate pool RobustPrune considers (the closest are kept). Default 750.
    uint32_t pool_max = 750;
    /// Lists may grow to ceil(slack * R) by reverse edges before they are pruned back to R.
    /// Default 1.3.
    float slack = 1.3f;
    /// Worker threads; 0 = all hardware threads. Default 0.
    int threads = 0;
    /// Seed of the insertion order. Default 1.
    uint64_t seed = 1;
    /// Optional progress, advanced per inserted node. Not owned.
    Progress* progress = nullptr;

    Status validate() const;
};

struct VamanaResult {
    Graph graph;
    uint32_t medoid = 0;
    /// Start node of each label (filter-aware builds; UINT32_MAX for a label no node carries).
    std::vector<uint32_t> label_start;
    double seconds = 0;
};

/// Builds the graph over every vector of `store`: medoid entry, one parallel insertion pass in
/// random order (greedy search with L, RobustPrune of the visited pool with α = 1 then α),
/// reverse edges re-pruned when a list overflows, and a final pass pruning every list to R.
/// Errors: InvalidArgument for bad options or an empty store. Thread-safe w.r.t. the store.
///
/// With `labels` the graph is also filter-aware (Filtered-DiskANN, WWW 2023): one start node
/// per label; each node's candidate pool joins the unfiltered search from the medoid with a
/// search from its labels' start nodes that walks only nodes sharing a label with it; and every
/// prune is FilteredRobustPrune (see robust_prune). Unfiltered searches keep their paths and a
/// search restricted to any label stays connected, rare labels included. InvalidArgument when
/// the labels do not describe the store's rows.
Result<VamanaResult> build_vamana(const VectorStore& store, const VamanaOptions& options,
                                  const LabelView* labels = nullptr);

/// Links `nodes` into an existing graph over `store` (FreshDiskANN's insert phase): each is
/// found by greedy search from `entry`, pruned with RobustPrune and gets reverse edges, in
/// parallel on options.threads; then every list over degree_max is pruned back. The graph must
/// have one row per store vector and capacity >= ceil(slack * degree_max); the other nodes'
/// lists are kept (and grow by reverse edges). ResourceExhausted on allocation failure.
/// With `labels` (every node's, with counts) and `label_start` (a start node per label), the
/// inserts are filter-aware as in build_vamana: a walk restricted to each new node's rarest
/// label from its start node joins the candidates, and every prune is FilteredRobustPrune.
Status insert_nodes(const VectorStore& store, Graph& graph, uint32_t entry,
                    std::span<const uint32_t> nodes, const VamanaOptions& options,
                    const LabelView* labels = nullptr,
                    const std::vector<uint32_t>* label_start = nullptr);

/// Nodes per label of `labels` (LabelView::counts of a filter-aware build).
std::vector<uint32_t> label_counts(const LabelView& labels);

/// The node closest to the mean of all vectors (computed in f32 on the stored representation).
uint32_t find_medoid(const VectorStore& store);

/// RobustPrune: from `pool` (candidates of node `node` with their distances to it, any order,
/// may contain `node` and duplicates) selects at most R ids into `out`: closest first, then each
/// candidate only if no selected s has alpha * d(s, c) <= d(node, c); a first pass with α = 1,
/// then a second with the given α to fill remaining slots. `pool` is sorted in place.
/// With `labels` (FilteredRobustPrune): a selected s dominates c only when s also carries every
/// label that `node` and c share, so no label loses its path through c.
void robust_prune(const VectorStore& store, uint32_t node, std::vector<Candidate>& pool,
                  float alpha, uint32_t degree_max, uint32_t pool_max, std::vector<uint32_t>& out,
                  std::vector<float>& scratch, const LabelView* labels = nullptr);

struct GraphSearchOptions {
    /// Neighbours returned. Default 10.
    uint32_t k = 10;
    /// Candidate list size L (>= k). Default 100.
    uint32_t list_size = 100;
};

/// Exact-distance in-memory search of a built graph (no locks: the graph must not change).
/// `query` has the store's input dtype and dim. Writes min(k, size) ids and distances.
/// Thread-safe; allocates its scratch per call (for tests and recall checks, not the hot path).
Status search_graph(const Graph& graph, const VectorStore& store, uint32_t entry, const void* query,
                    const GraphSearchOptions& options, uint32_t* ids, float* dists);

/// Batch version over `nq` queries (rows of `queries`, `stride_bytes` apart), parallel with TBB.
Status search_graph_batch(const Graph& graph, const VectorStore& store, uint32_t entry,
                          const void* queries, uint64_t nq, size_t stride_bytes,
                          const GraphSearchOptions& options, uint32_t* ids, float* dists);

}  // namespace strata::graph
