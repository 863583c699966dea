// Filter-aware Vamana (Gollapudi et al., "Filtered-DiskANN", WWW 2023): a graph over labelled
// vectors in which the nodes carrying any label stay connected among themselves, so a search
// restricted to a label finds its nearest matches even when the label is rare.
//   - one start node per label, load-balanced (a node starts as few labels as possible);
//   - each node is inserted by a filtered greedy search from the start nodes of its labels that
//     only walks nodes sharing a label with it;
//   - FilteredRobustPrune: candidate c is pruned through a kept neighbour s only when s carries
//     every label that the node and c share (so no label loses its path through c).
// Sequential build for now: the parallel insertion of build_vamana comes with the disk layout.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <strata/status.hpp>

#include "graph/graph.hpp"
#include "graph/vamana.hpp"
#include "graph/vector_store.hpp"

namespace strata::graph {

/// Labels of the store's nodes as CSR: node i carries labels[offsets[i] .. offsets[i + 1]),
/// ascending, each < label_count.
struct LabelView {
    std::span<const uint64_t> offsets;  ///< size() + 1 entries
    std::span<const uint32_t> labels;
    uint32_t label_count = 0;
    std::span<const uint32_t> of(uint32_t node) const {
        return labels.subspan(offsets[node], offsets[node + 1] - offsets[node]);
    }
};

struct FilteredVamanaResult {
    Graph graph;
    /// Start node of each label (UINT32_MAX for a label no node carries).
    std::vector<uint32_t> start;
    double seconds = 0;
};

/// Builds the filter-aware graph. InvalidArgument for bad options, an empty store, or labels
/// that do not match the store (row count, order, range).
Result<FilteredVamanaResult> build_filtered_vamana(const VectorStore& store,
                                                   const LabelView& labels,
                                                   const VamanaOptions& options);

/// Filtered greedy search: from the start nodes of `query_labels`, walks only nodes carrying
/// at least one of them; writes up to k matching ids and exact distances, closest first, and
/// returns how many. `query` has the store's input dtype and dim.
Result<uint32_t> search_filtered(const Graph& graph, const VectorStore& store,
                                 const LabelView& labels, std::span<const uint32_t> start,
                                 const void* query, std::span<const uint32_t> query_labels,
                                 const GraphSearchOptions& options, uint32_t* ids, float* dists);

}  // namespace strata::graph
