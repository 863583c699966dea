// AVX2 + FMA distance kernels (the only file compiled with -mavx2 -mfma).
// Intrinsics and internal-linkage functions only; exports just kAvx2Kernels (kernel_tables.hpp).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "distance/kernel_tables.hpp"

namespace strata::distance::detail {
namespace {

float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

int32_t hsum(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x1));
    return _mm_cvtsi128_si32(s);
}

// Lanes [0, n) set, n < 8. vmaskmovps does not fault on the lanes left out, so reading the
// tail this way never touches memory past the vectors.
__m256i tail_mask(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Four independent accumulators hide the 4-cycle FMA latency.
float l2_f32(const float* a, const float* b, size_t dim) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps();
    __m256 acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        const __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        const __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        acc2 = _mm256_fmadd_ps(d2, d2, acc2);
        acc3 = _mm256_fmadd_ps(d3, d3, acc3);
    }
    // Remainder (< 32): up to three full vectors and a masked one, each into its own
    // accumulator so the tail adds no dependency chain.
    if (i + 8 <= dim) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        acc0 = _mm256_fmadd_ps(d, d, acc0);
        i += 8;
    }
    if (i + 8 <= dim) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        acc1 = _mm256_fmadd_ps(d, d, acc1);
        i += 8;
    }
    if (i + 8 <= dim) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        acc2 = _mm256_fmadd_ps(d, d, acc2);
        i += 8;
    }
    if (i < dim) {
        const __m256i m = tail_mask(dim - i);
        const __m256 d = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        acc3 = _mm256_fmadd_ps(d, d, acc3);
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

float ip_f32(const float* a, const float* b, size_t dim) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps();
    __m256 acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
    }
    if (i + 8 <= dim) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        i += 8;
    }
    if (i + 8 <= dim) {
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc1);
        i += 8;
    }
    if (i + 8 <= dim) {
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc2);
        i += 8;
    }
    if (i < dim) {
        const __m256i m = tail_mask(dim - i);
        acc3 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), acc3);
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

// Integer kernels: 16 bytes widened to 16 x int16 (zero- or sign-extended), then vpmaddwd
// multiplies and adds adjacent pairs into int32. A pair sum is at most 2 * 255^2 and the
// total at most 255^2 * kMaxDimension < 2^31, so everything is exact.
// The templates below live in the anonymous namespace: internal linkage, so their
// instantiations can never be merged with code compiled elsewhere.
template <typename T>
__m256i widen(__m128i bytes) {
    if constexpr (static_cast<T>(-1) < T{0}) {
        return _mm256_cvtepi8_epi16(bytes);
    } else {
        return _mm256_cvtepu8_epi16(bytes);
    }
}

template <typename T>
__m256i widen(const T* p) {
    return widen<T>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// AVX2 has no byte-masked load. For dim >= 16 the last `rem` (< 16) bytes are read as the
// 16-byte window ending at the vector's end, with its first 16 - rem lanes (already counted)
// zeroed in both inputs; zero lanes add nothing to either sum. kKeep[rem + j] is 0xFF exactly
// when j >= 16 - rem.
alignas(32) constexpr uint8_t kKeep[32] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

template <typename T>
__m256i widen_tail(const T* end, size_t rem) {
    const __m128i keep = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kKeep + rem));
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(end - 16));
    return widen<T>(_mm_and_si128(bytes, keep));
}

__m256i l2_step(__m256i acc, __m256i a, __m256i b) {
    const __m256i d = _mm256_sub_epi16(a, b);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
}

__m256i ip_step(__m256i acc, __m256i a, __m256i b) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
}

// Below 16 elements there is no full window to read: a plain loop.
template <bool kL2, typename T>
int32_t int_short(const T* a, const T* b, size_t dim) {
    int32_t sum = 0;
    for (size_t i = 0; i < dim; ++i) {
        const int32_t x = a[i];
        const int32_t y = b[i];
        sum += kL2 ? (x - y) * (x - y) : x * y;
    }
    return sum;
}

// kL2 selects l2_step or ip_step; the remainder (< 32) is one full 16-byte step and a window
// step, into separate accumulators.
template <bool kL2, typename T>
int32_t int_kernel(const T* a, const T* b, size_t dim) {
    if (dim < 16) return int_short<kL2>(a, b, dim);
    const auto step = [](__m256i acc, __m256i x, __m256i y) {
        return kL2 ? l2_step(acc, x, y) : ip_step(acc, x, y);
    };
    __m256i acc0 = _mm256_setzero_si256();
    __m256i acc1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        acc0 = step(acc0, widen(a + i), widen(b + i));
        acc1 = step(acc1, widen(a + i + 16), widen(b + i + 16));
    }
    if (i + 16 <= dim) {
        acc0 = step(acc0, widen(a + i), widen(b + i));
        i += 16;
    }
    if (i < dim) acc1 = step(acc1, widen_tail(a + dim, dim - i), widen_tail(b + dim, dim - i));
    return hsum(_mm256_add_epi32(acc0, acc1));
}

int32_t l2_u8(const uint8_t* a, const uint8_t* b, size_t dim) {
    return int_kernel<true>(a, b, dim);
}
int32_t ip_u8(const uint8_t* a, const uint8_t* b, size_t dim) {
    return int_kernel<false>(a, b, dim);
}
int32_t l2_i8(const int8_t* a, const int8_t* b, size_t dim) { return int_kernel<true>(a, b, dim); }
int32_t ip_i8(const int8_t* a, const int8_t* b, size_t dim) { return int_kernel<false>(a, b, dim); }

}  // namespace

constinit const Kernels kAvx2Kernels = {Isa::kAvx2, l2_f32, ip_f32, l2_u8, ip_u8, l2_i8, ip_i8};

}  // namespace strata::distance::detail
