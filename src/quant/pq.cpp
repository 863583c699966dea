// PQ training (sampled, centered, one k-means per chunk in parallel), encoding, decoding and
// ADC tables. Serialization lives in pq_format.cpp.
#include "quant/pq.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <new>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "core/check.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "quant/kmeans.hpp"
#include "quant/tile.hpp"

namespace strata::quant {
namespace {

using detail::kTileRows;
static_assert(kPqCentroidsPerChunk == detail::kPqCentroids);
constexpr uint32_t K = kPqCentroidsPerChunk;

constexpr uint64_t kNoRow = std::numeric_limits<uint64_t>::max();
// Smallest sample the memory cap may shrink training to.
constexpr uint64_t kMinCappedSample = 1000;
// Sample rows per block when loading (fixed, so the mean's reduction order is too).
constexpr uint64_t kLoadBlockRows = 4096;
// Tiles per parallel task when encoding.
constexpr uint64_t kEncodeGrainTiles = 64;

Status check_source(const distance::MatrixView& source) {
    if (source.dim == 0 || source.dim > kMaxDimension) {
        return Status::invalid_argument(
            fmt::format("dimension {} is outside [1, {}]", source.dim, kMaxDimension));
    }
    if (source.rows > 0 && source.data == nullptr) {
        return Status::invalid_argument("source data pointer is null");
    }
    return Status::ok();
}

/// The float training sample, chunk-major: chunk m is a dense rows x width matrix starting at
/// rows * offsets[m], so each chunk's k-means streams contiguous memory.
struct Sample {
    std::vector<float> x;
    uint64_t rows = 0;
};

/// Loads the sampled rows into `s` (chunk-major) and returns the per-dimension sum of each
/// fixed block of kLoadBlockRows rows; fails on the first (lowest) non-finite source row.
Result<std::vector<double>> load_sample(const distance::MatrixView& source,
                                        const std::vector<uint64_t>& rows,
                                        const std::vector<uint32_t>& offsets, Sample& s) {
    const uint32_t dim = source.dim;
    const uint64_t blocks = (s.rows + kLoadBlockRows - 1) / kLoadBlockRows;
    std::vector<double> block_sums(blocks * dim, 0.0);
    std::atomic<uint64_t> bad{kNoRow};
    tbb::parallel_for(tbb::blocked_range<uint64_t>(0, blocks, 1), [&](const auto& r) {
        std::vector<float> row(dim);
        for (uint64_t b = r.begin(); b != r.end(); ++b) {
            double* sum = block_sums.data() + b * dim;
            const uint64_t end = std::min(s.rows, (b + 1) * kLoadBlockRows);
            for (uint64_t i = b * kLoadBlockRows; i < end; ++i) {
                if (!detail::load_row(source, rows[i], row.data())) {
                    detail::lower_min(bad, rows[i]);
                    break;
                }
                for (size_t m = 0; m + 1 < offsets.size(); ++m) {
                    const uint32_t off = offsets[m];
                    const uint32_t w = offsets[m + 1] - off;
                    float* dst = s.x.data() + s.rows * off + i * w;
                    for (uint32_t t = 0; t < w; ++t) dst[t] = row[off + t];
                }
                for (uint32_t t = 0; t < dim; ++t) sum[t] += row[t];
            }
        }
    });
    if (bad.load() != kNoRow) {
        return Status::invalid_argument(fmt::format("row {} holds NaN or infinity", bad.load()));
    }
    return block_sums;
}

uint64_t sample_size(const distance::MatrixView& source, const PqOptions& o) {
    uint64_t s = std::min(source.rows, o.train_sample);
    if (o.train_memory_bytes != 0) {
        const uint64_t cap = std::max<uint64_t>(
            kMinCappedSample, o.train_memory_bytes / (uint64_t{source.dim} * sizeof(float)));
        if (cap < s) {
            STRATA_LOG_INFO(
                "PQ: training sample capped at {} rows (asked {}) by the training memory limit of "
                "{} bytes",
                cap, s, o.train_memory_bytes);
            s = cap;
        }
    }
    return s;
}

}  // namespace

uint32_t default_pq_bytes(uint32_t dim) {
    const uint32_t rule = dim <= 256 ? 32 : dim / 8;
    return std::min(rule, dim);
}

Result<uint32_t> resolve_pq_bytes(uint32_t requested, uint32_t dim, uint64_t rows,
                                  uint64_t codes_budget_bytes) {
    if (dim == 0 || dim > kMaxDimension) {
        return Status::invalid_argument(
            fmt::format("dimension {} is outside [1, {}]", dim, kMaxDimension));
    }
    if (requested > dim) {
        return Status::invalid_argument(fmt::format(
            "--pq-bytes {} exceeds the dimension {} (a chunk holds at least one dimension)",
            requested, dim));
    }
    const uint32_t want = requested != 0 ? requested : default_pq_bytes(dim);
    if (codes_budget_bytes == 0 || rows == 0) return want;
    const uint64_t fit = codes_budget_bytes / rows;
    if (fit >= want) return want;
    if (requested != 0) {
        return Status::resource_exhausted(fmt::format(
            "PQ codes of {} vectors at {} bytes need {} bytes; the codes budget is {} bytes", rows,
            requested, rows * requested, codes_budget_bytes));
    }
    if (fit == 0) {
        return Status::resource_exhausted(
            fmt::format("a codes budget of {} bytes cannot hold one PQ byte per vector for {} "
                        "vectors",
                        codes_budget_bytes, rows));
    }
    return static_cast<uint32_t>(fit);
}

Status PqOptions::validate() const {
    if (bytes > kMaxDimension) {
        return Status::invalid_argument(
            fmt::format("PQ bytes {} exceeds the largest dimension {}", bytes, kMaxDimension));
    }
    if (train_sample == 0) return Status::invalid_argument("PQ train_sample must be at least 1");
    if (iterations == 0 || iterations > 1000) {
        return Status::invalid_argument(
            fmt::format("PQ iterations = {} is outside [1, 1000]", iterations));
    }
    if (threads < 0) return Status::invalid_argument("threads must be >= 0");
    return Status::ok();
}

void PqCodebook::set_layout() {
    offsets_.resize(size_t{bytes_} + 1);
    const uint32_t base = dim_ / bytes_;
    const uint32_t wide = dim_ % bytes_;  // these first chunks get one more dimension
    offsets_[0] = 0;
    for (uint32_t m = 0; m < bytes_; ++m) offsets_[m + 1] = offsets_[m] + base + (m < wide ? 1 : 0);
    STRATA_CHECK(offsets_[bytes_] == dim_);
}

void PqCodebook::derive() {
    neg2c_.resize(centroids_.size());
    norms_.resize(size_t{bytes_} * K);
    transposed_.resize(centroids_.size());
    for (uint32_t m = 0; m < bytes_; ++m) {
        const uint32_t w = chunk_width(m);
        const size_t base = size_t{K} * offsets_[m];
        const detail::PreparedCentroids p =
            detail::prepare_centroids(centroids_.data() + base, K, w);
        std::copy(p.neg2c.begin(), p.neg2c.end(), neg2c_.begin() + static_cast<ptrdiff_t>(base));
        std::copy(p.norms.begin(), p.norms.end(), norms_.begin() + ptrdiff_t{m} * K);
        for (uint32_t c = 0; c < K; ++c) {
            for (uint32_t t = 0; t < w; ++t) {
                transposed_[base + size_t{t} * K + c] = centroids_[base + size_t{c} * w + t];
            }
        }
    }
}

Result<PqCodebook> PqCodebook::train(const distance::MatrixView& source, const PqOptions& options) {
    STRATA_RETURN_IF_ERROR(options.validate());
    STRATA_RETURN_IF_ERROR(check_source(source));
    if (source.rows == 0) return Status::invalid_argument("PQ training needs at least one row");
    const uint32_t bytes = options.bytes != 0 ? options.bytes : default_pq_bytes(source.dim);
    if (bytes > source.dim) {
        return Status::invalid_argument(fmt::format(
            "PQ bytes {} exceeds the dimension {} (a chunk holds at least one dimension)", bytes,
            source.dim));
    }
    PqCodebook cb;
    cb.dim_ = source.dim;
    cb.bytes_ = bytes;
    cb.centered_ = options.center;
    cb.set_layout();
    STRATA_RETURN_IF_ERROR(guarded("PQ training", [&]() -> Status {
        tbb::task_arena arena(detail::resolve_threads(options.threads));
        Status status;
        arena.execute([&] { status = cb.train_in_arena(source, options); });
        return status;
    }));
    return cb;
}

Status PqCodebook::train_in_arena(const distance::MatrixView& source, const PqOptions& options) {
    Sample s;
    s.rows = sample_size(source, options);
    const std::vector<uint64_t> rows =
        detail::stratified_sample(source.rows, s.rows, derive_seed(options.seed, 0));
    s.x.resize(s.rows * dim_);
    STRATA_ASSIGN_OR_RETURN(const std::vector<double> sums, load_sample(source, rows, offsets_, s));
    mean_.assign(dim_, 0.0f);
    if (centered_) {
        std::vector<double> total(dim_, 0.0);
        for (size_t b = 0; b < sums.size() / dim_; ++b) {  // block order: deterministic
            for (uint32_t t = 0; t < dim_; ++t) total[t] += sums[b * dim_ + t];
        }
        for (uint32_t t = 0; t < dim_; ++t) {
            mean_[t] = static_cast<float>(total[t] / static_cast<double>(s.rows));
        }
    }
    centroids_.resize(size_t{K} * dim_);
    std::vector<double> mse(bytes_, 0.0);
    std::vector<Status> errors(bytes_);
    tbb::parallel_for(tbb::blocked_range<uint32_t>(0, bytes_, 1), [&](const auto& r) {
        for (uint32_t m = r.begin(); m != r.end(); ++m) {
            const uint32_t off = offsets_[m];
            const uint32_t w = chunk_width(m);
            float* chunk = s.x.data() + s.rows * off;
            if (centered_) {
                for (uint64_t i = 0; i < s.rows; ++i) {
                    for (uint32_t t = 0; t < w; ++t) chunk[i * w + t] -= mean_[off + t];
                }
            }
            KMeansOptions ko;
            ko.k = K;
            ko.iterations = options.iterations;
            ko.seed = derive_seed(options.seed, 1 + m);
            const distance::MatrixView view{chunk, s.rows, w, DType::kF32, 0};
            Result<KMeansResult> km = detail::kmeans_in_current_arena(view, ko);
            if (!km.is_ok()) {
                errors[m] = km.status();
                continue;
            }
            std::copy(km->centroids.begin(), km->centroids.end(),
                      centroids_.begin() + static_cast<ptrdiff_t>(size_t{K} * off));
            mse[m] = km->mse;
            if (options.progress != nullptr) options.progress->add(1);
        }
    });
    for (const Status& e : errors) STRATA_RETURN_IF_ERROR(e);
    train_rows_ = s.rows;
    train_mse_ = 0.0;
    for (double v : mse) train_mse_ += v;
    derive();
    return Status::ok();
}

uint32_t PqCodebook::encode_tile(const distance::MatrixView& source, uint64_t first, uint32_t count,
                                 float* tile, uint8_t* codes) const {
    const uint32_t bad =
        detail::load_tile(source, first, count, centered_ ? mean_.data() : nullptr, tile, nullptr);
    const detail::NearestFn nearest = detail::quant_kernels().nearest;
    float scores[kTileRows];
    uint32_t ids[kTileRows];
    for (uint32_t m = 0; m < bytes_; ++m) {
        const uint32_t off = offsets_[m];
        nearest(tile + size_t{off} * kTileRows, chunk_width(m), neg2c_.data() + size_t{K} * off,
                norms_.data() + size_t{m} * K, K, 1, scores, ids);
        for (uint32_t r = 0; r < count; ++r) {
            codes[size_t{r} * bytes_ + m] = static_cast<uint8_t>(ids[r]);
        }
    }
    return bad;
}

void PqCodebook::encode(const float* row, uint8_t* code) const {
    std::vector<float> tile(size_t{dim_} * kTileRows);
    const distance::MatrixView view{row, 1, dim_, DType::kF32, 0};
    encode_tile(view, 0, 1, tile.data(), code);
}

Status PqCodebook::encode_all(const distance::MatrixView& source, uint8_t* codes, int threads,
                              Progress* progress) const {
    STRATA_RETURN_IF_ERROR(check_source(source));
    if (source.dim != dim_) {
        return Status::invalid_argument(fmt::format(
            "source has dimension {} but the codebook was trained on {}", source.dim, dim_));
    }
    if (source.rows > 0 && codes == nullptr) {
        return Status::invalid_argument("codes pointer is null");
    }
    if (threads < 0) return Status::invalid_argument("threads must be >= 0");
    return guarded("PQ encoding", [&]() -> Status {
        std::atomic<uint64_t> bad{kNoRow};
        const uint64_t tiles = (source.rows + kTileRows - 1) / kTileRows;
        tbb::task_arena arena(detail::resolve_threads(threads));
        arena.execute([&] {
            tbb::parallel_for(
                tbb::blocked_range<uint64_t>(0, tiles, kEncodeGrainTiles), [&](const auto& r) {
                    std::vector<float> tile(size_t{dim_} * kTileRows);
                    uint64_t done = 0;
                    for (uint64_t t = r.begin(); t != r.end(); ++t) {
                        const uint64_t first = t * kTileRows;
                        const auto count = static_cast<uint32_t>(
                            std::min<uint64_t>(kTileRows, source.rows - first));
                        const uint32_t b =
                            encode_tile(source, first, count, tile.data(), codes + first * bytes_);
                        if (b < count) detail::lower_min(bad, first + b);
                        done += count;
                    }
                    if (progress != nullptr) progress->add(done);
                });
        });
        if (bad.load() != kNoRow) {
            return Status::invalid_argument(
                fmt::format("row {} holds NaN or infinity", bad.load()));
        }
        return Status::ok();
    });
}

void PqCodebook::decode(const uint8_t* code, float* out) const {
    for (uint32_t m = 0; m < bytes_; ++m) {
        const uint32_t off = offsets_[m];
        const uint32_t w = chunk_width(m);
        const float* c = centroids_.data() + size_t{K} * off + size_t{code[m]} * w;
        for (uint32_t t = 0; t < w; ++t) out[off + t] = mean_[off + t] + c[t];
    }
}

void PqCodebook::compute_table(const float* query, Metric metric, float* table) const {
    std::fill(table, table + table_size(), 0.0f);
    if (metric == Metric::kL2) {
        // |q - mean - c|^2 chunk by chunk, over the transposed centroids so the inner loop runs
        // over 256 contiguous centroids.
        for (uint32_t m = 0; m < bytes_; ++m) {
            const uint32_t off = offsets_[m];
            float* tab = table + size_t{m} * K;
            for (uint32_t t = 0; t < chunk_width(m); ++t) {
                const float r = query[off + t] - mean_[off + t];
                const float* ct = transposed_.data() + size_t{K} * off + size_t{t} * K;
                for (uint32_t c = 0; c < K; ++c) {
                    const float d = r - ct[c];
                    tab[c] += d * d;
                }
            }
        }
        return;
    }
    STRATA_CHECK(metric == Metric::kInnerProduct || metric == Metric::kCosine);
    float scale = 1.0f;
    if (metric == Metric::kCosine) {
        double sq = 0.0;
        for (uint32_t t = 0; t < dim_; ++t) sq += double{query[t]} * query[t];
        // A zero query has no direction: every distance is 1, as for orthogonal vectors.
        scale = sq > 0.0 ? static_cast<float>(1.0 / std::sqrt(sq)) : 0.0f;
    }
    double q_dot_mean = 0.0;
    for (uint32_t m = 0; m < bytes_; ++m) {
        const uint32_t off = offsets_[m];
        float* tab = table + size_t{m} * K;
        for (uint32_t t = 0; t < chunk_width(m); ++t) {
            const float q = query[off + t] * scale;
            q_dot_mean += double{q} * mean_[off + t];
            const float* ct = transposed_.data() + size_t{K} * off + size_t{t} * K;
            for (uint32_t c = 0; c < K; ++c) tab[c] -= q * ct[c];
        }
    }
    // -<q, mean> (and cosine's 1) are the same for every code: fold them into chunk 0.
    const float constant = static_cast<float>((metric == Metric::kCosine ? 1.0 : 0.0) - q_dot_mean);
    for (uint32_t c = 0; c < K; ++c) table[c] += constant;
}

float PqCodebook::adc(const float* table, const uint8_t* code) const {
    float out = 0.0f;
    detail::kScalarQuantKernels.adc_batch(table, bytes_, code, nullptr, 1, &out);
    return out;
}

void PqCodebook::adc_batch(const float* table, const uint8_t* codes, const uint32_t* ids, size_t n,
                           float* out) const {
    detail::quant_kernels().adc_batch(table, bytes_, codes, ids, n, out);
}

size_t PqCodebook::memory_bytes() const {
    return sizeof(float) * (mean_.capacity() + centroids_.capacity() + neg2c_.capacity() +
                            norms_.capacity() + transposed_.capacity()) +
           sizeof(uint32_t) * offsets_.capacity();
}

}  // namespace strata::quant
