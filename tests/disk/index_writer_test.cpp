// Tests for disk/index_writer and disk/index_reader: round trips, the atomic build protocol and
// the writer's argument checks.
#include "disk/index_writer.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/aligned_buffer.hpp"
#include "disk/index_reader.hpp"
#include "disk/meta.hpp"
#include "disk/verify.hpp"
#include "disk_test_util.hpp"

namespace strata::disk {
namespace {

namespace fs = std::filesystem;
using test::has_error;
using test::list_dir;
using test::make_test_index;
using test::TestIndex;
using test::write_test_index;

/// Reads every node, companion and meta.json back and compares with `t`.
void expect_round_trip(const std::string& dir, const TestIndex& t) {
    auto r = IndexReader::open(dir);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    const NodeLayout& l = r->layout();
    EXPECT_EQ(r->metric(), t.params.metric);
    EXPECT_EQ(r->dtype(), t.params.dtype);
    EXPECT_EQ(r->dim(), t.params.dim);
    EXPECT_EQ(r->degree_max(), t.params.degree_max);
    EXPECT_EQ(r->node_count(), t.params.node_count);
    EXPECT_EQ(r->entry_point(), t.params.entry_point);
    EXPECT_EQ(fs::file_size(r->index_path()), r->header().file_bytes());
    EXPECT_EQ(r->header().layout.node_section_offset_bytes % kSectorBytes, 0u);
    AlignedBuffer<uint8_t> node(l.node_bytes, kSectorBytes);
    const size_t vector_bytes = size_t{t.params.dim} * dtype_size(t.params.dtype);
    for (uint64_t id = 0; id < t.params.node_count; ++id) {
        ASSERT_TRUE(r->read_node(id, {node.data(), node.size()}).is_ok());
        const NodeView v = l.view_node(node.data());
        ASSERT_EQ(std::memcmp(v.vector, t.vector(id), vector_bytes), 0) << "node " << id;
        ASSERT_EQ(std::vector<uint32_t>(v.neighbors.begin(), v.neighbors.end()), t.neighbors[id])
            << "node " << id;
    }
    auto ids = r->read_file(FileKind::kIds);
    ASSERT_TRUE(ids.is_ok()) << ids.status().to_string();
    ASSERT_EQ(ids->size(), t.params.node_count * 8);
    for (uint64_t i = 0; i < t.params.node_count; ++i) {
        uint64_t id = 0;
        std::memcpy(&id, ids->data() + i * 8, 8);
        ASSERT_EQ(id, t.ids.empty() ? i : t.ids[i]);
    }
    if (!t.codebook.empty()) {
        EXPECT_EQ(r->read_file(FileKind::kPqCodebook).value(), t.codebook);
        EXPECT_EQ(r->read_file(FileKind::kPqCodes).value(), t.codes);
        auto m = r->map_file(FileKind::kPqCodes);
        ASSERT_TRUE(m.is_ok()) << m.status().to_string();
        EXPECT_EQ(m->header().record_bytes, t.pq_bytes);
        EXPECT_EQ(
            std::string(reinterpret_cast<const char*>(m->payload().data()), m->payload().size()),
            t.codes);
    } else {
        EXPECT_FALSE(r->has_file(FileKind::kPqCodes));
        EXPECT_EQ(r->read_file(FileKind::kPqCodes).status().code(), StatusCode::kNotFound);
    }
    EXPECT_EQ(r->meta_json().value(), "{\"test\": true}\n");
    EXPECT_EQ(r->read_node(t.params.node_count, {node.data(), node.size()}).code(),
              StatusCode::kOutOfRange);
    auto report = verify_index(dir);
    ASSERT_TRUE(report.is_ok()) << report.status().to_string();
    EXPECT_TRUE(report->ok()) << (report->problems.empty() ? "" : report->problems[0]);
    EXPECT_EQ(report->nodes_checked, t.params.node_count);
}

struct Combo {
    Metric metric;
    DType dtype;
    uint32_t dim;
    uint32_t degree_max;
    uint64_t count;
};

TEST(IndexWriter, RoundTripsLayoutsAndDtypes) {
    const uint64_t seed = testing::test_seed(2024);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Combo combos[] = {
        {Metric::kL2, DType::kF32, 128, 64, 13},          // 5 nodes per sector, 13 % 5 != 0
        {Metric::kCosine, DType::kF32, 1536, 32, 5},      // each node spans 2 sectors
        {Metric::kInnerProduct, DType::kU8, 101, 7, 97},  // padded vector, 30 per sector
        {Metric::kL2, DType::kI8, 3, 1, 2},               // tiny nodes, degree <= 1
        {Metric::kL2, DType::kF32, 1000, 23, 4},          // exactly one sector per node
        {Metric::kL2, DType::kF32, 4096, 16, 3},          // 5 sectors per node
        {Metric::kL2, DType::kF32, 16, 8, 1},             // a single node
    };
    for (const Combo& c : combos) {
        SCOPED_TRACE(
            fmt::format("d={} {} R={} n={}", c.dim, dtype_name(c.dtype), c.degree_max, c.count));
        testing::TempDir tmp;
        const std::string dir = tmp.file("idx");
        const bool custom_ids = c.count % 2 == 1;
        const TestIndex t = make_test_index(c.metric, c.dtype, c.dim, c.degree_max, c.count,
                                            seed + c.dim, c.dim % 3 == 0 ? 0 : 8, custom_ids);
        ASSERT_TRUE(write_test_index(dir, t).is_ok());
        expect_round_trip(dir, t);
        EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{"idx"});  // no temp left
    }
}

TEST(IndexWriter, EmptyIndexHasNoEntryPoint) {
    testing::TempDir tmp;
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 8, 4, 0, 1, 0);
    ASSERT_TRUE(write_test_index(tmp.file("e"), t).is_ok());
    auto r = IndexReader::open(tmp.file("e"));
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->node_count(), 0u);
    EXPECT_EQ(r->entry_point(), kNoNode);
    EXPECT_TRUE(verify_index(tmp.file("e")).value().ok());
}

