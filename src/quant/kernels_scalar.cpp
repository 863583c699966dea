// Scalar quant kernels: the reference the SIMD versions are tested against, and the fallback.
#include <cstddef>
#include <cstdint>

#include "quant/kernel_tables.hpp"

namespace strata::quant::detail {
namespace {

// Inserts (s, id) into the sorted list best[0..m), ids[0..m) of one row (stride kTileRows):
// a bubble pass with strict '<', so an equal score stays behind the earlier (lower) id.
inline void insert(float s, uint32_t id, float* best, uint32_t* ids, uint32_t m) {
    for (uint32_t j = 0; j < m; ++j) {
        float& b = best[j * kTileRows];
        uint32_t& i = ids[j * kTileRows];
        if (s < b) {
            const float tb = b;
            const uint32_t ti = i;
            b = s;
            i = id;
            s = tb;
            id = ti;
        }
    }
}

void nearest(const float* tile, size_t dim, const float* neg2c, const float* norms, size_t k,
             uint32_t top_m, float* scores, uint32_t* ids) {
    for (uint32_t j = 0; j < top_m; ++j) {
        for (uint32_t r = 0; r < kTileRows; ++r) {
            scores[j * kTileRows + r] = __builtin_inff();
            ids[j * kTileRows + r] = 0;
        }
    }
    float acc[kTileRows];
    for (size_t c = 0; c < k; ++c) {
        const float* cc = neg2c + c * dim;
        for (uint32_t r = 0; r < kTileRows; ++r) acc[r] = norms[c];
        for (size_t t = 0; t < dim; ++t) {
            const float ct = cc[t];
            const float* xt = tile + t * kTileRows;
            for (uint32_t r = 0; r < kTileRows; ++r) acc[r] += xt[r] * ct;
        }
        for (uint32_t r = 0; r < kTileRows; ++r) {
            if (acc[r] < scores[(top_m - 1) * kTileRows + r]) {
                insert(acc[r], static_cast<uint32_t>(c), scores + r, ids + r, top_m);
            }
        }
    }
}

// The canonical ADC order (see AdcBatchFn): 16 lane sums, then a pairwise fold.
inline float adc_one(const float* table, uint32_t bytes, const uint8_t* code) {
    float s[16] = {};
    uint32_t m = 0;
    for (; m + 16 <= bytes; m += 16) {  // fixed trip count: s stays in registers
        const float* t = table + size_t{m} * kPqCentroids;
        for (uint32_t l = 0; l < 16; ++l) s[l] += t[l * kPqCentroids + code[m + l]];
    }
    for (uint32_t l = 0; m + l < bytes; ++l) {
        s[l] += table[size_t{m + l} * kPqCentroids + code[m + l]];
    }
    for (uint32_t w = 8; w != 0; w /= 2) {
        for (uint32_t l = 0; l < w; ++l) s[l] += s[l + w];
    }
    return s[0];
}

void adc_batch(const float* table, uint32_t bytes, const uint8_t* codes, const uint32_t* ids,
               size_t n, float* out) {
    // Random rows come from RAM: request a code this far ahead, as the SIMD kernels do.
    constexpr size_t kPrefetchAhead = 8;
    for (size_t i = 0; i < n; ++i) {
        if (ids != nullptr && i + kPrefetchAhead < n) {
            const uint8_t* p = codes + size_t{ids[i + kPrefetchAhead]} * bytes;
            __builtin_prefetch(p);
            __builtin_prefetch(p + bytes - 1);
        }
        const size_t row = ids != nullptr ? ids[i] : i;
        out[i] = adc_one(table, bytes, codes + row * bytes);
    }
}

}  // namespace

constinit const QuantKernels kScalarQuantKernels = {distance::Isa::kScalar, nearest, adc_batch};

}  // namespace strata::quant::detail
