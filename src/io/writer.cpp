// VectorWriter: streams rows into a temp file and publishes it atomically with its header.
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <utility>

#include <fmt/format.h>

#include "core/check.hpp"
#include "io/dataset.hpp"
#include "io/file_util.hpp"
#include "io/formats.hpp"

namespace strata::io {
namespace {

bool is_texmex(FileFormat format) {
    return format == FileFormat::kFvecs || format == FileFormat::kBvecs;
}
bool is_bin(FileFormat format) {
    return format == FileFormat::kFbin || format == FileFormat::kU8bin ||
           format == FileFormat::kI8bin;
}

/// InvalidArgument unless `format` is writable as vectors of `dtype`.
Status check_writable(const std::string& path, FileFormat format, DType dtype) {
    switch (format) {
        case FileFormat::kIbin:
        case FileFormat::kIvecs:
            return Status::invalid_argument(
                fmt::format("{}: {} is a ground-truth format; write it with write_ground_truth",
                            path, file_format_name(format)));
        case FileFormat::kIdx:
            return Status::invalid_argument(
                fmt::format("{}: the IDX format is read-only in strata", path));
        case FileFormat::kAuto:
            return Status::invalid_argument(fmt::format("{}: no file format resolved", path));
        default:
            break;
    }
    DType stored = dtype;
    if (detail::format_fixed_dtype(format, &stored) && stored != dtype) {
        return Status::invalid_argument(fmt::format("{}: a {} file stores {} values, not {}", path,
                                                    file_format_name(format), dtype_name(stored),
                                                    dtype_name(dtype)));
    }
    return Status::ok();
}

}  // namespace

struct VectorWriter::Impl {
    explicit Impl(AtomicFile f) : file(std::move(f)) {}

    AtomicFile file;
    FileFormat format = FileFormat::kAuto;
    DType dtype = DType::kF32;
    uint32_t dim = 0;
    size_t row_bytes = 0;
    uint64_t rows = 0;
    bool spent = false;  ///< finished, or failed and abandoned

    Status spent_error() const {
        return Status::invalid_argument(fmt::format(
            "{}: VectorWriter already finished or failed after an error", file.final_path()));
    }
};

VectorWriter::VectorWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VectorWriter::VectorWriter(VectorWriter&&) noexcept = default;
VectorWriter& VectorWriter::operator=(VectorWriter&&) noexcept = default;
VectorWriter::~VectorWriter() = default;  // an uncommitted AtomicFile unlinks its temp file

Result<VectorWriter> VectorWriter::create(const std::string& path, DType dtype, uint32_t dim,
                                          FileFormat format) {
    try {
        if (format == FileFormat::kAuto) {
            STRATA_ASSIGN_OR_RETURN(format, format_from_path(path));
        }
        STRATA_RETURN_IF_ERROR(check_writable(path, format, dtype));
        if (dim == 0 || dim > kMaxDimension) {
            return Status::out_of_range(
                fmt::format("{}: dimension {} is outside [1, {}] (the limit kMaxDimension)", path,
                            dim, kMaxDimension));
        }
        STRATA_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::create(path));
        auto impl = std::make_unique<Impl>(std::move(file));
        impl->format = format;
        impl->dtype = dtype;
        impl->dim = dim;
        impl->row_bytes = size_t{dim} * dtype_size(dtype);
        // Reserve the header; finish() overwrites it once the row count is known.
        if (is_bin(format)) {
            const char zeros[8] = {};
            STRATA_RETURN_IF_ERROR(impl->file.append(zeros, sizeof(zeros)));
        } else if (format == FileFormat::kNpy) {
            const std::string header = detail::npy_header(dtype, 0, dim);
            STRATA_RETURN_IF_ERROR(impl->file.append(header.data(), header.size()));
        }
        return VectorWriter(std::move(impl));
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(fmt::format("{}: out of memory creating writer", path));
    } catch (const std::exception& e) {
        return Status::internal(fmt::format("{}: unexpected error: {}", path, e.what()));
    }
}

Status VectorWriter::append(const void* rows, uint64_t count) try {
    STRATA_CHECK(impl_ != nullptr);  // use after move
    Impl& w = *impl_;
    if (w.spent) return w.spent_error();
    if (count == 0) return Status::ok();
    if (rows == nullptr) {
        return Status::invalid_argument(
            fmt::format("{}: append of {} rows from a null pointer", w.file.final_path(), count));
    }
    constexpr auto kBinMaxRows = static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
    if (is_bin(w.format) && (count > kBinMaxRows || w.rows > kBinMaxRows - count)) {
        return Status::out_of_range(fmt::format("{}: a {} header holds at most {} rows",
                                                w.file.final_path(), file_format_name(w.format),
                                                kBinMaxRows));
    }
    uint64_t bytes = 0;
    if (detail::mul_overflows(count, w.row_bytes, &bytes) ||
        bytes > std::numeric_limits<size_t>::max()) {
        return Status::invalid_argument(fmt::format(
            "{}: append of {} rows overflows the byte count", w.file.final_path(), count));
    }
    Status status;
    if (is_texmex(w.format)) {
        const auto d = static_cast<int32_t>(w.dim);
        const auto* p = static_cast<const char*>(rows);
        for (uint64_t i = 0; i < count && status.is_ok(); ++i, p += w.row_bytes) {
            status = w.file.append(&d, sizeof(d));
            if (status.is_ok()) status = w.file.append(p, w.row_bytes);
        }
    } else {
        status = w.file.append(rows, static_cast<size_t>(bytes));
    }
    if (!status.is_ok()) {
        w.spent = true;
        return status;
    }
    w.rows += count;
    return Status::ok();
} catch (const std::bad_alloc&) {  // only message formatting allocates here
    return Status::resource_exhausted("VectorWriter::append: out of memory");
}

Status VectorWriter::finish() {
    STRATA_CHECK(impl_ != nullptr);  // use after move
    Impl& w = *impl_;
    if (w.spent) return w.spent_error();
    w.spent = true;
    try {
        if (is_bin(w.format)) {
            int32_t header[2] = {static_cast<int32_t>(w.rows), static_cast<int32_t>(w.dim)};
            STRATA_RETURN_IF_ERROR(w.file.write_at(0, header, sizeof(header)));
        } else if (w.format == FileFormat::kNpy) {
            const std::string header = detail::npy_header(w.dtype, w.rows, w.dim);
            STRATA_RETURN_IF_ERROR(w.file.write_at(0, header.data(), header.size()));
        }
        return w.file.commit();
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(
            fmt::format("{}: out of memory finishing file", w.file.final_path()));
    }
}

uint64_t VectorWriter::rows_written() const {
    STRATA_CHECK(impl_ != nullptr);
    return impl_->rows;
}

Status write_vectors(const std::string& path, DType dtype, uint64_t n, uint32_t dim,
                     const void* data, FileFormat format) {
    STRATA_ASSIGN_OR_RETURN(VectorWriter writer, VectorWriter::create(path, dtype, dim, format));
    STRATA_RETURN_IF_ERROR(writer.append(data, n));
    return writer.finish();
}

}  // namespace strata::io
