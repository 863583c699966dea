// The vectors graph algorithms see: a store interface, so Vamana build and graph search never
// touch files or PQ tables directly (full precision now, PQ-backed later).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include <strata/status.hpp>
#include <strata/types.hpp>

#include "core/aligned_buffer.hpp"
#include "distance/distance.hpp"

namespace strata::graph {

/// Read-only vectors addressed by dense ids [0, size()). Thread-safe for concurrent reads.
/// Distances follow the "smaller is closer" convention of the metric the store was built for.
class VectorStore {
  public:
    virtual ~VectorStore() = default;
    virtual uint32_t size() const = 0;
    virtual uint32_t dim() const = 0;
    /// Element type of vector() rows.
    virtual DType dtype() const = 0;
    /// The stored representation of `id`, usable as a query for distances().
    virtual const void* vector(uint32_t id) const = 0;
    /// out[i] = distance(query, ids[i]) for i < n. `query` is in the stored representation
    /// (see prepare_query). One virtual call per batch keeps the per-distance cost a kernel call.
    virtual void distances(const void* query, const uint32_t* ids, size_t n, float* out) const = 0;
    /// Converts a user query (dim elements of the store's input dtype) into the stored
    /// representation in `scratch` (at least query_bytes() long) and returns a pointer to use.
    virtual const void* prepare_query(const void* query, void* scratch) const = 0;
    virtual size_t query_bytes() const = 0;

    float distance(uint32_t a, uint32_t b) const {
        float d;
        distances(vector(a), &b, 1, &d);
        return d;
    }
};

/// Full-precision vectors in one aligned array. For cosine the rows are normalized on copy;
/// the distance is then 1 - dot. Rows may come from any strided source.
class FullPrecisionStore final : public VectorStore {
  public:
    /// Copies `rows` vectors of `dim` elements of `dtype` from `data` (row i at data + i*stride;
    /// with `row_ids`, store row i is source row row_ids[i]).
    /// Errors: InvalidArgument (dim 0, too many rows), ResourceExhausted (allocation).
    /// `release`, when set, runs after each 64 MiB of rows copied (the builder drops the input's
    /// resident pages there, so a memory-mapped source never counts twice).
    static Result<std::unique_ptr<FullPrecisionStore>> create(
        DType dtype, Metric metric, uint32_t dim, uint64_t rows, const void* data,
        size_t stride_bytes, const uint32_t* row_ids = nullptr,
        const std::function<void()>& release = {});

    /// Maximum-inner-product search reduced to L2 (Bachrach et al. 2014, as DiskANN does):
    /// rows become f32 [x, sqrt(M^2 - |x|^2)] with M the largest norm, queries [q, 0], so that
    /// |q' - x'|^2 = M^2 + |q|^2 - 2<q, x> ranks exactly like -<q, x>. dim() is the input
    /// dimension + 1; prepare_query takes input-dtype queries of the input dimension.
    /// `max_norm` > 0 fixes M (a store over a subset must use the whole data set's M); rows
    /// longer than it are clamped to an extra coordinate of 0. `row_ids` as for create().
    static Result<std::unique_ptr<FullPrecisionStore>> create_mips(
        DType dtype, uint32_t dim, uint64_t rows, const void* data, size_t stride_bytes,
        double max_norm = 0, const uint32_t* row_ids = nullptr);

    uint32_t size() const override { return rows_; }
    uint32_t dim() const override { return dim_; }
    DType dtype() const override { return dtype_; }
    Metric metric() const { return metric_; }
    const void* vector(uint32_t id) const override { return data_.data() + size_t{id} * stride_; }
    void distances(const void* query, const uint32_t* ids, size_t n, float* out) const override;
    const void* prepare_query(const void* query, void* scratch) const override;
    size_t query_bytes() const override { return stride_; }
    /// Bytes held.
    size_t memory_bytes() const { return data_.size(); }

  private:
    FullPrecisionStore() = default;
    DType dtype_ = DType::kF32;
    DType input_dtype_ = DType::kF32;  // differs from dtype_ for MIPS (always f32 inside)
    bool mips_ = false;
    Metric metric_ = Metric::kL2;
    uint32_t dim_ = 0;
    uint32_t rows_ = 0;
    size_t stride_ = 0;  // bytes per row, padded to 64
    distance::DistanceFn fn_ = nullptr;
    AlignedBuffer<uint8_t> data_;
};

}  // namespace strata::graph
