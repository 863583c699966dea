// AVX-512 (F/BW/DQ/VL) quant kernels. Compiled with -mavx512*: intrinsics and internal-linkage
// functions only, exporting just kAvx512QuantKernels (see kernel_tables.hpp).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "quant/kernel_tables.hpp"

namespace strata::quant::detail {
namespace {

// ---- nearest centroids -----------------------------------------------------------------------
// A tile is 32 rows = two zmm per dimension. Four centroids per step give eight independent FMA
// chains (the latency of one chain per centroid would otherwise bound a wide tile) and reuse
// each tile load four times.

constexpr uint32_t kHalves = kTileRows / 16;
static_assert(kHalves == 2, "the AVX-512 tile loop assumes 32-row tiles");

// The running top-m of 16 rows: best[j] ascending in j. One bubble pass with strict '<' keeps
// equal scores in arrival (centroid id) order.
template <uint32_t kM>
inline void track(__m512 s, __m512i id, __m512* best, __m512i* bid, uint32_t m) {
    const uint32_t mm = kM != 0 ? kM : m;
    for (uint32_t j = 0; j < mm; ++j) {
        const __mmask16 lt = _mm512_cmp_ps_mask(s, best[j], _CMP_LT_OQ);
        const __m512 b = best[j];
        const __m512i bi = bid[j];
        best[j] = _mm512_mask_mov_ps(b, lt, s);
        bid[j] = _mm512_mask_mov_epi32(bi, lt, id);
        if (j + 1 < mm) {
            s = _mm512_mask_mov_ps(s, lt, b);
            id = _mm512_mask_mov_epi32(id, lt, bi);
        }
    }
}

template <uint32_t kM>
void nearest_m(const float* tile, size_t dim, const float* neg2c, const float* norms, size_t k,
               uint32_t m, float* scores, uint32_t* ids) {
    constexpr uint32_t kSlots = kM != 0 ? kM : kMaxTopM;
    const uint32_t mm = kM != 0 ? kM : m;
    __m512 best[kHalves][kSlots];
    __m512i bid[kHalves][kSlots];
    for (uint32_t h = 0; h < kHalves; ++h) {
        for (uint32_t j = 0; j < kSlots; ++j) {
            best[h][j] = _mm512_set1_ps(__builtin_inff());
            bid[h][j] = _mm512_setzero_si512();
        }
    }
    size_t c = 0;
    for (; c + 4 <= k; c += 4) {
        const float* p = neg2c + c * dim;
        __m512 a[4][kHalves];
        for (int q = 0; q < 4; ++q) a[q][0] = a[q][1] = _mm512_set1_ps(norms[c + q]);
        for (size_t t = 0; t < dim; ++t) {
            const __m512 x0 = _mm512_loadu_ps(tile + t * kTileRows);
            const __m512 x1 = _mm512_loadu_ps(tile + t * kTileRows + 16);
            for (int q = 0; q < 4; ++q) {
                const __m512 b = _mm512_set1_ps(p[q * dim + t]);
                a[q][0] = _mm512_fmadd_ps(x0, b, a[q][0]);
                a[q][1] = _mm512_fmadd_ps(x1, b, a[q][1]);
            }
        }
        for (int q = 0; q < 4; ++q) {
            const __m512i id = _mm512_set1_epi32(static_cast<int>(c) + q);
            track<kM>(a[q][0], id, best[0], bid[0], mm);
            track<kM>(a[q][1], id, best[1], bid[1], mm);
        }
    }
    for (; c < k; ++c) {
        const float* p = neg2c + c * dim;
        __m512 a0 = _mm512_set1_ps(norms[c]);
        __m512 a1 = a0;
        for (size_t t = 0; t < dim; ++t) {
            const __m512 b = _mm512_set1_ps(p[t]);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(tile + t * kTileRows), b, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(tile + t * kTileRows + 16), b, a1);
        }
        const __m512i id = _mm512_set1_epi32(static_cast<int>(c));
        track<kM>(a0, id, best[0], bid[0], mm);
        track<kM>(a1, id, best[1], bid[1], mm);
    }
    for (uint32_t j = 0; j < mm; ++j) {
        for (uint32_t h = 0; h < kHalves; ++h) {
            _mm512_storeu_ps(scores + j * kTileRows + h * 16, best[h][j]);
            _mm512_storeu_si512(ids + j * kTileRows + h * 16, bid[h][j]);
        }
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
// Every intrinsic that GCC 12 expands through _mm512_undefined_* (-Wmaybe-uninitialized,
// GCC PR 105593) is written in its full-mask form instead: the same instruction.
// One code at a time: its chunk bytes 16j..16j+15 widen to 16 indices, offset by lane*256, and
// one gather fetches their table entries (lane l accumulates chunks m = l mod 16). Sixteen
// codes' accumulators are then reduced together by a transposing tree whose every addition is
// the canonical fold (l + l^8, l^4, l^2, l^1), so results equal the scalar kernel bit for bit.

inline __m512 lookup(const float* table, uint32_t bytes, const uint8_t* code) {
    static_assert(kPqCentroids == 256);
    const __m512i lane_offsets =  // lane l reads table row l (chunk m + l)
        _mm512_set_epi32(3840, 3584, 3328, 3072, 2816, 2560, 2304, 2048, 1792, 1536, 1280, 1024,
                         768, 512, 256, 0);
    __m512 acc = _mm512_setzero_ps();
    uint32_t m = 0;
    for (; m + 16 <= bytes; m += 16) {
        const __m512i idx = _mm512_add_epi32(
            _mm512_maskz_cvtepu8_epi32(0xFFFF,
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(code + m))),
            lane_offsets);
        acc = _mm512_add_ps(acc, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, idx,
                                                          table + size_t{m} * kPqCentroids, 4));
    }
    if (m < bytes) {
        // Masked byte load: lanes past the code are neither read nor able to fault.
        const __mmask16 tail = static_cast<__mmask16>((1u << (bytes - m)) - 1u);
        const __m512i idx = _mm512_add_epi32(
            _mm512_maskz_cvtepu8_epi32(0xFFFF, _mm_maskz_loadu_epi8(tail, code + m)), lane_offsets);
        acc = _mm512_add_ps(acc, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), tail, idx,
                                                          table + size_t{m} * kPqCentroids, 4));
    }
    return acc;
}

