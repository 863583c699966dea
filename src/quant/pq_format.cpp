// The PQ codebook blob: a fixed little-endian header with its own checksum, a section table
// (offset, size, XXH3-64 per section), then the mean and centroid sections.
//
// Layout, version 1.0 (offsets in bytes):
//   0  magic "STRATAPQ"          8  u16 major, u16 minor      12 u32 header_bytes (>= 128)
//   16 u32 dim                   20 u32 bytes (chunks)        24 u32 centroids per chunk (256)
//   28 u32 flags (bit 0: centered)                            32 u64 train_rows
//   40 f64 train_mse             48 u32 section_count (>= 2)  52 u32 reserved (0)
//   56 section table: section_count x {u64 offset, u64 size, u64 xxh3}
//   header_bytes - 8: u64 XXH3-64 of header bytes [0, header_bytes - 8)
// Sections: 0 = mean (dim f32), 1 = centroids (chunk by chunk, 256 x width f32 each). A newer
// minor may append fields to the header (before its checksum) and sections; this reader skips
// them.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <exception>
#include <new>

#include <fmt/format.h>
#include <xxhash.h>

#include "quant/pq.hpp"
#include "quant/tile.hpp"

namespace strata::quant {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the PQ blob is little-endian; a big-endian port must byte-swap");

constexpr char kMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'P', 'Q'};
constexpr uint16_t kMajor = 1;
constexpr uint16_t kMinor = 0;
constexpr uint32_t kHeaderBytes = 128;
constexpr uint32_t kMaxHeaderBytes = 4096;
constexpr uint32_t kSectionTableOffset = 56;
constexpr uint32_t kSectionEntryBytes = 24;
constexpr uint32_t kSections = 2;
constexpr uint32_t kFlagCentered = 1;
constexpr uint32_t kKnownFlags = kFlagCentered;

template <typename T>
void put(std::string& out, size_t offset, T value) {
    std::memcpy(out.data() + offset, &value, sizeof(T));
}

template <typename T>
T get(std::string_view in, size_t offset) {
    T value;
    std::memcpy(&value, in.data() + offset, sizeof(T));
    return value;
}

uint64_t xxh3(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

struct Section {
    uint64_t offset;
    uint64_t size;
    uint64_t checksum;
};

/// Reads the header fields every reader understands; sections checked by the caller.
struct Header {
    uint32_t header_bytes;
    uint32_t dim;
    uint32_t bytes;
    uint32_t flags;
    uint64_t train_rows;
    double train_mse;
    Section sections[kSections];
};

Result<Header> parse_header(std::string_view in, std::string_view name) {
    auto corrupt = [&](const std::string& what) {
        return Status::corruption(fmt::format("{}: PQ codebook: {}", name, what));
    };
    if (in.size() < 16) return corrupt(fmt::format("truncated ({} bytes)", in.size()));
    if (std::memcmp(in.data(), kMagic, sizeof(kMagic)) != 0) {
        return corrupt("bad magic (not a strata PQ codebook)");
    }
    const auto major = get<uint16_t>(in, 8);
    if (major != kMajor) {
        return Status::not_supported(
            fmt::format("{}: PQ codebook format {}.{} (this build reads {}.x)", name, major,
                        get<uint16_t>(in, 10), kMajor));
    }
    Header h{};
    h.header_bytes = get<uint32_t>(in, 12);
    if (h.header_bytes < kHeaderBytes || h.header_bytes > kMaxHeaderBytes ||
        h.header_bytes % 8 != 0 || h.header_bytes > in.size()) {
        return corrupt(fmt::format("header length {} is invalid for a {}-byte blob", h.header_bytes,
                                   in.size()));
    }
    if (get<uint64_t>(in, h.header_bytes - 8) != xxh3(in.substr(0, h.header_bytes - 8))) {
        return corrupt("header checksum mismatch");
    }
    h.dim = get<uint32_t>(in, 16);
    h.bytes = get<uint32_t>(in, 20);
    h.flags = get<uint32_t>(in, 28);
    h.train_rows = get<uint64_t>(in, 32);
    h.train_mse = get<double>(in, 40);
    const auto section_count = get<uint32_t>(in, 48);
    if (h.dim == 0 || h.dim > kMaxDimension) return corrupt(fmt::format("dimension {}", h.dim));
    if (h.bytes == 0 || h.bytes > h.dim) {
        return corrupt(fmt::format("{} chunks for dimension {}", h.bytes, h.dim));
    }
    if (get<uint32_t>(in, 24) != kPqCentroidsPerChunk) {
        return corrupt(fmt::format("{} centroids per chunk", get<uint32_t>(in, 24)));
    }
    if ((h.flags & ~kKnownFlags) != 0) {
        return Status::not_supported(fmt::format("{}: PQ codebook flags {:#x}", name, h.flags));
    }
    if (!std::isfinite(h.train_mse) || h.train_mse < 0) return corrupt("training error field");
    if (section_count < kSections ||
        section_count > (h.header_bytes - 8 - kSectionTableOffset) / kSectionEntryBytes) {
        return corrupt(fmt::format("{} sections", section_count));
    }
    for (uint32_t i = 0; i < kSections; ++i) {
        const size_t at = kSectionTableOffset + size_t{i} * kSectionEntryBytes;
        h.sections[i] = {get<uint64_t>(in, at), get<uint64_t>(in, at + 8),
                         get<uint64_t>(in, at + 16)};
    }
    return h;
}

/// Checks section `i` against its expected size, the blob bounds and its checksum, and returns
/// its bytes.
Result<std::string_view> section(std::string_view in, const Header& h, uint32_t i,
                                 uint64_t expected_size, std::string_view name) {
    const Section& s = h.sections[i];
    const char* what = i == 0 ? "mean" : "centroids";
    if (s.size != expected_size || s.offset < h.header_bytes || s.offset > in.size() ||
        s.size > in.size() - s.offset) {
        return Status::corruption(fmt::format(
            "{}: PQ codebook: {} section (offset {}, {} bytes) does not fit a {}-byte blob "
            "(expected {} bytes)",
            name, what, s.offset, s.size, in.size(), expected_size));
    }
    const std::string_view bytes = in.substr(s.offset, s.size);
    if (xxh3(bytes) != s.checksum) {
        return Status::corruption(
            fmt::format("{}: PQ codebook: {} section checksum mismatch", name, what));
    }
    return bytes;
}

std::vector<float> floats(std::string_view bytes) {
    std::vector<float> v(bytes.size() / sizeof(float));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
    return v;
}

}  // namespace

