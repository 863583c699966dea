// k-means and nearest-centroid assignment: cluster recovery, determinism, brute-force agreement
// and input errors.
#include "quant/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.hpp"
#include "testing/testing.hpp"

namespace strata::quant {
namespace {

using distance::MatrixView;

MatrixView f32_view(const std::vector<float>& v, uint32_t dim) {
    return {v.data(), v.size() / dim, dim, DType::kF32, 0};
}

/// `per` points around each of `centers` well-separated centres in `dim` dimensions.
struct Blobs {
    std::vector<float> centers;
    std::vector<float> x;
};

Blobs make_blobs(uint32_t centers, uint32_t per, uint32_t dim, double spread, uint64_t seed) {
    Rng rng(seed);
    Blobs b;
    b.centers.resize(size_t{centers} * dim);
    for (float& c : b.centers) c = static_cast<float>(rng.normal() * 100.0);
    for (uint32_t i = 0; i < per; ++i) {
        for (uint32_t c = 0; c < centers; ++c) {
            for (uint32_t t = 0; t < dim; ++t) {
                b.x.push_back(b.centers[c * dim + t] + static_cast<float>(rng.normal() * spread));
            }
        }
    }
    return b;
}

double sq_dist(const float* a, const float* b, uint32_t dim) {
    double d = 0.0;
    for (uint32_t t = 0; t < dim; ++t) d += (double{a[t]} - b[t]) * (double{a[t]} - b[t]);
    return d;
}

TEST(KMeans, RecoversWellSeparatedClusters) {
    const uint64_t seed = testing::test_seed(21);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    const uint32_t dim = 16, k = 8;
    const Blobs b = make_blobs(k, 500, dim, 1.0, seed);
    KMeansOptions o;
    o.k = k;
    o.seed = seed;
    Result<KMeansResult> r = kmeans(f32_view(b.x, dim), o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    std::vector<bool> matched(k, false);
    for (uint32_t c = 0; c < k; ++c) {
        uint32_t best = 0;
        for (uint32_t t = 1; t < k; ++t) {
            if (sq_dist(&r->centroids[c * dim], &b.centers[t * dim], dim) <
                sq_dist(&r->centroids[c * dim], &b.centers[best * dim], dim)) {
                best = t;
            }
        }
        EXPECT_LT(sq_dist(&r->centroids[c * dim], &b.centers[best * dim], dim), 0.5);
        EXPECT_FALSE(matched[best]) << "two centroids on one cluster";
        matched[best] = true;
    }
    EXPECT_NEAR(r->mse, dim * 1.0, 2.0);  // within-cluster variance: dim * spread^2
    EXPECT_GE(r->iterations_run, 1u);
}

TEST(KMeans, SameResultForAnyThreadCount) {
    const uint32_t dim = 8;
    Rng rng(4);
    std::vector<float> x(20000 * dim);
    for (float& v : x) v = static_cast<float>(rng.normal());
    KMeansOptions o;
    o.k = 37;
    o.iterations = 5;
    o.threads = 1;
    Result<KMeansResult> one = kmeans(f32_view(x, dim), o);
    o.threads = 2;
    Result<KMeansResult> two = kmeans(f32_view(x, dim), o);
    ASSERT_TRUE(one.is_ok() && two.is_ok());
    EXPECT_EQ(one->centroids, two->centroids);
    EXPECT_EQ(one->mse, two->mse);
}

TEST(KMeans, StridedAndIntegerRows) {
    // The first 6 columns of 10-wide rows, as a strided view, cluster like a dense copy.
    const Blobs b = make_blobs(4, 200, 10, 1.0, 9);
    std::vector<float> dense;
    for (size_t i = 0; i < b.x.size() / 10; ++i) {
        dense.insert(dense.end(), b.x.begin() + i * 10, b.x.begin() + i * 10 + 6);
    }
    KMeansOptions o;
    o.k = 4;
    const MatrixView strided{b.x.data(), b.x.size() / 10, 6, DType::kF32, 10 * sizeof(float)};
    Result<KMeansResult> a = kmeans(strided, o);
    Result<KMeansResult> c = kmeans(f32_view(dense, 6), o);
    ASSERT_TRUE(a.is_ok() && c.is_ok());
    EXPECT_EQ(a->centroids, c->centroids);

    // u8 rows: two tight groups near 10 and 200.
    std::vector<uint8_t> u8(400 * 4);
    for (size_t i = 0; i < u8.size(); ++i) u8[i] = static_cast<uint8_t>((i / 4) % 2 ? 200 : 10);
    o.k = 2;
    Result<KMeansResult> u = kmeans({u8.data(), 400, 4, DType::kU8, 0}, o);
    ASSERT_TRUE(u.is_ok()) << u.status().to_string();
    std::vector<float> firsts = {u->centroids[0], u->centroids[4]};
    std::sort(firsts.begin(), firsts.end());
    EXPECT_EQ(firsts, (std::vector<float>{10.0f, 200.0f}));
}

TEST(KMeans, FewerRowsThanClustersRepeatsRows) {
    const std::vector<float> x = {1, 2, 3, 4, 5, 6};  // 3 rows of 2
    KMeansOptions o;
    o.k = 5;
    Result<KMeansResult> r = kmeans(f32_view(x, 2), o);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->centroids, (std::vector<float>{1, 2, 3, 4, 5, 6, 1, 2, 3, 4}));
    EXPECT_EQ(r->mse, 0.0);
}

TEST(KMeans, DegenerateDataSplitsEmptyClustersWithoutFailing) {
    std::vector<float> x(3000 * 3, 0.25f);            // one distinct point, many rows
    for (size_t i = 0; i < 50 * 3; ++i) x[i] = 7.0f;  // and a second one
    KMeansOptions o;
    o.k = 6;
    o.iterations = 4;
    Result<KMeansResult> r = kmeans(f32_view(x, 3), o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_GT(r->empty_splits, 0u);
    for (float v : r->centroids) EXPECT_TRUE(std::isfinite(v));
    EXPECT_LT(r->mse, 1e-3);
}

TEST(KMeans, RejectsBadInput) {
    std::vector<float> x(100 * 4, 1.0f);
    KMeansOptions o;
    o.k = 0;
    EXPECT_EQ(kmeans(f32_view(x, 4), o).status().code(), StatusCode::kInvalidArgument);
    o.k = 4;
    o.iterations = 0;
    EXPECT_EQ(kmeans(f32_view(x, 4), o).status().code(), StatusCode::kInvalidArgument);
    o.iterations = 3;
    o.threads = -1;
    EXPECT_EQ(kmeans(f32_view(x, 4), o).status().code(), StatusCode::kInvalidArgument);
    o.threads = 0;
    EXPECT_EQ(kmeans({x.data(), 0, 4, DType::kF32, 0}, o).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(kmeans({x.data(), 100, 0, DType::kF32, 0}, o).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(kmeans({nullptr, 100, 4, DType::kF32, 0}, o).status().code(),
              StatusCode::kInvalidArgument);
    x[77 * 4 + 2] = std::numeric_limits<float>::quiet_NaN();
    const Status s = kmeans(f32_view(x, 4), o).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("row 77"), std::string::npos) << s.message();
}

// Top-2 assignment against a double-precision brute force, for f32 and u8 rows.
TEST(AssignNearest, Top2MatchesBruteForce) {
    const uint64_t seed = testing::test_seed(13);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    Rng rng(seed);
    const uint32_t dim = 32, k = 24;
    const size_t n = 1000;
    std::vector<float> x(n * dim);
    for (float& v : x) v = static_cast<float>(rng.normal());
    std::vector<uint8_t> xu(n * dim);
    for (uint8_t& v : xu) v = static_cast<uint8_t>(rng.below(256));
    for (bool integer : {false, true}) {
        SCOPED_TRACE(integer ? "u8" : "f32");
        std::vector<float> rows(n * dim);
        for (size_t i = 0; i < rows.size(); ++i) rows[i] = integer ? xu[i] : x[i];
        std::vector<float> cent(size_t{k} * dim);
        for (float& v : cent) {
            v = integer ? static_cast<float>(rng.below(256)) : static_cast<float>(rng.normal());
        }
        const MatrixView view =
            integer ? MatrixView{xu.data(), n, dim, DType::kU8, 0} : f32_view(x, dim);
        AssignOptions o;
        o.top_m = 2;
        std::vector<uint32_t> ids(n * 2);
        std::vector<float> dists(n * 2);
        ASSERT_TRUE(assign_nearest(view, cent.data(), k, o, ids.data(), dists.data()).is_ok());
        for (size_t i = 0; i < n; ++i) {
            std::vector<std::pair<double, uint32_t>> all;
            for (uint32_t c = 0; c < k; ++c) {
                all.emplace_back(sq_dist(&rows[i * dim], &cent[c * dim], dim), c);
            }
            std::sort(all.begin(), all.end());
            for (int j = 0; j < 2; ++j) {
                const double tol = 1e-4 * (1.0 + all[j].first);
                const double got = sq_dist(&rows[i * dim], &cent[ids[i * 2 + j] * dim], dim);
                EXPECT_NEAR(got, all[j].first, tol) << "row " << i;
                EXPECT_NEAR(dists[i * 2 + j], all[j].first, 1e-4 * (1.0 + all[j].first) * 10);
            }
            EXPECT_NE(ids[i * 2], ids[i * 2 + 1]);
        }
    }
}

TEST(AssignNearest, RejectsBadInput) {
    std::vector<float> x(10 * 4, 1.0f);
    std::vector<float> cent(3 * 4, 0.0f);
    std::vector<uint32_t> ids(10 * 4);
    AssignOptions o;
    o.top_m = 4;
    EXPECT_EQ(assign_nearest(f32_view(x, 4), cent.data(), 3, o, ids.data(), nullptr).code(),
              StatusCode::kInvalidArgument);
    o.top_m = kMaxAssignTopM + 1;
    EXPECT_EQ(assign_nearest(f32_view(x, 4), cent.data(), 64, o, ids.data(), nullptr).code(),
              StatusCode::kInvalidArgument);
    o.top_m = 1;
    EXPECT_EQ(assign_nearest(f32_view(x, 4), nullptr, 3, o, ids.data(), nullptr).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(assign_nearest(f32_view(x, 4), cent.data(), 0, o, ids.data(), nullptr).code(),
              StatusCode::kInvalidArgument);
    cent[5] = std::numeric_limits<float>::infinity();
    EXPECT_EQ(assign_nearest(f32_view(x, 4), cent.data(), 3, o, ids.data(), nullptr).code(),
              StatusCode::kInvalidArgument);
    cent[5] = 0.0f;
    x[9 * 4] = std::numeric_limits<float>::quiet_NaN();
    const Status s = assign_nearest(f32_view(x, 4), cent.data(), 3, o, ids.data(), nullptr);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("row 9"), std::string::npos) << s.message();
    // Zero rows is fine and writes nothing.
    EXPECT_TRUE(
        assign_nearest({x.data(), 0, 4, DType::kF32, 0}, cent.data(), 3, o, nullptr, nullptr)
            .is_ok());
}

}  // namespace
}  // namespace strata::quant
