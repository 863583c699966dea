// AVX2 + FMA quant kernels. Compiled with -mavx2 -mfma: intrinsics and internal-linkage
// functions only, exporting just kAvx2QuantKernels (see kernel_tables.hpp).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "quant/kernel_tables.hpp"

namespace strata::quant::detail {
namespace {

// ---- nearest centroids -----------------------------------------------------------------------
// The 32-row tile is scored in two passes of 16 rows (two ymm per dimension), four centroids per
// step: eight FMA chains plus the trackers fit the sixteen ymm registers.

constexpr uint32_t kPassRows = 16;

// Ids ride in float registers as bit patterns, so one blendv serves scores and ids.
template <uint32_t kM>
inline void track(__m256 s, __m256 id, __m256* best, __m256* bid, uint32_t m) {
    const uint32_t mm = kM != 0 ? kM : m;
    for (uint32_t j = 0; j < mm; ++j) {
        const __m256 lt = _mm256_cmp_ps(s, best[j], _CMP_LT_OQ);
        const __m256 b = best[j];
        const __m256 bi = bid[j];
        best[j] = _mm256_blendv_ps(b, s, lt);
        bid[j] = _mm256_blendv_ps(bi, id, lt);
        if (j + 1 < mm) {
            s = _mm256_blendv_ps(s, b, lt);
            id = _mm256_blendv_ps(id, bi, lt);
        }
    }
}

inline __m256 id_vector(size_t c) {
    return _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(c)));
}

template <uint32_t kM>
void nearest_pass(const float* tile, size_t dim, const float* neg2c, const float* norms, size_t k,
                  uint32_t m, float* scores, uint32_t* ids) {
    constexpr uint32_t kSlots = kM != 0 ? kM : kMaxTopM;
    const uint32_t mm = kM != 0 ? kM : m;
    __m256 best[2][kSlots];
    __m256 bid[2][kSlots];
    for (int h = 0; h < 2; ++h) {
        for (uint32_t j = 0; j < kSlots; ++j) {
            best[h][j] = _mm256_set1_ps(__builtin_inff());
            bid[h][j] = _mm256_setzero_ps();
        }
    }
    size_t c = 0;
    for (; c + 4 <= k; c += 4) {
        const float* p = neg2c + c * dim;
        __m256 a[4][2];
        for (int q = 0; q < 4; ++q) a[q][0] = a[q][1] = _mm256_set1_ps(norms[c + q]);
        for (size_t t = 0; t < dim; ++t) {
            const __m256 x0 = _mm256_loadu_ps(tile + t * kTileRows);
            const __m256 x1 = _mm256_loadu_ps(tile + t * kTileRows + 8);
            for (int q = 0; q < 4; ++q) {
                const __m256 b = _mm256_broadcast_ss(p + q * dim + t);
                a[q][0] = _mm256_fmadd_ps(x0, b, a[q][0]);
                a[q][1] = _mm256_fmadd_ps(x1, b, a[q][1]);
            }
        }
        for (int q = 0; q < 4; ++q) {
            const __m256 id = id_vector(c + q);
            track<kM>(a[q][0], id, best[0], bid[0], mm);
            track<kM>(a[q][1], id, best[1], bid[1], mm);
        }
    }
    for (; c < k; ++c) {
        const float* p = neg2c + c * dim;
        __m256 a0 = _mm256_set1_ps(norms[c]);
        __m256 a1 = a0;
        for (size_t t = 0; t < dim; ++t) {
            const __m256 b = _mm256_broadcast_ss(p + t);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(tile + t * kTileRows), b, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(tile + t * kTileRows + 8), b, a1);
        }
        const __m256 id = id_vector(c);
        track<kM>(a0, id, best[0], bid[0], mm);
        track<kM>(a1, id, best[1], bid[1], mm);
    }
    for (uint32_t j = 0; j < mm; ++j) {
        for (int h = 0; h < 2; ++h) {
            _mm256_storeu_ps(scores + j * kTileRows + h * 8, best[h][j]);
            _mm256_storeu_ps(reinterpret_cast<float*>(ids + j * kTileRows + h * 8), bid[h][j]);
        }
    }
}

template <uint32_t kM>
void nearest_m(const float* tile, size_t dim, const float* neg2c, const float* norms, size_t k,
               uint32_t m, float* scores, uint32_t* ids) {
    for (uint32_t r = 0; r < kTileRows; r += kPassRows) {
        nearest_pass<kM>(tile + r, dim, neg2c, norms, k, m, scores + r, ids + r);
    }
}

void nearest(const float* tile, size_t dim, const float* neg2c, const float* norms, size_t k,
             uint32_t top_m, float* scores, uint32_t* ids) {
    switch (top_m) {
        case 1:
            return nearest_m<1>(tile, dim, neg2c, norms, k, 1, scores, ids);
        case 2:
            return nearest_m<2>(tile, dim, neg2c, norms, k, 2, scores, ids);
        default:
            return nearest_m<0>(tile, dim, neg2c, norms, k, top_m, scores, ids);
    }
}

// ---- ADC -------------------------------------------------------------------------------------
// Two 8-lane gathers per 16 chunks: the low register accumulates chunks m = l mod 16 for l < 8,
// the high one l >= 8; their sum is the canonical fold's first level (l + l^8). Eight codes are
// then reduced together by a transposing tree of the remaining canonical levels.

