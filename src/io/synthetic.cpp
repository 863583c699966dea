// Synthetic embedding-like data (see synthetic.hpp for the model).
#include "io/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <exception>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "core/progress.hpp"
#include "core/rng.hpp"
#include "io/dataset.hpp"

namespace strata::io {
namespace {

constexpr uint64_t kModelStream = 0x6d6f64656cULL;  // "model"
// Integer types: value = round(center + scale * x), clipped. The float data has roughly unit
// variance per coordinate, so +-4 sigma fits the range.
constexpr float kIntScale = 30.0f;

}  // namespace

Status SyntheticOptions::validate() const {
    if (dim == 0 || dim > kMaxDimension) {
        return Status::out_of_range(
            fmt::format("dimension {} is outside [1, {}]", dim, kMaxDimension));
    }
    if (latent_dim > dim) {
        return Status::invalid_argument(
            fmt::format("latent dimension {} must be in [1, dimension = {}]", latent_dim, dim));
    }
    if (clusters > 1'000'000) return Status::invalid_argument("at most 1,000,000 clusters");
    if (!(noise_std >= 0.0f) || !std::isfinite(noise_std)) {
        return Status::invalid_argument("noise standard deviation must be finite and >= 0");
    }
    return Status::ok();
}

Result<SyntheticGenerator> SyntheticGenerator::create(const SyntheticOptions& options,
                                                      uint64_t base_rows) {
    STRATA_RETURN_IF_ERROR(options.validate());
    SyntheticGenerator g;
    g.options_ = options;
    if (g.options_.latent_dim == 0) g.options_.latent_dim = std::min<uint32_t>(16, options.dim);
    const uint32_t k = g.options_.latent_dim;
    const uint32_t d = options.dim;
    g.clusters_ = options.clusters != 0
                      ? options.clusters
                      : static_cast<uint32_t>(std::clamp<uint64_t>(base_rows / 1000, 8, 1024));
    Rng rng(derive_seed(options.seed, kModelStream));
    // Uneven cluster sizes: log-normal weights (a few large clusters, a long tail of small ones).
    std::vector<double> w(g.clusters_);
    double total = 0;
    for (auto& x : w) total += (x = std::exp(1.0 * rng.normal()));
    g.cumulative_weight_.resize(g.clusters_);
    double acc = 0;
    for (uint32_t c = 0; c < g.clusters_; ++c) g.cumulative_weight_[c] = (acc += w[c] / total);
    g.cumulative_weight_.back() = 1.0;
    // Centres spread in latent space; each cluster has its own per-axis spread (anisotropic).
    g.centers_.resize(size_t{g.clusters_} * k);
    g.scales_.resize(size_t{g.clusters_} * k);
    for (auto& x : g.centers_) x = static_cast<float>(rng.normal());
    for (auto& x : g.scales_) x = static_cast<float>(0.1 + 0.3 * rng.uniform());
    // Projection with entries N(0, 1/K): each output coordinate has about unit variance.
    g.projection_.resize(size_t{d} * k);
    const double inv_sqrt_k = 1.0 / std::sqrt(static_cast<double>(k));
    for (auto& x : g.projection_) x = static_cast<float>(rng.normal() * inv_sqrt_k);
    // A small common offset, as real embeddings are not centred.
    g.offset_.resize(d);
    for (auto& x : g.offset_) x = static_cast<float>(0.2 * rng.normal());
    return g;
}

void SyntheticGenerator::generate_row(SyntheticStream stream, uint64_t row, float* latent,
                                      float* out) const {
    const uint32_t k = options_.latent_dim;
    const uint32_t d = options_.dim;
    Rng rng(derive_seed(options_.seed ^ (static_cast<uint64_t>(stream) << 56), row));
    const double u = rng.uniform();
    const auto it = std::lower_bound(cumulative_weight_.begin(), cumulative_weight_.end(), u);
    const auto c =
        static_cast<size_t>(std::min<ptrdiff_t>(it - cumulative_weight_.begin(), clusters_ - 1));
    for (uint32_t j = 0; j < k; ++j) {
        latent[j] = centers_[c * k + j] + scales_[c * k + j] * static_cast<float>(rng.normal());
    }
    for (uint32_t i = 0; i < d; ++i) {
        const float* p = projection_.data() + size_t{i} * k;
        float acc = offset_[i];
        for (uint32_t j = 0; j < k; ++j) acc += p[j] * latent[j];
        out[i] = acc + options_.noise_std * static_cast<float>(rng.normal());
    }
}

void SyntheticGenerator::generate(SyntheticStream stream, uint64_t first, uint64_t count,
                                  void* out) const {
    const uint32_t d = options_.dim;
    std::vector<float> latent(options_.latent_dim);
    std::vector<float> row(d);
    for (uint64_t r = 0; r < count; ++r) {
        generate_row(stream, first + r, latent.data(), row.data());
        switch (options_.dtype) {
            case DType::kF32:
                std::copy(row.begin(), row.end(), static_cast<float*>(out) + r * d);
                break;
            case DType::kU8: {
                auto* o = static_cast<uint8_t*>(out) + r * d;
                for (uint32_t i = 0; i < d; ++i) {
                    o[i] = static_cast<uint8_t>(
                        std::clamp(std::lround(127.5f + kIntScale * row[i]), 0L, 255L));
                }
                break;
            }
            case DType::kI8: {
                auto* o = static_cast<int8_t*>(out) + r * d;
                for (uint32_t i = 0; i < d; ++i) {
                    o[i] = static_cast<int8_t>(
                        std::clamp(std::lround(kIntScale * row[i]), -127L, 127L));
                }
                break;
            }
        }
    }
}

Status write_synthetic(const std::string& path, const SyntheticGenerator& gen,
                       SyntheticStream stream, uint64_t rows, int threads, Progress* progress) {
    const auto& opt = gen.options();
    STRATA_ASSIGN_OR_RETURN(auto writer, VectorWriter::create(path, opt.dtype, opt.dim));
    try {
        const size_t row_bytes = size_t{opt.dim} * dtype_size(opt.dtype);
        // Chunks of about 64 MiB keep memory bounded whatever the file size.
        const uint64_t chunk_rows = std::max<uint64_t>(1024, (64u << 20) / row_bytes);
        std::vector<uint8_t> buf(std::min<uint64_t>(chunk_rows, std::max<uint64_t>(rows, 1)) *
                                 row_bytes);
        tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
        for (uint64_t first = 0; first < rows; first += chunk_rows) {
            const uint64_t count = std::min(chunk_rows, rows - first);
            arena.execute([&] {
                tbb::parallel_for(tbb::blocked_range<uint64_t>(0, count, 256), [&](const auto& r) {
                    gen.generate(stream, first + r.begin(), r.size(),
                                 buf.data() + r.begin() * row_bytes);
                });
            });
            STRATA_RETURN_IF_ERROR(writer.append(buf.data(), count));
            if (progress != nullptr) progress->add(count);
        }
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("generating " + path + ": out of memory");
    } catch (const std::exception& e) {
        return Status::internal("generating " + path + ": " + e.what());
    }
    return writer.finish();
}

}  // namespace strata::io
