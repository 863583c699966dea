// Scalar distance kernels: straightforward loops, the portable fallback and the test reference.
#include <cstddef>
#include <cstdint>

#include "distance/kernel_tables.hpp"

namespace strata::distance::detail {
namespace {

// A plain float loop on purpose: the reference stays the obvious sum. The SIMD kernels sum in
// a different order and are compared with a relative tolerance.
float l2_f32(const float* a, const float* b, size_t dim) {
    float sum = 0.0f;
    for (size_t i = 0; i < dim; ++i) {
        const float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

float ip_f32(const float* a, const float* b, size_t dim) {
    float sum = 0.0f;
    for (size_t i = 0; i < dim; ++i) sum += a[i] * b[i];
    return sum;
}

// Integer kernels are exact: every term and partial sum fits int32 for dim <= kMaxDimension.
int32_t l2_u8(const uint8_t* a, const uint8_t* b, size_t dim) {
    int32_t sum = 0;
    for (size_t i = 0; i < dim; ++i) {
        const int32_t d = int32_t{a[i]} - int32_t{b[i]};
        sum += d * d;
    }
    return sum;
}

int32_t ip_u8(const uint8_t* a, const uint8_t* b, size_t dim) {
    int32_t sum = 0;
    for (size_t i = 0; i < dim; ++i) sum += int32_t{a[i]} * int32_t{b[i]};
    return sum;
}

int32_t l2_i8(const int8_t* a, const int8_t* b, size_t dim) {
    int32_t sum = 0;
    for (size_t i = 0; i < dim; ++i) {
        const int32_t d = int32_t{a[i]} - int32_t{b[i]};
        sum += d * d;
    }
    return sum;
}

int32_t ip_i8(const int8_t* a, const int8_t* b, size_t dim) {
    int32_t sum = 0;
    for (size_t i = 0; i < dim; ++i) sum += int32_t{a[i]} * int32_t{b[i]};
    return sum;
}

}  // namespace

constinit const Kernels kScalarKernels = {Isa::kScalar, l2_f32, ip_f32, l2_u8, ip_u8, l2_i8, ip_i8};

}  // namespace strata::distance::detail
