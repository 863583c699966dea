// Shared helpers of k-means and PQ: loading row tiles as float, centroid preparation for the
// nearest-centroid kernel, deterministic sampling and thread-count resolution.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "distance/exact_knn.hpp"
#include "quant/kernel_tables.hpp"

namespace strata::quant::detail {

/// Loads rows [first, first + count) of `data` (count <= kTileRows) as float into `tile`, laid
/// out transposed (tile[t * kTileRows + r], data.dim x kTileRows floats), subtracting `center`
/// (data.dim floats) when it is not null. Lanes r >= count are zero. When `norms` is not null,
/// norms[r] = |x_r - center|^2 for r < count. Returns the offset (< count) of the first row
/// holding a NaN or infinity (checked on the loaded value), or count when every row is finite.
uint32_t load_tile(const distance::MatrixView& data, uint64_t first, uint32_t count,
                   const float* center, float* tile, float* norms);

/// Converts row `i` of `data` to float (data.dim values). Returns false when a value is not
/// finite.
bool load_row(const distance::MatrixView& data, uint64_t i, float* out);

/// Centroids in the form the nearest-centroid kernel takes: neg2c = -2 * c (k x dim) and
/// norms = |c|^2 (k).
struct PreparedCentroids {
    std::vector<float> neg2c;
    std::vector<float> norms;
};
PreparedCentroids prepare_centroids(const float* centroids, size_t k, size_t dim);

/// `count` distinct row numbers of [0, n), ascending: [0, n) is cut into `count` strata of
/// (nearly) equal length and one row is drawn uniformly from each. Deterministic in the seed,
/// O(count), and the sorted order reads a memory-mapped file front to back. Requires
/// count <= n.
std::vector<uint64_t> stratified_sample(uint64_t n, uint64_t count, uint64_t seed);

/// Worker count for an options value: 0 = all threads TBB may use here, otherwise `threads`.
int resolve_threads(int threads);

/// target = min(target, value), atomically (the lowest failing row wins, whatever the order).
inline void lower_min(std::atomic<uint64_t>& target, uint64_t value) {
    uint64_t cur = target.load();
    while (value < cur && !target.compare_exchange_weak(cur, value)) {
    }
}

/// True when every one of the `count` floats is finite.
bool all_finite(const float* v, size_t count);

}  // namespace strata::quant::detail
