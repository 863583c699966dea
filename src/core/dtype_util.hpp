// Reading elements of a runtime-typed vector row (f32, u8, i8) as numbers.
#pragma once

#include <cstdint>

#include <strata/types.hpp>

namespace strata {

/// Element j of `row`, whose elements are of type `dtype`, as a double.
inline double element_value(DType dtype, const void* row, uint32_t j) {
    switch (dtype) {
        case DType::kF32:
            return static_cast<const float*>(row)[j];
        case DType::kU8:
            return static_cast<const uint8_t*>(row)[j];
        case DType::kI8:
            return static_cast<const int8_t*>(row)[j];
    }
    return 0;
}

/// Converts `dim` elements of `row` to floats in `out`.
inline void to_float(DType dtype, const void* row, uint32_t dim, float* out) {
    for (uint32_t j = 0; j < dim; ++j) out[j] = static_cast<float>(element_value(dtype, row, j));
}

}  // namespace strata
