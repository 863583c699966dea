// Encoding and validation of the index.strata header, companion headers and the node layout.
#include "disk/format.hpp"

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "core/check.hpp"
#include "disk/checksum.hpp"

namespace strata::disk {
namespace {

using namespace header_offsets;     // NOLINT(google-build-using-namespace)
using namespace companion_offsets;  // NOLINT(google-build-using-namespace)

constexpr size_t kPreambleBytes = 16;

template <typename T>
void store(std::span<uint8_t> out, size_t offset, T value) {
    STRATA_CHECK(offset + sizeof(T) <= out.size());
    std::memcpy(out.data() + offset, &value, sizeof(T));
}

template <typename T>
T load(std::span<const uint8_t> in, size_t offset) {
    STRATA_CHECK(offset + sizeof(T) <= in.size());
    T value;
    std::memcpy(&value, in.data() + offset, sizeof(T));
    return value;
}

uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

/// The 8 magic bytes as printable text for messages ("STRATAIX", "\x7fELF...").
std::string printable(std::span<const uint8_t> bytes) {
    std::string out;
    for (const uint8_t c : bytes) {
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("\\x{:02x}", c);
        }
    }
    return out;
}

bool valid_file_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxFileNameBytes || name == "." || name == ".." ||
        name == kIndexFileName) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

Result<FileEntry> decode_file_entry(const std::string& path, std::span<const uint8_t> entry,
                                    uint32_t index) {
    FileEntry e;
    e.kind = static_cast<FileKind>(load<uint32_t>(entry, kEntOffKind));
    const auto* name = reinterpret_cast<const char*>(entry.data() + kEntOffName);
    const size_t len = strnlen(name, kEntNameBytes);
    e.name.assign(name, len);
    e.file_bytes = load<uint64_t>(entry, kEntOffFileBytes);
    e.content_xxh3 = load<uint64_t>(entry, kEntOffXxh3);
    if (len == kEntNameBytes || !valid_file_name(e.name)) {
        return Status::corruption(fmt::format("{}: files table entry {} has an invalid name '{}'",
                                              path, index,
                                              printable(entry.subspan(kEntOffName, len))));
    }
    if (is_known_kind(e.kind)) {
        if (e.name != default_file_name(e.kind)) {
            return Status::corruption(fmt::format(
                "{}: files table entry {} names '{}' for kind {} (expected '{}')", path, index,
                e.name, static_cast<uint32_t>(e.kind), default_file_name(e.kind)));
        }
    }
    return e;
}

Status check_layout_fields(const std::string& path, std::span<const uint8_t> b,
                           const NodeLayout& l) {
    const uint32_t vector_bytes = load<uint32_t>(b, kOffVectorBytes);
    const uint32_t node_bytes = load<uint32_t>(b, kOffNodeBytes);
    const uint32_t nps = load<uint32_t>(b, kOffNodesPerSector);
    const uint32_t spn = load<uint32_t>(b, kOffSectorsPerNode);
    if (vector_bytes != l.vector_bytes || node_bytes != l.node_bytes || nps != l.nodes_per_sector ||
        spn != l.sectors_per_node) {
        return Status::corruption(fmt::format(
            "{}: header layout (vector_bytes {}, node_bytes {}, nodes_per_sector {}, "
            "sectors_per_node {}) disagrees with dim {} {} R {} (expected {}, {}, {}, {})",
            path, vector_bytes, node_bytes, nps, spn, l.dim, dtype_name(l.dtype), l.degree_max,
            l.vector_bytes, l.node_bytes, l.nodes_per_sector, l.sectors_per_node));
    }
    const uint64_t node_length = load<uint64_t>(b, kOffNodeLength);
    if (node_length != l.node_section_bytes()) {
        return Status::corruption(
            fmt::format("{}: node section length {} disagrees with {} nodes ({} expected)", path,
                        node_length, l.node_count, l.node_section_bytes()));
    }
    return Status::ok();
}

