// Exact (brute-force) k-nearest-neighbour search: ground truth, recall checks, small scans.
#pragma once

#include <cstddef>
#include <cstdint>

#include <strata/status.hpp>
#include <strata/types.hpp>

namespace strata {
class Progress;
}

namespace strata::distance {

/// A read-only view of `rows` vectors of `dim` elements of `dtype`; row i starts at
/// data + i * stride_bytes. Not owning.
struct MatrixView {
    const void* data = nullptr;
    uint64_t rows = 0;
    uint32_t dim = 0;
    DType dtype = DType::kF32;
    size_t stride_bytes = 0;  ///< 0 means dense: dim * dtype_size(dtype)

    size_t stride() const {
        return stride_bytes != 0 ? stride_bytes : size_t{dim} * dtype_size(dtype);
    }
    const void* row(uint64_t i) const { return static_cast<const uint8_t*>(data) + i * stride(); }
};

struct ExactKnnOptions {
    /// Neighbours per query; must be in [1, base rows]. Default 10.
    uint32_t k = 10;
    /// Distance convention of <strata/types.hpp>. Default l2.
    Metric metric = Metric::kL2;
    /// Worker threads; 0 = all hardware threads. Default 0.
    int threads = 0;
    /// Queries scored together against one cache-resident block of base rows. Default 32.
    uint32_t query_block = 32;
    /// Bytes of base rows per block, sized to stay in L2. Default 256 KiB.
    size_t base_block_bytes = 256 * 1024;
    /// Optional progress counter, advanced by queries completed. Not owned; may be null.
    Progress* progress = nullptr;
};

/// For each query, the k base rows with the smallest distance, sorted by (distance, row id):
/// ties go to the lower id, so the result is deterministic and equals a naive scan.
/// `ids_out` and `dists_out` hold queries.rows * k entries (row-major); dists_out may be null.
/// Errors: InvalidArgument for mismatched dtype/dim, k of 0 or above base.rows.
/// Thread-safe; runs on a TBB arena of `threads` workers.
Status exact_knn(const MatrixView& base, const MatrixView& queries, const ExactKnnOptions& options,
                 uint32_t* ids_out, float* dists_out);

}  // namespace strata::distance