TEST(IndexWriter, SmallChecksumBlocksCoverManyBlocks) {
    testing::TempDir tmp;
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 128, 64, 300, 3);
    WriterOptions options;
    options.checksum_block_bytes = 8192;
    ASSERT_TRUE(write_test_index(tmp.file("i"), t, options).is_ok());
    auto r = IndexReader::open(tmp.file("i"));
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->header().checksum_block_count(), 30u);  // 60 sectors, 2 per block
    expect_round_trip(tmp.file("i"), t);
}

TEST(IndexWriter, RefusesExistingDirectoryUnlessForced) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("idx");
    const TestIndex a = make_test_index(Metric::kL2, DType::kF32, 16, 8, 40, 5);
    const TestIndex b = make_test_index(Metric::kL2, DType::kF32, 16, 8, 70, 6);
    ASSERT_TRUE(write_test_index(dir, a).is_ok());
    EXPECT_TRUE(has_error(IndexWriter::create(dir, b.params).status(), StatusCode::kAlreadyExists,
                          {dir, "already exists"}));
    WriterOptions force;
    force.force = true;
    // An open reader of the old index keeps working while the new one replaces it.
    auto old_reader = IndexReader::open(dir);
    ASSERT_TRUE(old_reader.is_ok());
    ASSERT_TRUE(write_test_index(dir, b, force).is_ok());
    expect_round_trip(dir, b);
    AlignedBuffer<uint8_t> node(old_reader->layout().node_bytes, kSectorBytes);
    ASSERT_TRUE(old_reader->read_node(39, {node.data(), node.size()}).is_ok());
    EXPECT_EQ(std::memcmp(node.data(), a.vector(39), 16 * 4), 0);
    EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{"idx"});
    // force into a fresh path works too, and an empty directory may be replaced.
    ASSERT_TRUE(write_test_index(tmp.file("fresh"), a, force).is_ok());
    fs::create_directory(tmp.file("empty"));
    ASSERT_TRUE(write_test_index(tmp.file("empty"), a, force).is_ok());
    expect_round_trip(tmp.file("empty"), a);
}