std::string PqCodebook::serialize() const {
    const uint64_t mean_bytes = uint64_t{dim_} * sizeof(float);
    const uint64_t centroid_bytes = centroids_.size() * sizeof(float);
    std::string out(kHeaderBytes + mean_bytes + centroid_bytes, '\0');
    std::memcpy(out.data(), kMagic, sizeof(kMagic));
    put<uint16_t>(out, 8, kMajor);
    put<uint16_t>(out, 10, kMinor);
    put<uint32_t>(out, 12, kHeaderBytes);
    put<uint32_t>(out, 16, dim_);
    put<uint32_t>(out, 20, bytes_);
    put<uint32_t>(out, 24, kPqCentroidsPerChunk);
    put<uint32_t>(out, 28, centered_ ? kFlagCentered : 0);
    put<uint64_t>(out, 32, train_rows_);
    put<double>(out, 40, train_mse_);
    put<uint32_t>(out, 48, kSections);
    std::memcpy(out.data() + kHeaderBytes, mean_.data(), mean_bytes);
    std::memcpy(out.data() + kHeaderBytes + mean_bytes, centroids_.data(), centroid_bytes);
    const Section sections[kSections] = {
        {kHeaderBytes, mean_bytes, xxh3(std::string_view(out).substr(kHeaderBytes, mean_bytes))},
        {kHeaderBytes + mean_bytes, centroid_bytes,
         xxh3(std::string_view(out).substr(kHeaderBytes + mean_bytes, centroid_bytes))}};
    for (uint32_t i = 0; i < kSections; ++i) {
        const size_t at = kSectionTableOffset + size_t{i} * kSectionEntryBytes;
        put<uint64_t>(out, at, sections[i].offset);
        put<uint64_t>(out, at + 8, sections[i].size);
        put<uint64_t>(out, at + 16, sections[i].checksum);
    }
    put<uint64_t>(out, kHeaderBytes - 8, xxh3(std::string_view(out).substr(0, kHeaderBytes - 8)));
    return out;
}

Result<PqCodebook> PqCodebook::deserialize(std::string_view bytes, std::string_view source_name) {
    try {
        STRATA_ASSIGN_OR_RETURN(const Header h, parse_header(bytes, source_name));
        const uint64_t mean_bytes = uint64_t{h.dim} * sizeof(float);
        STRATA_ASSIGN_OR_RETURN(const std::string_view mean,
                                section(bytes, h, 0, mean_bytes, source_name));
        STRATA_ASSIGN_OR_RETURN(
            const std::string_view centroids,
            section(bytes, h, 1, mean_bytes * kPqCentroidsPerChunk, source_name));
        const Section& a = h.sections[0];
        const Section& b = h.sections[1];
        if (a.offset < b.offset + b.size && b.offset < a.offset + a.size) {
            return Status::corruption(
                fmt::format("{}: PQ codebook: mean and centroid sections overlap", source_name));
        }
        PqCodebook cb;
        cb.dim_ = h.dim;
        cb.bytes_ = h.bytes;
        cb.centered_ = (h.flags & kFlagCentered) != 0;
        cb.train_rows_ = h.train_rows;
        cb.train_mse_ = h.train_mse;
        cb.mean_ = floats(mean);
        cb.centroids_ = floats(centroids);
        const bool mean_ok = cb.centered_ || std::all_of(cb.mean_.begin(), cb.mean_.end(),
                                                         [](float v) { return v == 0.0f; });
        if (!detail::all_finite(cb.mean_.data(), cb.mean_.size()) ||
            !detail::all_finite(cb.centroids_.data(), cb.centroids_.size()) || !mean_ok) {
            return Status::corruption(fmt::format(
                "{}: PQ codebook: non-finite values, or a mean in an uncentered codebook",
                source_name));
        }
        cb.set_layout();
        cb.derive();
        return cb;
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(
            fmt::format("{}: PQ codebook: out of memory while loading", source_name));
    } catch (const std::exception& e) {
        return Status::internal(fmt::format("{}: PQ codebook: {}", source_name, e.what()));
    }
}

}  // namespace strata::quant
