// A built index loaded whole into RAM (vectors and graph) and searched with exact distances:
// measures the recall of the graph itself, before and apart from the SSD beam search.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <strata/status.hpp>
#include <strata/types.hpp>

#include "graph/graph.hpp"
#include "graph/vector_store.hpp"

namespace strata::disk {

class InMemoryIndex {
  public:
    /// Reads every node of the index at `dir` (one sequential pass). Errors from IndexReader.
    static Result<InMemoryIndex> load(const std::string& dir);

    Metric metric() const { return metric_; }
    DType dtype() const { return dtype_; }
    uint32_t dim() const { return dim_; }
    uint64_t size() const { return ids_.size(); }
    uint32_t entry_point() const { return entry_; }
    const graph::Graph& graph() const { return graph_; }
    /// External id of internal node `node`.
    uint64_t external_id(uint32_t node) const { return ids_[node]; }

    /// The k nearest of `nq` queries (rows of dim elements of dtype, `stride_bytes` apart) with
    /// list size L: internal node ids (UINT32_MAX past the end) and metric distances
    /// (l2 squared, ip -dot, cosine 1 - cos). Thread-safe; parallel over queries.
    Status search(const void* queries, uint64_t nq, size_t stride_bytes, uint32_t k,
                  uint32_t list_size, uint32_t* ids, float* dists) const;

  private:
    Metric metric_ = Metric::kL2;
    DType dtype_ = DType::kF32;
    uint32_t dim_ = 0;
    uint32_t entry_ = 0;
    std::unique_ptr<graph::FullPrecisionStore> store_;    // as the build saw the vectors
    std::unique_ptr<graph::FullPrecisionStore> vectors_;  // plain vectors for exact ip scores
    graph::Graph graph_;
    std::vector<uint64_t> ids_;
};

}  // namespace strata::disk