Status check_sections(const std::string& path, const IndexHeader& h) {
    const NodeLayout& l = h.layout;
    if (h.checksum_block_bytes == 0 || h.checksum_block_bytes % kSectorBytes != 0 ||
        h.checksum_block_bytes > (1u << 30)) {
        return Status::corruption(
            fmt::format("{}: checksum block size {} is not a multiple of {} in (0, 1 GiB]", path,
                        h.checksum_block_bytes, kSectorBytes));
    }
    if (l.node_section_offset_bytes < h.header_bytes) {
        return Status::corruption(
            fmt::format("{}: node section offset {} overlaps the {}-byte "
                        "header",
                        path, l.node_section_offset_bytes, h.header_bytes));
    }
    const uint64_t node_end = l.node_section_offset_bytes + l.node_section_bytes();
    if (h.checksum_section_offset < node_end) {
        return Status::corruption(
            fmt::format("{}: checksum section offset {} overlaps the node section ending at {}",
                        path, h.checksum_section_offset, node_end));
    }
    if (h.checksum_section_bytes != h.checksum_block_count() * 8) {
        return Status::corruption(fmt::format(
            "{}: checksum section holds {} bytes, {} blocks need {}", path,
            h.checksum_section_bytes, h.checksum_block_count(), h.checksum_block_count() * 8));
    }
    if (h.checksum_section_offset > (uint64_t{1} << 62)) {
        return Status::corruption(fmt::format("{}: checksum section offset {} is implausible", path,
                                              h.checksum_section_offset));
    }
    const bool empty = l.node_count == 0;
    if (empty ? h.entry_point != kNoNode : h.entry_point >= l.node_count) {
        return Status::corruption(fmt::format("{}: entry point {} is not a node of {}", path,
                                              h.entry_point, l.node_count));
    }
    return Status::ok();
}

Status decode_file_table(const std::string& path, std::span<const uint8_t> b, IndexHeader* h) {
    const uint32_t count = load<uint32_t>(b, kOffFileCount);
    const uint32_t entry_bytes = load<uint32_t>(b, kOffFileEntryBytes);
    const uint32_t table = load<uint32_t>(b, kOffFileTable);
    if (count > kMaxFiles || entry_bytes < kFileEntryBytes || entry_bytes > 1024 ||
        table < kOffFileTable + 8 ||
        uint64_t{table} + uint64_t{count} * entry_bytes > b.size() - 8) {
        return Status::corruption(
            fmt::format("{}: files table ({} entries of {} bytes at offset {}) does not fit the "
                        "header",
                        path, count, entry_bytes, table));
    }
    std::set<std::string> names;
    std::set<uint32_t> kinds;
    for (uint32_t i = 0; i < count; ++i) {
        STRATA_ASSIGN_OR_RETURN(
            FileEntry e,
            decode_file_entry(path, b.subspan(table + size_t{i} * entry_bytes, entry_bytes), i));
        if (!names.insert(e.name).second || !kinds.insert(static_cast<uint32_t>(e.kind)).second) {
            return Status::corruption(fmt::format("{}: files table lists '{}' (kind {}) twice",
                                                  path, e.name, static_cast<uint32_t>(e.kind)));
        }
        h->files.push_back(std::move(e));
    }
    return Status::ok();
}

}  // namespace

bool is_known_kind(FileKind kind) {
    switch (kind) {
        case FileKind::kMetaJson:
        case FileKind::kPqCodebook:
        case FileKind::kPqCodes:
        case FileKind::kIds:
        case FileKind::kNavGraph:
        case FileKind::kLabels:
            return true;
    }
    return false;
}

bool is_per_node_kind(FileKind kind) {
    return kind == FileKind::kPqCodes || kind == FileKind::kIds;
}

std::string_view default_file_name(FileKind kind) {
    switch (kind) {
        case FileKind::kMetaJson:
            return "meta.json";
        case FileKind::kPqCodebook:
            return "pq.codebook";
        case FileKind::kPqCodes:
            return "pq.codes";
        case FileKind::kIds:
            return "ids.u64";
        case FileKind::kNavGraph:
            return "nav.graph";
        case FileKind::kLabels:
            return "labels";
    }
    return "";
}

// ---- NodeLayout --------------------------------------------------------------------------------

