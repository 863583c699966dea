// Internal to io: per-format header parsing and validation over a mapped file, shared helpers.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <strata/status.hpp>
#include <strata/types.hpp>

#include "io/dataset.hpp"
#include "io/file_util.hpp"

namespace strata::io::detail {

static_assert(std::endian::native == std::endian::little,
              "strata's file formats are little-endian; a big-endian port must byte-swap");

/// Where the rows of a validated file are. For TEXMEX files data_offset_bytes points at row 0's
/// first element (after its 4-byte dimension) and row_stride_bytes includes the prefix.
struct Layout {
    DType dtype = DType::kF32;
    uint64_t rows = 0;
    uint32_t dim = 0;
    size_t data_offset_bytes = 0;
    size_t row_stride_bytes = 0;
};

/// fbin / u8bin / i8bin: int32 n, int32 d, n*d values.
Result<Layout> parse_bin(const MappedFile& file, DType dtype, std::string_view format_name);
/// fvecs / bvecs / ivecs with `elem_bytes` per value. Checks every row's dimension. An empty
/// file is a valid 0-row file with dim 0 (the format stores the dimension only inside rows).
/// `dtype` is reported as given (ivecs callers ignore it).
Result<Layout> parse_vecs(const MappedFile& file, DType dtype, size_t elem_bytes,
                          std::string_view format_name);
/// NumPy .npy v1/v2/v3, 2-D, C order, <f4 / |u1 / |i1.
Result<Layout> parse_npy(const MappedFile& file);
/// IDX (MNIST family), unsigned byte only; dim = product of all dimensions after the first.
Result<Layout> parse_idx(const MappedFile& file);

/// Bytes of the fixed npy header VectorWriter reserves (v1.0; a multiple of 64 so data stays
/// 64-byte aligned).
inline constexpr size_t kNpyHeaderBytes = 128;
/// The complete kNpyHeaderBytes-byte npy v1.0 header for a (rows, dim) C-order array.
std::string npy_header(DType dtype, uint64_t rows, uint32_t dim);

// ---- helpers shared by the parsers and writers ----------------------------------------------

/// *out = a * b; true when it overflowed.
inline bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) {
    return __builtin_mul_overflow(a, b, out);
}
/// *out = a + b; true when it overflowed.
inline bool add_overflows(uint64_t a, uint64_t b, uint64_t* out) {
    return __builtin_add_overflow(a, b, out);
}

template <typename T>
T load_le(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

inline uint32_t load_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

/// Validates a dimension read from `path`: negative is Corruption, 0 or above kMaxDimension is
/// OutOfRange. `what` says where it came from ("header", "row 0").
Status check_dim(const std::string& path, int64_t dim, std::string_view what);
/// Corruption for a file shorter than its fixed header ("empty file" when size is 0).
Status too_small(const std::string& path, size_t size_bytes, size_t need_bytes,
                 std::string_view what);
/// Corruption unless actual == expected: "truncated" when short, "header disagrees with file
/// size" when long. `what` explains how expected was computed.
Status check_size(const std::string& path, uint64_t expected_bytes, uint64_t actual_bytes,
                  std::string_view what);
/// Corruption for a size product that does not fit 64 bits.
Status size_overflow(const std::string& path, std::string_view what);

/// Element size of a vector file format (4 for ivecs/ibin ids), 0 for npy/idx/auto.
size_t format_elem_bytes(FileFormat format);
/// The dtype a fixed-dtype format stores; false for npy (any dtype), ibin/ivecs/idx/auto.
bool format_fixed_dtype(FileFormat format, DType* dtype);

}  // namespace strata::io::detail
