// Fashion-MNIST (real data from the Debian package): the converted files have the published
// shape and `strata gt` equals a naive exact scan, ties to the lower id, on sampled queries.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/dataset.hpp"

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

}  // namespace
}  // namespace strata
