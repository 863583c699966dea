// Greedy search: expand the closest unexpanded candidate until the L best are all expanded.
#include "graph/greedy_search.hpp"

#include <algorithm>

namespace strata::graph {

SearchScratch::SearchScratch(uint32_t nodes, uint32_t list_size_max, uint32_t degree_max)
    : visited_(nodes, 0) {
    list.reserve(list_size_max + 1);
    expanded.reserve(list_size_max + 1);
    pool.reserve(size_t{list_size_max} * 4);
    nbr_ids.resize(degree_max);
    fresh_ids.resize(degree_max);
    fresh_dists.resize(degree_max);
}

void SearchScratch::reset() {
    list.clear();
    expanded.clear();
    pool.clear();
    if (++epoch_ == 0) {  // wrapped: clear once every 2^32 searches
        std::fill(visited_.begin(), visited_.end(), 0);
        epoch_ = 1;
    }
}

namespace {

bool less(const Candidate& a, const Candidate& b) {
    return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
}

/// Inserts into the sorted list if it beats the worst of a full list; returns the position or
/// list_size when rejected.
size_t insert(SearchScratch& s, Candidate c, uint32_t list_size) {
    if (s.list.size() == list_size && !less(c, s.list.back())) return list_size;
    const auto it = std::upper_bound(s.list.begin(), s.list.end(), c, less);
    const auto pos = static_cast<size_t>(it - s.list.begin());
    s.list.insert(it, c);
    s.expanded.insert(s.expanded.begin() + static_cast<ptrdiff_t>(pos), 0);
    if (s.list.size() > list_size) {
        s.list.pop_back();
        s.expanded.pop_back();
    }
    return pos;
}

}  // namespace

GreedyStats greedy_search(const Graph& graph, const VectorStore& store, const void* query,
                          const uint32_t* starts, uint32_t start_count, uint32_t list_size,
                          bool locked, SearchScratch& s, const NodeFilter* filter) {
    GreedyStats stats;
    s.reset();
    for (uint32_t i = 0; i < start_count; ++i) {
        if (!s.visit(starts[i])) continue;
        float d;
        store.distances(query, &starts[i], 1, &d);
        ++stats.distances;
        insert(s, {d, starts[i]}, list_size);
    }
    size_t next = 0;  // every candidate before `next` is expanded
    while (next < s.list.size()) {
        if (s.expanded[next]) {
            ++next;
            continue;
        }
        const Candidate cur = s.list[next];
        s.expanded[next] = 1;
        s.pool.push_back(cur);
        ++stats.hops;
        uint32_t degree;
        const uint32_t* nbrs;
        if (locked) {
            degree = graph.copy_neighbors_locked(cur.id, s.nbr_ids.data());
            nbrs = s.nbr_ids.data();
        } else {
            const auto view = graph.neighbors(cur.id);
            degree = static_cast<uint32_t>(view.size());
            nbrs = view.data();
        }
        uint32_t fresh = 0;
        for (uint32_t i = 0; i < degree; ++i) {
            if (!s.visit(nbrs[i])) continue;
            if (filter != nullptr && !filter->admits(nbrs[i])) continue;
            s.fresh_ids[fresh++] = nbrs[i];
        }
        store.distances(query, s.fresh_ids.data(), fresh, s.fresh_dists.data());
        stats.distances += fresh;
        size_t best_pos = s.list.size();
        for (uint32_t i = 0; i < fresh; ++i) {
            const size_t pos = insert(s, {s.fresh_dists[i], s.fresh_ids[i]}, list_size);
            best_pos = std::min(best_pos, pos);
        }
        // A new candidate closer than the current position restarts the scan there.
        if (best_pos < next) next = best_pos;
    }
    return stats;
}

}  // namespace strata::graph
