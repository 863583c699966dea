// Tests for disk/verify: every single flipped byte is found and blamed on the right file, and
// structural damage under valid checksums is reported node by node.
#include "disk/verify.hpp"
#include "disk/nav_graph.hpp"

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "disk/index_reader.hpp"
#include "disk/testing_hooks.hpp"
#include "disk_test_util.hpp"

namespace strata::disk {
namespace {

namespace fs = std::filesystem;
using test::flip_byte;
using test::has_error;
using test::make_test_index;
using test::patch;
using test::TestIndex;
using test::write_test_index;

VerifyReport run_verify(const std::string& dir, const VerifyOptions& options = {}) {
    auto r = verify_index(dir, options);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : VerifyReport{};
}

/// Success when the report failed and some problem mentions every phrase.
::testing::AssertionResult reports(const VerifyReport& report,
                                   std::initializer_list<std::string_view> phrases) {
    if (report.ok()) return ::testing::AssertionFailure() << "verify reported no problem";
    for (const std::string& p : report.problems) {
        bool all = true;
        for (const std::string_view phrase : phrases) {
            all = all && p.find(phrase) != std::string::npos;
        }
        if (all) return ::testing::AssertionSuccess() << p;
    }
    auto failure = ::testing::AssertionFailure() << "no problem mentions all of the phrases:";
    for (const std::string& p : report.problems) failure << "\n  " << p;
    return failure;
}

std::vector<std::string> index_files(const std::string& dir) {
    return {dir + "/index.strata", dir + "/pq.codebook", dir + "/pq.codes", dir + "/ids.u64",
            dir + "/meta.json"};
}

TEST(Verify, CleanIndexPasses) {
    testing::TempDir tmp;
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 128, 64, 300, 21);
    ASSERT_TRUE(write_test_index(tmp.file("i"), t).is_ok());
    uint64_t calls = 0;
    uint64_t last = 0;
    VerifyOptions options;
    options.progress = [&](uint64_t done, uint64_t total) {
        EXPECT_GE(done, last);
        EXPECT_LE(done, total);
        last = done;
        ++calls;
    };
    const VerifyReport report = run_verify(tmp.file("i"), options);
    EXPECT_TRUE(report.ok());
    EXPECT_TRUE(report.problems.empty());
    EXPECT_EQ(report.nodes_checked, 300u);
    EXPECT_EQ(report.blocks_checked, 1u);
    EXPECT_GT(calls, 0u);
    EXPECT_TRUE(has_error(verify_index(tmp.file("none")).status(), StatusCode::kNotFound, {}));
}

TEST(Verify, EverySingleFlippedByteOfATinyIndex) {
    // Exhaustive: each byte of each file, flipped alone, is reported against that file.
    testing::TempDir tmp;
    const std::string dir = tmp.file("i");
    ASSERT_TRUE(
        write_test_index(dir, make_test_index(Metric::kL2, DType::kF32, 4, 2, 3, 5, 4)).is_ok());
    ASSERT_TRUE(run_verify(dir).ok());
    for (const std::string& path : index_files(dir)) {
        const uint64_t size = fs::file_size(path);
        for (uint64_t off = 0; off < size; ++off) {
            const auto mask = static_cast<uint8_t>(1u << (off % 8));
            flip_byte(path, off, mask);
            const VerifyReport report = run_verify(dir);
            ASSERT_TRUE(reports(report, {path})) << path << " byte " << off;
            flip_byte(path, off, mask);
        }
    }
    EXPECT_TRUE(run_verify(dir).ok());
}

TEST(Verify, FlippedBytesNameTheBlockAndNodes) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("i");
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 128, 64, 300, 22);
    WriterOptions options;
    options.checksum_block_bytes = 8192;  // 2 sectors = 10 nodes per block
    ASSERT_TRUE(write_test_index(dir, t, options).is_ok());
    const std::string index = dir + "/index.strata";
    const NodeLayout l = IndexReader::open(dir).value().layout();
    const uint64_t node = 123;  // sector 24 of the section, block 12: nodes 120..129
    const uint64_t at = l.offset_of(node);
    const uint64_t sector_end = l.node_section_offset_bytes + 25 * kSectorBytes;
    for (const uint64_t off : {at, at + 511, at + l.degree_offset(), at + l.neighbors_offset(),
                               at + l.node_bytes - 1, sector_end - 1}) {
        flip_byte(index, off, 0x40);
        EXPECT_TRUE(reports(run_verify(dir), {index, "node block 12", "nodes 120..129"}))
            << "offset " << off;
        flip_byte(index, off, 0x40);
    }
    const std::vector<std::pair<uint64_t, const char*>> header_fields = {
        {0, "not a strata index"},
        {header_offsets::kOffDim, "header checksum"},
        {header_offsets::kOffNodeCount, "header checksum"},
        {header_offsets::kOffEntryPoint, "header checksum"},
        {256 + 8, "header checksum"},  // first file name
        {4000, "header checksum"},     // reserved zeros
        {4095, "header checksum"},     // the checksum itself
    };
    for (const auto& [off, what] : header_fields) {
        flip_byte(index, off, 0x02);
        EXPECT_TRUE(reports(run_verify(dir), {index, what})) << "offset " << off;
        EXPECT_FALSE(IndexReader::open(dir).is_ok());
        flip_byte(index, off, 0x02);
    }
    const uint64_t table = fs::file_size(index) - 8;
    flip_byte(index, table);
    EXPECT_TRUE(reports(run_verify(dir), {index, "block checksum table"}));
    flip_byte(index, table);
    for (const std::string& path : index_files(dir)) {
        if (path == index) continue;
        const uint64_t size = fs::file_size(path);
        for (const uint64_t off : {uint64_t{0}, uint64_t{30}, uint64_t{63}, size / 2, size - 1}) {
            if (off >= size) continue;
            flip_byte(path, off, 0x08);
            EXPECT_TRUE(reports(run_verify(dir), {path})) << path << " offset " << off;
            flip_byte(path, off, 0x08);
        }
    }
    EXPECT_TRUE(run_verify(dir).ok());
}

