// Filter-aware Vamana (Gollapudi et al., "Filtered-DiskANN", WWW 2023) in memory: a graph over
// labelled vectors in which the nodes carrying any label stay connected among themselves, so a
// search restricted to a label finds its nearest matches even when the label is rare, while
// unfiltered searches keep the plain graph's paths (build_vamana with labels does the work).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <strata/status.hpp>

#include "graph/graph.hpp"
#include "graph/labels.hpp"
#include "graph/vamana.hpp"
#include "graph/vector_store.hpp"

namespace strata::graph {

struct FilteredVamanaResult {
    Graph graph;
    uint32_t medoid = 0;
    /// Start node of each label (UINT32_MAX for a label no node carries).
    std::vector<uint32_t> start;
    double seconds = 0;
};

/// Builds the filter-aware graph (parallel, options.threads). InvalidArgument for bad options,
/// an empty store, or labels that do not match the store (row count, order, range).
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
