#include "collection/rows.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/dtype_util.hpp"

namespace strata::collection {

size_t stored_row_bytes(const CollectionParams& p) {
    return size_t{p.dim} * dtype_size(stored_dtype(p));
}

BuildOptions index_build_options(const CollectionParams& p) {
    BuildOptions o;
    o.metric = p.metric;
    o.degree_max = p.degree_max;
    o.list_size = p.list_size;
    o.alpha = p.alpha;
    o.pq_bytes = p.pq_bytes;
    return o;
}

Status to_stored(const CollectionParams& p, const void* rows, DType dtype, uint64_t n,
                 std::vector<uint8_t>& out, const char* what) {
    if (dtype != p.dtype && !(dtype == DType::kF32 && p.dtype != DType::kF32)) {
        return Status::invalid_argument(
            fmt::format("{} dtype {} does not match the collection's {}", what, dtype_name(dtype),
                        dtype_name(p.dtype)));
    }
    const size_t in_bytes = size_t{p.dim} * dtype_size(dtype);
    const size_t row_bytes = stored_row_bytes(p);
    const size_t base = out.size();
    out.resize(base + n * row_bytes);
    const auto* src = static_cast<const uint8_t*>(rows);
    const double lo = p.dtype == DType::kU8 ? 0 : (p.dtype == DType::kI8 ? -128 : 0);
    const double hi = p.dtype == DType::kU8 ? 255 : 127;
    for (uint64_t i = 0; i < n; ++i) {
        const uint8_t* row = src + i * in_bytes;
        uint8_t* dst = out.data() + base + i * row_bytes;
        double norm2 = 0;
        for (uint32_t j = 0; j < p.dim; ++j) {
            const double v = element_value(dtype, row, j);
            if (!std::isfinite(v)) {
                out.resize(base);
                return Status::invalid_argument(
                    fmt::format("{} {}: element {} is not a finite number", what, i, j));
            }
            if (dtype != p.dtype && (v != std::floor(v) || v < lo || v > hi)) {
                out.resize(base);
                return Status::invalid_argument(
                    fmt::format("{} {}: element {} = {} is not a {} value", what, i, j, v,
                                dtype_name(p.dtype)));
            }
            norm2 += v * v;
        }
        if (p.metric == Metric::kCosine) {
            if (!(norm2 > 0)) {
                out.resize(base);
                return Status::invalid_argument(
                    fmt::format("{} {}: zero vector under cosine", what, i));
            }
            const double inv = 1.0 / std::sqrt(norm2);
            auto* f = reinterpret_cast<float*>(dst);
            for (uint32_t j = 0; j < p.dim; ++j) {
                f[j] = static_cast<float>(element_value(dtype, row, j) * inv);
            }
        } else if (dtype == p.dtype) {
            std::memcpy(dst, row, row_bytes);
        } else {
            for (uint32_t j = 0; j < p.dim; ++j) {
                const double v = element_value(dtype, row, j);
                if (p.dtype == DType::kU8) {
                    dst[j] = static_cast<uint8_t>(v);
                } else {
                    dst[j] = static_cast<uint8_t>(static_cast<int8_t>(v));
                }
            }
        }
    }
    return Status::ok();
}

Status check_unique_ids(const uint64_t* ids, uint64_t n) {
    std::vector<uint64_t> sorted(ids, ids + n);
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup == sorted.end()) return Status::ok();
    const uint64_t* first = std::find(ids, ids + n, *dup);
    const uint64_t* again = std::find(first + 1, ids + n, *dup);
    return Status::invalid_argument(
        fmt::format("id {} appears twice in the batch (at positions {} and {})", *dup, first - ids,
                    again - ids));
}

constexpr size_t kMaxLabelsPerRow = 1024;

/// InvalidArgument naming the row for a label the labels file format cannot hold.
Status check_label_rows(std::span<const std::vector<std::string>> labels, uint64_t n) {
    if (labels.size() != n) {
        return Status::invalid_argument(
            fmt::format("{} label rows for {} vectors", labels.size(), n));
    }
    for (uint64_t i = 0; i < n; ++i) {
        if (labels[i].size() > kMaxLabelsPerRow) {
            return Status::invalid_argument(fmt::format("row {}: {} labels, at most {}", i,
                                                        labels[i].size(), kMaxLabelsPerRow));
        }
        for (const auto& name : labels[i]) {
            if (name.empty() || name.size() > 256) {
                return Status::invalid_argument(
                    fmt::format("row {}: a label must have 1 to 256 bytes", i));
            }
            if (name.find_first_of(",\n\r") != std::string::npos) {
                return Status::invalid_argument(
                    fmt::format("row {}: label '{}' holds a comma or a line break", i, name));
            }
            if (std::isspace(static_cast<unsigned char>(name.front())) ||
                std::isspace(static_cast<unsigned char>(name.back()))) {
                return Status::invalid_argument(
                    fmt::format("row {}: label '{}' starts or ends with a space", i, name));
            }
        }
    }
    return Status::ok();
}

}  // namespace strata::collection