TEST(Verify, FlipInTheSecondSectorOfASpanningNode) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("i");
    ASSERT_TRUE(
        write_test_index(dir, make_test_index(Metric::kL2, DType::kF32, 1536, 32, 6, 23)).is_ok());
    const std::string index = dir + "/index.strata";
    const NodeLayout l = IndexReader::open(dir).value().layout();
    flip_byte(index, l.offset_of(4) + kSectorBytes + 10);  // still in node 4's vector
    EXPECT_TRUE(reports(run_verify(dir), {index, "node block 0", "nodes 0..5"}));
}

/// Writes a valid index, lets `edit` damage it, reseals every checksum and returns the report.
template <typename Edit>
VerifyReport forged(const TestIndex& t, Edit&& edit) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("i");
    EXPECT_TRUE(write_test_index(dir, t).is_ok());
    const NodeLayout l = IndexReader::open(dir).value().layout();
    edit(dir, l);
    EXPECT_TRUE(detail::reseal_index_for_testing(dir).is_ok());
    return run_verify(dir);
}

uint64_t node_with_degree(const TestIndex& t, size_t at_least) {
    for (uint64_t id = 0; id < t.neighbors.size(); ++id) {
        if (t.neighbors[id].size() >= at_least) return id;
    }
    ADD_FAILURE() << "no node with degree " << at_least;
    return 0;
}

TEST(Verify, StructuralDamageUnderValidChecksums) {
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 16, 8, 50, 24);
    const uint64_t id = node_with_degree(t, 2);
    const std::string node = fmt::format("node {}:", id);
    const auto slot = [&](const NodeLayout& l, uint32_t i) {
        return l.offset_of(id) + l.neighbors_offset() + 4 * i;
    };
    const auto index = [](const std::string& dir) { return dir + "/index.strata"; };
    VerifyReport r = forged(t, [&](const std::string& d, const NodeLayout& l) {
        patch<uint32_t>(index(d), slot(l, 0), 57);
    });
    EXPECT_TRUE(reports(r, {"index.strata", node, "neighbour id 57", "node count 50"}));
    EXPECT_EQ(r.problem_count, 1u);  // the checksums were resealed: structure only
    r = forged(t, [&](const std::string& d, const NodeLayout& l) {
        patch<uint32_t>(index(d), slot(l, 1), static_cast<uint32_t>(id));
    });
    EXPECT_TRUE(reports(r, {node, "itself"}));
    r = forged(t, [&](const std::string& d, const NodeLayout& l) {
        patch<uint32_t>(index(d), slot(l, 1), t.neighbors[id][0]);
    });
    EXPECT_TRUE(reports(r, {node, "listed twice"}));
    r = forged(t, [&](const std::string& d, const NodeLayout& l) {
        patch<uint32_t>(index(d), l.offset_of(id) + l.degree_offset(), 9);
    });
    EXPECT_TRUE(reports(r, {node, "degree 9 exceeds R = 8"}));
    r = forged(t, [&](const std::string& d, const NodeLayout& l) {
        patch<uint32_t>(index(d), slot(l, 7) + (t.neighbors[id].size() == 8 ? 4 : 0), 1);
    });
    EXPECT_TRUE(reports(r, {"unused"}));
    r = forged(t, [&](const std::string& d, const NodeLayout& l) {
        patch<uint8_t>(index(d), l.node_section_offset_bytes + kSectorBytes - 1, 1);
    });
    EXPECT_TRUE(reports(r, {"index.strata", "node sector 1", "padding"}));
    r = forged(t, [&](const std::string& d, const NodeLayout&) {
        patch<uint32_t>(index(d), header_offsets::kOffEntryPoint, 50);
    });
    EXPECT_TRUE(reports(r, {"index.strata", "entry point 50"}));
    r = forged(t, [&](const std::string& d, const NodeLayout&) {
        patch<uint64_t>(d + "/ids.u64", kCompanionHeaderBytes + 8, 0);  // id[1] = id[0] = 0
    });
    EXPECT_TRUE(reports(r, {"ids.u64", "external id 0 appears more than once"}));
    r = forged(t, [&](const std::string& d, const NodeLayout&) {
        fs::resize_file(d + "/pq.codes", fs::file_size(d + "/pq.codes") - 8);
    });
    EXPECT_TRUE(reports(r, {"pq.codes", "one record per node"}));
}

