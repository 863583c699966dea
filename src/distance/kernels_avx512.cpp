// AVX-512 (F/BW/DQ/VL) distance kernels (the only file compiled with -mavx512*).
// Intrinsics and internal-linkage functions only; exports just kAvx512Kernels (kernel_tables.hpp).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "distance/kernel_tables.hpp"

namespace strata::distance::detail {
namespace {

// Tails use masked loads: lanes left out of the mask are neither read nor able to fault, so a
// vector ending right before an unmapped page is safe.
__mmask16 mask16(size_t n) {  // lanes [0, n), n < 16
    return static_cast<__mmask16>((1u << n) - 1u);
}

__mmask32 mask32(size_t n) {  // lanes [0, n), n < 32
    return static_cast<__mmask32>((1u << n) - 1u);
}

// Horizontal sums, staying in zmm registers: fold 256-bit halves, 128-bit quarters, then within
// each 128-bit lane. Not _mm512_reduce_add_* nor the 512->256 casts: GCC 12 expands those
// through _mm256_undefined_* and reports a false -Wuninitialized; zero-masked shuffles are the
// same instructions without that.
float hsum(__m512 v) {
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = _mm512_add_ps(v, _mm512_maskz_permute_ps(0xFFFF, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_maskz_permute_ps(0xFFFF, v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_cvtss_f32(v);
}

int32_t hsum(__m512i v) {
    v = _mm512_add_epi32(v, _mm512_maskz_shuffle_i32x4(0xFFFF, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_epi32(v, _mm512_maskz_shuffle_i32x4(0xFFFF, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = _mm512_add_epi32(v, _mm512_maskz_shuffle_epi32(0xFFFF, v, _MM_PERM_BADC));
    v = _mm512_add_epi32(v, _mm512_maskz_shuffle_epi32(0xFFFF, v, _MM_PERM_CDAB));
    return _mm512_cvtsi512_si32(v);
}

// Four independent accumulators hide the FMA latency; two loads per FMA are the real limit.
float l2_f32(const float* a, const float* b, size_t dim) {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps();
    __m512 acc3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        const __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
        acc2 = _mm512_fmadd_ps(d2, d2, acc2);
        acc3 = _mm512_fmadd_ps(d3, d3, acc3);
    }
    // Remainder (< 64): up to three full vectors and a masked one, each into its own
    // accumulator, so short vectors (d = 96: one 64-block + 2 x 16) add no dependency chain.
    if (i + 16 <= dim) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        acc0 = _mm512_fmadd_ps(d, d, acc0);
        i += 16;
    }
    if (i + 16 <= dim) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        acc1 = _mm512_fmadd_ps(d, d, acc1);
        i += 16;
    }
    if (i + 16 <= dim) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        acc2 = _mm512_fmadd_ps(d, d, acc2);
        i += 16;
    }
    if (i < dim) {
        const __mmask16 m = mask16(dim - i);
        const __m512 d =
            _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        acc3 = _mm512_fmadd_ps(d, d, acc3);
    }
    return hsum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

float ip_f32(const float* a, const float* b, size_t dim) {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps();
    __m512 acc3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), acc3);
    }
    if (i + 16 <= dim) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        i += 16;
    }
    if (i + 16 <= dim) {
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc1);
        i += 16;
    }
    if (i + 16 <= dim) {
        acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc2);
        i += 16;
    }
    if (i < dim) {
        const __mmask16 m = mask16(dim - i);
        acc3 =
            _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc3);
    }
    return hsum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

// Integer kernels: 32 bytes widened to 32 x int16 (zero- or sign-extended), then vpmaddwd
// multiplies and adds adjacent pairs into int32. A pair sum is at most 2 * 255^2 and the total
// at most 255^2 * kMaxDimension < 2^31, so everything is exact. Masked-off bytes load as 0 in
// both vectors and add nothing. The templates live in the anonymous namespace: internal
// linkage, so their instantiations can never be merged with code compiled elsewhere.
template <typename T>
__m512i widen(__m256i bytes) {
    if constexpr (static_cast<T>(-1) < T{0}) {
        return _mm512_cvtepi8_epi16(bytes);
    } else {
        return _mm512_cvtepu8_epi16(bytes);
    }
}

template <typename T>
__m512i widen(const T* p) {
    return widen<T>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

template <typename T>
__m512i widen(__mmask32 m, const T* p) {
    return widen<T>(_mm256_maskz_loadu_epi8(m, p));
}

__m512i l2_step(__m512i acc, __m512i a, __m512i b) {
    const __m512i d = _mm512_sub_epi16(a, b);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(d, d));
}

__m512i ip_step(__m512i acc, __m512i a, __m512i b) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
}

// kL2 selects l2_step or ip_step; the remainder (< 64) is one full 32-byte step and a masked
// one, into separate accumulators.
template <bool kL2, typename T>
int32_t int_kernel(const T* a, const T* b, size_t dim) {
    const auto step = [](__m512i acc, __m512i x, __m512i y) {
        return kL2 ? l2_step(acc, x, y) : ip_step(acc, x, y);
    };
    __m512i acc0 = _mm512_setzero_si512();
    __m512i acc1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        acc0 = step(acc0, widen(a + i), widen(b + i));
        acc1 = step(acc1, widen(a + i + 32), widen(b + i + 32));
    }
    if (i + 32 <= dim) {
        acc0 = step(acc0, widen(a + i), widen(b + i));
        i += 32;
    }
    if (i < dim) {
        const __mmask32 m = mask32(dim - i);
        acc1 = step(acc1, widen(m, a + i), widen(m, b + i));
    }
    return hsum(_mm512_add_epi32(acc0, acc1));
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

constinit const Kernels kAvx512Kernels = {Isa::kAvx512, l2_f32, ip_f32, l2_u8, ip_u8, l2_i8, ip_i8};

}  // namespace strata::distance::detail
