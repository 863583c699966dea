// Vamana: structural invariants, RobustPrune semantics, and recall of the in-memory search.
#include "graph/vamana.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.hpp"
#include "distance/exact_knn.hpp"
#include "io/synthetic.hpp"
#include "testing/testing.hpp"

namespace strata::graph {
namespace {

struct Data {
    std::vector<float> base, queries;
    uint32_t n, nq, dim;
};

Data synthetic(uint32_t n, uint32_t nq, uint32_t dim, uint64_t seed) {
    io::SyntheticOptions opt;
    opt.dim = dim;
    opt.seed = seed;
    auto gen = io::SyntheticGenerator::create(opt, n);
    EXPECT_TRUE(gen.is_ok());
    Data d{std::vector<float>(size_t{n} * dim), std::vector<float>(size_t{nq} * dim), n, nq, dim};
    gen->generate(io::SyntheticStream::kBase, 0, n, d.base.data());
    gen->generate(io::SyntheticStream::kQueries, 0, nq, d.queries.data());
    return d;
}

double recall_at(const Data& d, Metric metric, const VamanaOptions& vopt, uint32_t list_size,
                 VamanaResult* out_result = nullptr) {
    auto store = FullPrecisionStore::create(DType::kF32, metric, d.dim, d.n, d.base.data(), 0);
    EXPECT_TRUE(store.is_ok());
    auto built = build_vamana(**store, vopt);
    EXPECT_TRUE(built.is_ok()) << built.status().to_string();
    const uint32_t k = 10;
    std::vector<uint32_t> truth(size_t{d.nq} * k), got(size_t{d.nq} * k);
    distance::ExactKnnOptions eo;
    eo.k = k;
    eo.metric = metric;
    EXPECT_TRUE(distance::exact_knn({d.base.data(), d.n, d.dim, DType::kF32, 0},
                                    {d.queries.data(), d.nq, d.dim, DType::kF32, 0}, eo,
                                    truth.data(), nullptr)
                    .is_ok());
    GraphSearchOptions so;
    so.k = k;
    so.list_size = list_size;
    EXPECT_TRUE(search_graph_batch(built->graph, **store, built->medoid, d.queries.data(), d.nq,
                                   d.dim * sizeof(float), so, got.data(), nullptr)
                    .is_ok());
    size_t hits = 0;
    for (uint32_t q = 0; q < d.nq; ++q) {
        std::set<uint32_t> t(truth.begin() + q * k, truth.begin() + (q + 1) * k);
        for (uint32_t i = 0; i < k; ++i) hits += t.count(got[q * k + i]);
    }
    if (out_result != nullptr) *out_result = std::move(*built);
    return static_cast<double>(hits) / (static_cast<double>(d.nq) * k);
}

TEST(Vamana, InvariantsAndRecallOnClusteredData) {
    const uint64_t seed = testing::test_seed(21);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    const Data d = synthetic(20000, 200, 64, seed);
    VamanaOptions opt;
    opt.degree_max = 32;
    opt.list_size = 64;
    VamanaResult res;
    const double recall = recall_at(d, Metric::kL2, opt, 100, &res);
    std::printf("recall@10 at L=100: %.4f (build %.2f s)\n", recall, res.seconds);
    EXPECT_GE(recall, 0.98);
    const Graph& g = res.graph;
    ASSERT_EQ(g.size(), d.n);
    EXPECT_LT(res.medoid, d.n);
    for (uint32_t i = 0; i < g.size(); ++i) {
        auto nbrs = g.neighbors(i);
        ASSERT_LE(nbrs.size(), opt.degree_max);
        ASSERT_GE(nbrs.size(), 1u) << "node " << i << " has no out-edges";
        std::set<uint32_t> unique(nbrs.begin(), nbrs.end());
        ASSERT_EQ(unique.size(), nbrs.size()) << "duplicate edge at node " << i;
        ASSERT_EQ(unique.count(i), 0u) << "self loop at node " << i;
        for (uint32_t j : nbrs) ASSERT_LT(j, d.n);
    }
}

TEST(Vamana, CosineRecall) {
    const Data d = synthetic(10000, 100, 48, testing::test_seed(22));
    VamanaOptions opt;
    opt.degree_max = 32;
    opt.list_size = 64;
    EXPECT_GE(recall_at(d, Metric::kCosine, opt, 100), 0.97);
}

TEST(RobustPrune, KeepsClosestAndDropsDominated) {
    // Points on a line: 0 at the origin, candidates at 1, 2, 3 and one at -1.
    // From node 0, candidate 2 is dominated by 1 (d(1,2)=1 <= d(0,2)=4 in squared L2) at α=1.
    std::vector<float> pts = {0, 1, 2, 3, -1};
    auto store = FullPrecisionStore::create(DType::kF32, Metric::kL2, 1, 5, pts.data(), 0);
    ASSERT_TRUE(store.is_ok());
    std::vector<Candidate> pool = {{4, 2}, {1, 1}, {9, 3}, {1, 4}, {0, 0}, {1, 1}};
    std::vector<uint32_t> out;
    std::vector<float> scratch;
    robust_prune(**store, 0, pool, 1.0f, 10, 100, out, scratch);
    EXPECT_EQ(out, (std::vector<uint32_t>{1, 4}));
    // With a degree cap of 1 only the closest survives (ties to the lower id).
    pool = {{4, 2}, {1, 1}, {1, 4}};
    robust_prune(**store, 0, pool, 1.2f, 1, 100, out, scratch);
    EXPECT_EQ(out, (std::vector<uint32_t>{1}));
}

TEST(Vamana, RejectsBadOptions) {
    VamanaOptions opt;
    opt.degree_max = 1;
    EXPECT_FALSE(opt.validate().is_ok());
    opt = {};
    opt.alpha = 0.5f;
    EXPECT_NE(opt.validate().message().find("alpha"), std::string::npos);
    opt = {};
    opt.list_size = 0;
    EXPECT_FALSE(opt.validate().is_ok());
}

}  // namespace
}  // namespace strata::graph

