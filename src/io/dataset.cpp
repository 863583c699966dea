// Dataset: format names and detection, and the read-only memory-mapped vector file.
#include "io/dataset.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <new>
#include <utility>

#include <fmt/format.h>

#include "core/check.hpp"
#include "io/file_util.hpp"
#include "io/formats.hpp"

namespace strata::io {
namespace {

struct FormatName {
    FileFormat format;
    std::string_view name;
};

constexpr std::array<FormatName, 10> kFormatNames = {{
    {FileFormat::kAuto, "auto"},
    {FileFormat::kFbin, "fbin"},
    {FileFormat::kU8bin, "u8bin"},
    {FileFormat::kI8bin, "i8bin"},
    {FileFormat::kIbin, "ibin"},
    {FileFormat::kFvecs, "fvecs"},
    {FileFormat::kBvecs, "bvecs"},
    {FileFormat::kIvecs, "ivecs"},
    {FileFormat::kNpy, "npy"},
    {FileFormat::kIdx, "idx"},
}};

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// "-idx3-ubyte", ".idx1-ubyte" and the like (MNIST / Fashion-MNIST naming).
bool is_idx_name(std::string_view name) {
    if (ends_with(name, ".idx")) return true;
    if (!ends_with(name, "-ubyte") || name.size() < 11) return false;
    const std::string_view tag = name.substr(name.size() - 11, 5);  // "-idx3" / ".idx3"
    return (tag[0] == '-' || tag[0] == '.') && tag.substr(1, 3) == "idx" &&
           std::isdigit(static_cast<unsigned char>(tag[4]));
}

Result<detail::Layout> parse_layout(const MappedFile& file, FileFormat format) {
    const std::string& path = file.path();
    switch (format) {
        case FileFormat::kFbin:
            return detail::parse_bin(file, DType::kF32, "fbin");
        case FileFormat::kU8bin:
            return detail::parse_bin(file, DType::kU8, "u8bin");
        case FileFormat::kI8bin:
            return detail::parse_bin(file, DType::kI8, "i8bin");
        case FileFormat::kFvecs:
            return detail::parse_vecs(file, DType::kF32, 4, "fvecs");
        case FileFormat::kBvecs:
            return detail::parse_vecs(file, DType::kU8, 1, "bvecs");
        case FileFormat::kNpy:
            return detail::parse_npy(file);
        case FileFormat::kIdx:
            return detail::parse_idx(file);
        case FileFormat::kIbin:
        case FileFormat::kIvecs:
            return Status::not_supported(
                fmt::format("{}: {} holds int32 ground truth, not vectors; use read_ground_truth",
                            path, file_format_name(format)));
        case FileFormat::kAuto:
            break;
    }
    return Status::invalid_argument(fmt::format("{}: no file format resolved", path));
}

}  // namespace

std::string_view file_format_name(FileFormat format) {
    for (const FormatName& f : kFormatNames) {
        if (f.format == format) return f.name;
    }
    return "?";
}

Result<FileFormat> parse_file_format(std::string_view name) {
    for (const FormatName& f : kFormatNames) {
        if (f.name == name) return f.format;
    }
    return Status::invalid_argument(fmt::format(
        "unknown file format '{}' (expected auto, fbin, u8bin, i8bin, ibin, fvecs, bvecs, "
        "ivecs, npy or idx)",
        name));
}

Result<FileFormat> format_from_path(std::string_view path) {
    std::string name(path.substr(std::min(path.size(), path.find_last_of('/') + 1)));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const FormatName& f : kFormatNames) {
        if (f.format == FileFormat::kAuto || f.format == FileFormat::kIdx) continue;
        if (ends_with(name, fmt::format(".{}", f.name))) return f.format;
    }
    if (is_idx_name(name)) return FileFormat::kIdx;
    if (ends_with(name, ".bin")) {
        return Status::invalid_argument(fmt::format(
            "{}: the extension .bin is ambiguous (fbin, u8bin, i8bin or ibin?); rename the file "
            "or pass the format explicitly",
            path));
    }
    if (ends_with(name, ".gz")) {
        return Status::invalid_argument(
            fmt::format("{}: compressed files are not read directly; decompress first", path));
    }
    return Status::invalid_argument(fmt::format(
        "{}: unknown file extension (expected .fbin, .u8bin, .i8bin, .ibin, .fvecs, .bvecs, "
        ".ivecs, .npy, .idx or *-idxN-ubyte); pass the format explicitly",
        path));
}

// ---------------------------------------------------------------------------------------------
// Dataset

struct Dataset::Impl {
    MappedFile file;
    detail::Layout layout;
    FileFormat format = FileFormat::kAuto;
    const uint8_t* first_row = nullptr;  ///< row 0's first element (nullptr when empty)
};

Dataset::Dataset(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dataset::Dataset(Dataset&&) noexcept = default;
Dataset& Dataset::operator=(Dataset&&) noexcept = default;
Dataset::~Dataset() = default;

Result<Dataset> Dataset::open(const std::string& path, FileFormat format) {
    try {
        if (format == FileFormat::kAuto) {
            STRATA_ASSIGN_OR_RETURN(format, format_from_path(path));
        }
        auto impl = std::make_unique<Impl>();
        STRATA_ASSIGN_OR_RETURN(impl->file, MappedFile::open(path));
        STRATA_ASSIGN_OR_RETURN(impl->layout, parse_layout(impl->file, format));
        impl->format = format;
        if (impl->layout.rows > 0) {
            impl->first_row = impl->file.data() + impl->layout.data_offset_bytes;
        }
        return Dataset(std::move(impl));
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(fmt::format("{}: out of memory opening data set", path));
    } catch (const std::exception& e) {
        return Status::internal(fmt::format("{}: unexpected error: {}", path, e.what()));
    }
}

DType Dataset::dtype() const { return impl_->layout.dtype; }
uint64_t Dataset::size() const { return impl_->layout.rows; }
uint32_t Dataset::dim() const { return impl_->layout.dim; }
FileFormat Dataset::format() const { return impl_->format; }
const std::string& Dataset::path() const { return impl_->file.path(); }
size_t Dataset::row_stride_bytes() const { return impl_->layout.row_stride_bytes; }

const void* Dataset::row(uint64_t i) const {
    STRATA_CHECK(i < impl_->layout.rows);
    return impl_->first_row + i * impl_->layout.row_stride_bytes;
}

void Dataset::advise(AccessPattern pattern) const { impl_->file.advise(pattern); }

}  // namespace strata::io
