// The index builder end to end: recall of the built graph (in memory, exact distances), the
// sharded path against the one-shot one, metrics, bad rows, ids and output-directory rules.
#include <strata/builder.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "disk/in_memory_index.hpp"
#include "disk/index_reader.hpp"
#include "disk/verify.hpp"
#include "distance/exact_knn.hpp"
#include "io/dataset.hpp"
#include "io/synthetic.hpp"
#include "testing/testing.hpp"

namespace strata::disk {
namespace {

struct Files {
    std::string base, queries;
    std::vector<float> base_rows, query_rows;
    uint32_t n, nq, dim;
};

Files make_data(const testing::TempDir& dir, uint32_t n, uint32_t nq, uint32_t dim, uint64_t seed) {
    io::SyntheticOptions so;
    so.dim = dim;
    so.seed = seed;
    auto gen = io::SyntheticGenerator::create(so, n);
    EXPECT_TRUE(gen.is_ok());
    Files f{dir.file("base.fbin"),
            dir.file("query.fbin"),
            std::vector<float>(size_t{n} * dim),
            std::vector<float>(size_t{nq} * dim),
            n,
            nq,
            dim};
    gen->generate(io::SyntheticStream::kBase, 0, n, f.base_rows.data());
    gen->generate(io::SyntheticStream::kQueries, 0, nq, f.query_rows.data());
    EXPECT_TRUE(io::write_vectors(f.base, DType::kF32, n, dim, f.base_rows.data()).is_ok());
    EXPECT_TRUE(io::write_vectors(f.queries, DType::kF32, nq, dim, f.query_rows.data()).is_ok());
    return f;
}

/// recall@10 at list size L of the index at `dir` against exact search over `base`.
double recall_of(const std::string& dir, const std::vector<float>& base, uint32_t n,
                 const std::vector<float>& queries, uint32_t nq, uint32_t dim, Metric metric,
                 uint32_t list_size) {
    auto idx = InMemoryIndex::load(dir);
    EXPECT_TRUE(idx.is_ok()) << idx.status().to_string();
    const uint32_t k = 10;
    std::vector<uint32_t> truth(size_t{nq} * k), got(size_t{nq} * k);
    std::vector<float> dists(size_t{nq} * k);
    distance::ExactKnnOptions eo;
    eo.k = k;
    eo.metric = metric;
    EXPECT_TRUE(distance::exact_knn({base.data(), n, dim, DType::kF32, 0},
                                    {queries.data(), nq, dim, DType::kF32, 0}, eo, truth.data(),
                                    nullptr)
                    .is_ok());
    EXPECT_TRUE(
        idx->search(queries.data(), nq, dim * sizeof(float), k, list_size, got.data(), dists.data())
            .is_ok());
    size_t hits = 0;
    for (uint32_t q = 0; q < nq; ++q) {
        std::set<uint64_t> t(truth.begin() + q * k, truth.begin() + (q + 1) * k);
        for (uint32_t i = 0; i < k; ++i) hits += t.count(idx->external_id(got[q * k + i]));
    }
    return static_cast<double>(hits) / (static_cast<double>(nq) * k);
}

TEST(Builder, RecallOnClusteredData100kAtL100) {
    testing::TempDir dir;
    const uint64_t seed = testing::test_seed(41);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    const Files f = make_data(dir, 100000, 500, 128, seed);
    BuildOptions o;
    o.seed = seed;
    auto rep = build_index(f.base, dir.file("idx"), o);
    ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
    EXPECT_FALSE(rep->partitioned);
    EXPECT_EQ(rep->pq_bytes, 32u);
    const double r =
        recall_of(dir.file("idx"), f.base_rows, f.n, f.query_rows, f.nq, f.dim, Metric::kL2, 100);
    std::printf("recall@10 at L=100: %.4f (graph %.1f s, peak RSS %.0f MiB)\n", r,
                rep->seconds_graph, static_cast<double>(rep->peak_rss_bytes) / 1048576.0);
    EXPECT_GE(r, 0.98);
    auto report = verify_index(dir.file("idx"));
    ASSERT_TRUE(report.is_ok());
    EXPECT_TRUE(report->ok()) << (report->problems.empty() ? "" : report->problems[0]);
}

TEST(Builder, ShardedBuildStaysWithinTwoPointsOfOneShot) {
    testing::TempDir dir;
    const uint64_t seed = testing::test_seed(42);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    const Files f = make_data(dir, 20000, 300, 48, seed);
    BuildOptions o;
    o.degree_max = 32;
    o.list_size = 64;
    o.seed = seed;
    auto one = build_index(f.base, dir.file("one"), o);
    ASSERT_TRUE(one.is_ok()) << one.status().to_string();
    // A budget far below the one-shot need forces the sharded path.
    o.memory_gb = 0.125;
    o.shards = 4;
    auto sharded = build_index(f.base, dir.file("sharded"), o);
    ASSERT_TRUE(sharded.is_ok()) << sharded.status().to_string();
    EXPECT_TRUE(sharded->partitioned);
    EXPECT_EQ(sharded->shards, 4u);
    EXPECT_LE(sharded->max_degree, 32u);
    const double r1 =
        recall_of(dir.file("one"), f.base_rows, f.n, f.query_rows, f.nq, f.dim, Metric::kL2, 30);
    const double r2 = recall_of(dir.file("sharded"), f.base_rows, f.n, f.query_rows, f.nq, f.dim,
                                Metric::kL2, 30);
    std::printf("recall@10 at L=30: one-shot %.4f, sharded %.4f\n", r1, r2);
    EXPECT_GE(r2, r1 - 0.02);
    auto report = verify_index(dir.file("sharded"));
    ASSERT_TRUE(report.is_ok());
    EXPECT_TRUE(report->ok()) << (report->problems.empty() ? "" : report->problems[0]);
}

TEST(Builder, InnerProductFindsTrueIpNeighbours) {
    testing::TempDir dir;
    const uint64_t seed = testing::test_seed(43);
    Files f = make_data(dir, 10000, 200, 32, seed);
    // Norms spread over 0.2..5 so that ip and l2 neighbours differ.
    for (uint32_t i = 0; i < f.n; ++i) {
        const float scale = 0.2f + 4.8f * static_cast<float>(i % 97) / 96.0f;
        for (uint32_t j = 0; j < f.dim; ++j) f.base_rows[size_t{i} * f.dim + j] *= scale;
    }
    ASSERT_TRUE(io::write_vectors(dir.file("ip.fbin"), DType::kF32, f.n, f.dim, f.base_rows.data())
                    .is_ok());
    BuildOptions o;
    o.metric = Metric::kInnerProduct;
    o.degree_max = 48;
    ASSERT_TRUE(build_index(dir.file("ip.fbin"), dir.file("idx"), o).is_ok());
    const double r = recall_of(dir.file("idx"), f.base_rows, f.n, f.query_rows, f.nq, f.dim,
                               Metric::kInnerProduct, 200);
    const double l2 =
        recall_of(dir.file("idx"), f.base_rows, f.n, f.query_rows, f.nq, f.dim, Metric::kL2, 200);
    std::printf("ip recall@10 %.4f, overlap with l2 truth %.4f\n", r, l2);
    EXPECT_GE(r, 0.95);
    EXPECT_LT(l2, 0.5);
}

TEST(Builder, CosineNormalizesAndRecordsIt) {
    testing::TempDir dir;
    Files f = make_data(dir, 5000, 100, 24, testing::test_seed(44));
    BuildOptions o;
    o.metric = Metric::kCosine;
    o.degree_max = 32;
    ASSERT_TRUE(build_index(f.base, dir.file("idx"), o).is_ok());
    auto reader = IndexReader::open(dir.file("idx"));
    ASSERT_TRUE(reader.is_ok());
    auto meta = reader->meta_json();
    ASSERT_TRUE(meta.is_ok());
    EXPECT_NE(meta->find("\"normalized\": true"), std::string::npos) << *meta;
    EXPECT_GE(recall_of(dir.file("idx"), f.base_rows, f.n, f.query_rows, f.nq, f.dim,
                        Metric::kCosine, 100),
              0.97);
}

/// Every node's stored vector is the base row its external id names (`row_of` maps id to row):
/// the node order on disk (sector packing) never breaks the id <-> vector mapping.
template <typename RowOf>
void expect_ids_match_vectors(const std::string& dir, const std::vector<float>& base, uint32_t dim,
                              RowOf row_of) {
    auto reader = IndexReader::open(dir);
    ASSERT_TRUE(reader.is_ok());
    auto idx = InMemoryIndex::load(dir);
    ASSERT_TRUE(idx.is_ok());
    std::vector<uint8_t> node(reader->layout().read_bytes() + 64);
    uint64_t mismatches = 0;
    for (uint32_t i = 0; i < reader->node_count(); ++i) {
        ASSERT_TRUE(reader->read_node(i, node).is_ok());
        const NodeView v = reader->layout().view_node(node.data());
        const uint64_t row = row_of(idx->external_id(i));
        mismatches += std::memcmp(v.vector, base.data() + row * dim, dim * sizeof(float)) != 0;
    }
    EXPECT_EQ(mismatches, 0u);
}

TEST(Builder, SectorPackingKeepsIdsWithTheirVectors) {
    testing::TempDir dir;
    Files f = make_data(dir, 3000, 100, 16, testing::test_seed(47));
    BuildOptions o;
    o.degree_max = 16;
    o.list_size = 40;
    auto r = build_index(f.base, dir.file("packed"), o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_TRUE(r->sector_packed) << "16-d f32 nodes share sectors";
    expect_ids_match_vectors(dir.file("packed"), f.base_rows, 16, [](uint64_t id) { return id; });
    o.pack_sectors = false;
    r = build_index(f.base, dir.file("rows"), o);
    ASSERT_TRUE(r.is_ok());
    EXPECT_FALSE(r->sector_packed);
    auto rows = InMemoryIndex::load(dir.file("rows"));
    ASSERT_TRUE(rows.is_ok());
    EXPECT_EQ(rows->external_id(123), 123u) << "row order without packing";
    // Packing changes where nodes live, not what the graph finds.
    EXPECT_NEAR(
        recall_of(dir.file("packed"), f.base_rows, f.n, f.query_rows, f.nq, 16, Metric::kL2, 40),
        recall_of(dir.file("rows"), f.base_rows, f.n, f.query_rows, f.nq, 16, Metric::kL2, 40),
        0.02);
}

TEST(Builder, BadRowsAreRefusedOrSkippedWithTheirRowNumbers) {
    testing::TempDir dir;
    Files f = make_data(dir, 2000, 10, 16, testing::test_seed(45));
    f.base_rows[size_t{17} * 16 + 3] = NAN;
    f.base_rows[size_t{900} * 16 + 0] = INFINITY;
    const std::string bad = dir.file("bad.fbin");
    ASSERT_TRUE(io::write_vectors(bad, DType::kF32, f.n, 16, f.base_rows.data()).is_ok());
    BuildOptions o;
    o.degree_max = 16;
    auto r = build_index(bad, dir.file("idx"), o);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("row 17 element 3 is NaN"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("2 bad row(s)"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir.file("idx")));

    o.skip_bad = true;
    r = build_index(bad, dir.file("idx"), o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->rows_skipped, 2u);
    EXPECT_EQ(r->rows_indexed, 1998u);
    auto idx = InMemoryIndex::load(dir.file("idx"));
    ASSERT_TRUE(idx.is_ok());
    std::set<uint64_t> ids;
    for (uint32_t i = 0; i < idx->size(); ++i) ids.insert(idx->external_id(i));
    EXPECT_EQ(ids.size(), 1998u);
    EXPECT_EQ(ids.count(17), 0u) << "ids keep the original row numbers";
    EXPECT_EQ(ids.count(900), 0u);
    EXPECT_EQ(*ids.rbegin(), 1999u);
    expect_ids_match_vectors(dir.file("idx"), f.base_rows, 16, [](uint64_t id) { return id; });
    auto reader = IndexReader::open(dir.file("idx"));
    EXPECT_NE(reader->meta_json()->find("\"rows_skipped\": 2"), std::string::npos);

    // Cosine refuses a zero vector.
    std::vector<float> zero_row = f.query_rows;
    std::fill_n(zero_row.begin() + 16 * 4, 16, 0.0f);
    ASSERT_TRUE(
        io::write_vectors(dir.file("z.fbin"), DType::kF32, 10, 16, zero_row.data()).is_ok());
    BuildOptions c;
    c.metric = Metric::kCosine;
    c.degree_max = 4;
    r = build_index(dir.file("z.fbin"), dir.file("zidx"), c);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("row 4 has zero norm"), std::string::npos)
        << r.status().message();
}

TEST(Builder, ExternalIdsAndOutputDirectoryRules) {
    testing::TempDir dir;
    Files f = make_data(dir, 1000, 10, 8, testing::test_seed(46));
    std::string ids_text;
    for (uint32_t i = 0; i < 1000; ++i) ids_text += std::to_string(1000000 + 7 * i) + "\n";
    testing::write_bytes(dir.file("ids.txt"), ids_text);
    BuildOptions o;
    o.degree_max = 16;
    o.ids_path = dir.file("ids.txt");
    ASSERT_TRUE(build_index(f.base, dir.file("idx"), o).is_ok());
    auto idx = InMemoryIndex::load(dir.file("idx"));
    ASSERT_TRUE(idx.is_ok());
    std::set<uint64_t> ids;
    for (uint32_t i = 0; i < idx->size(); ++i) ids.insert(idx->external_id(i));
    EXPECT_EQ(ids.size(), 1000u);
    EXPECT_EQ(*ids.rbegin(), 1000000u + 7 * 999);
    expect_ids_match_vectors(dir.file("idx"), f.base_rows, 8,
                             [](uint64_t id) { return (id - 1000000) / 7; });

    auto again = build_index(f.base, dir.file("idx"), o);
    EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
    o.force = true;
    EXPECT_TRUE(build_index(f.base, dir.file("idx"), o).is_ok());

    testing::write_bytes(dir.file("ids.txt"), std::string("1\n2\n2\n"));
    auto dup = build_index(f.base, dir.file("idx2"), o);
    EXPECT_NE(dup.status().message().find("holds 3 ids"), std::string::npos);

    o.ids_path.clear();
    testing::write_bytes(dir.file("plainfile"), std::string("x"));
    auto unwritable = build_index(f.base, dir.file("plainfile") + "/idx", o);
    ASSERT_FALSE(unwritable.is_ok());
    EXPECT_NE(unwritable.status().message().find("plainfile"), std::string::npos);

    testing::write_bytes(dir.file("foreign.fbin"), std::string("not a vector file at all"));
    auto foreign = build_index(dir.file("foreign.fbin"), dir.file("idx3"), o);
    ASSERT_FALSE(foreign.is_ok());
    EXPECT_NE(foreign.status().message().find("foreign.fbin"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir.file("idx3")));
}

}  // namespace
}  // namespace strata::disk