TEST(IndexWriter, SecondOfTwoRacingWritersFindsTheDirectoryTaken) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("idx");
    const TestIndex a = make_test_index(Metric::kL2, DType::kF32, 16, 8, 30, 7);
    const TestIndex b = make_test_index(Metric::kL2, DType::kF32, 16, 8, 30, 8);
    auto wa = IndexWriter::create(dir, a.params);
    auto wb = IndexWriter::create(dir, b.params);
    ASSERT_TRUE(wa.is_ok() && wb.is_ok());
    for (uint64_t id = 0; id < 30; ++id) {
        ASSERT_TRUE(wa->append_node(a.vector(id), a.neighbors[id]).is_ok());
        ASSERT_TRUE(wb->append_node(b.vector(id), b.neighbors[id]).is_ok());
    }
    ASSERT_TRUE(wa->finish("{}").is_ok());
    EXPECT_TRUE(has_error(wb->finish("{}"), StatusCode::kAlreadyExists, {dir}));
    wb = Status::cancelled("drop the writer");
    EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{"idx"});
    AlignedBuffer<uint8_t> node(64 + 4 + 32, kSectorBytes);
    auto r = IndexReader::open(dir);
    ASSERT_TRUE(r.is_ok());
    ASSERT_TRUE(r->read_node(3, {node.data(), node.size()}).is_ok());
    EXPECT_EQ(std::memcmp(node.data(), a.vector(3), 64), 0);
}

TEST(IndexWriter, ForceRefusesSomethingThatIsNotAnIndex) {
    testing::TempDir tmp;
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 16, 8, 4, 5);
    WriterOptions force;
    force.force = true;
    fs::create_directory(tmp.file("home"));
    testing::write_bytes(tmp.file("home/notes.txt"), "precious");
    EXPECT_TRUE(has_error(IndexWriter::create(tmp.file("home"), t.params, force).status(),
                          StatusCode::kInvalidArgument, {"refusing to replace"}));
    testing::write_bytes(tmp.file("file"), "x");
    EXPECT_TRUE(has_error(IndexWriter::create(tmp.file("file"), t.params, force).status(),
                          StatusCode::kInvalidArgument, {"not a directory"}));
    EXPECT_TRUE(fs::exists(tmp.file("home/notes.txt")));
}

TEST(IndexWriter, RefusesMissingOrUnwritableParent) {
    testing::TempDir tmp;
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 16, 8, 4, 5);
    EXPECT_TRUE(has_error(IndexWriter::create(tmp.file("no/idx"), t.params).status(),
                          StatusCode::kNotFound, {tmp.file("no/idx"), "does not exist"}));
    testing::write_bytes(tmp.file("plain"), "x");  // a file where a directory is needed
    const Status s = IndexWriter::create(tmp.file("plain/idx"), t.params).status();
    EXPECT_TRUE(has_error(s, StatusCode::kIOError, {tmp.file("plain/idx")}));
    EXPECT_NE(s.sys_errno(), 0);
}

TEST(IndexWriter, UnfinishedWriterLeavesNothing) {
    testing::TempDir tmp;
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 16, 8, 50, 5);
    {
        auto w = IndexWriter::create(tmp.file("idx"), t.params);
        ASSERT_TRUE(w.is_ok());
        EXPECT_TRUE(fs::is_directory(w->temp_dir()));
        ASSERT_TRUE(w->add_file(FileKind::kPqCodebook, t.codebook).is_ok());
        ASSERT_TRUE(w->begin_file(FileKind::kPqCodes, t.pq_bytes).is_ok());
        for (uint64_t id = 0; id < 20; ++id) {
            ASSERT_TRUE(w->append_node(t.vector(id), t.neighbors[id]).is_ok());
        }
        IndexWriter moved = std::move(w).value();  // moving keeps one owner of the temp dir
    }
    EXPECT_TRUE(list_dir(tmp.path()).empty());
}

