// Builder input checks.
#include "disk/build_input.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>

#include "io/file_util.hpp"

namespace strata::disk {
namespace {

struct Partial {
    std::vector<uint64_t> bad;
    double lo = std::numeric_limits<double>::infinity();
    double hi = 0;
    double sum = 0;
    uint64_t good = 0;
};

template <typename T>
bool row_norm(const T* v, uint32_t dim, double& norm) {
    double sq = 0;
    bool finite = true;
    for (uint32_t j = 0; j < dim; ++j) {
        const double x = static_cast<double>(v[j]);
        if constexpr (std::is_floating_point_v<T>) finite &= std::isfinite(x);
        sq += x * x;
    }
    norm = std::sqrt(sq);
    return finite;
}

std::string describe(const io::Dataset& data, uint64_t row, Metric metric) {
    if (data.dtype() == DType::kF32) {
        const float* v = data.row_as<float>(row);
        for (uint32_t j = 0; j < data.dim(); ++j) {
            if (!std::isfinite(v[j])) {
                return fmt::format("row {} element {} is {}", row, j,
                                   std::isnan(v[j]) ? "NaN" : "Inf");
            }
        }
    }
    (void)metric;
    return fmt::format("row {} has zero norm (cosine needs a direction)", row);
}

}  // namespace

uint64_t rows_per_chunk(const io::Dataset& data, uint64_t bytes) {
    return std::max<uint64_t>(1024, bytes / std::max<size_t>(1, data.row_stride_bytes()));
}

InputScan scan_input(const io::Dataset& data, Metric metric) {
    tbb::combinable<Partial> parts;
    const uint32_t dim = data.dim();
    const uint64_t chunk = rows_per_chunk(data);
    for (uint64_t c0 = 0; c0 < data.size(); c0 += chunk) {
        const uint64_t c1 = std::min(data.size(), c0 + chunk);
        tbb::parallel_for(tbb::blocked_range<uint64_t>(c0, c1, 8192), [&](const auto& r) {
            Partial& p = parts.local();
            for (uint64_t i = r.begin(); i != r.end(); ++i) {
                double norm = 0;
                bool finite = true;
                switch (data.dtype()) {
                    case DType::kF32:
                        finite = row_norm(data.row_as<float>(i), dim, norm);
                        break;
                    case DType::kU8:
                        row_norm(data.row_as<uint8_t>(i), dim, norm);
                        break;
                    case DType::kI8:
                        row_norm(data.row_as<int8_t>(i), dim, norm);
                        break;
                }
                if (!finite || !std::isfinite(norm) || (metric == Metric::kCosine && norm == 0.0)) {
                    p.bad.push_back(i);
                    continue;
                }
                p.lo = std::min(p.lo, norm);
                p.hi = std::max(p.hi, norm);
                p.sum += norm;
                ++p.good;
            }
        });
        data.advise(io::AccessPattern::kDontNeed);
    }
    InputScan scan;
    double lo = std::numeric_limits<double>::infinity(), sum = 0;
    parts.combine_each([&](const Partial& p) {
        scan.bad_rows.insert(scan.bad_rows.end(), p.bad.begin(), p.bad.end());
        lo = std::min(lo, p.lo);
        scan.norm_max = std::max(scan.norm_max, p.hi);
        sum += p.sum;
        scan.good_rows += p.good;
    });
    std::sort(scan.bad_rows.begin(), scan.bad_rows.end());
    if (scan.good_rows > 0) {
        scan.norm_min = lo;
        scan.norm_mean = sum / static_cast<double>(scan.good_rows);
    }
    if (!scan.bad_rows.empty()) scan.first_problem = describe(data, scan.bad_rows[0], metric);
    return scan;
}

Result<std::vector<uint64_t>> load_ids(const std::string& path, uint64_t rows) {
    STRATA_ASSIGN_OR_RETURN(std::string bytes, io::read_file(path));
    std::vector<uint64_t> ids;
    const bool text = path.size() >= 4 && path.compare(path.size() - 4, 4, ".txt") == 0;
    if (text) {
        if (rows != kAnyIdCount) ids.reserve(rows);
        size_t pos = 0, line = 1;
        while (pos < bytes.size()) {
            size_t end = bytes.find('\n', pos);
            if (end == std::string::npos) end = bytes.size();
            std::string_view s(bytes.data() + pos, end - pos);
            while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
            while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
            if (!s.empty()) {
                uint64_t v = 0;
                const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
                if (ec != std::errc() || ptr != s.data() + s.size()) {
                    return Status::invalid_argument(fmt::format(
                        "{}: line {}: '{}' is not an unsigned 64-bit id", path, line, s));
                }
                ids.push_back(v);
            }
            pos = end + 1;
            ++line;
        }
    } else {
        if (bytes.size() % 8 != 0) {
            return Status::invalid_argument(
                fmt::format("{}: {} bytes is not a whole number of u64 ids", path, bytes.size()));
        }
        ids.resize(bytes.size() / 8);
        std::memcpy(ids.data(), bytes.data(), bytes.size());
    }
    if (rows != kAnyIdCount && ids.size() != rows) {
        return Status::invalid_argument(
            fmt::format("{}: holds {} ids but the data set has {} rows", path, ids.size(), rows));
    }
    std::vector<uint64_t> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end()) {
        const auto row = std::find(ids.begin(), ids.end(), *dup) - ids.begin();
        return Status::invalid_argument(
            fmt::format("{}: id {} appears more than once (first at row {})", path, *dup, row));
    }
    return ids;
}

}  // namespace strata::disk