Result<NodeLayout> NodeLayout::compute(uint32_t dim, DType dtype, uint32_t degree_max,
                                       uint64_t node_count, uint64_t node_section_offset_bytes) {
    if (dim == 0 || dim > kMaxDimension) {
        return Status::invalid_argument(
            fmt::format("dimension {} is outside [1, {}]", dim, kMaxDimension));
    }
    if (dtype != DType::kF32 && dtype != DType::kU8 && dtype != DType::kI8) {
        return Status::invalid_argument(
            fmt::format("unknown dtype code {}", static_cast<unsigned>(dtype)));
    }
    if (degree_max == 0 || degree_max > kMaxDegree) {
        return Status::invalid_argument(
            fmt::format("degree_max (R) {} is outside [1, {}]", degree_max, kMaxDegree));
    }
    if (node_count > kMaxNodeCount) {
        return Status::invalid_argument(
            fmt::format("node count {} exceeds the format's limit {}", node_count, kMaxNodeCount));
    }
    if (node_section_offset_bytes == 0 || node_section_offset_bytes % kSectorBytes != 0) {
        return Status::invalid_argument(
            fmt::format("node section offset {} is not a positive multiple of {}",
                        node_section_offset_bytes, kSectorBytes));
    }
    NodeLayout l;
    l.dim = dim;
    l.dtype = dtype;
    l.degree_max = degree_max;
    l.node_count = node_count;
    l.vector_bytes = static_cast<uint32_t>((dim * dtype_size(dtype) + 3) / 4 * 4);
    l.node_bytes = l.vector_bytes + 4 + 4 * degree_max;
    l.nodes_per_sector = std::max<uint32_t>(1, kSectorBytes / l.node_bytes);
    l.sectors_per_node = static_cast<uint32_t>(ceil_div(l.node_bytes, kSectorBytes));
    l.node_section_offset_bytes = node_section_offset_bytes;
    return l;
}

uint64_t NodeLayout::node_sector_count() const {
    if (sectors_per_node > 1) return node_count * sectors_per_node;
    return ceil_div(node_count, nodes_per_sector);
}

uint64_t NodeLayout::section_sector_of(uint64_t id) const {
    return sectors_per_node > 1 ? id * sectors_per_node : id / nodes_per_sector;
}

uint64_t NodeLayout::sector_of(uint64_t id) const {
    return node_section_offset_bytes / kSectorBytes + section_sector_of(id);
}

uint32_t NodeLayout::offset_in_sector(uint64_t id) const {
    if (sectors_per_node > 1) return 0;
    return static_cast<uint32_t>(id % nodes_per_sector) * node_bytes;
}

uint64_t NodeLayout::offset_of(uint64_t id) const {
    return node_section_offset_bytes + section_sector_of(id) * kSectorBytes + offset_in_sector(id);
}

NodeLayout::ReadSpan NodeLayout::read_span(uint64_t id) const {
    ReadSpan span;
    span.offset_bytes = node_section_offset_bytes + section_sector_of(id) * kSectorBytes;
    span.length_bytes = read_bytes();
    span.node_offset_bytes = offset_in_sector(id);
    return span;
}

std::pair<uint64_t, uint64_t> NodeLayout::nodes_in_range(uint64_t begin_bytes,
                                                         uint64_t end_bytes) const {
    if (begin_bytes >= end_bytes || node_count == 0) return {0, 0};
    const uint64_t last_byte = end_bytes - 1;
    uint64_t first = 0;
    uint64_t last = 0;
    if (sectors_per_node > 1) {
        const uint64_t stride = uint64_t{sectors_per_node} * kSectorBytes;
        first = begin_bytes / stride + (begin_bytes % stride >= node_bytes ? 1 : 0);
        last = last_byte / stride + 1;
    } else {
        const uint64_t used = uint64_t{nodes_per_sector} * node_bytes;
        const uint64_t b_off = begin_bytes % kSectorBytes;
        const uint64_t e_off = last_byte % kSectorBytes;
        first = begin_bytes / kSectorBytes * nodes_per_sector +
                (b_off < used ? b_off / node_bytes : nodes_per_sector);
        last = last_byte / kSectorBytes * nodes_per_sector +
               (e_off < used ? e_off / node_bytes + 1 : nodes_per_sector);
    }
    first = std::min(first, node_count);
    last = std::min(last, node_count);
    if (first >= last) return {first, first};
    return {first, last};
}

void NodeLayout::encode_node(const void* vector, std::span<const uint32_t> neighbors,
                             uint8_t* out) const {
    STRATA_CHECK(neighbors.size() <= degree_max);
    std::memset(out, 0, node_bytes);
    std::memcpy(out, vector, size_t{dim} * dtype_size(dtype));
    const auto degree = static_cast<uint32_t>(neighbors.size());
    std::memcpy(out + degree_offset(), &degree, 4);
    if (!neighbors.empty()) {
        std::memcpy(out + neighbors_offset(), neighbors.data(), neighbors.size_bytes());
    }
}

