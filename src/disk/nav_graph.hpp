// The navigation graph: a small Vamana graph over a sample (about 1%) of the index's nodes, built
// with the index and stored as the nav.graph companion. Search walks it in RAM with PQ distances
// to pick the entry points of the disk search (Starling, SIGMOD 2024; PipeANN, OSDI 2025), so
// the disk search starts near the query instead of at the medoid.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <strata/status.hpp>

namespace strata::graph {
class VectorStore;
}

namespace strata::disk {

/// Payload of nav.graph (little-endian): u32 count, u32 degree_max, u32 entry (a sample index),
/// u32 reserved (0), then u32 node[count] (index node ids, ascending), u32 degree[count], and
/// u32 neighbours[count * degree_max] (sample indices; slots past a node's degree are 0).
struct NavGraph {
    std::vector<uint32_t> nodes;  ///< index node id of each sample
    uint32_t degree_max = 0;
    uint32_t entry = 0;               ///< sample index the walk starts from
    std::vector<uint32_t> degrees;    ///< per sample
    std::vector<uint32_t> adjacency;  ///< count * degree_max sample indices

    uint32_t size() const { return static_cast<uint32_t>(nodes.size()); }
    std::span<const uint32_t> neighbors(uint32_t s) const {
        return {adjacency.data() + size_t{s} * degree_max, degrees[s]};
    }
    /// Heap bytes held.
    size_t memory_bytes() const {
        return (nodes.size() + degrees.size() + adjacency.size()) * sizeof(uint32_t);
    }

    std::string encode() const;
    /// Parses and checks an encoded payload for an index of `node_count` nodes: Corruption
    /// (naming `source`) for a short or inconsistent payload, a node id out of range or not
    /// ascending, a neighbour or entry outside the sample, or a degree above degree_max.
    static Result<NavGraph> decode(std::string_view payload, uint64_t node_count,
                                   std::string_view source);
};

/// Samples taken for an index of `n` nodes: round(n * fraction), at least min(n, 256), at most n;
/// 0 when fraction is 0.
uint64_t nav_sample_count(uint64_t n, double fraction);

/// Picks `count` of `n` ids, ascending, uniformly at random (selection sampling, seeded).
std::vector<uint32_t> nav_sample(uint64_t n, uint64_t count, uint64_t seed);

/// Builds the navigation graph over the samples `nodes` whose vectors `store` holds in the same
/// order (store row s is node nodes[s]): Vamana with `degree_max`, L = 2 * degree_max, α = 1.2.
Result<NavGraph> build_nav_graph(const graph::VectorStore& store, std::vector<uint32_t> nodes,
                                 uint32_t degree_max, int threads, uint64_t seed);

}  // namespace strata::disk