// The canonical fold of one accumulator (as the distance kernels' hsum).
inline float fold(__m512 v) {
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = _mm512_add_ps(v, _mm512_maskz_permute_ps(0xFFFF, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_maskz_permute_ps(0xFFFF, v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_cvtss_f32(v);
}

// Folds 16 accumulators at once; lane c of the result is fold(acc[c]).
inline __m512 fold16(const __m512* acc) {
    __m512 z[8];  // z[j]: lanes 0-7 code 2j (level 1: l + l^8), lanes 8-15 code 2j+1
    for (int j = 0; j < 8; ++j) {
        const __m512 x = acc[2 * j];
        const __m512 y = acc[2 * j + 1];
        z[j] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, x, y, _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_maskz_shuffle_f32x4(0xFFFF, x, y, _MM_SHUFFLE(3, 2, 3, 2)));
    }
    __m512 w[4];  // w[i]: 128-bit block b holds code 4i+b (level 2: l + l^4)
    for (int i = 0; i < 4; ++i) {
        const __m512 x = z[2 * i];
        const __m512 y = z[2 * i + 1];
        w[i] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_maskz_shuffle_f32x4(0xFFFF, x, y, _MM_SHUFFLE(3, 1, 3, 1)));
    }
    __m512 u[2];  // u[h], block b: lanes 0-1 code 8h+b, lanes 2-3 code 8h+4+b (level 3: l^2)
    for (int h = 0; h < 2; ++h) {
        const __m512 x = w[2 * h];
        const __m512 y = w[2 * h + 1];
        u[h] = _mm512_add_ps(_mm512_maskz_shuffle_ps(0xFFFF, x, y, _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_maskz_shuffle_ps(0xFFFF, x, y, _MM_SHUFFLE(3, 2, 3, 2)));
    }
    // Level 4 (l^1): block b, lane q holds code 4q+b.
    const __m512 r =
        _mm512_add_ps(_mm512_maskz_shuffle_ps(0xFFFF, u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                      _mm512_maskz_shuffle_ps(0xFFFF, u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    return _mm512_maskz_permutexvar_ps(0xFFFF, order, r);
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
    if (ids != nullptr) prefetch_codes(codes, bytes, ids, 0, n < 16 ? n : 16);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        // Fetch the next block's codes while this one computes.
        if (ids != nullptr) prefetch_codes(codes, bytes, ids, i + 16, i + 32 < n ? i + 32 : n);
        __m512 acc[16];
        for (int c = 0; c < 16; ++c) {
            const size_t row = ids != nullptr ? ids[i + c] : i + c;
            acc[c] = lookup(table, bytes, codes + row * bytes);
        }
        _mm512_storeu_ps(out + i, fold16(acc));
    }
    for (; i < n; ++i) {
        const size_t row = ids != nullptr ? ids[i] : i;
        out[i] = fold(lookup(table, bytes, codes + row * bytes));
    }
}

}  // namespace

constinit const QuantKernels kAvx512QuantKernels = {distance::Isa::kAvx512, nearest, adc_batch};

}  // namespace strata::quant::detail