TEST(IndexWriter, KilledBuildLeavesNoIndexAndIsCleanedUp) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("idx");
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 16, 8, 500, 5);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // the "build", killed midway: no destructor, no cleanup
        auto w = IndexWriter::create(dir, t.params);
        if (!w.is_ok()) ::_exit(2);
        for (uint64_t id = 0; id < 300; ++id) {
            if (!w->append_node(t.vector(id), t.neighbors[id]).is_ok()) ::_exit(3);
        }
        ::_exit(0);
    }
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
    EXPECT_FALSE(fs::exists(dir));
    const auto names = list_dir(tmp.path());
    ASSERT_EQ(names.size(), 1u);
    const std::string leftover = tmp.file(names[0]);
    EXPECT_TRUE(has_error(IndexReader::open(dir).status(), StatusCode::kNotFound, {dir}));
    EXPECT_TRUE(has_error(IndexReader::open(leftover).status(), StatusCode::kCorruption,
                          {leftover, "unfinished"}));
    auto report = verify_index(leftover);
    ASSERT_TRUE(report.is_ok());
    EXPECT_FALSE(report->ok());
    auto removed = remove_stale_temp_dirs(dir);
    ASSERT_TRUE(removed.is_ok()) << removed.status().to_string();
    EXPECT_EQ(*removed, 1u);
    EXPECT_TRUE(list_dir(tmp.path()).empty());
}

TEST(IndexWriter, StaleCleanupSparesLiveWritersAndOtherNames) {
    testing::TempDir tmp;
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 16, 8, 5, 5);
    auto w = IndexWriter::create(tmp.file("idx"), t.params);
    ASSERT_TRUE(w.is_ok());
    fs::create_directory(tmp.file("idx.tmp-notapid-00"));
    fs::create_directory(tmp.file("other.tmp-999999999-abc"));
    EXPECT_EQ(remove_stale_temp_dirs(tmp.file("idx")).value(), 0u);
    EXPECT_TRUE(fs::exists(w->temp_dir()));
    EXPECT_EQ(list_dir(tmp.path()).size(), 3u);
}

TEST(IndexWriter, RejectsBadNodesAndFiles) {
    testing::TempDir tmp;
    const TestIndex t = make_test_index(Metric::kL2, DType::kF32, 16, 8, 10, 5);
    auto w = IndexWriter::create(tmp.file("idx"), t.params);
    ASSERT_TRUE(w.is_ok());
    const std::vector<uint32_t> out_of_range = {3, 10};
    const std::vector<uint32_t> self = {0};
    const std::vector<uint32_t> twice = {4, 4};
    EXPECT_TRUE(has_error(w->append_node(t.vector(0), out_of_range), StatusCode::kInvalidArgument,
                          {"node 0", "neighbour 10", "not a node"}));
    EXPECT_TRUE(
        has_error(w->append_node(t.vector(0), self), StatusCode::kInvalidArgument, {"itself"}));
    EXPECT_TRUE(
        has_error(w->append_node(t.vector(0), twice), StatusCode::kInvalidArgument, {"twice"}));
    EXPECT_EQ(w->nodes_appended(), 0u);
    EXPECT_TRUE(has_error(w->add_file(FileKind::kMetaJson, "{}"), StatusCode::kInvalidArgument,
                          {"meta.json"}));
    EXPECT_TRUE(has_error(w->add_file(static_cast<FileKind>(77), "x"), StatusCode::kInvalidArgument,
                          {"kind 77"}));
    EXPECT_TRUE(has_error(w->add_file(FileKind::kIds, std::string(80, 'x'), 4),
                          StatusCode::kInvalidArgument, {"record_bytes"}));
    EXPECT_TRUE(has_error(w->add_file(FileKind::kPqCodes, std::string(15, 'x'), 2),
                          StatusCode::kInvalidArgument, {"pq.codes", "15 bytes"}));
    ASSERT_TRUE(w->add_file(FileKind::kPqCodes, std::string(20, 'x'), 2).is_ok());
    EXPECT_TRUE(has_error(w->add_file(FileKind::kPqCodes, std::string(20, 'x'), 2),
                          StatusCode::kInvalidArgument, {"twice"}));
    EXPECT_TRUE(
        has_error(w->append_file("x", 1), StatusCode::kInvalidArgument, {"without begin_file"}));
    EXPECT_TRUE(has_error(w->set_entry_point(10), StatusCode::kInvalidArgument, {"10"}));
    for (uint64_t id = 0; id < 9; ++id) {
        ASSERT_TRUE(w->append_node(t.vector(id), t.neighbors[id]).is_ok());
    }
    EXPECT_TRUE(has_error(w->finish("{}"), StatusCode::kInvalidArgument, {"9 of 10"}));
    ASSERT_TRUE(w->append_node(t.vector(9), t.neighbors[9]).is_ok());
    EXPECT_TRUE(has_error(w->append_node(t.vector(9), t.neighbors[9]), StatusCode::kInvalidArgument,
                          {"past the declared node count"}));
    EXPECT_TRUE(has_error(w->finish("not json"), StatusCode::kInvalidArgument, {"JSON object"}));
    ASSERT_TRUE(w->set_entry_point(3).is_ok());
    ASSERT_TRUE(w->finish("{}").is_ok());
    EXPECT_TRUE(has_error(w->finish("{}"), StatusCode::kInvalidArgument, {"already finished"}));
    EXPECT_EQ(IndexReader::open(tmp.file("idx")).value().entry_point(), 3u);
}

