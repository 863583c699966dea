// The quant module's per-ISA kernels (nearest centroids of a row tile, ADC lookup/accumulate);
// each table is defined in its own kernels_<isa>.cpp, chosen at run time like distance's.
#pragma once

#include <cstddef>
#include <cstdint>

#include "distance/distance.hpp"

namespace strata::quant::detail {

/// Rows per tile: the nearest-centroid kernel scores this many rows at once, stored transposed
/// (tile[t * kTileRows + r] = dimension t of row r) so one centroid coordinate is broadcast
/// against all rows.
inline constexpr uint32_t kTileRows = 32;
/// Most neighbours the nearest-centroid kernel tracks per row.
inline constexpr uint32_t kMaxTopM = 16;
/// Centroids per PQ chunk (codes are one byte).
inline constexpr uint32_t kPqCentroids = 256;

/// For each of the kTileRows rows of `tile` (dim x kTileRows floats, see kTileRows), the
/// `top_m` centroids with the smallest score(c) = norms[c] + sum_t tile[t][r] * neg2c[c*dim+t],
/// which is |x - c|^2 - |x|^2 when neg2c = -2 * centroids and norms = |c|^2. Written sorted
/// ascending, ties to the lower centroid id, to scores[j * kTileRows + r] and
/// ids[j * kTileRows + r], j < top_m. Requires 1 <= top_m <= min(k, kMaxTopM), dim >= 1.
/// Rounding differs between ISAs (FMA), so near-ties may resolve differently across ISAs; the
/// result never depends on which lane a row occupies or on the other rows of the tile.
using NearestFn = void (*)(const float* tile, size_t dim, const float* neg2c, const float* norms,
                           size_t k, uint32_t top_m, float* scores, uint32_t* ids);

/// out[i] = sum over chunks m < bytes of table[m * 256 + code_i[m]], where code_i starts at
/// codes + (ids ? ids[i] : i) * bytes. Every ISA sums in the same canonical order, so results
/// are bit-identical across ISAs: lane l = m mod 16 accumulates its chunks in increasing m,
/// then lanes fold pairwise (l + l^8, then l^4, l^2, l^1), as a 512-bit register reduces.
using AdcBatchFn = void (*)(const float* table, uint32_t bytes, const uint8_t* codes,
                            const uint32_t* ids, size_t n, float* out);

struct QuantKernels {
    distance::Isa isa;
    NearestFn nearest;
    AdcBatchFn adc_batch;
};

// Same ODR rule as distance/kernel_tables.hpp: the files compiled with -mavx2/-mavx512* hold
// intrinsics and internal-linkage functions only and export nothing but their table (checked
// by the quant_isa_objects test). They include no header with inline functions of external
// linkage that they call.

/// Plain loops; the reference the SIMD kernels are tested against.
[[gnu::visibility("hidden")]] extern const QuantKernels kScalarQuantKernels;
/// AVX2 + FMA.
[[gnu::visibility("hidden")]] extern const QuantKernels kAvx2QuantKernels;
/// AVX-512 F/BW/DQ/VL.
[[gnu::visibility("hidden")]] extern const QuantKernels kAvx512QuantKernels;

/// The table for `isa`, or nullptr when this machine cannot run it.
const QuantKernels* quant_kernels_for(distance::Isa isa);
/// The table of the ISA distance::kernels() settled on (so STRATA_ISA lowers both).
const QuantKernels& quant_kernels();

}  // namespace strata::quant::detail
