// Deterministic synthetic vectors shaped like real embeddings: a mixture of clusters of uneven
// size in a low-dimensional latent space, mapped into the full dimension by a fixed random
// linear map, plus small isotropic noise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <strata/status.hpp>
#include <strata/types.hpp>

namespace strata {
class Progress;
}

namespace strata::io {

struct SyntheticOptions {
    /// Output dimension D, in [1, kMaxDimension]. Default 128.
    uint32_t dim = 128;
    /// Element type; integer types are an affine quantization of the float data. Default f32.
    DType dtype = DType::kF32;
    /// Number of clusters; 0 = automatic (about one per 1,000 base vectors, 8..1024). Default 0.
    uint32_t clusters = 0;
    /// Latent dimension K; K = D gives isotropic Gaussians in full dimension (stress tests only).
    /// Default 0 = min(16, D).
    uint32_t latent_dim = 0;
    /// Standard deviation of the isotropic noise added in D dimensions (the latent signal has
    /// roughly unit variance per coordinate). Default 0.2.
    float noise_std = 0.2f;
    /// Everything derives from this seed. Default 42.
    uint64_t seed = 42;

    Status validate() const;
};

/// Streams of one generator: base and query rows are independent draws from the same model.
enum class SyntheticStream : uint64_t { kBase = 0, kQueries = 1 };

/// The generative model, built once from the options (and the base size when clusters = 0).
/// Immutable after construction; generate() is thread-safe and deterministic: row r of a stream
/// is the same whatever the chunking or thread count.
class SyntheticGenerator {
  public:
    /// `base_rows` only sizes the automatic cluster count. Errors from options.validate().
    static Result<SyntheticGenerator> create(const SyntheticOptions& options, uint64_t base_rows);

    const SyntheticOptions& options() const { return options_; }
    uint32_t clusters() const { return clusters_; }

    /// Writes rows [first, first + count) of `stream` to `out` (count * dim elements of dtype).
    void generate(SyntheticStream stream, uint64_t first, uint64_t count, void* out) const;

  private:
    SyntheticGenerator() = default;
    void generate_row(SyntheticStream stream, uint64_t row, float* latent, float* out) const;

    SyntheticOptions options_;
    uint32_t clusters_ = 0;
    std::vector<double> cumulative_weight_;  // clusters_, last = 1
    std::vector<float> centers_;             // clusters_ x K
    std::vector<float> scales_;              // clusters_ x K (per-axis spread)
    std::vector<float> projection_;          // D x K, row-major
    std::vector<float> offset_;              // D
};

/// Generates `rows` rows of `stream` into a vector file (format by extension), in parallel
/// chunks of bounded memory, atomically (nothing at `path` unless complete).
Status write_synthetic(const std::string& path, const SyntheticGenerator& gen,
                       SyntheticStream stream, uint64_t rows, int threads, Progress* progress);

}  // namespace strata::io
