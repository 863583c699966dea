// Product quantization: error against code size, ADC against decoded-vector distances, uneven
// chunks, encoding consistency and determinism, and input errors.
#include "quant/pq.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.hpp"
#include "io/synthetic.hpp"
#include "testing/testing.hpp"

namespace strata::quant {
namespace {

using distance::MatrixView;

struct Data {
    uint32_t dim = 0;
    std::vector<float> base;
    std::vector<float> queries;
    MatrixView view() const { return {base.data(), base.size() / dim, dim, DType::kF32, 0}; }
};

Data synthetic(uint32_t dim, uint64_t rows, uint64_t queries, uint64_t seed) {
    io::SyntheticOptions o;
    o.dim = dim;
    o.seed = seed;
    o.noise_std = 0.2f;  // pinned: the thresholds below were set on this model
    o.latent_dim = 0;
    Result<io::SyntheticGenerator> gen = io::SyntheticGenerator::create(o, rows);
    EXPECT_TRUE(gen.is_ok());
    Data d;
    d.dim = dim;
    d.base.resize(rows * dim);
    d.queries.resize(queries * dim);
    gen->generate(io::SyntheticStream::kBase, 0, rows, d.base.data());
    gen->generate(io::SyntheticStream::kQueries, 0, queries, d.queries.data());
    return d;
}

double exact(const float* a, const float* b, uint32_t dim, Metric metric) {
    double l2 = 0.0, ip = 0.0, aa = 0.0;
    for (uint32_t t = 0; t < dim; ++t) {
        l2 += (double{a[t]} - b[t]) * (double{a[t]} - b[t]);
        ip += double{a[t]} * b[t];
        aa += double{a[t]} * a[t];
    }
    if (metric == Metric::kL2) return l2;
    if (metric == Metric::kInnerProduct) return -ip;
    return 1.0 - ip / std::sqrt(aa);
}

PqCodebook train_or_die(const MatrixView& v, const PqOptions& o) {
    Result<PqCodebook> r = PqCodebook::train(v, o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r).value();
}

TEST(Pq, DefaultBytesRule) {
    EXPECT_EQ(default_pq_bytes(0), 0u);
    EXPECT_EQ(default_pq_bytes(1), 1u);
    EXPECT_EQ(default_pq_bytes(7), 7u);
    EXPECT_EQ(default_pq_bytes(32), 32u);
    EXPECT_EQ(default_pq_bytes(128), 32u);
    EXPECT_EQ(default_pq_bytes(256), 32u);
    EXPECT_EQ(default_pq_bytes(264), 33u);
    EXPECT_EQ(default_pq_bytes(768), 96u);
    EXPECT_EQ(default_pq_bytes(1536), 192u);
}

TEST(Pq, ResolveBytesHonoursTheBudget) {
    EXPECT_EQ(*resolve_pq_bytes(0, 128, 1000, 0), 32u);
    EXPECT_EQ(*resolve_pq_bytes(0, 128, 1000, 16000), 16u);  // default shrinks to fit
    EXPECT_EQ(*resolve_pq_bytes(8, 128, 1000, 16000), 8u);
    EXPECT_EQ(resolve_pq_bytes(64, 128, 1000, 16000).status().code(),
              StatusCode::kResourceExhausted);  // explicit requests are not shrunk
    EXPECT_EQ(resolve_pq_bytes(0, 128, 1000, 999).status().code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(resolve_pq_bytes(129, 128, 1000, 0).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(resolve_pq_bytes(0, 0, 1000, 0).status().code(), StatusCode::kInvalidArgument);
}

// The acceptance test: relative distance error falls strictly as codes grow.
TEST(Pq, DistanceErrorShrinksAsBytesGrow) {
    const uint64_t seed = testing::test_seed(42);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    const Data d = synthetic(128, 12000, 100, seed);
    Rng rng(derive_seed(seed, 1));
    std::vector<std::pair<uint32_t, uint32_t>> pairs(2000);
    for (auto& p : pairs)
        p = {static_cast<uint32_t>(rng.below(100)), static_cast<uint32_t>(rng.below(12000))};
    double previous = INFINITY;
    for (uint32_t bytes : {8u, 16u, 32u, 64u}) {
        PqOptions o;
        o.bytes = bytes;
        o.iterations = 8;
        o.seed = seed;
        const PqCodebook pq = train_or_die(d.view(), o);
        std::vector<uint8_t> codes(12000 * bytes);
        ASSERT_TRUE(pq.encode_all(d.view(), codes.data(), 0, nullptr).is_ok());
        std::vector<float> table(pq.table_size());
        double rel = 0.0;
        for (const auto& [q, x] : pairs) {
            const float* qv = &d.queries[size_t{q} * 128];
            pq.compute_table(qv, Metric::kL2, table.data());
            const double want = exact(qv, &d.base[size_t{x} * 128], 128, Metric::kL2);
            rel += std::abs(pq.adc(table.data(), &codes[size_t{x} * bytes]) - want) / want;
        }
        rel /= static_cast<double>(pairs.size());
        std::printf("bytes %2u: mean relative L2 error %.4f (train mse %.4f)\n", bytes, rel,
                    pq.train_mse());
        EXPECT_LT(rel, previous) << "bytes " << bytes;
        previous = rel;
    }
    EXPECT_LT(previous, 0.05);
}

// ADC equals the distance to the decoded vector, for every metric, any code, centered or not,
// uneven chunks included.
TEST(Pq, AdcEqualsDecodedDistance) {
    const uint64_t seed = testing::test_seed(8);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    Rng rng(seed);
    for (uint32_t dim : {7u, 100u, 128u}) {
        const Data d = synthetic(dim, 3000, 20, seed + dim);
        for (bool center : {true, false}) {
            PqOptions o;
            o.bytes = dim == 7 ? 3 : 32;
            o.iterations = 4;
            o.center = center;
            const PqCodebook pq = train_or_die(d.view(), o);
            std::vector<float> table(pq.table_size());
            std::vector<uint8_t> code(pq.bytes());
            std::vector<float> decoded(dim);
            for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
                for (uint32_t q = 0; q < 20; ++q) {
                    const float* qv = &d.queries[size_t{q} * dim];
                    pq.compute_table(qv, metric, table.data());
                    for (int trial = 0; trial < 20; ++trial) {
                        for (uint8_t& c : code) c = static_cast<uint8_t>(rng.next_u64());
                        pq.decode(code.data(), decoded.data());
                        const double want = exact(qv, decoded.data(), dim, metric);
                        // L2 sums non-negative terms: relative to the distance itself. IP and
                        // cosine can cancel to ~0: relative to |q||x|, the size of the terms.
                        double qq = 0.0, xx = 0.0;
                        for (uint32_t t = 0; t < dim; ++t) {
                            qq += double{qv[t]} * qv[t];
                            xx += double{decoded[t]} * decoded[t];
                        }
                        const double scale = metric == Metric::kL2       ? want
                                             : metric == Metric::kCosine ? 1.0 + std::sqrt(xx)
                                                                         : std::sqrt(qq * xx);
                        ASSERT_NEAR(pq.adc(table.data(), code.data()), want, 1e-4 * (scale + 1e-6))
                            << "dim " << dim << " metric " << metric_name(metric) << " center "
                            << center;
                    }
                }
            }
        }
    }
}

TEST(Pq, AdcBatchEqualsAdc) {
    const Data d = synthetic(64, 2000, 4, 3);
    PqOptions o;
    o.bytes = 24;
    o.iterations = 3;
    const PqCodebook pq = train_or_die(d.view(), o);
    std::vector<uint8_t> codes(2000 * 24);
    ASSERT_TRUE(pq.encode_all(d.view(), codes.data(), 2, nullptr).is_ok());
    std::vector<float> table(pq.table_size());
    pq.compute_table(d.queries.data(), Metric::kL2, table.data());
    std::vector<uint32_t> ids = {1999, 0,  5,  5,  1234, 17, 3,  800, 801, 802,
                                 9,    10, 11, 12, 13,   14, 15, 16,  42};
    std::vector<float> got(2000), got_ids(ids.size());
    pq.adc_batch(table.data(), codes.data(), nullptr, 2000, got.data());
    pq.adc_batch(table.data(), codes.data(), ids.data(), ids.size(), got_ids.data());
    for (uint32_t i = 0; i < 2000; ++i) ASSERT_EQ(got[i], pq.adc(table.data(), &codes[i * 24]));
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(got_ids[i], got[ids[i]]);
}

TEST(Pq, UnevenChunks) {
    const Data d100 = synthetic(100, 2000, 1, 5);
    PqOptions o;
    o.bytes = 32;  // 100 = 4 x 4 + 28 x 3
    o.iterations = 4;
    const PqCodebook a = train_or_die(d100.view(), o);
    ASSERT_EQ(a.bytes(), 32u);
    for (uint32_t m = 0; m < 32; ++m) EXPECT_EQ(a.chunk_width(m), m < 4 ? 4u : 3u) << m;
    EXPECT_EQ(a.chunk_offset(32), 100u);

    const Data d7 = synthetic(7, 2000, 1, 6);
    o.bytes = 3;  // 7 = 3 + 2 + 2
    const PqCodebook b = train_or_die(d7.view(), o);
    EXPECT_EQ(b.chunk_width(0), 3u);
    EXPECT_EQ(b.chunk_width(1), 2u);
    EXPECT_EQ(b.chunk_width(2), 2u);
    // Quantization beats the mean as a reconstruction by far.
    std::vector<uint8_t> code(3);
    std::vector<float> rec(7);
    double err = 0.0, var = 0.0;
    for (size_t i = 0; i < 2000; ++i) {
        const float* x = &d7.base[i * 7];
        b.encode(x, code.data());
        b.decode(code.data(), rec.data());
        for (uint32_t t = 0; t < 7; ++t) {
            err += (double{x[t]} - rec[t]) * (double{x[t]} - rec[t]);
            var += (double{x[t]} - b.mean()[t]) * (double{x[t]} - b.mean()[t]);
        }
    }
    EXPECT_LT(err, 0.05 * var);

    o.bytes = 7;  // one dimension per chunk
    EXPECT_TRUE(PqCodebook::train(d7.view(), o).is_ok());
}

TEST(Pq, EncodeAgreesWithEncodeAllAndIsDeterministic) {
    const Data d = synthetic(48, 3000, 1, 12);
    PqOptions o;
    o.bytes = 12;
    o.iterations = 5;
    o.train_sample = 2500;
    o.threads = 1;
    const PqCodebook one = train_or_die(d.view(), o);
    o.threads = 2;
    const PqCodebook two = train_or_die(d.view(), o);
    EXPECT_EQ(one.serialize(), two.serialize());
    EXPECT_EQ(one.train_rows(), 2500u);
    std::vector<uint8_t> c1(3000 * 12), c2(3000 * 12), single(12);
    ASSERT_TRUE(one.encode_all(d.view(), c1.data(), 1, nullptr).is_ok());
    ASSERT_TRUE(one.encode_all(d.view(), c2.data(), 2, nullptr).is_ok());
    EXPECT_EQ(c1, c2);
    for (size_t i = 0; i < 3000; i += 7) {
        one.encode(&d.base[i * 48], single.data());
        ASSERT_TRUE(std::equal(single.begin(), single.end(), c1.begin() + i * 12)) << i;
    }
    EXPECT_GT(one.memory_bytes(), size_t{256} * 48 * 4);
}

TEST(Pq, IntegerSourcesAndTinyTrainingSets) {
    // u8 rows train and encode; with fewer rows than centroids every training row is exact.
    Rng rng(2);
    std::vector<uint8_t> u8(50 * 16);
    for (uint8_t& v : u8) v = static_cast<uint8_t>(rng.below(256));
    const MatrixView view{u8.data(), 50, 16, DType::kU8, 0};
    PqOptions o;
    o.bytes = 4;
    const PqCodebook pq = train_or_die(view, o);
    std::vector<uint8_t> codes(50 * 4);
    ASSERT_TRUE(pq.encode_all(view, codes.data(), 0, nullptr).is_ok());
    std::vector<float> rec(16);
    for (size_t i = 0; i < 50; ++i) {
        pq.decode(&codes[i * 4], rec.data());
        for (uint32_t t = 0; t < 16; ++t) EXPECT_NEAR(rec[t], u8[i * 16 + t], 1e-3);
    }
    std::vector<int8_t> i8(300 * 8);
    for (int8_t& v : i8) v = static_cast<int8_t>(rng.next_u64());
    EXPECT_TRUE(PqCodebook::train({i8.data(), 300, 8, DType::kI8, 0}, o).is_ok());
}

TEST(Pq, RejectsBadInput) {
    const Data d = synthetic(16, 500, 1, 1);
    PqOptions o;
    o.iterations = 2;
    auto code_of = [&](const PqOptions& opt, const MatrixView& v) {
        return PqCodebook::train(v, opt).status().code();
    };
    o.bytes = 17;  // > dim
    EXPECT_EQ(code_of(o, d.view()), StatusCode::kInvalidArgument);
    o.bytes = 0;  // default rule: min(32, 16) = 16 chunks
    ASSERT_TRUE(PqCodebook::train(d.view(), o).is_ok());
    EXPECT_EQ(PqCodebook::train(d.view(), o)->bytes(), 16u);
    o.train_sample = 0;
    EXPECT_EQ(code_of(o, d.view()), StatusCode::kInvalidArgument);
    o.train_sample = 1000;
    o.iterations = 0;
    EXPECT_EQ(code_of(o, d.view()), StatusCode::kInvalidArgument);
    o.iterations = 2;
    o.threads = -2;
    EXPECT_EQ(code_of(o, d.view()), StatusCode::kInvalidArgument);
    o.threads = 0;
    EXPECT_EQ(code_of(o, {d.base.data(), 0, 16, DType::kF32, 0}), StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(o, {d.base.data(), 500, 0, DType::kF32, 0}), StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(o, {nullptr, 500, 16, DType::kF32, 0}), StatusCode::kInvalidArgument);

    std::vector<float> bad = d.base;
    bad[321 * 16 + 5] = std::numeric_limits<float>::infinity();
    const MatrixView bad_view{bad.data(), 500, 16, DType::kF32, 0};
    const Status s = PqCodebook::train(bad_view, o).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("row 321"), std::string::npos) << s.message();

    const PqCodebook pq = train_or_die(d.view(), o);
    std::vector<uint8_t> codes(500 * pq.bytes());
    const Status e = pq.encode_all(bad_view, codes.data(), 0, nullptr);
    EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(e.message().find("row 321"), std::string::npos) << e.message();
    EXPECT_EQ(
        pq.encode_all({d.base.data(), 250, 32, DType::kF32, 0}, codes.data(), 0, nullptr).code(),
        StatusCode::kInvalidArgument);
    EXPECT_EQ(pq.encode_all(d.view(), nullptr, 0, nullptr).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(pq.encode_all(d.view(), codes.data(), -1, nullptr).code(),
              StatusCode::kInvalidArgument);
}

TEST(Pq, TrainingMemoryCapShrinksTheSample) {
    const Data d = synthetic(32, 5000, 1, 4);
    PqOptions o;
    o.bytes = 8;
    o.iterations = 2;
    o.train_memory_bytes = 2000 * 32 * 4;
    EXPECT_EQ(train_or_die(d.view(), o).train_rows(), 2000u);
    o.train_memory_bytes = 1;  // never below 1,000 rows
    EXPECT_EQ(train_or_die(d.view(), o).train_rows(), 1000u);
}

}  // namespace
}  // namespace strata::quant
