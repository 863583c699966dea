// Exact k-NN against a naive double-precision reference, ties included.
#include "distance/exact_knn.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.hpp"
#include "testing/testing.hpp"

namespace strata::distance {
namespace {

template <typename T>
double value(const T* v, size_t j) {
    return static_cast<double>(v[j]);
}

/// Naive reference: every distance in double, full sort by (distance, id).
template <typename T>
std::vector<uint32_t> naive(const std::vector<T>& base, const std::vector<T>& queries, size_t dim,
                            uint32_t k, Metric metric) {
    const size_t n = base.size() / dim, nq = queries.size() / dim;
    std::vector<uint32_t> out;
    for (size_t q = 0; q < nq; ++q) {
        const T* qv = queries.data() + q * dim;
        std::vector<std::pair<double, uint32_t>> all;
        for (size_t i = 0; i < n; ++i) {
            const T* x = base.data() + i * dim;
            double l2 = 0, ip = 0, nx = 0, nqq = 0;
            for (size_t j = 0; j < dim; ++j) {
                const double a = value(qv, j), b = value(x, j);
                l2 += (a - b) * (a - b);
                ip += a * b;
                nx += b * b;
                nqq += a * a;
            }
            double d = metric == Metric::kL2 ? l2
                       : metric == Metric::kInnerProduct
                           ? -ip
                           : (nx > 0 && nqq > 0 ? 1 - ip / std::sqrt(nx * nqq) : 1.0);
            all.emplace_back(d, static_cast<uint32_t>(i));
        }
        std::sort(all.begin(), all.end());
        for (uint32_t j = 0; j < k; ++j) out.push_back(all[j].second);
    }
    return out;
}

template <typename T>
MatrixView view(const std::vector<T>& v, size_t dim, DType dtype) {
    return {v.data(), v.size() / dim, static_cast<uint32_t>(dim), dtype, 0};
}

template <typename T>
std::vector<T> random_ints(Rng& rng, size_t count, int lo, int hi) {
    std::vector<T> v(count);
    for (auto& x : v) {
        x = static_cast<T>(lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))));
    }
    return v;
}

/// Integer-valued data makes every kernel exact, so ids must match the reference exactly,
/// including ties (duplicated rows force many).
template <typename T>
void check_exact(DType dtype, Metric metric, int lo, int hi, uint64_t seed) {
    std::printf("seed %llu dtype %s metric %s\n", static_cast<unsigned long long>(seed),
                std::string(dtype_name(dtype)).c_str(), std::string(metric_name(metric)).c_str());
    Rng rng(seed);
    const size_t dim = 19, n = 1500, nq = 40;
    const uint32_t k = 25;
    auto base = random_ints<T>(rng, n * dim, lo, hi);
    for (size_t i = 0; i < n; i += 7) {  // duplicate rows: exact ties
        const size_t src = rng.below(n);
        std::copy_n(base.begin() + static_cast<ptrdiff_t>(src * dim), dim,
                    base.begin() + static_cast<ptrdiff_t>(i * dim));
    }
    auto queries = random_ints<T>(rng, nq * dim, lo, hi);
    const auto expected = naive(base, queries, dim, k, metric);
    for (int threads : {1, 2}) {
        for (uint32_t qblock : {1u, 32u}) {
            ExactKnnOptions opt;
            opt.k = k;
            opt.metric = metric;
            opt.threads = threads;
            opt.query_block = qblock;
            opt.base_block_bytes = 1000;  // many base blocks
            std::vector<uint32_t> ids(nq * k);
            std::vector<float> dists(nq * k);
            ASSERT_TRUE(exact_knn(view(base, dim, dtype), view(queries, dim, dtype), opt,
                                  ids.data(), dists.data())
                            .is_ok());
            ASSERT_EQ(ids, expected) << "threads " << threads << " query_block " << qblock;
            for (size_t q = 0; q < nq; ++q) {
                EXPECT_TRUE(std::is_sorted(dists.begin() + static_cast<ptrdiff_t>(q * k),
                                           dists.begin() + static_cast<ptrdiff_t>((q + 1) * k)));
            }
        }
    }
}

