// Ground truth files: .ibin (ids, optional distances) and .ivecs, read via mmap, written
// atomically.
#include <cstring>
#include <exception>
#include <limits>
#include <new>

#include <fmt/format.h>

#include "io/dataset.hpp"
#include "io/file_util.hpp"
#include "io/formats.hpp"

namespace strata::io {
namespace {

constexpr size_t kIbinHeaderBytes = 8;

Result<FileFormat> ground_truth_format(const std::string& path, FileFormat format) {
    if (format == FileFormat::kAuto) {
        STRATA_ASSIGN_OR_RETURN(format, format_from_path(path));
    }
    if (format != FileFormat::kIbin && format != FileFormat::kIvecs) {
        return Status::invalid_argument(fmt::format(
            "{}: ground truth is stored as ibin or ivecs, not {}", path, file_format_name(format)));
    }
    return format;
}

Result<GroundTruth> read_ibin(const MappedFile& file) {
    const std::string& path = file.path();
    const size_t size = file.size();
    if (size < kIbinHeaderBytes) {
        return detail::too_small(path, size, kIbinHeaderBytes, "ibin header (uint32 n, uint32 k)");
    }
    GroundTruth gt;
    gt.n = detail::load_le<uint32_t>(file.data());
    gt.k = detail::load_le<uint32_t>(file.data() + 4);
    if (gt.n > 0 && gt.k == 0) {
        return Status::corruption(
            fmt::format("{}: ibin header has n = {} queries but k = 0 neighbours", path, gt.n));
    }
    const uint64_t count = uint64_t{gt.n} * gt.k;  // both < 2^32: no overflow
    uint64_t ids_bytes = 0;
    uint64_t ids_only = 0;
    uint64_t with_distances = 0;
    if (detail::mul_overflows(count, 4, &ids_bytes) ||
        detail::add_overflows(ids_bytes, kIbinHeaderBytes, &ids_only) ||
        detail::add_overflows(ids_only, ids_bytes, &with_distances)) {
        return detail::size_overflow(path, fmt::format("ibin n = {}, k = {}", gt.n, gt.k));
    }
    if (size != ids_only && size != with_distances) {
        return Status::corruption(fmt::format(
            "{}: {}: expected {} bytes (8 + 4*n*k, ids only) or {} bytes (8 + 8*n*k, ids and "
            "distances) for n = {}, k = {}; file has {}",
            path, size < ids_only ? "truncated" : "header disagrees with file size", ids_only,
            with_distances, gt.n, gt.k, size));
    }
    const uint8_t* p = file.data() + kIbinHeaderBytes;
    gt.ids.resize(count);
    if (count > 0) std::memcpy(gt.ids.data(), p, ids_bytes);
    if (size == with_distances && count > 0) {
        gt.distances.resize(count);
        std::memcpy(gt.distances.data(), p + ids_bytes, ids_bytes);
    }
    return gt;
}

Result<GroundTruth> read_ivecs(const MappedFile& file) {
    STRATA_ASSIGN_OR_RETURN(detail::Layout layout,
                            detail::parse_vecs(file, DType::kF32, 4, "ivecs"));
    if (layout.rows > std::numeric_limits<uint32_t>::max()) {
        return Status::not_supported(
            fmt::format("{}: {} ground-truth rows exceed 2^32 - 1", file.path(), layout.rows));
    }
    GroundTruth gt;
    gt.n = static_cast<uint32_t>(layout.rows);
    gt.k = layout.dim;
    gt.ids.resize(size_t{gt.n} * gt.k);
    const size_t row_bytes = size_t{gt.k} * 4;
    for (uint32_t q = 0; q < gt.n; ++q) {
        const uint8_t* src = file.data() + layout.data_offset_bytes + q * layout.row_stride_bytes;
        std::memcpy(gt.ids.data() + size_t{q} * gt.k, src, row_bytes);
    }
    return gt;
}

Status check_ground_truth(const std::string& path, const GroundTruth& gt, FileFormat format) {
    const uint64_t count = uint64_t{gt.n} * gt.k;
    if (gt.ids.size() != count) {
        return Status::invalid_argument(fmt::format(
            "{}: ground truth has {} ids, expected n*k = {}", path, gt.ids.size(), count));
    }
    if (!gt.distances.empty() && gt.distances.size() != count) {
        return Status::invalid_argument(
            fmt::format("{}: ground truth has {} distances, expected 0 or n*k = {}", path,
                        gt.distances.size(), count));
    }
    if (gt.n > 0 && gt.k == 0) {
        return Status::invalid_argument(
            fmt::format("{}: ground truth with {} queries has k = 0", path, gt.n));
    }
    if (format == FileFormat::kIvecs && gt.k > kMaxDimension) {
        return Status::out_of_range(
            fmt::format("{}: ivecs rows hold at most {} ids (kMaxDimension), k = {}", path,
                        kMaxDimension, gt.k));
    }
    return Status::ok();
}

Status write_ibin(AtomicFile& file, const GroundTruth& gt) {
    const uint32_t header[2] = {gt.n, gt.k};
    STRATA_RETURN_IF_ERROR(file.append(header, sizeof(header)));
    STRATA_RETURN_IF_ERROR(file.append(gt.ids.data(), gt.ids.size() * sizeof(uint32_t)));
    return file.append(gt.distances.data(), gt.distances.size() * sizeof(float));
}

Status write_ivecs(AtomicFile& file, const GroundTruth& gt) {
    const auto k = static_cast<int32_t>(gt.k);
    for (uint32_t q = 0; q < gt.n; ++q) {
        STRATA_RETURN_IF_ERROR(file.append(&k, sizeof(k)));
        STRATA_RETURN_IF_ERROR(file.append(gt.row(q), size_t{gt.k} * sizeof(uint32_t)));
    }
    return Status::ok();
}

}  // namespace

Result<GroundTruth> read_ground_truth(const std::string& path, FileFormat format) {
    try {
        STRATA_ASSIGN_OR_RETURN(format, ground_truth_format(path, format));
        STRATA_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
        return format == FileFormat::kIbin ? read_ibin(file) : read_ivecs(file);
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(
            fmt::format("{}: out of memory reading ground truth", path));
    } catch (const std::exception& e) {
        return Status::internal(fmt::format("{}: unexpected error: {}", path, e.what()));
    }
}

Status write_ground_truth(const std::string& path, const GroundTruth& gt, FileFormat format) {
    try {
        STRATA_ASSIGN_OR_RETURN(format, ground_truth_format(path, format));
        STRATA_RETURN_IF_ERROR(check_ground_truth(path, gt, format));
        STRATA_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::create(path));
        STRATA_RETURN_IF_ERROR(format == FileFormat::kIbin ? write_ibin(file, gt)
                                                           : write_ivecs(file, gt));
        return file.commit();
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(
            fmt::format("{}: out of memory writing ground truth", path));
    } catch (const std::exception& e) {
        return Status::internal(fmt::format("{}: unexpected error: {}", path, e.what()));
    }
}

}  // namespace strata::io