TEST(IndexWriter, RejectsBadParamsAndOptions) {
    testing::TempDir tmp;
    IndexLayoutParams p;
    p.dim = 16;
    p.degree_max = 8;
    p.node_count = 4;
    p.entry_point = 4;
    EXPECT_TRUE(has_error(IndexWriter::create(tmp.file("a"), p).status(),
                          StatusCode::kInvalidArgument, {"entry point 4"}));
    p.entry_point = 0;
    p.dim = 0;
    EXPECT_TRUE(has_error(IndexWriter::create(tmp.file("a"), p).status(),
                          StatusCode::kInvalidArgument, {"dimension"}));
    p.dim = 16;
    WriterOptions o;
    o.checksum_block_bytes = 1000;
    EXPECT_TRUE(has_error(IndexWriter::create(tmp.file("a"), p, o).status(),
                          StatusCode::kInvalidArgument, {"checksum_block_bytes"}));
    p.entry_point = kNoNode;
    auto w = IndexWriter::create(tmp.file("a"), p);
    ASSERT_TRUE(w.is_ok());
    const std::vector<float> v(16, 1.0f);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(w->append_node(v.data(), {}).is_ok());
    EXPECT_TRUE(has_error(w->finish("{}"), StatusCode::kInvalidArgument, {"no entry point"}));
    EXPECT_TRUE(has_error(IndexWriter::create("", p).status(), StatusCode::kInvalidArgument, {}));
}

TEST(MetaJson, RendersEveryField) {
    IndexLayoutParams p;
    p.metric = Metric::kCosine;
    p.dtype = DType::kF32;
    p.dim = 768;
    p.degree_max = 64;
    p.node_count = 1000;
    p.entry_point = 17;
    BuildInfo info;
    info.search_list = 100;
    info.alpha = 1.2;
    info.pq_bytes = 32;
    info.normalized = true;
    info.norm_min = 0.5;
    info.norm_mean = 1.0;
    info.norm_max = std::numeric_limits<double>::infinity();
    info.phase_seconds = {{"pq_train", 1.5}, {"graph \"vamana\"", 20}};
    info.peak_memory_bytes = 123456;
    info.created_unix_s = 1700000000;
    info.extra_numbers = {{"validation_recall_at_10", 0.95}};
    info.extra_strings = {{"source", "a \"b\".fbin"}};
    const std::string json = render_meta_json(p, info);
    for (const char* want : {"\"format_version\": \"1.0\"",
                             "\"metric\": \"cosine\"",
                             "\"dtype\": \"f32\"",
                             "\"dimension\": 768",
                             "\"count\": 1000",
                             "\"degree_max\": 64",
                             "\"entry_point\": 17",
                             "\"search_list\": 100",
                             "\"alpha\": 1.2",
                             "\"pq_bytes\": 32",
                             "\"normalized\": true",
                             "\"norm_min\": 0.5",
                             "\"norm_max\": null",
                             "\"pq_train\": 1.5",
                             "\"graph \\\"vamana\\\"\": 20",
                             "\"peak_memory_bytes\": 123456",
                             "\"tool_version\": \"" STRATA_VERSION "\"",
                             "\"created\": \"2023-11-14T22:13:20Z\"",
                             "\"validation_recall_at_10\": 0.95",
                             "\"source\": \"a \\\"b\\\".fbin\""}) {
        EXPECT_NE(json.find(want), std::string::npos) << want << "\n" << json;
    }
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json[json.size() - 2], '}');
}

}  // namespace
}  // namespace strata::disk
