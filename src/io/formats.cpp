// Header parsing for the fixed-layout formats (fbin family, TEXMEX vecs, IDX) and shared checks.
#include "io/formats.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace strata::io::detail {

Status check_dim(const std::string& path, int64_t dim, std::string_view what) {
    if (dim < 0) {
        return Status::corruption(fmt::format("{}: {} dimension {} is negative", path, what, dim));
    }
    if (dim == 0 || dim > int64_t{kMaxDimension}) {
        return Status::out_of_range(
            fmt::format("{}: {} dimension {} is outside [1, {}] (the limit kMaxDimension is {})",
                        path, what, dim, kMaxDimension, kMaxDimension));
    }
    return Status::ok();
}

Status too_small(const std::string& path, size_t size_bytes, size_t need_bytes,
                 std::string_view what) {
    if (size_bytes == 0) {
        return Status::corruption(
            fmt::format("{}: empty file: the {} needs {} bytes", path, what, need_bytes));
    }
    return Status::corruption(
        fmt::format("{}: truncated: file has {} bytes, less than the {}-byte {}", path, size_bytes,
                    need_bytes, what));
}

Status check_size(const std::string& path, uint64_t expected_bytes, uint64_t actual_bytes,
                  std::string_view what) {
    if (actual_bytes < expected_bytes) {
        return Status::corruption(fmt::format("{}: truncated: expected {} bytes ({}), file has {}",
                                              path, expected_bytes, what, actual_bytes));
    }
    if (actual_bytes > expected_bytes) {
        return Status::corruption(fmt::format(
            "{}: header disagrees with file size: expected {} bytes ({}), file has {} ({} extra)",
            path, expected_bytes, what, actual_bytes, actual_bytes - expected_bytes));
    }
    return Status::ok();
}

Status size_overflow(const std::string& path, std::string_view what) {
    return Status::corruption(
        fmt::format("{}: header sizes overflow 64 bits ({}); the header is damaged", path, what));
}

size_t format_elem_bytes(FileFormat format) {
    switch (format) {
        case FileFormat::kFbin:
        case FileFormat::kIbin:
        case FileFormat::kFvecs:
        case FileFormat::kIvecs:
            return 4;
        case FileFormat::kU8bin:
        case FileFormat::kI8bin:
        case FileFormat::kBvecs:
            return 1;
        case FileFormat::kAuto:
        case FileFormat::kNpy:
        case FileFormat::kIdx:
            return 0;
    }
    return 0;
}

bool format_fixed_dtype(FileFormat format, DType* dtype) {
    switch (format) {
        case FileFormat::kFbin:
        case FileFormat::kFvecs:
            *dtype = DType::kF32;
            return true;
        case FileFormat::kU8bin:
        case FileFormat::kBvecs:
            *dtype = DType::kU8;
            return true;
        case FileFormat::kI8bin:
            *dtype = DType::kI8;
            return true;
        default:
            return false;
    }
}

Result<Layout> parse_bin(const MappedFile& file, DType dtype, std::string_view format_name) {
    const std::string& path = file.path();
    constexpr size_t kHeaderBytes = 8;
    if (file.size() < kHeaderBytes) {
        return too_small(path, file.size(), kHeaderBytes,
                         fmt::format("{} header (int32 n, int32 d)", format_name));
    }
    const int32_t n = load_le<int32_t>(file.data());
    const int32_t d = load_le<int32_t>(file.data() + 4);
    if (n < 0) {
        return Status::corruption(
            fmt::format("{}: {} header row count n = {} is negative", path, format_name, n));
    }
    STRATA_RETURN_IF_ERROR(check_dim(path, d, fmt::format("{} header", format_name)));
    const size_t elem_bytes = dtype_size(dtype);
    const size_t row_bytes = static_cast<size_t>(d) * elem_bytes;
    // n < 2^31 and row_bytes <= 4 * kMaxDimension: the product cannot overflow 64 bits.
    const uint64_t expected = kHeaderBytes + static_cast<uint64_t>(n) * row_bytes;
    STRATA_RETURN_IF_ERROR(
        check_size(path, expected, file.size(),
                   fmt::format("8-byte header + {} rows x {} dims x {} bytes", n, d, elem_bytes)));
    Layout layout;
    layout.dtype = dtype;
    layout.rows = static_cast<uint64_t>(n);
    layout.dim = static_cast<uint32_t>(d);
    layout.data_offset_bytes = kHeaderBytes;
    layout.row_stride_bytes = row_bytes;
    return layout;
}

