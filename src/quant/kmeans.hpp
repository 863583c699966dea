// General k-means on rows of any dtype (k-means++ seeding, Lloyd iterations) and assignment of
// rows to their nearest centroids; used by PQ training and by the sharded graph build.
#pragma once

#include <cstdint>
#include <vector>

#include <strata/status.hpp>

#include "distance/exact_knn.hpp"

namespace strata {
class Progress;
}

namespace strata::quant {

/// Most clusters kmeans() accepts.
inline constexpr uint32_t kMaxClusters = 1u << 20;
/// Most neighbours assign_nearest() returns per row.
inline constexpr uint32_t kMaxAssignTopM = 16;

struct KMeansOptions {
    /// Number of clusters, in [1, kMaxClusters]. Default 16.
    uint32_t k = 16;
    /// Lloyd iterations (assign, then update), in [1, 1000]. The loop ends early only when an
    /// iteration reassigns no row and leaves no cluster empty: the result is then the same as
    /// running on. Default 10.
    uint32_t iterations = 10;
    /// Every random choice derives from this seed. Default 1.
    uint64_t seed = 1;
    /// k-means++ seeding runs on min(rows, init_rows_per_centroid * k) rows taken by stratified
    /// sampling: seeding costs O(k * seed rows * dim) and is sequential in k, and a few dozen
    /// rows per centroid already cover the clusters that matter; Lloyd then uses every row.
    /// 0 = seed on all rows. Default 64.
    uint32_t init_rows_per_centroid = 64;
    /// Worker threads; 0 = all hardware threads. Results do not depend on it. Default 0.
    int threads = 0;
    /// Optional progress counter, advanced by 1 per Lloyd iteration. Not owned; may be null.
    Progress* progress = nullptr;

    Status validate() const;
};

struct KMeansResult {
    uint32_t k = 0;
    uint32_t dim = 0;
    /// k x dim, row-major.
    std::vector<float> centroids;
    /// Mean squared L2 distance of a row to its centroid in the last assignment step (taken
    /// before that iteration's update, so slightly above the error of `centroids`).
    double mse = 0.0;
    /// Lloyd iterations actually run (<= options.iterations).
    uint32_t iterations_run = 0;
    /// Empty clusters re-seeded, summed over iterations.
    uint64_t empty_splits = 0;
};

/// Clusters the rows of `data` (f32, u8 or i8, any stride; integers are read as their values)
/// into options.k clusters under squared L2.
///
/// Seeding is k-means++ (D^2 sampling, Arthur & Vassilvitskii 2007) on a subsample (see
/// KMeansOptions::init_rows_per_centroid). A cluster left empty by an update is re-seeded
/// deterministically by splitting the largest cluster (lowest id on ties): both halves move
/// apart by 1/1024 of the larger of the coordinate and the data's RMS coordinate, in
/// alternating signs (the FAISS approach without its random choice). With rows <= k, the
/// centroids are the rows themselves, repeated cyclically, and no iteration runs.
///
/// Deterministic: the same input and options give the same centroids for any thread count
/// (fixed work blocks, reductions in block order); they may differ across ISAs (FMA rounding).
/// Errors: InvalidArgument for bad options, 0 rows, dim 0 or above kMaxDimension, a null data
/// pointer, or a row holding NaN or infinity (named by its number); ResourceExhausted when out of
/// memory. Thread-safe.
Result<KMeansResult> kmeans(const distance::MatrixView& data, const KMeansOptions& options);

struct AssignOptions {
    /// Nearest centroids returned per row, in [1, min(k, kMaxAssignTopM)]. Default 1.
    uint32_t top_m = 1;
    /// Worker threads; 0 = all hardware threads. Default 0.
    int threads = 0;
    /// Optional progress counter, advanced by rows assigned. Not owned; may be null.
    Progress* progress = nullptr;

    Status validate() const;
};

/// For every row of `data` (any dtype/stride), the options.top_m nearest of the k centroids
/// (`centroids`: k x data.dim floats, row-major) by squared L2, nearest first, ties to the lower
/// centroid id: ids_out[row * top_m + j]. When dists_out is not null it receives the squared
/// distances in the same layout (computed as |x|^2 + |c|^2 - 2 x.c in float, clamped at 0).
/// Runs the active ISA's kernel (see kernel_tables.hpp about cross-ISA near-ties).
/// Errors: InvalidArgument for bad options, dim 0 or above kMaxDimension, k of 0, top_m > k,
/// null pointers, non-finite centroids, or a row holding NaN or infinity (outputs are then
/// unspecified); ResourceExhausted when out of memory. Thread-safe.
Status assign_nearest(const distance::MatrixView& data, const float* centroids, uint32_t k,
                      const AssignOptions& options, uint32_t* ids_out, float* dists_out);

namespace detail {
/// kmeans() without its own task arena: runs in the caller's (PQ trains chunks in parallel and
/// lets each chunk's k-means share the same workers). Same contract otherwise.
Result<KMeansResult> kmeans_in_current_arena(const distance::MatrixView& data,
                                             const KMeansOptions& options);
}  // namespace detail

}  // namespace strata::quant
