// Sharded (memory-bounded) Vamana build: every node emitted once in order, degrees within R,
// and recall within 2 points of the one-shot build.
#include "graph/sharded_build.hpp"

#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "distance/exact_knn.hpp"
#include "io/synthetic.hpp"
#include "testing/testing.hpp"

namespace strata::graph {
namespace {

double recall(const Graph& g, uint32_t medoid, const VectorStore& store,
              const std::vector<float>& queries, uint32_t nq, uint32_t dim,
              const std::vector<uint32_t>& truth) {
    const uint32_t k = 10;
    std::vector<uint32_t> got(size_t{nq} * k);
    GraphSearchOptions so;
    so.k = k;
    so.list_size = 40;
    EXPECT_TRUE(search_graph_batch(g, store, medoid, queries.data(), nq, dim * sizeof(float), so,
                                   got.data(), nullptr)
                    .is_ok());
    size_t hits = 0;
    for (uint32_t q = 0; q < nq; ++q) {
        std::set<uint32_t> t(truth.begin() + q * k, truth.begin() + (q + 1) * k);
        for (uint32_t i = 0; i < k; ++i) hits += t.count(got[q * k + i]);
    }
    return static_cast<double>(hits) / (static_cast<double>(nq) * k);
}

TEST(ShardedBuild, MatchesOneShotRecallWithinTwoPoints) {
    const uint64_t seed = testing::test_seed(31);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    const uint32_t n = 20000, nq = 300, dim = 48;
    io::SyntheticOptions so;
    so.dim = dim;
    so.seed = seed;
    auto gen = io::SyntheticGenerator::create(so, n);
    ASSERT_TRUE(gen.is_ok());
    std::vector<float> base(size_t{n} * dim), queries(size_t{nq} * dim);
    gen->generate(io::SyntheticStream::kBase, 0, n, base.data());
    gen->generate(io::SyntheticStream::kQueries, 0, nq, queries.data());
    std::vector<uint32_t> truth(size_t{nq} * 10);
    distance::ExactKnnOptions eo;
    ASSERT_TRUE(distance::exact_knn({base.data(), n, dim, DType::kF32, 0},
                                    {queries.data(), nq, dim, DType::kF32, 0}, eo, truth.data(),
                                    nullptr)
                    .is_ok());

    auto full = FullPrecisionStore::create(DType::kF32, Metric::kL2, dim, n, base.data(), 0);
    ASSERT_TRUE(full.is_ok());
    VamanaOptions vo;
    vo.degree_max = 24;
    vo.list_size = 50;
    auto one_shot = build_vamana(**full, vo);
    ASSERT_TRUE(one_shot.is_ok());

    testing::TempDir tmp;
    ShardedBuildOptions opt;
    opt.vamana = vo;
    opt.bytes_per_vector = 400;
    opt.shard_budget_bytes = 400 * 8000;  // 8,000 rows per shard: about 7 shards
    opt.kmeans_sample = 5000;
    opt.temp_dir = tmp.file("shards");
    int releases = 0;
    opt.release_input = [&] { ++releases; };
    const StoreFactory factory =
        [&](std::span<const uint32_t> rows) -> Result<std::unique_ptr<VectorStore>> {
        std::vector<float> gathered(rows.size() * dim);
        for (size_t i = 0; i < rows.size(); ++i) {
            std::memcpy(&gathered[i * dim], &base[size_t{rows[i]} * dim], dim * sizeof(float));
        }
        STRATA_ASSIGN_OR_RETURN(
            auto s, FullPrecisionStore::create(DType::kF32, Metric::kL2, dim, rows.size(),
                                               gathered.data(), 0));
        return std::unique_ptr<VectorStore>(std::move(s));
    };
    Graph merged(n, vo.degree_max);
    uint32_t expected_node = 0;
    const NodeSink sink = [&](uint32_t node, std::span<const uint32_t> nbrs) -> Status {
        EXPECT_EQ(node, expected_node++);
        EXPECT_LE(nbrs.size(), vo.degree_max);
        EXPECT_GE(nbrs.size(), 1u);
        for (uint32_t j : nbrs) {
            EXPECT_LT(j, n);
            EXPECT_NE(j, node);
        }
        merged.set_neighbors(node, nbrs);
        return Status::ok();
    };
    auto rep = build_vamana_sharded({base.data(), n, dim, DType::kF32, 0}, factory, opt, sink);
    ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
    EXPECT_EQ(expected_node, n);
    EXPECT_GE(rep->shards, 5u);
    EXPECT_LE(rep->largest_shard, 8000u);
    EXPECT_GT(releases, 0);
    EXPECT_FALSE(std::filesystem::exists(opt.temp_dir)) << "temp files are removed";

    const double r1 = recall(one_shot->graph, one_shot->medoid, **full, queries, nq, dim, truth);
    const double r2 = recall(merged, one_shot->medoid, **full, queries, nq, dim, truth);
    std::printf(
        "recall@10 (L=40): one-shot %.4f, sharded %.4f (%u shards, largest %llu, "
        "%llu re-pruned)\n",
        r1, r2, rep->shards, static_cast<unsigned long long>(rep->largest_shard),
        static_cast<unsigned long long>(rep->reprunes));
    EXPECT_GE(r2, r1 - 0.02);
}

TEST(ShardedBuild, ShardCountFollowsBudget) {
    EXPECT_EQ(shards_for_budget(1000, 2, 1000 * 100, 100), 3u);  // 2000 slots * 1.25 / 1000
    EXPECT_EQ(shards_for_budget(10, 2, 1 << 30, 100), 2u);
    ShardedBuildOptions opt;
    EXPECT_FALSE(opt.validate().is_ok());
}

}  // namespace
}  // namespace strata::graph
