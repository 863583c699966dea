// The on-disk index format (docs/format.md): constants, node sector layout, and the encoding of
// the index.strata header and of the companion-file header.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <strata/status.hpp>
#include <strata/types.hpp>

namespace strata::disk {

static_assert(std::endian::native == std::endian::little,
              "strata's file formats are little-endian; a big-endian port must byte-swap");

/// Format version written by this build. Readers refuse another major; a newer minor only adds
/// fields in bytes that older readers skip, so it stays readable.
inline constexpr uint16_t kFormatMajor = 1;
inline constexpr uint16_t kFormatMinor = 0;

/// Unit of every node read (O_DIRECT): node sectors start at multiples of it in index.strata.
inline constexpr uint32_t kSectorBytes = 4096;
/// Size of the index.strata header written by this build (sector 0).
inline constexpr uint32_t kIndexHeaderBytes = 4096;
/// Largest header a reader accepts (header_bytes is a multiple of kSectorBytes up to this).
inline constexpr uint32_t kMaxIndexHeaderBytes = 1u << 20;
/// Default node-section bytes covered by one entry of the block checksum table.
inline constexpr uint32_t kDefaultChecksumBlockBytes = 1u << 20;
/// Size of the companion header written by this build; readers accept up to kSectorBytes.
inline constexpr uint32_t kCompanionHeaderBytes = 64;
/// Largest neighbour list (R) the format accepts.
inline constexpr uint32_t kMaxDegree = 1024;
/// Node ids are u32; this value is never a node (it marks "no entry point" in an empty index).
inline constexpr uint32_t kNoNode = 0xFFFFFFFFu;
/// Most nodes an index can hold (ids 0 .. kMaxNodeCount-1).
inline constexpr uint64_t kMaxNodeCount = kNoNode;
/// Most entries of the files table; longest companion file name (bytes, without the NUL).
inline constexpr uint32_t kMaxFiles = 32;
inline constexpr size_t kMaxFileNameBytes = 31;

inline constexpr char kIndexFileName[] = "index.strata";
inline constexpr char kIndexMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'I', 'X'};
inline constexpr char kCompanionMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'F', '\0'};

/// What a companion file holds. Values are stable (written into files); new kinds are added in a
/// minor version and readers ignore kinds they do not know.
enum class FileKind : uint32_t {
    kMetaJson = 1,    ///< meta.json: plain JSON, no companion header.
    kPqCodebook = 2,  ///< pq.codebook: opaque bytes serialized by the quant module.
    kPqCodes = 3,     ///< pq.codes: node_count records of pq_bytes (record_bytes) each.
    kIds = 4,         ///< ids.u64: node_count external ids, u64 each.
    kNavGraph = 5,    ///< nav.graph: reserved for the navigation graph.
    kLabels = 6,      ///< labels: reserved for filter labels.
};

/// True for the kinds this build knows.
bool is_known_kind(FileKind kind);
/// True for kinds holding exactly one fixed-size record per node (pq.codes, ids.u64).
bool is_per_node_kind(FileKind kind);
/// The file name a kind is stored under ("meta.json", "pq.codes", ...); "" for unknown kinds.
std::string_view default_file_name(FileKind kind);

// ---- node layout -----------------------------------------------------------------------------

/// A node as stored: [vector | zero pad to 4 B | degree u32 | degree_max neighbour ids u32].
/// Points into a buffer holding the node; valid while that buffer is.
struct NodeView {
    const uint8_t* vector = nullptr;  ///< dim elements of the index dtype
    uint32_t degree = 0;              ///< as stored; > degree_max means a damaged node
    /// The first min(degree, degree_max) neighbour ids.
    std::span<const uint32_t> neighbors;
    bool valid(uint32_t degree_max) const { return degree <= degree_max; }
};

/// Where each node lives in index.strata; computable from the header alone. A node either shares
/// a sector with others (nodes_per_sector >= 1, sectors_per_node == 1) or spans several whole
/// sectors alone (sectors_per_node > 1, nodes_per_sector == 1). Nodes never straddle a sector
/// boundary unless they span whole sectors. A value type; all methods are const and thread-safe.
struct NodeLayout {
    uint32_t dim = 0;
    DType dtype = DType::kF32;
    uint32_t degree_max = 0;
    uint64_t node_count = 0;
    uint32_t vector_bytes = 0;      ///< dim * dtype_size rounded up to 4 bytes
    uint32_t node_bytes = 0;        ///< vector_bytes + 4 + 4 * degree_max
    uint32_t nodes_per_sector = 0;  ///< max(1, kSectorBytes / node_bytes)
    uint32_t sectors_per_node = 0;  ///< ceil(node_bytes / kSectorBytes)
    uint64_t node_section_offset_bytes = kIndexHeaderBytes;  ///< file offset of node sector 0

