// Run-time ISA detection (cpuid + xgetbv), the STRATA_ISA override, and type-erased dispatch.
#include "distance/distance.hpp"

#include <cpuid.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "core/check.hpp"
#include "core/log.hpp"
#include "distance/kernel_tables.hpp"

#if !defined(__x86_64__)
#error "strata's distance kernels target x86-64"
#endif

namespace strata::distance {
namespace {

// XCR0 bits: state the OS saves on context switch. Without them the registers are unusable even
// when cpuid advertises the instructions (e.g. a kernel booted with AVX-512 disabled).
constexpr uint64_t kXcr0Ymm = (1u << 1) | (1u << 2);              // SSE, AVX
constexpr uint64_t kXcr0Zmm = (1u << 5) | (1u << 6) | (1u << 7);  // opmask, ZMM0-15 hi, ZMM16-31

uint64_t read_xcr0() {
    uint32_t eax = 0;
    uint32_t edx = 0;
    // xgetbv by mnemonic: the _xgetbv intrinsic would need -mxsave on this baseline file.
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (uint64_t{edx} << 32) | eax;
}

Isa detect_uncached() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return Isa::kScalar;
    const bool osxsave = (ecx & bit_OSXSAVE) != 0;
    const bool fma = (ecx & bit_FMA) != 0;
    if (!osxsave || (ecx & bit_AVX) == 0) return Isa::kScalar;
    const uint64_t xcr0 = read_xcr0();
    if ((xcr0 & kXcr0Ymm) != kXcr0Ymm) return Isa::kScalar;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return Isa::kScalar;
    if ((ebx & bit_AVX2) == 0 || !fma) return Isa::kScalar;
    const unsigned avx512_bits = bit_AVX512F | bit_AVX512DQ | bit_AVX512BW | bit_AVX512VL;
    const bool avx512 = (ebx & avx512_bits) == avx512_bits && (xcr0 & kXcr0Zmm) == kXcr0Zmm;
    return avx512 ? Isa::kAvx512 : Isa::kAvx2;
}

const Kernels* table(Isa isa) {
    switch (isa) {
        case Isa::kScalar:
            return &detail::kScalarKernels;
        case Isa::kAvx2:
            return &detail::kAvx2Kernels;
        case Isa::kAvx512:
            return &detail::kAvx512Kernels;
    }
    return nullptr;
}

// ---- Type-erased distances -------------------------------------------------------------
// One function per (table, dtype, metric), templated on the table so a DistanceFn makes no
// choice per call: it loads one kernel pointer and calls it. This file is compiled without ISA
// flags, so these instantiations are safe for any caller.

const float* f32(const void* p) { return static_cast<const float*>(p); }
const uint8_t* u8(const void* p) { return static_cast<const uint8_t*>(p); }
const int8_t* i8(const void* p) { return static_cast<const int8_t*>(p); }

// 1 - dot / (|a||b|) in double: the norm product can overflow float, and integer norms are
// exact int32 values. A zero vector has no direction: distance 1, as for orthogonal vectors.
float cosine_from(double dot, double aa, double bb) {
    if (aa == 0.0 || bb == 0.0) return 1.0f;
    return static_cast<float>(1.0 - dot / std::sqrt(aa * bb));
}

template <const Kernels& K>
float l2_f32(const void* a, const void* b, size_t dim) {
    return K.l2_f32(f32(a), f32(b), dim);
}
template <const Kernels& K>
float ip_f32(const void* a, const void* b, size_t dim) {
    return -K.ip_f32(f32(a), f32(b), dim);
}
template <const Kernels& K>
float cos_f32(const void* a, const void* b, size_t dim) {
    return cosine_from(K.ip_f32(f32(a), f32(b), dim), K.ip_f32(f32(a), f32(a), dim),
                       K.ip_f32(f32(b), f32(b), dim));
}
template <const Kernels& K>
float l2_u8(const void* a, const void* b, size_t dim) {
    return static_cast<float>(K.l2_u8(u8(a), u8(b), dim));
}
template <const Kernels& K>
float ip_u8(const void* a, const void* b, size_t dim) {
    return -static_cast<float>(K.ip_u8(u8(a), u8(b), dim));
}
template <const Kernels& K>
float cos_u8(const void* a, const void* b, size_t dim) {
    return cosine_from(K.ip_u8(u8(a), u8(b), dim), K.ip_u8(u8(a), u8(a), dim),
                       K.ip_u8(u8(b), u8(b), dim));
}
template <const Kernels& K>
float l2_i8(const void* a, const void* b, size_t dim) {
    return static_cast<float>(K.l2_i8(i8(a), i8(b), dim));
}
template <const Kernels& K>
float ip_i8(const void* a, const void* b, size_t dim) {
    return -static_cast<float>(K.ip_i8(i8(a), i8(b), dim));
}
template <const Kernels& K>
float cos_i8(const void* a, const void* b, size_t dim) {
    return cosine_from(K.ip_i8(i8(a), i8(b), dim), K.ip_i8(i8(a), i8(a), dim),
                       K.ip_i8(i8(b), i8(b), dim));
}

constexpr size_t kIsas = 3;
constexpr size_t kDTypes = 3;
constexpr size_t kMetrics = 3;

/// Indexed by DType then Metric value (both enums are dense from 0).
struct FnTable {
    DistanceFn fns[kDTypes][kMetrics];
};

template <const Kernels& K>
constexpr FnTable make_fn_table() {
    return {{{l2_f32<K>, ip_f32<K>, cos_f32<K>},
             {l2_u8<K>, ip_u8<K>, cos_u8<K>},
             {l2_i8<K>, ip_i8<K>, cos_i8<K>}}};
}

constexpr FnTable kFnTables[kIsas] = {make_fn_table<detail::kScalarKernels>(),
                                      make_fn_table<detail::kAvx2Kernels>(),
                                      make_fn_table<detail::kAvx512Kernels>()};

}  // namespace

