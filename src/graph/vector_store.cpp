// Full-precision vector store.
#include "graph/vector_store.hpp"

#include "core/dtype_util.hpp"

#include <cmath>
#include <cstring>
#include <new>
#include <vector>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace strata::graph {

Result<std::unique_ptr<FullPrecisionStore>> FullPrecisionStore::create(
    DType dtype, Metric metric, uint32_t dim, uint64_t rows, const void* data, size_t stride_bytes,
    const uint32_t* row_ids, const std::function<void()>& release) {
    if (dim == 0 || dim > kMaxDimension) {
        return Status::invalid_argument(
            fmt::format("dimension {} is outside [1, {}]", dim, kMaxDimension));
    }
    if (rows >= UINT32_MAX) {
        return Status::invalid_argument(fmt::format("{} rows exceed the 2^32-1 limit", rows));
    }
    if (metric == Metric::kCosine && dtype != DType::kF32) {
        return Status::not_supported("cosine on integer vectors needs f32 input (normalized)");
    }
    std::unique_ptr<FullPrecisionStore> s(new FullPrecisionStore());
    s->dtype_ = dtype;
    s->metric_ = metric;
    s->dim_ = dim;
    s->rows_ = static_cast<uint32_t>(rows);
    const size_t row_bytes = size_t{dim} * dtype_size(dtype);
    s->stride_ = (row_bytes + 63) / 64 * 64;
    s->fn_ = distance::distance_fn(dtype, metric);
    if (stride_bytes == 0) stride_bytes = row_bytes;
    try {
        s->data_.reset(s->stride_ * rows, 64);
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(
            fmt::format("cannot allocate {} bytes for {} vectors", s->stride_ * rows, rows));
    }
    auto* dst = s->data_.data();
    const auto* src = static_cast<const uint8_t*>(data);
    const size_t stride = s->stride_;
    // About 64 MiB of source pages per chunk; gathered rows may each touch their own page.
    const uint64_t chunk =
        row_ids != nullptr ? 16384 : std::max<uint64_t>(4096, (64u << 20) / stride_bytes);
    for (uint64_t c0 = 0; c0 < rows; c0 += chunk) {
        const uint64_t c1 = std::min(rows, c0 + chunk);
        tbb::parallel_for(tbb::blocked_range<uint64_t>(c0, c1, 4096), [&](const auto& r) {
            for (uint64_t i = r.begin(); i != r.end(); ++i) {
                uint8_t* out = dst + i * stride;
                const uint64_t from = row_ids != nullptr ? row_ids[i] : i;
                std::memcpy(out, src + from * stride_bytes, row_bytes);
                std::memset(out + row_bytes, 0, stride - row_bytes);
                if (metric == Metric::kCosine) {
                    distance::normalize_f32(reinterpret_cast<float*>(out), dim);
                }
            }
        });
        if (release) release();
    }
    return s;
}

Result<std::unique_ptr<FullPrecisionStore>> FullPrecisionStore::create_mips(
    DType dtype, uint32_t dim, uint64_t rows, const void* data, size_t stride_bytes,
    double max_norm, const uint32_t* row_ids) {
    if (dim == 0 || dim >= kMaxDimension) {
        return Status::invalid_argument(
            fmt::format("dimension {} is outside [1, {}) for ip", dim, kMaxDimension));
    }
    if (rows >= UINT32_MAX) {
        return Status::invalid_argument(fmt::format("{} rows exceed the 2^32-1 limit", rows));
    }
    std::unique_ptr<FullPrecisionStore> s(new FullPrecisionStore());
    s->dtype_ = DType::kF32;
    s->input_dtype_ = dtype;
    s->mips_ = true;
    s->metric_ = Metric::kL2;
    s->dim_ = dim + 1;
    s->rows_ = static_cast<uint32_t>(rows);
    s->stride_ = (size_t{dim + 1} * 4 + 63) / 64 * 64;
    s->fn_ = distance::distance_fn(DType::kF32, Metric::kL2);
    if (stride_bytes == 0) stride_bytes = size_t{dim} * dtype_size(dtype);
    try {
        s->data_.reset(s->stride_ * rows, 64);
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(
            fmt::format("cannot allocate {} bytes for {} vectors", s->stride_ * rows, rows));
    }
    s->data_.fill_zero();
    const auto* src = static_cast<const uint8_t*>(data);
    std::vector<double> sq(rows);
    tbb::parallel_for(tbb::blocked_range<uint64_t>(0, rows, 4096), [&](const auto& r) {
        for (uint64_t i = r.begin(); i != r.end(); ++i) {
            auto* out = reinterpret_cast<float*>(s->data_.data() + i * s->stride_);
            double acc = 0;
            const uint64_t from = row_ids != nullptr ? row_ids[i] : i;
            for (uint32_t j = 0; j < dim; ++j) {
                const double v = element_value(dtype, src + from * stride_bytes, j);
                out[j] = static_cast<float>(v);
                acc += v * v;
            }
            sq[i] = acc;
        }
    });
    double max_sq = max_norm * max_norm;
    if (max_norm <= 0) {
        for (double v : sq) max_sq = std::max(max_sq, v);
    }
    tbb::parallel_for(tbb::blocked_range<uint64_t>(0, rows, 4096), [&](const auto& r) {
        for (uint64_t i = r.begin(); i != r.end(); ++i) {
            auto* out = reinterpret_cast<float*>(s->data_.data() + i * s->stride_);
            out[dim] = static_cast<float>(std::sqrt(std::max(0.0, max_sq - sq[i])));
        }
    });
    return s;
}

void FullPrecisionStore::distances(const void* query, const uint32_t* ids, size_t n,
                                   float* out) const {
    const uint8_t* base = data_.data();
    for (size_t i = 0; i < n; ++i) {
        if (i + 2 < n) __builtin_prefetch(base + size_t{ids[i + 2]} * stride_);
        out[i] = fn_(query, base + size_t{ids[i]} * stride_, dim_);
    }
}

const void* FullPrecisionStore::prepare_query(const void* query, void* scratch) const {
    if (mips_) {
        auto* out = static_cast<float*>(scratch);
        for (uint32_t j = 0; j + 1 < dim_; ++j)
            out[j] = static_cast<float>(element_value(input_dtype_, query, j));
        out[dim_ - 1] = 0.0f;
        return scratch;
    }
    const size_t row_bytes = size_t{dim_} * dtype_size(dtype_);
    std::memcpy(scratch, query, row_bytes);
    if (metric_ == Metric::kCosine) {
        distance::normalize_f32(static_cast<float*>(scratch), dim_);
    }
    return scratch;
}

}  // namespace strata::graph