NodeView NodeLayout::view_node(const uint8_t* node) const {
    STRATA_CHECK(reinterpret_cast<uintptr_t>(node) % 4 == 0);
    NodeView v;
    v.vector = node;
    std::memcpy(&v.degree, node + degree_offset(), 4);
    v.neighbors =
        std::span<const uint32_t>(reinterpret_cast<const uint32_t*>(node + neighbors_offset()),
                                  std::min(v.degree, degree_max));
    return v;
}

// ---- IndexHeader -------------------------------------------------------------------------------

uint64_t IndexHeader::checksum_block_count() const {
    if (checksum_block_bytes == 0) return 0;
    return ceil_div(layout.node_section_bytes(), checksum_block_bytes);
}

const FileEntry* IndexHeader::find(FileKind kind) const {
    for (const FileEntry& e : files) {
        if (e.kind == kind) return &e;
    }
    return nullptr;
}

Result<uint32_t> check_index_preamble(const std::string& path, std::span<const uint8_t> bytes) {
    if (bytes.empty()) return Status::corruption(fmt::format("{}: empty file", path));
    const size_t magic_bytes = std::min(bytes.size(), sizeof(kIndexMagic));
    if (bytes.size() < kPreambleBytes && std::memcmp(bytes.data(), kIndexMagic, magic_bytes) == 0) {
        return Status::corruption(fmt::format("{}: truncated: {} bytes, a header needs {}", path,
                                              bytes.size(), kIndexHeaderBytes));
    }
    if (bytes.size() < kPreambleBytes ||
        std::memcmp(bytes.data(), kIndexMagic, sizeof(kIndexMagic)) != 0) {
        const auto magic = bytes.first(std::min<size_t>(bytes.size(), sizeof(kIndexMagic)));
        return Status::corruption(fmt::format(
            "{}: not a strata index (magic '{}', expected 'STRATAIX')", path, printable(magic)));
    }
    const auto major = load<uint16_t>(bytes, kOffMajor);
    const auto minor = load<uint16_t>(bytes, kOffMinor);
    if (major != kFormatMajor) {
        return Status::not_supported(
            fmt::format("{}: format version {}.{} is not supported (this build reads {}.x)", path,
                        major, minor, kFormatMajor));
    }
    const auto header_bytes = load<uint32_t>(bytes, kOffHeaderBytes);
    if (header_bytes < kSectorBytes || header_bytes > kMaxIndexHeaderBytes ||
        header_bytes % kSectorBytes != 0) {
        return Status::corruption(fmt::format("{}: header size {} is not a multiple of {} up to {}",
                                              path, header_bytes, kSectorBytes,
                                              kMaxIndexHeaderBytes));
    }
    return header_bytes;
}

