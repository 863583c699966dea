// Parallel finiteness scan.
#include "io/validate.hpp"

#include <atomic>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace strata::io {

Status check_finite(const Dataset& data) {
    if (data.dtype() != DType::kF32) return Status::ok();
    std::atomic<uint64_t> first_bad{std::numeric_limits<uint64_t>::max()};
    tbb::parallel_for(tbb::blocked_range<uint64_t>(0, data.size(), 4096), [&](const auto& r) {
        for (uint64_t i = r.begin(); i != r.end(); ++i) {
            if (i >= first_bad.load(std::memory_order_relaxed)) return;
            const float* v = data.row_as<float>(i);
            float sum = 0;  // NaN or Inf anywhere makes the sum non-finite (or an element is)
            for (uint32_t j = 0; j < data.dim(); ++j) sum += v[j] * 0.0f;
            if (sum != 0.0f) {
                uint64_t cur = first_bad.load();
                while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
                }
                return;
            }
        }
    });
    const uint64_t row = first_bad.load();
    if (row == std::numeric_limits<uint64_t>::max()) return Status::ok();
    const float* v = data.row_as<float>(row);
    for (uint32_t j = 0; j < data.dim(); ++j) {
        if (!std::isfinite(v[j])) {
            return Status::invalid_argument(fmt::format("{}: row {} element {} is {}", data.path(),
                                                        row, j, std::isnan(v[j]) ? "NaN" : "Inf"));
        }
    }
    return Status::internal(fmt::format("{}: row {} flagged non-finite", data.path(), row));
}

}  // namespace strata::io
