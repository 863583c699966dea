// Layout of a graph built elsewhere: the builder's PQ, sector packing, navigation graph and
// node sectors over a graph the caller made (a collection's consolidation edits the previous
// generation's graph instead of building one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <strata/builder.hpp>

#include "graph/graph.hpp"
#include "graph/vamana.hpp"

namespace strata::disk {

/// The graph-build options of a build (R, L, alpha, threads, seed).
graph::VamanaOptions vamana_options(const BuildOptions& options);

struct PrebuiltGraph {
    graph::Graph* graph = nullptr;  ///< node i = row i of the data file; moved from by the build
    uint32_t medoid = 0;            ///< entry point
    /// With a labels file: the start node of each label (row numbers; UINT32_MAX for none),
    /// as the filter-aware graph was built with. Required then.
    const std::vector<uint32_t>* label_start = nullptr;
};

/// build_index() with the graph taken from `prebuilt` instead of built: the data rows must be
/// valid (no skipping) and as many as the graph's nodes; lists may hold up to the graph's
/// capacity and are written as they are (the caller prunes them to degree_max). The build is
/// one-shot (never sharded); options.memory_gb still bounds PQ.
Result<BuildReport> build_index_with_graph(const std::string& data_path, const std::string& out_dir,
                                           const BuildOptions& options, PrebuiltGraph prebuilt);

}  // namespace strata::disk
