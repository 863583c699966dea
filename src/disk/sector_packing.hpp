// Locality-aware node order (Starling's block shuffling, SIGMOD 2024): when several nodes share a
// 4 KiB sector, put graph neighbours in the same sector, so that the read of one node brings
// nodes the search is likely to expand next.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.hpp"

namespace strata::disk {

/// A permutation of the graph's nodes (new position -> old id) that fills each group of
/// `nodes_per_sector` consecutive positions with a node and its closest not-yet-placed
/// neighbours (then their neighbours), taking group seeds in breadth-first order from `entry`.
/// Identity when nodes_per_sector <= 1.
std::vector<uint32_t> sector_packing_order(const graph::Graph& graph, uint32_t entry,
                                           uint32_t nodes_per_sector);

}  // namespace strata::disk