std::string_view isa_name(Isa isa) {
    switch (isa) {
        case Isa::kScalar:
            return "scalar";
        case Isa::kAvx2:
            return "avx2";
        case Isa::kAvx512:
            return "avx512";
    }
    return "?";
}

Result<Isa> parse_isa(std::string_view name) {
    if (name == "scalar") return Isa::kScalar;
    if (name == "avx2") return Isa::kAvx2;
    if (name == "avx512") return Isa::kAvx512;
    return Status::invalid_argument("unknown ISA '" + std::string(name) +
                                    "' (expected scalar, avx2 or avx512)");
}

Isa detect_isa() {
    static const Isa best = detect_uncached();
    return best;
}

bool isa_supported(Isa isa) { return table(isa) != nullptr && isa <= detect_isa(); }

const Kernels* kernels_for(Isa isa) { return isa_supported(isa) ? table(isa) : nullptr; }

namespace detail {

Isa resolve_isa(std::string_view request, Isa best) {
    if (request.empty()) return best;
    Result<Isa> parsed = parse_isa(request);
    if (!parsed.is_ok()) {
        STRATA_LOG_WARN("STRATA_ISA={} ignored: {}; using {}", request, parsed.status().message(),
                        isa_name(best));
        return best;
    }
    if (*parsed > best) {
        STRATA_LOG_WARN("STRATA_ISA={} ignored: this CPU supports at most {}; using {}", request,
                        isa_name(best), isa_name(best));
        return best;
    }
    return *parsed;
}

}  // namespace detail

const Kernels& kernels() {
    static const Kernels& active = []() -> const Kernels& {
        const char* env = std::getenv("STRATA_ISA");
        const Isa isa = detail::resolve_isa(env != nullptr ? env : "", detect_isa());
        STRATA_LOG_DEBUG("distance kernels: {} (best supported: {})", isa_name(isa),
                         isa_name(detect_isa()));
        return *kernels_for(isa);
    }();
    return active;
}

DistanceFn distance_fn(DType dtype, Metric metric) {
    return distance_fn_for(kernels().isa, dtype, metric);
}

DistanceFn distance_fn_for(Isa isa, DType dtype, Metric metric) {
    const auto d = static_cast<size_t>(dtype);
    const auto m = static_cast<size_t>(metric);
    STRATA_CHECK(d < kDTypes && m < kMetrics);  // enum values come from validated input
    if (!isa_supported(isa)) return nullptr;
    return kFnTables[static_cast<size_t>(isa)].fns[d][m];
}

float norm_f32(const float* v, size_t dim) {
    const float sq = kernels().ip_f32(v, v, dim);
    // Fast path unless the float sum of squares overflowed (components beyond ~1e19), lost its
    // terms to underflow (components below ~1e-19, or a zero vector), or met inf/NaN. Redone in
    // double, any float vector's norm comes out right.
    if (std::isfinite(sq) && sq > 0x1p-60f) return std::sqrt(sq);
    double sum = 0.0;
    for (size_t i = 0; i < dim; ++i) sum += double{v[i]} * double{v[i]};
    return static_cast<float>(std::sqrt(sum));
}

float normalize_f32(float* v, size_t dim) {
    const float norm = norm_f32(v, dim);
    if (norm == 0.0f) return norm;
    // The reciprocal in double: 1/norm overflows float for norms below ~3e-39.
    const double inv = 1.0 / double{norm};
    for (size_t i = 0; i < dim; ++i) v[i] = static_cast<float>(v[i] * inv);
    return norm;
}

}  // namespace strata::distance
