// Tests for disk/format: node layout arithmetic and header/companion encodings.
#include "disk/format.hpp"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "disk/checksum.hpp"
#include "disk_test_util.hpp"

namespace strata::disk {
namespace {

using test::has_error;

TEST(NodeLayout, SeveralNodesPerSector) {
    // The docs/format.md example: d=128 f32 R=64 -> 772-byte nodes, 5 per sector.
    auto l = NodeLayout::compute(128, DType::kF32, 64, 13);
    ASSERT_TRUE(l.is_ok()) << l.status().to_string();
    EXPECT_EQ(l->vector_bytes, 512u);
    EXPECT_EQ(l->node_bytes, 772u);
    EXPECT_EQ(l->nodes_per_sector, 5u);
    EXPECT_EQ(l->sectors_per_node, 1u);
    EXPECT_EQ(l->node_sector_count(), 3u);  // 13 nodes: 5 + 5 + 3
    EXPECT_EQ(l->node_section_bytes(), 3u * 4096);
    EXPECT_EQ(l->sector_of(0), 1u);
    EXPECT_EQ(l->sector_of(7), 2u);
    EXPECT_EQ(l->offset_in_sector(7), 2u * 772);
    EXPECT_EQ(l->offset_of(7), 2u * 4096 + 2 * 772);
    EXPECT_EQ(l->offset_of(12), 3u * 4096 + 2 * 772);
    const auto span = l->read_span(7);
    EXPECT_EQ(span.offset_bytes, 2u * 4096);
    EXPECT_EQ(span.length_bytes, 4096u);
    EXPECT_EQ(span.node_offset_bytes, 2u * 772);
    EXPECT_EQ(l->degree_offset(), 512u);
    EXPECT_EQ(l->neighbors_offset(), 516u);
}

TEST(NodeLayout, NodeSpanningSectors) {
    // d=1536 f32 R=64 -> 6404-byte nodes over 2 sectors each.
    auto l = NodeLayout::compute(1536, DType::kF32, 64, 5);
    ASSERT_TRUE(l.is_ok());
    EXPECT_EQ(l->node_bytes, 6404u);
    EXPECT_EQ(l->nodes_per_sector, 1u);
    EXPECT_EQ(l->sectors_per_node, 2u);
    EXPECT_EQ(l->node_sector_count(), 10u);
    EXPECT_EQ(l->sector_of(3), 7u);
    EXPECT_EQ(l->offset_of(3), 7u * 4096);
    const auto span = l->read_span(3);
    EXPECT_EQ(span.offset_bytes, 7u * 4096);
    EXPECT_EQ(span.length_bytes, 8192u);
    EXPECT_EQ(span.node_offset_bytes, 0u);
}

TEST(NodeLayout, ExactlyOneSectorAndPaddedByteVectors) {
    auto full = NodeLayout::compute(1000, DType::kF32, 23, 3);  // 4000 + 4 + 92 = 4096
    ASSERT_TRUE(full.is_ok());
    EXPECT_EQ(full->node_bytes, 4096u);
    EXPECT_EQ(full->nodes_per_sector, 1u);
    EXPECT_EQ(full->sectors_per_node, 1u);
    EXPECT_EQ(full->offset_of(2), 3u * 4096);
    // u8 vectors are padded to 4 bytes so the degree and neighbours stay aligned.
    auto bytes = NodeLayout::compute(101, DType::kU8, 7, 100);
    ASSERT_TRUE(bytes.is_ok());
    EXPECT_EQ(bytes->vector_bytes, 104u);
    EXPECT_EQ(bytes->node_bytes, 136u);
    EXPECT_EQ(bytes->nodes_per_sector, 30u);
    EXPECT_EQ(bytes->node_sector_count(), 4u);
}

TEST(NodeLayout, NodesInRange) {
    auto l = NodeLayout::compute(128, DType::kF32, 64, 7).value();
    EXPECT_EQ(l.nodes_in_range(0, 4096), (std::pair<uint64_t, uint64_t>{0, 5}));
    EXPECT_EQ(l.nodes_in_range(4096, 8192), (std::pair<uint64_t, uint64_t>{5, 7}));
    EXPECT_EQ(l.nodes_in_range(772, 773), (std::pair<uint64_t, uint64_t>{1, 2}));
    const auto pad = l.nodes_in_range(3860, 4096);  // the padding after 5 nodes
    EXPECT_EQ(pad.first, pad.second);
    auto s = NodeLayout::compute(1536, DType::kF32, 64, 5).value();
    EXPECT_EQ(s.nodes_in_range(0, 8192), (std::pair<uint64_t, uint64_t>{0, 1}));
    EXPECT_EQ(s.nodes_in_range(4096, 12288), (std::pair<uint64_t, uint64_t>{0, 2}));
    EXPECT_EQ(s.nodes_in_range(0, 1 << 20), (std::pair<uint64_t, uint64_t>{0, 5}));
}

TEST(NodeLayout, EncodeAndView) {
    auto l = NodeLayout::compute(3, DType::kI8, 4, 10).value();
    EXPECT_EQ(l.node_bytes, 4u + 4 + 16);
    alignas(4) uint8_t node[24];
    std::memset(node, 0xAB, sizeof(node));
    const int8_t vec[3] = {-1, 2, -3};
    const uint32_t nbrs[2] = {9, 4};
    l.encode_node(vec, nbrs, node);
    EXPECT_EQ(node[3], 0);  // vector padding
    const NodeView v = l.view_node(node);
    EXPECT_EQ(std::memcmp(v.vector, vec, 3), 0);
    EXPECT_EQ(v.degree, 2u);
    ASSERT_EQ(v.neighbors.size(), 2u);
    EXPECT_EQ(v.neighbors[0], 9u);
    EXPECT_EQ(v.neighbors[1], 4u);
    EXPECT_TRUE(v.valid(4));
    for (size_t i = l.neighbors_offset() + 8; i < l.node_bytes; ++i) EXPECT_EQ(node[i], 0);
    const uint32_t huge = 99;
    std::memcpy(node + l.degree_offset(), &huge, 4);
    const NodeView bad = l.view_node(node);
    EXPECT_FALSE(bad.valid(4));
    EXPECT_EQ(bad.neighbors.size(), 4u);  // clamped to R: never reads past the node
}

TEST(NodeLayout, RejectsOutOfRangeParameters) {
    EXPECT_TRUE(has_error(NodeLayout::compute(0, DType::kF32, 8, 1).status(),
                          StatusCode::kInvalidArgument, {"dimension 0"}));
    EXPECT_TRUE(has_error(NodeLayout::compute(kMaxDimension + 1, DType::kF32, 8, 1).status(),
                          StatusCode::kInvalidArgument, {"dimension"}));
    EXPECT_TRUE(has_error(NodeLayout::compute(8, DType::kF32, 0, 1).status(),
                          StatusCode::kInvalidArgument, {"degree_max"}));
    EXPECT_TRUE(has_error(NodeLayout::compute(8, DType::kF32, kMaxDegree + 1, 1).status(),
                          StatusCode::kInvalidArgument, {"degree_max"}));
    EXPECT_TRUE(has_error(NodeLayout::compute(8, DType::kF32, 8, kMaxNodeCount + 1).status(),
                          StatusCode::kInvalidArgument, {"node count"}));
    EXPECT_TRUE(has_error(NodeLayout::compute(8, static_cast<DType>(9), 8, 1).status(),
                          StatusCode::kInvalidArgument, {"dtype"}));
}

IndexHeader sample_header() {
    IndexHeader h;
    h.index_uid = 0x1234;
    h.metric = Metric::kCosine;
    h.layout = NodeLayout::compute(128, DType::kF32, 64, 13).value();
    h.entry_point = 6;
    h.checksum_section_offset = h.layout.node_section_offset_bytes + h.layout.node_section_bytes();
    h.checksum_section_bytes = 8;
    h.checksum_section_xxh3 = 77;
    h.files.push_back({FileKind::kIds, "ids.u64", 64 + 13 * 8, 42});
    h.files.push_back({FileKind::kMetaJson, "meta.json", 10, 43});
    return h;
}

TEST(IndexHeaderCodec, RoundTrip) {
    const IndexHeader h = sample_header();
    std::vector<uint8_t> bytes(kIndexHeaderBytes);
    encode_index_header(h, bytes);
    EXPECT_EQ(std::memcmp(bytes.data(), "STRATAIX", 8), 0);
    auto d = decode_index_header("x/index.strata", bytes);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    EXPECT_EQ(d->index_uid, 0x1234u);
    EXPECT_EQ(d->metric, Metric::kCosine);
    EXPECT_EQ(d->layout.dim, 128u);
    EXPECT_EQ(d->layout.node_count, 13u);
    EXPECT_EQ(d->layout.node_bytes, 772u);
    EXPECT_EQ(d->entry_point, 6u);
    EXPECT_EQ(d->checksum_section_xxh3, 77u);
    EXPECT_EQ(d->file_bytes(), 4096u * 4 + 8);
    ASSERT_EQ(d->files.size(), 2u);
    EXPECT_EQ(d->files[0].name, "ids.u64");
    EXPECT_EQ(d->files[1].content_xxh3, 43u);
    ASSERT_NE(d->find(FileKind::kMetaJson), nullptr);
    EXPECT_EQ(d->find(FileKind::kPqCodes), nullptr);
}

TEST(IndexHeaderCodec, RejectsForeignShortAndNewerMajor) {
    const std::string p = "d/index.strata";
    EXPECT_TRUE(has_error(check_index_preamble(p, {}).status(), StatusCode::kCorruption,
                          {p, "empty file"}));
    const std::vector<uint8_t> elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_TRUE(has_error(check_index_preamble(p, elf).status(), StatusCode::kCorruption,
                          {p, "not a strata index", "\\x7fELF"}));
    std::vector<uint8_t> bytes(kIndexHeaderBytes);
    encode_index_header(sample_header(), bytes);
    EXPECT_TRUE(has_error(check_index_preamble(p, std::span(bytes).first(10)).status(),
                          StatusCode::kCorruption, {p, "truncated: 10 bytes"}));
    auto major = bytes;
    major[header_offsets::kOffMajor] = 2;
    EXPECT_TRUE(has_error(decode_index_header(p, major).status(), StatusCode::kNotSupported,
                          {p, "format version 2.0"}));
    auto hb = bytes;
    hb[header_offsets::kOffHeaderBytes] = 100;
    EXPECT_TRUE(has_error(decode_index_header(p, hb).status(), StatusCode::kCorruption,
                          {p, "header size"}));
    auto sum = bytes;
    sum[300] ^= 1;
    EXPECT_TRUE(has_error(decode_index_header(p, sum).status(), StatusCode::kCorruption,
                          {p, "header checksum mismatch"}));
}

TEST(IndexHeaderCodec, RejectsInconsistentFieldsUnderAValidChecksum) {
    const std::string p = "d/index.strata";
    std::vector<uint8_t> bytes(kIndexHeaderBytes);
    IndexHeader h = sample_header();
    h.layout.node_bytes = 700;
    encode_index_header(h, bytes);
    EXPECT_TRUE(has_error(decode_index_header(p, bytes).status(), StatusCode::kCorruption,
                          {p, "node_bytes 700"}));
    h = sample_header();
    h.entry_point = 13;
    encode_index_header(h, bytes);
    EXPECT_TRUE(has_error(decode_index_header(p, bytes).status(), StatusCode::kCorruption,
                          {"entry point 13"}));
    h = sample_header();
    h.checksum_section_bytes = 16;
    encode_index_header(h, bytes);
    EXPECT_TRUE(has_error(decode_index_header(p, bytes).status(), StatusCode::kCorruption,
                          {"checksum section"}));
    h = sample_header();
    h.files[0].name = "../evil";
    encode_index_header(h, bytes);
    EXPECT_TRUE(has_error(decode_index_header(p, bytes).status(), StatusCode::kCorruption,
                          {"invalid name"}));
    h = sample_header();
    h.files[1].kind = FileKind::kIds;
    encode_index_header(h, bytes);
    EXPECT_TRUE(
        has_error(decode_index_header(p, bytes).status(), StatusCode::kCorruption, {"meta.json"}));
}

TEST(CompanionHeaderCodec, RoundTripAndErrors) {
    CompanionHeader c;
    c.kind = FileKind::kPqCodes;
    c.record_bytes = 16;
    c.payload_bytes = 160;
    c.payload_xxh3 = 5;
    c.index_uid = 9;
    std::vector<uint8_t> bytes(kCompanionHeaderBytes);
    encode_companion_header(c, bytes);
    const std::string p = "d/pq.codes";
    auto d = decode_companion_header(p, bytes);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    EXPECT_EQ(d->kind, FileKind::kPqCodes);
    EXPECT_EQ(d->record_bytes, 16u);
    EXPECT_EQ(d->payload_bytes, 160u);
    EXPECT_EQ(d->payload_xxh3, 5u);
    EXPECT_EQ(d->index_uid, 9u);
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto flipped = bytes;
        flipped[i] ^= 0x10;
        EXPECT_FALSE(decode_companion_header(p, flipped).is_ok()) << "byte " << i;
    }
    auto major = bytes;
    major[companion_offsets::kCompOffMajor] = 3;
    EXPECT_TRUE(has_error(decode_companion_header(p, major).status(), StatusCode::kNotSupported,
                          {p, "3.0"}));
    EXPECT_TRUE(has_error(decode_companion_header(p, std::span(bytes).first(20)).status(),
                          StatusCode::kCorruption, {p, "not a strata companion"}));
}

TEST(Checksum, StreamMatchesOneShot) {
    std::vector<uint8_t> data(10000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
    Xxh3Stream s;
    s.update(data.data(), 1234);
    s.update(data.data() + 1234, data.size() - 1234);
    EXPECT_EQ(s.digest(), xxh3_64(data.data(), data.size()));
    s.reset();
    s.update(data.data(), 10);
    EXPECT_EQ(s.digest(), xxh3_64(data.data(), 10));
    EXPECT_EQ(xxh3_64(nullptr, 0), xxh3_64("", 0));
}

}  // namespace
}  // namespace strata::disk
