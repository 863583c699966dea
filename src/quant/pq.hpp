// Product quantization: a codebook of 256 centroids per chunk of dimensions, trained by k-means
// on a sample; one-byte-per-chunk codes; asymmetric distance (ADC) lookup tables and a SIMD
// lookup/accumulate kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <strata/status.hpp>
#include <strata/types.hpp>

#include "distance/exact_knn.hpp"

namespace strata {
class Progress;
}

namespace strata::quant {

/// Centroids per chunk: a code is one byte per chunk.
inline constexpr uint32_t kPqCentroidsPerChunk = 256;

/// The default code size for a dimension: 32 bytes for dim <= 256, dim / 8 above, never more
/// than dim (a chunk holds at least one dimension). Returns 0 for dim 0.
uint32_t default_pq_bytes(uint32_t dim);

/// The code size a build uses: `requested`, or default_pq_bytes(dim) when it is 0, capped so the
/// codes of `rows` vectors fit in `codes_budget_bytes` (0 = no budget). An explicit request that
/// does not fit is refused rather than shrunk. Errors: InvalidArgument for dim outside
/// [1, kMaxDimension] or requested > dim; ResourceExhausted when the budget cannot hold even one
/// byte per vector, or the requested size.
Result<uint32_t> resolve_pq_bytes(uint32_t requested, uint32_t dim, uint64_t rows,
                                  uint64_t codes_budget_bytes);

struct PqOptions {
    /// Code size in bytes = number of chunks, in [1, dim]; 0 = default_pq_bytes(dim).
    /// Default 0.
    uint32_t bytes = 0;
    /// Rows k-means trains on, drawn by stratified sampling (all rows when fewer). Must be >= 1.
    /// Default 256,000.
    uint64_t train_sample = 256000;
    /// Cap on the float copy of the training sample (sample rows x dim x 4 bytes), bytes; the
    /// sample shrinks to fit (1,000 rows at least). 0 = no cap. Default 1 GiB.
    uint64_t train_memory_bytes = uint64_t{1} << 30;
    /// Lloyd iterations per chunk, in [1, 1000]. Default 12.
    uint32_t iterations = 12;
    /// Seed of the sample and of every chunk's k-means. Default 1.
    uint64_t seed = 1;
    /// Worker threads; 0 = all hardware threads. The codebook does not depend on it. Default 0.
    int threads = 0;
    /// Optional progress counter, advanced by 1 per chunk trained. Not owned; may be null.
    Progress* progress = nullptr;
    /// Subtract the sample mean before quantizing (and add it back on decode). Default true.
    bool center = true;

    Status validate() const;
};

/// A trained PQ codebook: dim dimensions cut into bytes() chunks (the first dim % bytes chunks
/// one dimension wider than the rest), each with 256 centroids.
///
/// Distances by metric (compute_table):
/// - l2: adc() = |q - decode(x)|^2.
/// - ip: adc() = -<q, decode(x)> (the strata "smaller is closer" convention).
/// - cosine: adc() = 1 - <q / |q|, decode(x)>; the codes must come from vectors normalized at
///   ingest (DESIGN.md), so decode(x) is close to unit length. The query is normalized here.
/// All three equal the distance to the decoded vector up to float rounding.
///
/// Immutable once built; every const method is thread-safe. Movable and copyable.
class PqCodebook {
  public:
    /// Trains on a sample of `source` (f32, u8 or i8 rows, any stride; integer rows are read as
    /// their values). Errors: InvalidArgument for bad options, an empty or null source, dim
    /// outside [1, kMaxDimension], bytes > dim, or a sampled row holding NaN or infinity;
    /// ResourceExhausted when out of memory.
    static Result<PqCodebook> train(const distance::MatrixView& source, const PqOptions& options);

    uint32_t dim() const { return dim_; }
    /// Bytes per code, which is also the number of chunks.
    uint32_t bytes() const { return bytes_; }
    bool centered() const { return centered_; }
    /// First dimension of chunk m (m <= bytes(); chunk_offset(bytes()) == dim()).
    uint32_t chunk_offset(uint32_t m) const { return offsets_[m]; }
    uint32_t chunk_width(uint32_t m) const { return offsets_[m + 1] - offsets_[m]; }
    /// Rows the codebook was trained on.
    uint64_t train_rows() const { return train_rows_; }
    /// Mean squared reconstruction error per training vector (sum over chunks of the last
    /// k-means assignment error).
    double train_mse() const { return train_mse_; }
    /// The mean subtracted before quantizing (dim floats, zeros when not centered).
    const std::vector<float>& mean() const { return mean_; }
    /// Heap bytes held (centroids, derived tables, mean).
    size_t memory_bytes() const;