TEST(ExactKnn, MatchesNaiveF32L2WithTies) {
    check_exact<float>(DType::kF32, Metric::kL2, -4, 4, testing::test_seed(1));
}
TEST(ExactKnn, MatchesNaiveF32Ip) {
    check_exact<float>(DType::kF32, Metric::kInnerProduct, -4, 4, testing::test_seed(2));
}
TEST(ExactKnn, MatchesNaiveU8L2) {
    check_exact<uint8_t>(DType::kU8, Metric::kL2, 0, 255, testing::test_seed(3));
}
TEST(ExactKnn, MatchesNaiveU8Ip) {
    check_exact<uint8_t>(DType::kU8, Metric::kInnerProduct, 0, 255, testing::test_seed(4));
}
TEST(ExactKnn, MatchesNaiveI8L2) {
    check_exact<int8_t>(DType::kI8, Metric::kL2, -128, 127, testing::test_seed(5));
}
TEST(ExactKnn, MatchesNaiveI8Ip) {
    check_exact<int8_t>(DType::kI8, Metric::kInnerProduct, -128, 127, testing::test_seed(6));
}

TEST(ExactKnn, CosineMatchesNaiveUpToRounding) {
    const uint64_t seed = testing::test_seed(7);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    Rng rng(seed);
    const size_t dim = 33, n = 800, nq = 20;
    const uint32_t k = 10;
    std::vector<float> base(n * dim), queries(nq * dim);
    for (auto& x : base) x = static_cast<float>(rng.normal() * (1 + rng.uniform() * 5));
    for (auto& x : queries) x = static_cast<float>(rng.normal());
    std::fill_n(base.begin(), dim, 0.0f);  // a zero row has distance 1
    const auto expected = naive(base, queries, dim, k, Metric::kCosine);
    ExactKnnOptions opt;
    opt.k = k;
    opt.metric = Metric::kCosine;
    std::vector<uint32_t> ids(nq * k);
    std::vector<float> dists(nq * k);
    ASSERT_TRUE(exact_knn(view(base, dim, DType::kF32), view(queries, dim, DType::kF32), opt,
                          ids.data(), dists.data())
                    .is_ok());
    size_t mismatches = 0;
    for (size_t i = 0; i < ids.size(); ++i) mismatches += ids[i] != expected[i];
    // Float rounding may swap neighbours whose distances differ by ~1e-7; allow a handful.
    EXPECT_LE(mismatches, ids.size() / 50) << mismatches;
    for (float d : dists) EXPECT_TRUE(d >= -1e-5f && d <= 2.00001f) << d;
}

TEST(ExactKnn, RejectsBadArguments) {
    std::vector<float> base(10 * 4, 1.0f), q3(2 * 3, 1.0f), q4(2 * 4, 1.0f);
    std::vector<uint8_t> q4u8(2 * 4, 1);
    std::vector<uint32_t> ids(2 * 20);
    ExactKnnOptions opt;
    opt.k = 5;
    auto b = view(base, 4, DType::kF32);
    Status st = exact_knn(b, view(q3, 3, DType::kF32), opt, ids.data(), nullptr);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("dimension"), std::string::npos) << st.message();
    st = exact_knn(b, view(q4u8, 4, DType::kU8), opt, ids.data(), nullptr);
    EXPECT_NE(st.message().find("u8"), std::string::npos) << st.message();
    opt.k = 0;
    EXPECT_FALSE(exact_knn(b, view(q4, 4, DType::kF32), opt, ids.data(), nullptr).is_ok());
    opt.k = 11;
    st = exact_knn(b, view(q4, 4, DType::kF32), opt, ids.data(), nullptr);
    EXPECT_NE(st.message().find("exceeds"), std::string::npos) << st.message();
    opt.k = 10;
    EXPECT_TRUE(exact_knn(b, view(q4, 4, DType::kF32), opt, ids.data(), nullptr).is_ok());
}

}  // namespace
}  // namespace strata::distance
