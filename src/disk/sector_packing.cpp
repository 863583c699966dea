// Sector packing: greedy grouping of graph neighbours, seeds in BFS order.
#include "disk/sector_packing.hpp"

#include <algorithm>
#include <numeric>

namespace strata::disk {

std::vector<uint32_t> sector_packing_order(const graph::Graph& graph, uint32_t entry,
                                           uint32_t nodes_per_sector) {
    const uint32_t n = graph.size();
    std::vector<uint32_t> order;
    order.reserve(n);
    if (nodes_per_sector <= 1 || n == 0) {
        order.resize(n);
        std::iota(order.begin(), order.end(), 0u);
        return order;
    }
    std::vector<uint8_t> placed(n, 0);
    std::vector<uint8_t> queued(n, 0);
    // Seeds in BFS order from the entry, then any node the BFS did not reach.
    std::vector<uint32_t> bfs;
    bfs.reserve(n);
    bfs.push_back(entry);
    queued[entry] = 1;
    uint32_t next_unreached = 0;
    uint32_t next_unplaced = 0;
    size_t fill = 0;
    for (size_t head = 0; order.size() < n; ++head) {
        if (head == bfs.size()) {
            while (queued[next_unreached]) ++next_unreached;
            bfs.push_back(next_unreached);
            queued[next_unreached] = 1;
        }
        const uint32_t seed = bfs[head];
        for (uint32_t j : graph.neighbors(seed)) {
            if (!queued[j]) {
                queued[j] = 1;
                bfs.push_back(j);
            }
        }
        if (placed[seed]) continue;
        // One sector: the seed, its nearest unplaced neighbours (lists are closest first), then
        // the neighbours of the nodes already in the group.
        const size_t group_start = order.size();
        placed[seed] = 1;
        order.push_back(seed);
        for (size_t g = group_start;
             g < order.size() && order.size() - group_start < nodes_per_sector; ++g) {
            for (uint32_t j : graph.neighbors(order[g])) {
                if (order.size() - group_start == nodes_per_sector) break;
                if (!placed[j]) {
                    placed[j] = 1;
                    order.push_back(j);
                }
            }
        }
        // Short group (every neighbour already placed): fill the sector with the next unplaced
        // nodes of the BFS queue, else of the id order, so groups stay sector-aligned.
        fill = std::max(fill, head + 1);
        while (order.size() - group_start < nodes_per_sector && order.size() < n) {
            while (fill < bfs.size() && placed[bfs[fill]]) ++fill;
            uint32_t pick;
            if (fill < bfs.size()) {
                pick = bfs[fill];
            } else {
                while (placed[next_unplaced]) ++next_unplaced;
                pick = next_unplaced;
            }
            placed[pick] = 1;
            order.push_back(pick);
        }
    }
    return order;
}

}  // namespace strata::disk
