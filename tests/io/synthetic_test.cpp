// Synthetic data: deterministic, independent streams, and clustered like real embeddings.
#include "io/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "io/dataset.hpp"
#include "testing/testing.hpp"

namespace strata::io {
namespace {

std::vector<float> make(const SyntheticOptions& opt, SyntheticStream s, uint64_t first,
                        uint64_t count) {
    auto gen = SyntheticGenerator::create(opt, 10000);
    EXPECT_TRUE(gen.is_ok());
    std::vector<float> out(count * opt.dim);
    gen->generate(s, first, count, out.data());
    return out;
}

TEST(Synthetic, DeterministicWhateverTheChunking) {
    SyntheticOptions opt;
    opt.dim = 37;
    opt.seed = testing::test_seed(11);
    const auto whole = make(opt, SyntheticStream::kBase, 0, 300);
    const auto tail = make(opt, SyntheticStream::kBase, 100, 200);
    EXPECT_TRUE(std::equal(tail.begin(), tail.end(), whole.begin() + 100 * 37));
    EXPECT_EQ(whole, make(opt, SyntheticStream::kBase, 0, 300));
    opt.seed += 1;
    EXPECT_NE(whole, make(opt, SyntheticStream::kBase, 0, 300));
    opt.seed -= 1;
    EXPECT_NE(whole, make(opt, SyntheticStream::kQueries, 0, 300));
}

double nn_contrast(const SyntheticOptions& opt) {
    // Mean nearest-neighbour distance over mean distance to a random point: near 1 when
    // neighbours are meaningless (isotropic high-dimensional noise), well below 1 for data with
    // low intrinsic dimension and clusters.
    const uint64_t n = 2000;
    const auto base = make(opt, SyntheticStream::kBase, 0, n);
    const auto queries = make(opt, SyntheticStream::kQueries, 0, 50);
    double nn_sum = 0, mean_sum = 0;
    for (uint64_t q = 0; q < 50; ++q) {
        double best = INFINITY, total = 0;
        for (uint64_t i = 0; i < n; ++i) {
            double d = 0;
            for (uint32_t j = 0; j < opt.dim; ++j) {
                const double diff = queries[q * opt.dim + j] - base[i * opt.dim + j];
                d += diff * diff;
            }
            d = std::sqrt(d);
            best = std::min(best, d);
            total += d;
        }
        nn_sum += best;
        mean_sum += total / static_cast<double>(n);
    }
    return nn_sum / mean_sum;
}

TEST(Synthetic, ClusteredInLowDimensionUnlikeIsotropicNoise) {
    SyntheticOptions opt;
    opt.dim = 128;
    opt.seed = testing::test_seed(12);
    std::printf("seed %llu\n", static_cast<unsigned long long>(opt.seed));
    const double clustered = nn_contrast(opt);
    opt.latent_dim = 128;
    opt.clusters = 1;
    const double isotropic = nn_contrast(opt);
    std::printf("nn contrast: clustered %.3f, isotropic %.3f\n", clustered, isotropic);
    EXPECT_LT(clustered, 0.5);
    EXPECT_GT(isotropic, 0.7);
}

TEST(Synthetic, IntegerTypesUseTheirRange) {
    SyntheticOptions opt;
    opt.dim = 64;
    opt.dtype = DType::kU8;
    auto gen = SyntheticGenerator::create(opt, 1000);
    ASSERT_TRUE(gen.is_ok());
    std::vector<uint8_t> u(500 * 64);
    gen->generate(SyntheticStream::kBase, 0, 500, u.data());
    const auto [lo, hi] = std::minmax_element(u.begin(), u.end());
    EXPECT_LT(*lo, 60);
    EXPECT_GT(*hi, 195);
    opt.dtype = DType::kI8;
    auto gen8 = SyntheticGenerator::create(opt, 1000);
    std::vector<int8_t> s(500 * 64);
    gen8->generate(SyntheticStream::kBase, 0, 500, s.data());
    EXPECT_GE(*std::min_element(s.begin(), s.end()), -127);
    EXPECT_LT(*std::min_element(s.begin(), s.end()), -60);
}

TEST(Synthetic, RejectsBadOptions) {
    SyntheticOptions opt;
    opt.dim = 0;
    EXPECT_EQ(SyntheticGenerator::create(opt, 10).status().code(), StatusCode::kOutOfRange);
    opt.dim = 20000;
    EXPECT_EQ(SyntheticGenerator::create(opt, 10).status().code(), StatusCode::kOutOfRange);
    opt.dim = 8;
    opt.latent_dim = 9;
    auto st = SyntheticGenerator::create(opt, 10).status();
    EXPECT_NE(st.message().find("latent"), std::string::npos);
    opt.latent_dim = 4;
    opt.noise_std = NAN;
    EXPECT_FALSE(SyntheticGenerator::create(opt, 10).is_ok());
}

TEST(Synthetic, WritesFileThatReadsBack) {
    testing::TempDir dir;
    SyntheticOptions opt;
    opt.dim = 16;
    auto gen = SyntheticGenerator::create(opt, 5000);
    ASSERT_TRUE(gen.is_ok());
    const std::string path = dir.file("base.fbin");
    ASSERT_TRUE(write_synthetic(path, *gen, SyntheticStream::kBase, 5000, 2, nullptr).is_ok());
    auto data = Dataset::open(path);
    ASSERT_TRUE(data.is_ok()) << data.status().to_string();
    EXPECT_EQ(data->size(), 5000u);
    EXPECT_EQ(data->dim(), 16u);
    std::vector<float> row(16);
    gen->generate(SyntheticStream::kBase, 4321, 1, row.data());
    EXPECT_TRUE(std::equal(row.begin(), row.end(), data->row_as<float>(4321)));
}

}  // namespace
}  // namespace strata::io
