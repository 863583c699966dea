#include "graph/filtered_vamana.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/rng.hpp"
#include "core/sorted_sets.hpp"

namespace strata::graph {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// True when every label in both `a` and `b` is in `s`.
bool shared_within(std::span<const uint32_t> a, std::span<const uint32_t> b,
                   std::span<const uint32_t> s) {
    auto i = a.begin();
    auto j = b.begin();
    while (i != a.end() && j != b.end()) {
        if (*i == *j) {
            if (!std::binary_search(s.begin(), s.end(), *i)) return false;
            ++i;
            ++j;
        } else if (*i < *j) {
            ++i;
        } else {
            ++j;
        }
    }
    return true;
}

// The filtered greedy search of the build and of queries. `pass(node)` admits a node to the
// walk. Returns the visited (expanded) nodes in `visited` and the best list in `list`.
template <typename Pass>
void filtered_greedy(const Graph& graph, const VectorStore& store, const void* q,
                     std::span<const uint32_t> starts, uint32_t list_size, const Pass& pass,
                     std::vector<Candidate>& list, std::vector<Candidate>& visited,
                     std::vector<uint8_t>& seen, std::vector<uint32_t>& touched) {
    list.clear();
    visited.clear();
    for (uint32_t t : touched) seen[t] = 0;
    touched.clear();
    std::vector<uint32_t> ids;
    std::vector<float> d;
    auto add = [&](const std::vector<uint32_t>& cand) {
        d.resize(cand.size());
        store.distances(q, cand.data(), cand.size(), d.data());
        for (size_t i = 0; i < cand.size(); ++i) list.push_back({d[i], cand[i]});
    };
    ids.clear();
    for (uint32_t s : starts) {
        if (s == kNone || seen[s]) continue;
        seen[s] = 1;
        touched.push_back(s);
        ids.push_back(s);
    }
    add(ids);
    std::vector<uint32_t> expanded;
    for (;;) {
        std::sort(list.begin(), list.end(),
                  [](const Candidate& a, const Candidate& b) { return a.dist < b.dist; });
        if (list.size() > list_size) list.resize(list_size);
        // The closest candidate not expanded yet.
        size_t at = list.size();
        for (size_t i = 0; i < list.size(); ++i) {
            if (std::find(expanded.begin(), expanded.end(), list[i].id) == expanded.end()) {
                at = i;
                break;
            }
        }
        if (at == list.size()) break;
        const Candidate c = list[at];
        expanded.push_back(c.id);
        visited.push_back(c);
        ids.clear();
        for (uint32_t nb : graph.neighbors(c.id)) {
            if (seen[nb] || !pass(nb)) continue;
            seen[nb] = 1;
            touched.push_back(nb);
            ids.push_back(nb);
        }
        add(ids);
    }
}

// FilteredRobustPrune of `node` over `pool` (distances to node), into `out`.
void filtered_prune(const VectorStore& store, const LabelView& labels, uint32_t node,
                    std::vector<Candidate>& pool, float alpha, uint32_t degree_max,
                    std::vector<uint32_t>& out) {
    std::sort(pool.begin(), pool.end(), [](const Candidate& a, const Candidate& b) {
        return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
    });
    pool.erase(std::unique(pool.begin(), pool.end(),
                           [](const Candidate& a, const Candidate& b) { return a.id == b.id; }),
               pool.end());
    out.clear();
    std::vector<bool> gone(pool.size(), false);
    const auto own = labels.of(node);
    for (size_t i = 0; i < pool.size() && out.size() < degree_max; ++i) {
        if (gone[i] || pool[i].id == node) continue;
        const uint32_t s = pool[i].id;
        out.push_back(s);
        const auto ls = labels.of(s);
        for (size_t j = i + 1; j < pool.size(); ++j) {
            if (gone[j]) continue;
            const uint32_t c = pool[j].id;
            // c can be reached through s only if s keeps every label c and node share.
            if (!shared_within(own, labels.of(c), ls)) continue;
            if (alpha * store.distance(s, c) <= pool[j].dist) gone[j] = true;
        }
    }
}

}  // namespace

