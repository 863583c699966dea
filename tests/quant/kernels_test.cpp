// The quant ISA kernels against brute force (nearest centroids) and against the scalar kernel
// (ADC, which must match bit for bit on every ISA).
#include "quant/kernel_tables.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.hpp"
#include "testing/testing.hpp"

namespace strata::quant::detail {
namespace {

using distance::Isa;

std::vector<const QuantKernels*> supported() {
    std::vector<const QuantKernels*> out;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        if (const QuantKernels* k = quant_kernels_for(isa)) out.push_back(k);
    }
    return out;
}

std::vector<float> normals(Rng& rng, size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(rng.normal());
    return v;
}

double exact_of(const std::vector<std::pair<double, uint32_t>>& all, uint32_t id) {
    for (const auto& p : all) {
        if (p.second == id) return p.first;
    }
    return -1.0;
}

TEST(QuantKernels, ActiveTableFollowsDistanceIsa) {
    EXPECT_EQ(quant_kernels().isa, distance::kernels().isa);
    EXPECT_NE(quant_kernels_for(Isa::kScalar), nullptr);
}

// Every ISA's top-m equals a double-precision brute force (up to float rounding of the scores).
TEST(QuantKernels, NearestMatchesBruteForce) {
    const uint64_t seed = testing::test_seed(7);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    Rng rng(seed);
    for (const QuantKernels* kern : supported()) {
        for (size_t dim : {1, 3, 4, 7, 16, 33, 128}) {
            for (size_t k : {1, 2, 5, 17, 64, 256}) {
                for (uint32_t m : {1u, 2u, 3u, 16u}) {
                    if (m > k) continue;
                    SCOPED_TRACE(::testing::Message() << distance::isa_name(kern->isa) << " dim "
                                                      << dim << " k " << k << " m " << m);
                    const std::vector<float> tile = normals(rng, dim * kTileRows);
                    const std::vector<float> cent = normals(rng, dim * k);
                    std::vector<float> neg2c(cent.size());
                    std::vector<float> norms(k, 0.0f);
                    for (size_t c = 0; c < k; ++c) {
                        for (size_t t = 0; t < dim; ++t) {
                            neg2c[c * dim + t] = -2.0f * cent[c * dim + t];
                            norms[c] += cent[c * dim + t] * cent[c * dim + t];
                        }
                    }
                    std::vector<float> scores(m * kTileRows);
                    std::vector<uint32_t> ids(m * kTileRows);
                    kern->nearest(tile.data(), dim, neg2c.data(), norms.data(), k, m, scores.data(),
                                  ids.data());
                    for (uint32_t r = 0; r < kTileRows; ++r) {
                        std::vector<std::pair<double, uint32_t>> all;
                        double xx = 0.0;
                        for (size_t t = 0; t < dim; ++t) {
                            xx += double{tile[t * kTileRows + r]} * tile[t * kTileRows + r];
                        }
                        for (size_t c = 0; c < k; ++c) {
                            double d = 0.0;
                            for (size_t t = 0; t < dim; ++t) {
                                const double diff =
                                    double{tile[t * kTileRows + r]} - cent[c * dim + t];
                                d += diff * diff;
                            }
                            all.emplace_back(d, static_cast<uint32_t>(c));
                        }
                        std::sort(all.begin(), all.end());
                        std::vector<uint32_t> seen;
                        for (uint32_t j = 0; j < m; ++j) {
                            const uint32_t id = ids[j * kTileRows + r];
                            ASSERT_LT(id, k);
                            seen.push_back(id);
                            const double got = exact_of(all, id);
                            const double tol = 1e-4 * (1.0 + xx + all[j].first);
                            EXPECT_NEAR(got, all[j].first, tol) << "row " << r << " slot " << j;
                            EXPECT_NEAR(scores[j * kTileRows + r] + xx, got, tol);
                        }
                        std::sort(seen.begin(), seen.end());
                        EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
                    }
                }
            }
        }
    }
}

// Identical centroids score identically, so the tie goes to the lower id on every ISA.
TEST(QuantKernels, NearestTiesGoToLowerId) {
    const size_t dim = 4;
    const size_t k = 9;
    Rng rng(11);
    const std::vector<float> tile = normals(rng, dim * kTileRows);
    std::vector<float> neg2c(dim * k, 0.0f);  // all centroids at the origin...
    std::vector<float> norms(k, 0.0f);
    for (size_t t = 0; t < dim; ++t) neg2c[6 * dim + t] = 100.0f;  // ...except a far one (6)
    norms[6] = 2500.0f * dim;
    for (const QuantKernels* kern : supported()) {
        SCOPED_TRACE(distance::isa_name(kern->isa));
        std::vector<float> scores(3 * kTileRows);
        std::vector<uint32_t> ids(3 * kTileRows);
        kern->nearest(tile.data(), dim, neg2c.data(), norms.data(), k, 3, scores.data(),
                      ids.data());
        for (uint32_t r = 0; r < kTileRows; ++r) {
            EXPECT_EQ(ids[r], 0u);
            EXPECT_EQ(ids[kTileRows + r], 1u);
            EXPECT_EQ(ids[2 * kTileRows + r], 2u);
        }
    }
}

// ADC: every ISA equals the scalar kernel exactly, for any code size, count, and with or
// without ids.
TEST(QuantKernels, AdcBatchEqualsScalarBitForBit) {
    const uint64_t seed = testing::test_seed(5);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    Rng rng(seed);
    const QuantKernels* scalar = quant_kernels_for(Isa::kScalar);
    for (uint32_t bytes : {1u, 2u, 3u, 7u, 8u, 15u, 16u, 17u, 31u, 32u, 33u, 48u, 64u, 100u}) {
        std::vector<float> table = normals(rng, size_t{bytes} * kPqCentroids);
        // Mixed magnitudes make the summation order visible in the low bits.
        for (size_t i = 0; i < table.size(); i += 3) table[i] *= 1e4f;
        const size_t rows = 203;
        std::vector<uint8_t> codes(rows * bytes);
        for (uint8_t& c : codes) c = static_cast<uint8_t>(rng.next_u64());
        std::vector<uint32_t> ids(97);
        for (uint32_t& id : ids) id = static_cast<uint32_t>(rng.below(rows));
        for (size_t n :
             {size_t{0}, size_t{1}, size_t{5}, size_t{16}, size_t{17}, size_t{40}, size_t{97}}) {
            std::vector<float> want(n), want_ids(n);
            scalar->adc_batch(table.data(), bytes, codes.data(), nullptr, n, want.data());
            scalar->adc_batch(table.data(), bytes, codes.data(), ids.data(), n, want_ids.data());
            for (size_t i = 0; i < n; ++i) {  // the scalar kernel sums what it should
                double ref = 0.0;
                for (uint32_t m = 0; m < bytes; ++m)
                    ref += table[m * kPqCentroids + codes[i * bytes + m]];
                ASSERT_NEAR(want[i], ref, 1e-3 * (1.0 + std::abs(ref)) + 1.0);
            }
            for (const QuantKernels* kern : supported()) {
                SCOPED_TRACE(::testing::Message()
                             << distance::isa_name(kern->isa) << " bytes " << bytes << " n " << n);
                std::vector<float> got(n), got_ids(n);
                kern->adc_batch(table.data(), bytes, codes.data(), nullptr, n, got.data());
                kern->adc_batch(table.data(), bytes, codes.data(), ids.data(), n, got_ids.data());
                for (size_t i = 0; i < n; ++i) {
                    ASSERT_EQ(got[i], want[i]) << "code " << i;
                    ASSERT_EQ(got_ids[i], want_ids[i]) << "code " << i;
                }
            }
        }
    }
}

// Codes that end exactly at the end of their buffer: the tail handling reads nothing past it
// (run under ASan to make this meaningful).
TEST(QuantKernels, AdcReadsNothingPastTheCodes) {
    Rng rng(3);
    for (uint32_t bytes : {5u, 19u, 40u}) {
        const std::vector<float> table = normals(rng, size_t{bytes} * kPqCentroids);
        const size_t n = 19;
        std::vector<uint8_t> codes(n * bytes);  // exact size: ASan flags any overread
        for (uint8_t& c : codes) c = static_cast<uint8_t>(rng.next_u64());
        std::vector<float> want(n);
        quant_kernels_for(Isa::kScalar)
            ->adc_batch(table.data(), bytes, codes.data(), nullptr, n, want.data());
        for (const QuantKernels* kern : supported()) {
            std::vector<float> got(n);
            kern->adc_batch(table.data(), bytes, codes.data(), nullptr, n, got.data());
            EXPECT_EQ(got, want) << distance::isa_name(kern->isa);
        }
    }
}

}  // namespace
}  // namespace strata::quant::detail
