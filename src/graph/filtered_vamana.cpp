#include "graph/filtered_vamana.hpp"

#include <algorithm>

#include "graph/greedy_search.hpp"

namespace strata::graph {

Result<FilteredVamanaResult> build_filtered_vamana(const VectorStore& store,
                                                   const LabelView& labels,
                                                   const VamanaOptions& options) {
    STRATA_ASSIGN_OR_RETURN(VamanaResult built, build_vamana(store, options, &labels));
    return FilteredVamanaResult{std::move(built.graph), built.medoid, std::move(built.label_start),
                                built.seconds};
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
    ql.erase(std::unique(ql.begin(), ql.end()), ql.end());
    std::vector<uint32_t> starts;
    for (uint32_t l : ql) {
        if (l < start.size() && start[l] != UINT32_MAX) starts.push_back(start[l]);
    }
    SearchScratch scratch(graph.size(), options.list_size, graph.capacity());
    scratch.query_buf.resize(store.query_bytes());
    const void* q = store.prepare_query(query, scratch.query_buf.data());
    const NodeFilter filter{&labels, ql};
    greedy_search(graph, store, q, starts.data(), static_cast<uint32_t>(starts.size()),
                  options.list_size, false, scratch, &filter);
    uint32_t got = 0;
    for (const Candidate& c : scratch.list) {
        if (got == options.k) break;
        ids[got] = c.id;
        if (dists) dists[got] = c.dist;
        ++got;
    }
    return got;
}

}  // namespace strata::graph
