// Element types and metrics shared by every module; parsed from and printed as stable names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <strata/status.hpp>

namespace strata {

/// Vector element type. Values are stable (they are written into files).
enum class DType : uint8_t { kF32 = 0, kU8 = 1, kI8 = 2 };

/// Distance metric. Values are stable (they are written into files).
/// Distances are "smaller is closer": l2 = squared Euclidean; ip = -<a,b>;
/// cosine = 1 - <a,b>/(|a||b|), computed as 1 - <a,b> on vectors normalized at ingest.
enum class Metric : uint8_t { kL2 = 0, kInnerProduct = 1, kCosine = 2 };

/// Bytes per element: 4 for f32, 1 for u8 and i8.
constexpr size_t dtype_size(DType t) { return t == DType::kF32 ? 4 : 1; }

/// "f32", "u8", "i8".
std::string_view dtype_name(DType t);
/// "l2", "ip", "cosine".
std::string_view metric_name(Metric m);

/// Parses "f32"/"float32"/"float", "u8"/"uint8", "i8"/"int8". InvalidArgument otherwise.
Result<DType> parse_dtype(std::string_view name);
/// Parses "l2", "ip"/"mips"/"dot", "cosine"/"cos". InvalidArgument otherwise.
Result<Metric> parse_metric(std::string_view name);

/// Largest vector dimension strata accepts anywhere.
inline constexpr uint32_t kMaxDimension = 16384;

}  // namespace strata