    /// Encodes one vector (dim floats) into `code` (bytes() bytes): per chunk, the nearest
    /// centroid (lowest id on ties). Gives the same code as encode_all for the same row. For
    /// many vectors use encode_all: this scores one row with a whole tile's work. The row must
    /// be finite (encode_all checks; here a NaN row gets an unspecified code).
    void encode(const float* row, uint8_t* code) const;
    /// Encodes every row of `source` (f32/u8/i8, any stride, dim() columns) into `codes`
    /// (source.rows * bytes() bytes, row-major), in parallel on `threads` workers (0 = all).
    /// Advances `progress` (may be null) by rows encoded. Errors: InvalidArgument for a dim
    /// mismatch, null pointers, threads < 0, or a row holding NaN or infinity (codes are then
    /// unspecified); ResourceExhausted when out of memory.
    Status encode_all(const distance::MatrixView& source, uint8_t* codes, int threads,
                      Progress* progress) const;
    /// Writes the reconstruction mean + centroids of `code` (dim floats) to `out`.
    void decode(const uint8_t* code, float* out) const;

    /// Floats in a distance table: bytes() * 256.
    size_t table_size() const { return size_t{bytes_} * kPqCentroidsPerChunk; }
    /// Fills `table` (table_size() floats) for `query` (dim floats) under `metric`; see the class
    /// comment for what adc() then returns. table[m * 256 + c] is chunk m's term for centroid
    /// c; per-query constants are folded into chunk 0. Costs O(256 * dim).
    void compute_table(const float* query, Metric metric, float* table) const;
    /// The distance of one code from a table: the sum of its chunks' entries, added in the
    /// canonical order of adc_batch (so the two agree bit for bit).
    float adc(const float* table, const uint8_t* code) const;
    /// out[i] = adc(table, codes + (ids ? ids[i] : i) * bytes()) for i < n, with the active ISA's
    /// gather kernel (results are identical on every ISA). `codes` is row-major; `ids` may be
    /// null (consecutive codes); when given, codes of the next block are prefetched.
    void adc_batch(const float* table, const uint8_t* codes, const uint32_t* ids, size_t n,
                   float* out) const;

    /// A self-describing little-endian blob: magic "STRATAPQ", major.minor version, header
    /// length, parameters, then the mean and centroid sections, each with an XXH3-64 checksum.
    std::string serialize() const;
    /// Parses serialize() output. Errors name `source_name`: Corruption for a short or damaged
    /// blob (bad magic, sizes or offsets that disagree, checksum mismatch, non-finite floats),
    /// NotSupported for another major version. Never reads outside `bytes`.
    static Result<PqCodebook> deserialize(std::string_view bytes, std::string_view source_name);

  private:
    PqCodebook() = default;
    /// Sets the chunk layout for dim_ and bytes_.
    void set_layout();
    /// Samples, centers and trains every chunk; runs inside train()'s task arena.
    Status train_in_arena(const distance::MatrixView& source, const PqOptions& options);
    /// Builds the derived arrays (kernel form, transposed copy) from mean_ and centroids_.
    void derive();
    /// Encodes rows [first, first + count) of `source`, count <= the kernel tile; returns the
    /// offset of the first non-finite row, or count.
    uint32_t encode_tile(const distance::MatrixView& source, uint64_t first, uint32_t count,
                         float* tile, uint8_t* codes) const;

    uint32_t dim_ = 0;
    uint32_t bytes_ = 0;
    bool centered_ = false;
    uint64_t train_rows_ = 0;
    double train_mse_ = 0.0;
    std::vector<uint32_t> offsets_;  // bytes_ + 1
    std::vector<float> mean_;        // dim_
    /// Chunk m: 256 x width rows at 256 * offsets_[m], row-major.
    std::vector<float> centroids_;
    // Derived, not serialized.
    std::vector<float> neg2c_;       // -2 * centroids_, same layout
    std::vector<float> norms_;       // |c|^2, bytes_ x 256
    std::vector<float> transposed_;  // chunk m: width x 256 at 256 * offsets_[m]
};

}  // namespace strata::quant
