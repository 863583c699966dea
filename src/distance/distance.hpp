// SIMD distance kernels (AVX-512, AVX2, scalar), chosen once at start-up by CPU detection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <strata/types.hpp>

namespace strata::distance {

/// Instruction sets with a kernel implementation. Ordered: a higher value is a superset.
enum class Isa : uint8_t { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

/// "scalar", "avx2", "avx512".
std::string_view isa_name(Isa isa);
/// Parses the names above. InvalidArgument otherwise.
Result<Isa> parse_isa(std::string_view name);

/// Best ISA the CPU and OS support (cpuid feature bits plus xgetbv for enabled register state).
/// AVX2 needs AVX2+FMA; AVX-512 needs F, BW, DQ and VL.
Isa detect_isa();
/// True when kernels for `isa` can run on this machine.
bool isa_supported(Isa isa);

/// One ISA's kernel table. Integer kernels are exact (int32 cannot overflow for
/// dim <= kMaxDimension: 255*255*16384 < 2^31). Every kernel accepts any dim >= 0
/// (remainders handled, no alignment requirement on the pointers).
struct Kernels {
    Isa isa;
    /// Squared Euclidean distance.
    float (*l2_f32)(const float* a, const float* b, size_t dim);
    /// Inner product <a, b>.
    float (*ip_f32)(const float* a, const float* b, size_t dim);
    int32_t (*l2_u8)(const uint8_t* a, const uint8_t* b, size_t dim);
    int32_t (*ip_u8)(const uint8_t* a, const uint8_t* b, size_t dim);
    int32_t (*l2_i8)(const int8_t* a, const int8_t* b, size_t dim);
    int32_t (*ip_i8)(const int8_t* a, const int8_t* b, size_t dim);
};

/// Kernel table for `isa`, or nullptr when this machine cannot run it.
const Kernels* kernels_for(Isa isa);

/// The active table: the best supported ISA, lowered by the environment variable
/// STRATA_ISA=scalar|avx2|avx512 when set (a request above what the CPU supports is ignored
/// with a warning). Chosen once, on first call; thread-safe.
const Kernels& kernels();

/// Type-erased distance, "smaller is closer", following the Metric conventions of
/// <strata/types.hpp>: l2 = squared L2; ip = -<a,b>; cosine = 1 - <a,b>/(|a||b|)
/// (the ratio taken as 0, i.e. distance 1, when either norm is 0). `a` and `b` point to `dim`
/// elements of the dtype.
using DistanceFn = float (*)(const void* a, const void* b, size_t dim);

/// Distance function for a dtype and metric using the active kernels.
DistanceFn distance_fn(DType dtype, Metric metric);
/// Same, using the kernels of a given (supported) ISA; nullptr if unsupported.
DistanceFn distance_fn_for(Isa isa, DType dtype, Metric metric);

/// Euclidean norm of a float vector (active kernels).
float norm_f32(const float* v, size_t dim);
/// Scales v to unit norm in place; returns the norm before scaling (v unchanged when it is 0).
float normalize_f32(float* v, size_t dim);

namespace detail {
/// The ISA kernels() settles on: `best` lowered to `request` (the value of STRATA_ISA; empty
/// means no request). An unknown name or a request above `best` logs a warning and yields
/// `best`. Exposed for tests; pure apart from the warning.
Isa resolve_isa(std::string_view request, Isa best);
}  // namespace detail

}  // namespace strata::distance