namespace strata::graph {
namespace {

TEST(Vamana, InnerProductOnVariedNormsFindsTrueMipsNeighbours) {
    // Rows with norms spread over 0.2..5: the L2 neighbours differ from the IP ones, so a graph
    // built on plain L2 would score poorly here.
    const uint64_t seed = testing::test_seed(23);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    Data d = synthetic(10000, 100, 32, seed);
    Rng rng(seed);
    for (uint32_t i = 0; i < d.n; ++i) {
        const float scale = static_cast<float>(0.2 + 4.8 * rng.uniform());
        for (uint32_t j = 0; j < d.dim; ++j) d.base[size_t{i} * d.dim + j] *= scale;
    }
    auto store = FullPrecisionStore::create_mips(DType::kF32, d.dim, d.n, d.base.data(), 0);
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    EXPECT_EQ((*store)->dim(), d.dim + 1);
    VamanaOptions opt;
    opt.degree_max = 48;
    opt.list_size = 100;
    auto built = build_vamana(**store, opt);
    ASSERT_TRUE(built.is_ok());
    const uint32_t k = 10;
    std::vector<uint32_t> ip_truth(size_t{d.nq} * k), l2_truth(size_t{d.nq} * k),
        got(size_t{d.nq} * k);
    distance::ExactKnnOptions eo;
    eo.k = k;
    eo.metric = Metric::kInnerProduct;
    const distance::MatrixView base{d.base.data(), d.n, d.dim, DType::kF32, 0};
    const distance::MatrixView queries{d.queries.data(), d.nq, d.dim, DType::kF32, 0};
    ASSERT_TRUE(distance::exact_knn(base, queries, eo, ip_truth.data(), nullptr).is_ok());
    eo.metric = Metric::kL2;
    ASSERT_TRUE(distance::exact_knn(base, queries, eo, l2_truth.data(), nullptr).is_ok());
    GraphSearchOptions so;
    so.k = k;
    so.list_size = 200;
    ASSERT_TRUE(search_graph_batch(built->graph, **store, built->medoid, d.queries.data(), d.nq,
                                   d.dim * sizeof(float), so, got.data(), nullptr)
                    .is_ok());
    auto overlap = [&](const std::vector<uint32_t>& truth) {
        size_t hits = 0;
        for (uint32_t q = 0; q < d.nq; ++q) {
            std::set<uint32_t> t(truth.begin() + q * k, truth.begin() + (q + 1) * k);
            for (uint32_t i = 0; i < k; ++i) hits += t.count(got[q * k + i]);
        }
        return static_cast<double>(hits) / (static_cast<double>(d.nq) * k);
    };
    const double ip_recall = overlap(ip_truth), l2_overlap = overlap(l2_truth);
    std::printf("ip recall@10 %.4f, overlap with l2 neighbours %.4f\n", ip_recall, l2_overlap);
    EXPECT_GE(ip_recall, 0.95);
    EXPECT_LT(l2_overlap, 0.5) << "the data must make ip and l2 neighbours differ";
}

}  // namespace
}  // namespace strata::graph