Result<IndexHeader> decode_index_header(const std::string& path, std::span<const uint8_t> b) {
    STRATA_ASSIGN_OR_RETURN(const uint32_t header_bytes, check_index_preamble(path, b));
    if (b.size() < header_bytes) {
        return Status::corruption(fmt::format("{}: truncated: {} bytes, the header needs {}", path,
                                              b.size(), header_bytes));
    }
    b = b.first(header_bytes);
    const auto stored = load<uint64_t>(b, header_bytes - 8);
    const uint64_t computed = xxh3_64(b.data(), header_bytes - 8);
    if (stored != computed) {
        return Status::corruption(
            fmt::format("{}: header checksum mismatch (stored {:016x}, computed {:016x})", path,
                        stored, computed));
    }
    IndexHeader h;
    h.version_major = load<uint16_t>(b, kOffMajor);
    h.version_minor = load<uint16_t>(b, kOffMinor);
    h.header_bytes = header_bytes;
    h.index_uid = load<uint64_t>(b, kOffUid);
    const auto metric = load<uint8_t>(b, kOffMetric);
    const auto dtype = load<uint8_t>(b, kOffDtype);
    if (metric > static_cast<uint8_t>(Metric::kCosine) ||
        dtype > static_cast<uint8_t>(DType::kI8)) {
        return Status::not_supported(
            fmt::format("{}: unknown metric code {} or dtype code {}", path, metric, dtype));
    }
    h.metric = static_cast<Metric>(metric);
    if (load<uint32_t>(b, kOffSectorBytes) != kSectorBytes) {
        return Status::not_supported(fmt::format("{}: sector size {} (this build uses {})", path,
                                                 load<uint32_t>(b, kOffSectorBytes), kSectorBytes));
    }
    auto layout = NodeLayout::compute(
        load<uint32_t>(b, kOffDim), static_cast<DType>(dtype), load<uint32_t>(b, kOffDegreeMax),
        load<uint64_t>(b, kOffNodeCount), load<uint64_t>(b, kOffNodeOffset));
    if (!layout.is_ok()) {
        return Status::corruption(fmt::format("{}: header: {}", path, layout.status().message()));
    }
    h.layout = *layout;
    STRATA_RETURN_IF_ERROR(check_layout_fields(path, b, h.layout));
    h.entry_point = load<uint32_t>(b, kOffEntryPoint);
    h.checksum_block_bytes = load<uint32_t>(b, kOffBlockBytes);
    h.checksum_section_offset = load<uint64_t>(b, kOffSumOffset);
    h.checksum_section_bytes = load<uint64_t>(b, kOffSumLength);
    h.checksum_section_xxh3 = load<uint64_t>(b, kOffSumXxh3);
    STRATA_RETURN_IF_ERROR(check_sections(path, h));
    STRATA_RETURN_IF_ERROR(decode_file_table(path, b, &h));
    return h;
}

void encode_index_header(const IndexHeader& h, std::span<uint8_t> out) {
    STRATA_CHECK(out.size() == h.header_bytes && h.header_bytes >= kIndexHeaderBytes);
    STRATA_CHECK(h.files.size() <= kMaxFiles);
    std::fill(out.begin(), out.end(), uint8_t{0});
    std::memcpy(out.data() + kOffMagic, kIndexMagic, sizeof(kIndexMagic));
    const NodeLayout& l = h.layout;
    store<uint16_t>(out, kOffMajor, h.version_major);
    store<uint16_t>(out, kOffMinor, h.version_minor);
    store<uint32_t>(out, kOffHeaderBytes, h.header_bytes);
    store<uint64_t>(out, kOffUid, h.index_uid);
    store<uint8_t>(out, kOffMetric, static_cast<uint8_t>(h.metric));
    store<uint8_t>(out, kOffDtype, static_cast<uint8_t>(l.dtype));
    store<uint32_t>(out, kOffDim, l.dim);
    store<uint64_t>(out, kOffNodeCount, l.node_count);
    store<uint32_t>(out, kOffDegreeMax, l.degree_max);
    store<uint32_t>(out, kOffVectorBytes, l.vector_bytes);
    store<uint32_t>(out, kOffNodeBytes, l.node_bytes);
    store<uint32_t>(out, kOffSectorBytes, kSectorBytes);
    store<uint32_t>(out, kOffNodesPerSector, l.nodes_per_sector);
    store<uint32_t>(out, kOffSectorsPerNode, l.sectors_per_node);
    store<uint32_t>(out, kOffEntryPoint, h.entry_point);
    store<uint32_t>(out, kOffBlockBytes, h.checksum_block_bytes);
    store<uint64_t>(out, kOffNodeOffset, l.node_section_offset_bytes);
    store<uint64_t>(out, kOffNodeLength, l.node_section_bytes());
    store<uint64_t>(out, kOffSumOffset, h.checksum_section_offset);
    store<uint64_t>(out, kOffSumLength, h.checksum_section_bytes);
    store<uint64_t>(out, kOffSumXxh3, h.checksum_section_xxh3);
    store<uint32_t>(out, kOffFileCount, static_cast<uint32_t>(h.files.size()));
    store<uint32_t>(out, kOffFileEntryBytes, kFileEntryBytes);
    store<uint32_t>(out, kOffFileTable, kFileTableOffset);
    for (size_t i = 0; i < h.files.size(); ++i) {
        const FileEntry& e = h.files[i];
        STRATA_CHECK(e.name.size() <= kMaxFileNameBytes);
        const auto entry = out.subspan(kFileTableOffset + i * kFileEntryBytes, kFileEntryBytes);
        store<uint32_t>(entry, kEntOffKind, static_cast<uint32_t>(e.kind));
        std::memcpy(entry.data() + kEntOffName, e.name.data(), e.name.size());
        store<uint64_t>(entry, kEntOffFileBytes, e.file_bytes);
        store<uint64_t>(entry, kEntOffXxh3, e.content_xxh3);
    }
    store<uint64_t>(out, h.header_bytes - 8, xxh3_64(out.data(), h.header_bytes - 8));
}

