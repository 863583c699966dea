// In-memory loading and exact-distance graph search of a built index.
#include "disk/in_memory_index.hpp"

#include <cstring>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "disk/index_reader.hpp"
#include "graph/vamana.hpp"

namespace strata::disk {

Result<InMemoryIndex> InMemoryIndex::load(const std::string& dir) {
    STRATA_ASSIGN_OR_RETURN(auto reader, IndexReader::open(dir));
    const NodeLayout& layout = reader.layout();
    const uint64_t n = reader.node_count();
    if (n == 0) return Status::invalid_argument(dir + ": the index holds no nodes");
    InMemoryIndex idx;
    idx.metric_ = reader.metric();
    idx.dtype_ = reader.dtype();
    idx.dim_ = reader.dim();
    idx.entry_ = reader.entry_point();
    const size_t vec_bytes = layout.vector_bytes;
    std::vector<uint8_t> vectors(n * vec_bytes);
    idx.graph_ = graph::Graph(static_cast<uint32_t>(n), reader.degree_max());
    std::vector<uint8_t> node(layout.read_bytes() + 64);
    for (uint64_t i = 0; i < n; ++i) {
        STRATA_RETURN_IF_ERROR(reader.read_node(i, node));
        const NodeView v = layout.view_node(node.data());
        std::memcpy(vectors.data() + i * vec_bytes, v.vector, vec_bytes);
        if (!v.valid(reader.degree_max())) {
            return Status::corruption(
                fmt::format("{}: node {} has degree {} > R", dir, i, v.degree));
        }
        for (uint32_t j : v.neighbors) {
            if (j >= n) {
                return Status::corruption(
                    fmt::format("{}: node {} links to {} beyond the {} nodes", dir, i, j, n));
            }
        }
        idx.graph_.set_neighbors(static_cast<uint32_t>(i), v.neighbors);
    }
    STRATA_ASSIGN_OR_RETURN(std::string ids, reader.read_file(FileKind::kIds));
    if (ids.size() != n * 8) return Status::corruption(dir + ": ids.u64 size mismatch");
    idx.ids_.resize(n);
    std::memcpy(idx.ids_.data(), ids.data(), ids.size());
    if (idx.metric_ == Metric::kInnerProduct) {
        STRATA_ASSIGN_OR_RETURN(idx.store_, graph::FullPrecisionStore::create_mips(
                                                idx.dtype_, idx.dim_, n, vectors.data(), 0));
        STRATA_ASSIGN_OR_RETURN(idx.vectors_,
                                graph::FullPrecisionStore::create(idx.dtype_, Metric::kInnerProduct,
                                                                  idx.dim_, n, vectors.data(), 0));
    } else {
        STRATA_ASSIGN_OR_RETURN(
            idx.store_, graph::FullPrecisionStore::create(idx.dtype_, idx.metric_, idx.dim_, n,
                                                          vectors.data(), 0));
    }
    return idx;
}

Status InMemoryIndex::search(const void* queries, uint64_t nq, size_t stride_bytes, uint32_t k,
                             uint32_t list_size, uint32_t* ids, float* dists) const {
    graph::GraphSearchOptions so;
    so.k = k;
    so.list_size = list_size;
    STRATA_RETURN_IF_ERROR(graph::search_graph_batch(graph_, *store_, entry_, queries, nq,
                                                     stride_bytes, so, ids, dists));
    if (vectors_ == nullptr || dists == nullptr) return Status::ok();
    // MIPS: the graph ranks by augmented L2; report the true -<q, x>.
    tbb::parallel_for(tbb::blocked_range<uint64_t>(0, nq, 64), [&](const auto& r) {
        std::vector<uint8_t> q(vectors_->query_bytes());
        for (uint64_t qi = r.begin(); qi != r.end(); ++qi) {
            const void* prepared = vectors_->prepare_query(
                static_cast<const uint8_t*>(queries) + qi * stride_bytes, q.data());
            for (uint32_t j = 0; j < k; ++j) {
                const uint32_t id = ids[qi * k + j];
                if (id != UINT32_MAX) vectors_->distances(prepared, &id, 1, &dists[qi * k + j]);
            }
        }
    });
    return Status::ok();
}

}  // namespace strata::disk