// Accumulator of one code after the first fold level: lane l = s_l + s_{l+8}.
inline __m256 lookup(const float* table, uint32_t bytes, const uint8_t* code) {
    static_assert(kPqCentroids == 256);
    const __m256i lo_offsets = _mm256_setr_epi32(0, 256, 512, 768, 1024, 1280, 1536, 1792);
    const __m256i hi_offsets = _mm256_setr_epi32(2048, 2304, 2560, 2816, 3072, 3328, 3584, 3840);
    __m256 lo = _mm256_setzero_ps();
    __m256 hi = _mm256_setzero_ps();
    uint32_t m = 0;
    for (; m + 16 <= bytes; m += 16) {
        const float* base = table + size_t{m} * kPqCentroids;
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(code + m));
        const __m256i il = _mm256_add_epi32(_mm256_cvtepu8_epi32(b), lo_offsets);
        const __m256i ih = _mm256_add_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)), hi_offsets);
        lo = _mm256_add_ps(lo, _mm256_i32gather_ps(base, il, 4));
        hi = _mm256_add_ps(hi, _mm256_i32gather_ps(base, ih, 4));
    }
    if (m < bytes) {
        // Copy the tail so no byte past the code is read; masked lanes are never gathered.
        const uint32_t rem = bytes - m;
        alignas(16) uint8_t buf[16] = {};
        std::memcpy(buf, code + m, rem);
        const __m128i b = _mm_load_si128(reinterpret_cast<const __m128i*>(buf));
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256 mask_lo =
            _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem)), lane));
        const __m256 mask_hi = _mm256_castsi256_ps(
            _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem) - 8), lane));
        const float* base = table + size_t{m} * kPqCentroids;
        const __m256i il = _mm256_add_epi32(_mm256_cvtepu8_epi32(b), lo_offsets);
        const __m256i ih = _mm256_add_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)), hi_offsets);
        const __m256 zero = _mm256_setzero_ps();
        lo = _mm256_add_ps(lo, _mm256_mask_i32gather_ps(zero, base, il, mask_lo, 4));
        hi = _mm256_add_ps(hi, _mm256_mask_i32gather_ps(zero, base, ih, mask_hi, 4));
    }
    return _mm256_add_ps(lo, hi);
}

inline float fold(__m256 v) {
    v = _mm256_add_ps(v, _mm256_permute2f128_ps(v, v, 1));
    v = _mm256_add_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm256_add_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm256_cvtss_f32(v);
}

// Lane c of the result is fold(acc[c]).
inline __m256 fold8(const __m256* acc) {
    __m256 z[4];  // z[j]: lanes 0-3 code 2j, lanes 4-7 code 2j+1 (level l^4)
    for (int j = 0; j < 4; ++j) {
        const __m256 x = acc[2 * j];
        const __m256 y = acc[2 * j + 1];
        z[j] =
            _mm256_add_ps(_mm256_permute2f128_ps(x, y, 0x20), _mm256_permute2f128_ps(x, y, 0x31));
    }
    __m256 u[2];  // u[h], half b: lanes 0-1 code 4h+b, lanes 2-3 code 4h+2+b (level l^2)
    for (int h = 0; h < 2; ++h) {
        const __m256 x = z[2 * h];
        const __m256 y = z[2 * h + 1];
        u[h] = _mm256_add_ps(_mm256_shuffle_ps(x, y, _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm256_shuffle_ps(x, y, _MM_SHUFFLE(3, 2, 3, 2)));
    }
    // Level l^1: half b, lane q holds code 2q+b.
    const __m256 r = _mm256_add_ps(_mm256_shuffle_ps(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm256_shuffle_ps(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Requests the codes of ids[from, to) from memory (random rows live in RAM, not cache).
inline void prefetch_codes(const uint8_t* codes, uint32_t bytes, const uint32_t* ids, size_t from,
                           size_t to) {
    for (size_t c = from; c < to; ++c) {
        const char* p = reinterpret_cast<const char*>(codes + size_t{ids[c]} * bytes);
        _mm_prefetch(p, _MM_HINT_T0);
        _mm_prefetch(p + bytes - 1, _MM_HINT_T0);
    }
}

void adc_batch(const float* table, uint32_t bytes, const uint8_t* codes, const uint32_t* ids,
               size_t n, float* out) {
    if (ids != nullptr) prefetch_codes(codes, bytes, ids, 0, n < 8 ? n : 8);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        // Fetch the next block's codes while this one computes.
        if (ids != nullptr) prefetch_codes(codes, bytes, ids, i + 8, i + 16 < n ? i + 16 : n);
        __m256 acc[8];
        for (int c = 0; c < 8; ++c) {
            const size_t row = ids != nullptr ? ids[i + c] : i + c;
            acc[c] = lookup(table, bytes, codes + row * bytes);
        }
        _mm256_storeu_ps(out + i, fold8(acc));
    }
    for (; i < n; ++i) {
        const size_t row = ids != nullptr ? ids[i] : i;
        out[i] = fold(lookup(table, bytes, codes + row * bytes));
    }
}

}  // namespace

constinit const QuantKernels kAvx2QuantKernels = {distance::Isa::kAvx2, nearest, adc_batch};

}  // namespace strata::quant::detail