// ---- CompanionHeader ---------------------------------------------------------------------------

Result<CompanionHeader> decode_companion_header(const std::string& path,
                                                std::span<const uint8_t> b) {
    if (b.size() < kCompanionHeaderBytes ||
        std::memcmp(b.data(), kCompanionMagic, sizeof(kCompanionMagic)) != 0) {
        if (b.empty()) return Status::corruption(fmt::format("{}: empty file", path));
        const auto magic = b.first(std::min<size_t>(b.size(), sizeof(kCompanionMagic)));
        return Status::corruption(
            fmt::format("{}: not a strata companion file (magic '{}', {} bytes)", path,
                        printable(magic), b.size()));
    }
    CompanionHeader h;
    h.version_major = load<uint16_t>(b, kCompOffMajor);
    h.version_minor = load<uint16_t>(b, kCompOffMinor);
    if (h.version_major != kFormatMajor) {
        return Status::not_supported(
            fmt::format("{}: format version {}.{} is not supported (this build reads {}.x)", path,
                        h.version_major, h.version_minor, kFormatMajor));
    }
    h.header_bytes = load<uint32_t>(b, kCompOffHeaderBytes);
    if (h.header_bytes < kCompanionHeaderBytes || h.header_bytes > kSectorBytes ||
        h.header_bytes % 8 != 0 || h.header_bytes > b.size()) {
        return Status::corruption(fmt::format(
            "{}: header size {} is outside [{}, {}], unaligned or past the end of the file", path,
            h.header_bytes, kCompanionHeaderBytes, kSectorBytes));
    }
    const auto stored = load<uint64_t>(b, h.header_bytes - 8);
    const uint64_t computed = xxh3_64(b.data(), h.header_bytes - 8);
    if (stored != computed) {
        return Status::corruption(
            fmt::format("{}: header checksum mismatch (stored {:016x}, computed {:016x})", path,
                        stored, computed));
    }
    h.kind = static_cast<FileKind>(load<uint32_t>(b, kCompOffKind));
    h.record_bytes = load<uint32_t>(b, kCompOffRecordBytes);
    h.payload_bytes = load<uint64_t>(b, kCompOffPayloadBytes);
    h.payload_xxh3 = load<uint64_t>(b, kCompOffPayloadXxh3);
    h.index_uid = load<uint64_t>(b, kCompOffUid);
    if (h.record_bytes != 0 && h.payload_bytes % h.record_bytes != 0) {
        return Status::corruption(
            fmt::format("{}: payload of {} bytes is not a whole number of "
                        "{}-byte records",
                        path, h.payload_bytes, h.record_bytes));
    }
    return h;
}

void encode_companion_header(const CompanionHeader& h, std::span<uint8_t> out) {
    STRATA_CHECK(out.size() == h.header_bytes && h.header_bytes >= kCompanionHeaderBytes);
    std::fill(out.begin(), out.end(), uint8_t{0});
    std::memcpy(out.data(), kCompanionMagic, sizeof(kCompanionMagic));
    store<uint16_t>(out, kCompOffMajor, h.version_major);
    store<uint16_t>(out, kCompOffMinor, h.version_minor);
    store<uint32_t>(out, kCompOffHeaderBytes, h.header_bytes);
    store<uint32_t>(out, kCompOffKind, static_cast<uint32_t>(h.kind));
    store<uint32_t>(out, kCompOffRecordBytes, h.record_bytes);
    store<uint64_t>(out, kCompOffPayloadBytes, h.payload_bytes);
    store<uint64_t>(out, kCompOffPayloadXxh3, h.payload_xxh3);
    store<uint64_t>(out, kCompOffUid, h.index_uid);
    store<uint64_t>(out, h.header_bytes - 8, xxh3_64(out.data(), h.header_bytes - 8));
}

}  // namespace strata::disk
