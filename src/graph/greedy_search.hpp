// Greedy best-first search over a graph (the "GreedySearch" of the DiskANN paper) with a sorted
// candidate list of size L, used by the Vamana build and by in-memory search.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/sorted_sets.hpp"
#include "graph/graph.hpp"
#include "graph/labels.hpp"
#include "graph/vector_store.hpp"

namespace strata::graph {

struct Candidate {
    float dist;
    uint32_t id;
};

/// Per-thread scratch: candidate list, visited marks (epoch-tagged, so no clearing between
/// queries), neighbour buffers. Reused across searches; not thread-safe.
class SearchScratch {
  public:
    SearchScratch(uint32_t nodes, uint32_t list_size_max, uint32_t degree_max);
    /// Starts a new search: bumps the epoch (clears the visited set in O(1) amortized).
    void reset();
    bool visit(uint32_t id) {  // true the first time `id` is seen in this search
        if (visited_[id] == epoch_) return false;
        visited_[id] = epoch_;
        return true;
    }

    std::vector<Candidate> list;      // sorted by (dist, id), size <= L
    std::vector<uint8_t> expanded;    // parallel to list
    std::vector<Candidate> pool;      // expanded nodes, in expansion order
    std::vector<uint32_t> nbr_ids;    // neighbours of the node being expanded
    std::vector<uint32_t> fresh_ids;  // unvisited neighbours
    std::vector<float> fresh_dists;
    std::vector<uint8_t> query_buf;  // prepared query

  private:
    std::vector<uint32_t> visited_;
    uint32_t epoch_ = 0;
};

/// Restricts a walk to the nodes carrying at least one label of `match` (ascending).
struct NodeFilter {
    const LabelView* labels = nullptr;
    std::span<const uint32_t> match;
    bool admits(uint32_t id) const { return sorted_intersects(labels->of(id), match); }
};

struct GreedyStats {
    uint32_t hops = 0;       ///< nodes expanded
    uint32_t distances = 0;  ///< distances computed
};

/// Searches from `start` for the L closest nodes to `query` (in the store's representation).
/// On return scratch.list holds them sorted and scratch.pool the expanded nodes with their
/// distances. `locked` reads neighbour lists under their locks (during a concurrent build).
/// With a `filter`, only the nodes it admits enter the list (the starts are taken as given).
GreedyStats greedy_search(const Graph& graph, const VectorStore& store, const void* query,
                          const uint32_t* starts, uint32_t start_count, uint32_t list_size,
                          bool locked, SearchScratch& scratch, const NodeFilter* filter = nullptr);

}  // namespace strata::graph