    /// InvalidArgument for dim outside [1, kMaxDimension], degree_max outside [1, kMaxDegree],
    /// node_count above kMaxNodeCount or a node_section_offset_bytes not a sector multiple.
    static Result<NodeLayout> compute(uint32_t dim, DType dtype, uint32_t degree_max,
                                      uint64_t node_count,
                                      uint64_t node_section_offset_bytes = kIndexHeaderBytes);

    /// Sectors in the node section: ceil(n / nodes_per_sector) or n * sectors_per_node.
    uint64_t node_sector_count() const;
    uint64_t node_section_bytes() const { return node_sector_count() * kSectorBytes; }
    /// Sector index of node `id` within the node section (0 = first node sector).
    uint64_t section_sector_of(uint64_t id) const;
    /// Absolute sector number of node `id` in index.strata (sector 0 is the header).
    uint64_t sector_of(uint64_t id) const;
    /// Byte offset of node `id` inside its first sector (0 for spanning nodes).
    uint32_t offset_in_sector(uint64_t id) const;
    /// Absolute byte offset of node `id` in index.strata.
    uint64_t offset_of(uint64_t id) const;
    /// Bytes one node read covers: sectors_per_node * kSectorBytes.
    uint32_t read_bytes() const { return sectors_per_node * kSectorBytes; }

    /// An O_DIRECT-ready read for one node: offset and length are sector multiples and the node
    /// starts `node_offset_bytes` into the buffer read.
    struct ReadSpan {
        uint64_t offset_bytes = 0;
        uint32_t length_bytes = 0;
        uint32_t node_offset_bytes = 0;
    };
    ReadSpan read_span(uint64_t id) const;

    /// Node ids with at least one byte in the node-section byte range [begin, end), as
    /// [first, last) (empty when the range only holds padding).
    std::pair<uint64_t, uint64_t> nodes_in_range(uint64_t begin_bytes, uint64_t end_bytes) const;

    /// Offsets within a node.
    uint32_t degree_offset() const { return vector_bytes; }
    uint32_t neighbors_offset() const { return vector_bytes + 4; }

    /// Writes one node (node_bytes bytes) to `out`: the vector, zero padding, the degree, the
    /// neighbours and zeroed unused slots. Asserts neighbors.size() <= degree_max.
    void encode_node(const void* vector, std::span<const uint32_t> neighbors, uint8_t* out) const;
    /// Decodes the node at `node` (node_bytes readable bytes, 4-byte aligned; asserted).
    NodeView view_node(const uint8_t* node) const;
};

// ---- index.strata header ---------------------------------------------------------------------

/// One row of the header's files table: a companion file of the index directory.
struct FileEntry {
    FileKind kind = FileKind::kMetaJson;
    std::string name;           ///< file name inside the index directory
    uint64_t file_bytes = 0;    ///< size of the whole file
    uint64_t content_xxh3 = 0;  ///< xxh3 of the payload (of the whole file for meta.json)
};

/// Byte offsets of the index.strata header fields (the table in docs/format.md). Exposed for
/// tools and tests that patch single fields; everything else uses IndexHeader.
namespace header_offsets {
inline constexpr size_t kOffMagic = 0;             // 8 bytes "STRATAIX"
inline constexpr size_t kOffMajor = 8;             // u16
inline constexpr size_t kOffMinor = 10;            // u16
inline constexpr size_t kOffHeaderBytes = 12;      // u32
inline constexpr size_t kOffUid = 16;              // u64
inline constexpr size_t kOffMetric = 24;           // u8
inline constexpr size_t kOffDtype = 25;            // u8
inline constexpr size_t kOffDim = 28;              // u32
inline constexpr size_t kOffNodeCount = 32;        // u64
inline constexpr size_t kOffDegreeMax = 40;        // u32
inline constexpr size_t kOffVectorBytes = 44;      // u32
inline constexpr size_t kOffNodeBytes = 48;        // u32
inline constexpr size_t kOffSectorBytes = 52;      // u32
inline constexpr size_t kOffNodesPerSector = 56;   // u32
inline constexpr size_t kOffSectorsPerNode = 60;   // u32
inline constexpr size_t kOffEntryPoint = 64;       // u32
inline constexpr size_t kOffBlockBytes = 68;       // u32
inline constexpr size_t kOffNodeOffset = 72;       // u64
inline constexpr size_t kOffNodeLength = 80;       // u64
inline constexpr size_t kOffSumOffset = 88;        // u64
inline constexpr size_t kOffSumLength = 96;        // u64
inline constexpr size_t kOffSumXxh3 = 104;         // u64
inline constexpr size_t kOffFileCount = 112;       // u32
inline constexpr size_t kOffFileEntryBytes = 116;  // u32
inline constexpr size_t kOffFileTable = 120;       // u32
inline constexpr uint32_t kFileTableOffset = 256;  // where this build puts the files table
// One files-table entry (kFileEntryBytes long):
inline constexpr uint32_t kFileEntryBytes = 56;
inline constexpr size_t kEntOffKind = 0;        // u32
inline constexpr size_t kEntOffName = 8;        // 32 bytes, NUL-padded
inline constexpr size_t kEntOffFileBytes = 40;  // u64
inline constexpr size_t kEntOffXxh3 = 48;       // u64
inline constexpr size_t kEntNameBytes = 32;
}  // namespace header_offsets

