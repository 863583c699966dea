// Fashion-MNIST (real data from the Debian package): the converted files have the published
// shape and `strata gt` equals a naive exact scan, ties to the lower id, on sampled queries.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <strata/builder.hpp>

#include <set>

#include "disk/in_memory_index.hpp"
#include "io/dataset.hpp"
#include "testing/testing.hpp"

namespace strata {
namespace {

const std::string kDir = STRATA_FMNIST_DIR;

TEST(FashionMnist, ShapesAndGroundTruthAgreeWithNaiveScan) {
    auto base = io::Dataset::open(kDir + "/base.u8bin");
    auto query = io::Dataset::open(kDir + "/query.u8bin");
    auto gt = io::read_ground_truth(kDir + "/gt100.ibin");
    ASSERT_TRUE(base.is_ok()) << base.status().to_string();
    ASSERT_TRUE(query.is_ok()) << query.status().to_string();
    ASSERT_TRUE(gt.is_ok()) << gt.status().to_string();
    EXPECT_EQ(base->size(), 60000u);
    EXPECT_EQ(base->dim(), 784u);
    EXPECT_EQ(query->size(), 10000u);
    EXPECT_EQ(gt->n, 10000u);
    EXPECT_EQ(gt->k, 100u);
    ASSERT_EQ(gt->distances.size(), size_t{10000} * 100);
    for (uint32_t q = 0; q < 10000; q += 250) {  // 40 sampled queries
        std::vector<std::pair<int64_t, uint32_t>> all(60000);
        const uint8_t* qv = query->row_as<uint8_t>(q);
        for (uint32_t i = 0; i < 60000; ++i) {
            const uint8_t* x = base->row_as<uint8_t>(i);
            int64_t d = 0;
            for (uint32_t j = 0; j < 784; ++j) {
                const int64_t diff = int64_t{qv[j]} - x[j];
                d += diff * diff;
            }
            all[i] = {d, i};
        }
        std::partial_sort(all.begin(), all.begin() + 100, all.end());
        for (uint32_t j = 0; j < 100; ++j) {
            ASSERT_EQ(gt->row(q)[j], all[j].second) << "query " << q << " rank " << j;
            ASSERT_EQ(gt->distances[size_t{q} * 100 + j], static_cast<float>(all[j].first));
        }
    }
}

TEST(FashionMnist, BuiltGraphRecallAtL100) {
    testing::TempDir dir;
    BuildOptions o;  // defaults: R = 64, L = 100, alpha = 1.2, PQ d/8 = 98 bytes
    auto rep = build_index(kDir + "/base.u8bin", dir.file("idx"), o);
    ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
    auto idx = disk::InMemoryIndex::load(dir.file("idx"));
    auto query = io::Dataset::open(kDir + "/query.u8bin");
    auto gt = io::read_ground_truth(kDir + "/gt100.ibin");
    ASSERT_TRUE(idx.is_ok() && query.is_ok() && gt.is_ok());
    const uint32_t k = 10, nq = 10000;
    std::vector<uint32_t> got(size_t{nq} * k);
    ASSERT_TRUE(
        idx->search(query->row(0), nq, query->row_stride_bytes(), k, 100, got.data(), nullptr)
            .is_ok());
    size_t hits = 0;
    for (uint32_t q = 0; q < nq; ++q) {
        std::set<uint64_t> truth(gt->row(q), gt->row(q) + k);
        for (uint32_t i = 0; i < k; ++i) hits += truth.count(idx->external_id(got[q * k + i]));
    }
    const double recall = static_cast<double>(hits) / (double{nq} * k);
    std::printf("Fashion-MNIST recall@10 at L=100: %.4f (graph %.1f s)\n", recall,
                rep->seconds_graph);
    EXPECT_GE(recall, 0.98);
}

}  // namespace
}  // namespace strata
