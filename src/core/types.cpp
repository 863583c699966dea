// DType and Metric names.
#include <strata/types.hpp>

#include <string>

namespace strata {

std::string_view dtype_name(DType t) {
    switch (t) {
        case DType::kF32:
            return "f32";
        case DType::kU8:
            return "u8";
        case DType::kI8:
            return "i8";
    }
    return "?";
}

std::string_view metric_name(Metric m) {
    switch (m) {
        case Metric::kL2:
            return "l2";
        case Metric::kInnerProduct:
            return "ip";
        case Metric::kCosine:
            return "cosine";
    }
    return "?";
}

Result<DType> parse_dtype(std::string_view name) {
    if (name == "f32" || name == "float32" || name == "float") return DType::kF32;
    if (name == "u8" || name == "uint8") return DType::kU8;
    if (name == "i8" || name == "int8") return DType::kI8;
    return Status::invalid_argument("unknown dtype '" + std::string(name) +
                                    "' (expected f32, u8 or i8)");
}

Result<Metric> parse_metric(std::string_view name) {
    if (name == "l2" || name == "L2" || name == "euclid") return Metric::kL2;
    if (name == "ip" || name == "mips" || name == "dot") return Metric::kInnerProduct;
    if (name == "cosine" || name == "cos") return Metric::kCosine;
    return Status::invalid_argument("unknown metric '" + std::string(name) +
                                    "' (expected l2, ip or cosine)");
}

}  // namespace strata