/// A navigation graph written with valid checksums but a broken structure is reported.
TEST(Verify, NavigationGraphStructureIsChecked) {
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 16, 8, 50, 25);
    const auto write_with_nav = [&](const std::string& dir, const NavGraph& nav) {
        auto w = IndexWriter::create(dir, t.params);
        ASSERT_TRUE(w.is_ok());
        ASSERT_TRUE(w->add_file(FileKind::kPqCodebook, t.codebook).is_ok());
        ASSERT_TRUE(w->add_file(FileKind::kPqCodes, t.codes, t.pq_bytes).is_ok());
        ASSERT_TRUE(w->add_file(FileKind::kNavGraph, nav.encode()).is_ok());
        for (uint64_t id = 0; id < 50; ++id) {
            ASSERT_TRUE(w->append_node(t.vector(id), t.neighbors[id]).is_ok());
        }
        ASSERT_TRUE(w->finish("{}\n").is_ok());
    };
    NavGraph nav;
    nav.nodes = {2, 9, 30};
    nav.degree_max = 2;
    nav.entry = 0;
    nav.degrees = {1, 1, 0};
    nav.adjacency = {1, 0, 2, 0, 0, 0};
    testing::TempDir tmp;
    write_with_nav(tmp.file("good"), nav);
    EXPECT_TRUE(run_verify(tmp.file("good")).ok());
    nav.nodes[2] = 50;  // past the 50 nodes
    write_with_nav(tmp.file("bad"), nav);
    EXPECT_TRUE(reports(run_verify(tmp.file("bad")), {"nav.graph", "navigation graph", "50"}));
}

TEST(Verify, PaddingOfByteVectorsAndSpanningNodes) {
    const TestIndex u8 = make_test_index(Metric::kL2, DType::kU8, 5, 3, 20, 25, 0);
    VerifyReport r = forged(u8, [&](const std::string& d, const NodeLayout& l) {
        patch<uint8_t>(d + "/index.strata", l.offset_of(7) + 6, 1);  // vector bytes 5..7 pad
    });
    EXPECT_TRUE(reports(r, {"node 7:", "padding after the vector"}));
    const TestIndex span = make_test_index(Metric::kL2, DType::kF32, 1536, 16, 3, 26, 0);
    r = forged(span, [&](const std::string& d, const NodeLayout& l) {
        patch<uint8_t>(d + "/index.strata", l.offset_of(1) + 2 * kSectorBytes - 1, 1);
    });
    EXPECT_TRUE(reports(r, {"node 1:", "padding after the node"}));
}

TEST(Verify, MissingFilesAndProblemCap) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("i");
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 16, 8, 200, 27);
    ASSERT_TRUE(write_test_index(dir, t).is_ok());
    fs::remove(dir + "/pq.codebook");
    EXPECT_TRUE(reports(run_verify(dir), {dir + "/pq.codebook", "missing"}));
    // Damage many nodes: the report keeps max_problems lines and counts the rest.
    const NodeLayout l = NodeLayout::compute(16, DType::kF32, 8, 200).value();
    auto bytes = testing::read_bytes(dir + "/index.strata");
    const uint32_t degree = 100;
    for (uint64_t id = 0; id < 200; ++id) {
        std::memcpy(bytes.data() + l.offset_of(id) + l.degree_offset(), &degree, 4);
    }
    testing::write_bytes(dir + "/index.strata", bytes);
    VerifyOptions options;
    options.max_problems = 10;
    const VerifyReport r = run_verify(dir, options);
    EXPECT_EQ(r.problems.size(), 10u);
    EXPECT_GT(r.problem_count, 200u);
    fs::remove(dir + "/index.strata");
    EXPECT_TRUE(reports(run_verify(dir), {dir + "/index.strata", "missing"}));
}

TEST(Verify, WithoutAHeaderCompanionsAreStillSelfChecked) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("i");
    ASSERT_TRUE(
        write_test_index(dir, make_test_index(Metric::kL2, DType::kF32, 16, 8, 20, 28)).is_ok());
    flip_byte(dir + "/index.strata", 100);
    flip_byte(dir + "/pq.codes", 70);
    const VerifyReport r = run_verify(dir);
    EXPECT_TRUE(reports(r, {"index.strata", "header checksum"}));
    EXPECT_TRUE(reports(r, {"pq.codes", "payload checksum mismatch"}));
    EXPECT_FALSE(r.notes.empty());
}

}  // namespace
}  // namespace strata::disk