Result<Layout> parse_vecs(const MappedFile& file, DType dtype, size_t elem_bytes,
                          std::string_view format_name) {
    const std::string& path = file.path();
    Layout layout;
    layout.dtype = dtype;
    const size_t size = file.size();
    if (size == 0) return layout;  // 0 rows; the dimension is unknowable
    if (size < 4) return too_small(path, size, 4, "dimension field of row 0");
    const int32_t d = load_le<int32_t>(file.data());
    STRATA_RETURN_IF_ERROR(check_dim(path, d, fmt::format("{} row 0", format_name)));
    const size_t stride = 4 + static_cast<size_t>(d) * elem_bytes;

    // Every row repeats the dimension; check them all so row() never needs to. This touches
    // every page of files whose rows are smaller than a page, hence the sequential hint.
    file.advise(AccessPattern::kSequential);
    uint64_t row = 0;
    for (size_t off = 0; size - off >= 4; off += stride, ++row) {
        const int32_t di = load_le<int32_t>(file.data() + off);
        if (di != d) {
            file.advise(AccessPattern::kNormal);
            return Status::corruption(fmt::format(
                "{}: row {} (byte offset {}) has dimension {}, but row 0 has {}; every row of a "
                "{} file must have the same dimension",
                path, row, off, di, d, format_name));
        }
        if (stride > size - off) break;
    }
    file.advise(AccessPattern::kNormal);
    if (size % stride != 0) {
        return Status::corruption(fmt::format(
            "{}: truncated: file has {} bytes, not a multiple of the {}-byte {} row (4-byte "
            "dimension + {} x {} bytes); the last row has only {} bytes",
            path, size, stride, format_name, d, elem_bytes, size % stride));
    }
    layout.rows = size / stride;
    layout.dim = static_cast<uint32_t>(d);
    layout.data_offset_bytes = 4;
    layout.row_stride_bytes = stride;
    return layout;
}

namespace {

std::string_view idx_type_name(uint8_t type) {
    switch (type) {
        case 0x08:
            return "unsigned byte";
        case 0x09:
            return "signed byte";
        case 0x0B:
            return "int16";
        case 0x0C:
            return "int32";
        case 0x0D:
            return "float32";
        case 0x0E:
            return "float64";
        default:
            return "";
    }
}

}  // namespace

Result<Layout> parse_idx(const MappedFile& file) {
    const std::string& path = file.path();
    const size_t size = file.size();
    if (size < 4) return too_small(path, size, 4, "IDX magic number");
    const uint8_t* p = file.data();
    if (p[0] != 0 || p[1] != 0) {
        return Status::corruption(fmt::format(
            "{}: bad IDX magic 0x{:08x} (the first two bytes must be zero)", path, load_be32(p)));
    }
    const uint8_t type = p[2];
    const uint8_t ndims = p[3];
    if (idx_type_name(type).empty()) {
        return Status::corruption(fmt::format(
            "{}: bad IDX magic 0x{:08x}: unknown element type 0x{:02x}", path, load_be32(p), type));
    }
    if (type != 0x08) {
        return Status::not_supported(
            fmt::format("{}: IDX element type 0x{:02x} ({}) is not supported; only 0x08 "
                        "(unsigned byte) is",
                        path, type, idx_type_name(type)));
    }
    if (ndims == 0) {
        return Status::corruption(
            fmt::format("{}: IDX magic 0x{:08x} declares 0 dimensions", path, load_be32(p)));
    }
    const size_t header_bytes = 4 + 4 * size_t{ndims};
    if (size < header_bytes) {
        return too_small(path, size, header_bytes,
                         fmt::format("IDX header with {} dimensions", ndims));
    }
    const uint64_t n = load_be32(p + 4);
    uint64_t dim = 1;
    for (size_t i = 1; i < ndims; ++i) {
        if (mul_overflows(dim, load_be32(p + 4 + 4 * i), &dim)) {
            return size_overflow(path, "product of the IDX dimensions");
        }
    }
    STRATA_RETURN_IF_ERROR(check_dim(path, static_cast<int64_t>(std::min<uint64_t>(dim, INT64_MAX)),
                                     "IDX (product of dimensions after the first)"));
    uint64_t expected = n * dim;  // n < 2^32, dim <= 2^14
    if (add_overflows(expected, header_bytes, &expected)) {
        return size_overflow(path, "IDX data size");
    }
    STRATA_RETURN_IF_ERROR(
        check_size(path, expected, size,
                   fmt::format("{}-byte header + {} items x {} bytes", header_bytes, n, dim)));
    Layout layout;
    layout.dtype = DType::kU8;
    layout.rows = n;
    layout.dim = static_cast<uint32_t>(dim);
    layout.data_offset_bytes = header_bytes;
    layout.row_stride_bytes = static_cast<size_t>(dim);
    return layout;
}

}  // namespace strata::io::detail
