// Data set files: read through mmap (fbin/u8bin/i8bin, fvecs/bvecs/ivecs, npy, IDX), written
// atomically (temp file, fsync, rename, fsync directory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <strata/status.hpp>
#include <strata/types.hpp>

#include "io/file_util.hpp"

namespace strata::io {

/// On-disk layouts. kAuto chooses by file extension.
enum class FileFormat : uint8_t {
    kAuto,
    kFbin,   ///< int32 n, int32 d, then n*d float32 (big-ann-benchmarks / DiskANN)
    kU8bin,  ///< same header, uint8 values
    kI8bin,  ///< same header, int8 values
    kIbin,   ///< ground truth: u32 n, u32 k, int32 ids[n*k], then optional float dists[n*k]
    kFvecs,  ///< TEXMEX: each row = int32 d, then d float32
    kBvecs,  ///< TEXMEX: each row = int32 d, then d uint8
    kIvecs,  ///< TEXMEX: each row = int32 d, then d int32 (ground truth ids)
    kNpy,    ///< NumPy v1/v2/v3 header, little-endian <f4 |u1 |i1, C order, 2-D
    kIdx,    ///< IDX (MNIST family, read only): big-endian magic and dims, uint8 values
};

/// "fbin", "u8bin", ... Parsing accepts the same names. InvalidArgument otherwise.
std::string_view file_format_name(FileFormat format);
Result<FileFormat> parse_file_format(std::string_view name);
/// Chooses the format from the extension of `path` (".fbin", ".u8bin", ".i8bin", ".bin" is
/// refused as ambiguous, ".ibin", ".fvecs", ".bvecs", ".ivecs", ".npy", "-idx3-ubyte"/".idx").
/// InvalidArgument naming the path when the extension is unknown.
Result<FileFormat> format_from_path(std::string_view path);

/// A read-only, memory-mapped vector data set. Rows are `dim` elements of `dtype`; for TEXMEX
/// files each row is preceded by its 4-byte dimension, so use row() rather than pointer maths.
/// Movable, not copyable; thread-safe for concurrent reads.
class Dataset {
  public:
    /// Opens and validates `path` (format by extension unless given). Errors name the file and
    /// the problem: NotFound, IOError, Corruption (truncated, header disagrees with file size,
    /// inconsistent per-row dimension), OutOfRange (dim 0 or above kMaxDimension),
    /// NotSupported (dtype, Fortran order, big-endian npy).
    /// A 0-row file with a valid header opens with size() == 0. An empty .fvecs/.bvecs file is a
    /// valid 0-row data set with dim() == 0 (TEXMEX stores the dimension only inside rows).
    /// TEXMEX files are scanned once at open to check every row's dimension.
    static Result<Dataset> open(const std::string& path, FileFormat format = FileFormat::kAuto);

    Dataset(Dataset&&) noexcept;
    Dataset& operator=(Dataset&&) noexcept;
    ~Dataset();

    DType dtype() const;
    uint64_t size() const;  ///< number of rows
    uint32_t dim() const;
    FileFormat format() const;
    const std::string& path() const;
    /// Bytes between the starts of consecutive rows (dim*elem, plus 4 for TEXMEX).
    size_t row_stride_bytes() const;
    /// Pointer to row i's first element. Asserts i < size().
    const void* row(uint64_t i) const;
    template <typename T>
    const T* row_as(uint64_t i) const {
        return static_cast<const T*>(row(i));
    }
    /// Bytes of vector payload per row (dim * dtype_size).
    size_t row_bytes() const { return size_t{dim()} * dtype_size(dtype()); }
    /// Best-effort madvise hint for the whole mapping (kSequential for a build pass, kRandom
    /// for searches).
    void advise(AccessPattern pattern) const;

  private:
    struct Impl;
    explicit Dataset(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Ground truth: for each of n queries, k neighbour ids (row numbers of the base file) in
/// order of increasing distance, and the distances when the file holds them.
struct GroundTruth {
    uint32_t n = 0;
    uint32_t k = 0;
    std::vector<uint32_t> ids;     ///< n*k, row-major
    std::vector<float> distances;  ///< n*k or empty
    const uint32_t* row(uint32_t q) const { return ids.data() + size_t{q} * k; }
};

/// Reads .ibin (with or without distances) or .ivecs ground truth.
Result<GroundTruth> read_ground_truth(const std::string& path,
                                      FileFormat format = FileFormat::kAuto);
/// Writes .ibin (distances included when non-empty) or .ivecs, atomically. ivecs holds ids only:
/// distances are not written. InvalidArgument when ids/distances sizes disagree with n*k or
/// k == 0 with n > 0.
Status write_ground_truth(const std::string& path, const GroundTruth& gt,
                          FileFormat format = FileFormat::kAuto);

/// Streaming writer for vector files (fbin/u8bin/i8bin, fvecs/bvecs, npy): rows are appended
/// in order to a temp file beside `path`; finish() writes the header, fsyncs and renames into
/// place. Destroying an unfinished writer removes the temp file, so a crash or error never
/// leaves a file that looks complete. Not thread-safe.
class VectorWriter {
  public:
    static Result<VectorWriter> create(const std::string& path, DType dtype, uint32_t dim,
                                       FileFormat format = FileFormat::kAuto);
    VectorWriter(VectorWriter&&) noexcept;
    VectorWriter& operator=(VectorWriter&&) noexcept;
    ~VectorWriter();

    /// Appends `count` contiguous rows of dim elements.
    Status append(const void* rows, uint64_t count);
    /// Completes the file. After this the writer is spent.
    Status finish();
    uint64_t rows_written() const;

  private:
    struct Impl;
    explicit VectorWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Convenience: writes `n` contiguous rows in one go through VectorWriter.
Status write_vectors(const std::string& path, DType dtype, uint64_t n, uint32_t dim,
                     const void* data, FileFormat format = FileFormat::kAuto);

}  // namespace strata::io