/// Byte offsets of the companion header fields.
namespace companion_offsets {
inline constexpr size_t kCompOffMajor = 8;          // u16
inline constexpr size_t kCompOffMinor = 10;         // u16
inline constexpr size_t kCompOffHeaderBytes = 12;   // u32
inline constexpr size_t kCompOffKind = 16;          // u32
inline constexpr size_t kCompOffRecordBytes = 20;   // u32
inline constexpr size_t kCompOffPayloadBytes = 24;  // u64
inline constexpr size_t kCompOffPayloadXxh3 = 32;   // u64
inline constexpr size_t kCompOffUid = 40;           // u64
}  // namespace companion_offsets

/// The decoded header sector of index.strata (byte offsets in docs/format.md).
struct IndexHeader {
    uint16_t version_major = kFormatMajor;
    uint16_t version_minor = kFormatMinor;
    uint32_t header_bytes = kIndexHeaderBytes;
    uint64_t index_uid = 0;  ///< random per build; companions carry the same value
    Metric metric = Metric::kL2;
    NodeLayout layout;  ///< dim, dtype, degree_max, node_count and the derived sizes
    uint32_t entry_point = kNoNode;
    uint32_t checksum_block_bytes = kDefaultChecksumBlockBytes;
    uint64_t checksum_section_offset = 0;
    uint64_t checksum_section_bytes = 0;
    uint64_t checksum_section_xxh3 = 0;
    std::vector<FileEntry> files;

    /// Blocks of the node section covered by one checksum each.
    uint64_t checksum_block_count() const;
    /// Exact size of a complete index.strata.
    uint64_t file_bytes() const { return checksum_section_offset + checksum_section_bytes; }
    /// The entry of `kind`, or nullptr.
    const FileEntry* find(FileKind kind) const;
};

/// Reads the fixed preamble (first 16 bytes) of a candidate index.strata: Corruption for a
/// short file or a wrong magic, NotSupported for another major version, Corruption for a
/// header_bytes that is not a sector multiple in [kSectorBytes, kMaxIndexHeaderBytes].
/// Returns header_bytes. `path` names the file in messages.
Result<uint32_t> check_index_preamble(const std::string& path, std::span<const uint8_t> bytes);
/// Decodes a full header (`bytes` holds header_bytes bytes): checksum, field ranges and the
/// node layout recomputed from dim/dtype/degree_max. Does not look at other files.
Result<IndexHeader> decode_index_header(const std::string& path, std::span<const uint8_t> bytes);
/// Encodes `header` into `out` (header.header_bytes bytes), zero-filling reserved bytes and
/// storing the header checksum in its last 8 bytes.
void encode_index_header(const IndexHeader& header, std::span<uint8_t> out);

// ---- companion header ------------------------------------------------------------------------

/// The header at the start of every companion file except meta.json.
struct CompanionHeader {
    uint16_t version_major = kFormatMajor;
    uint16_t version_minor = kFormatMinor;
    uint32_t header_bytes = kCompanionHeaderBytes;  ///< payload starts here
    FileKind kind = FileKind::kPqCodebook;
    uint32_t record_bytes = 0;  ///< bytes per record; 0 = one opaque blob
    uint64_t payload_bytes = 0;
    uint64_t payload_xxh3 = 0;
    uint64_t index_uid = 0;
};

/// Decodes a companion header from `bytes`, the first min(file size, kSectorBytes) bytes of
/// `path`: Corruption for a short file, a wrong magic, a header_bytes outside
/// [kCompanionHeaderBytes, kSectorBytes] or past the file, or a checksum mismatch; NotSupported
/// for another major version.
Result<CompanionHeader> decode_companion_header(const std::string& path,
                                                std::span<const uint8_t> bytes);
/// Encodes `header` into `out` (header.header_bytes bytes), checksum last.
void encode_companion_header(const CompanionHeader& header, std::span<uint8_t> out);

}  // namespace strata::disk