Result<FilteredVamanaResult> build_filtered_vamana(const VectorStore& store,
                                                   const LabelView& labels,
                                                   const VamanaOptions& options) {
    STRATA_RETURN_IF_ERROR(options.validate());
    const uint32_t n = store.size();
    if (n == 0) return Status::invalid_argument("the store is empty");
    if (labels.offsets.size() != size_t{n} + 1 || labels.offsets.back() != labels.labels.size()) {
        return Status::invalid_argument(
            fmt::format("labels cover {} rows; the store has {}", labels.offsets.size() - 1, n));
    }
    for (uint32_t i = 0; i < n; ++i) {
        const auto l = labels.of(i);
        for (size_t j = 0; j < l.size(); ++j) {
            if (l[j] >= labels.label_count || (j > 0 && l[j] <= l[j - 1])) {
                return Status::invalid_argument(fmt::format(
                    "row {}: labels must be ascending ids below {}", i, labels.label_count));
            }
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    FilteredVamanaResult r{Graph(n, static_cast<uint32_t>(std::ceil(
                                        options.slack * static_cast<float>(options.degree_max)))),
                           std::vector<uint32_t>(labels.label_count, kNone), 0};
    // Start nodes: for each label, among up to 32 sampled carriers the least loaded one.
    std::vector<std::vector<uint32_t>> carriers(labels.label_count);
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t l : labels.of(i)) carriers[l].push_back(i);
    }
    Rng rng(options.seed);
    std::vector<uint32_t> load(n, 0);
    for (uint32_t l = 0; l < labels.label_count; ++l) {
        const auto& c = carriers[l];
        if (c.empty()) continue;
        uint32_t best = kNone;
        for (int t = 0; t < 32; ++t) {
            const uint32_t cand = c[rng.below(c.size())];
            if (best == kNone || load[cand] < load[best]) best = cand;
        }
        r.start[l] = best;
        ++load[best];
    }
    std::vector<uint32_t> order(n);
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    for (uint32_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    std::vector<Candidate> list, visited, pool;
    std::vector<uint8_t> seen(n, 0);
    std::vector<uint32_t> touched, out, starts, nbrs;
    for (uint32_t node : order) {
        const auto own = labels.of(node);
        starts.clear();
        for (uint32_t l : own) starts.push_back(r.start[l]);
        filtered_greedy(
            r.graph, store, store.vector(node), starts, options.list_size,
            [&](uint32_t x) { return sorted_intersects(labels.of(x), own); }, list, visited, seen,
            touched);
        pool = visited;
        filtered_prune(store, labels, node, pool, options.alpha, options.degree_max, out);
        r.graph.set_neighbors(node, out);
        for (uint32_t j : std::vector<uint32_t>(out)) {
            if (r.graph.try_append(j, node)) continue;
            // Full: prune j's list with node added.
            const auto cur = r.graph.neighbors(j);
            nbrs.assign(cur.begin(), cur.end());
            nbrs.push_back(node);
            pool.clear();
            std::vector<float> d(nbrs.size());
            store.distances(store.vector(j), nbrs.data(), nbrs.size(), d.data());
            for (size_t i = 0; i < nbrs.size(); ++i) pool.push_back({d[i], nbrs[i]});
            filtered_prune(store, labels, j, pool, options.alpha, options.degree_max, out);
            r.graph.set_neighbors(j, out);
        }
    }
    // Lists grown past R by reverse edges are pruned back.
    for (uint32_t j = 0; j < n; ++j) {
        if (r.graph.degree(j) <= options.degree_max) continue;
        const auto cur = r.graph.neighbors(j);
        nbrs.assign(cur.begin(), cur.end());
        std::vector<float> d(nbrs.size());
        store.distances(store.vector(j), nbrs.data(), nbrs.size(), d.data());
        pool.clear();
        for (size_t i = 0; i < nbrs.size(); ++i) pool.push_back({d[i], nbrs[i]});
        filtered_prune(store, labels, j, pool, options.alpha, options.degree_max, out);
        r.graph.set_neighbors(j, out);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

Result<uint32_t> search_filtered(const Graph& graph, const VectorStore& store,
                                 const LabelView& labels, std::span<const uint32_t> start,
                                 const void* query, std::span<const uint32_t> query_labels,
                                 const GraphSearchOptions& options, uint32_t* ids, float* dists) {
    if (options.k == 0 || options.list_size < options.k) {
        return Status::invalid_argument("need 1 <= k <= list_size");
    }
    std::vector<uint32_t> ql(query_labels.begin(), query_labels.end());
    std::sort(ql.begin(), ql.end());
    std::vector<uint32_t> starts;
    for (uint32_t l : ql) {
        if (l < start.size() && start[l] != kNone) starts.push_back(start[l]);
    }
    std::vector<uint8_t> scratch(store.query_bytes());
    const void* q = store.prepare_query(query, scratch.data());
    std::vector<Candidate> list, visited;
    std::vector<uint8_t> seen(graph.size(), 0);
    std::vector<uint32_t> touched;
    filtered_greedy(
        graph, store, q, starts, options.list_size,
        [&](uint32_t x) { return sorted_intersects(labels.of(x), ql); }, list, visited, seen,
        touched);
    uint32_t got = 0;
    for (const Candidate& c : list) {
        if (got == options.k) break;
        ids[got] = c.id;
        if (dists) dists[got] = c.dist;
        ++got;
    }
    return got;
}

}  // namespace strata::graph
