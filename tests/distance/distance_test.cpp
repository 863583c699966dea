// Tests of the distance kernels, their dispatch, and ISA detection and selection.
// Every SIMD table is compared with the scalar one at every dim 1..1024; integers must match
// exactly, including the extremes at kMaxDimension.
#include "distance/distance.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include <strata/log.hpp>

#include "core/rng.hpp"
#include "testing/testing.hpp"

namespace strata::distance {

// Prints test parameters by name ("avx2") rather than as bytes. Found by ADL, so not in the
// anonymous namespace.
void PrintTo(Isa isa, std::ostream* os) { *os << isa_name(isa); }

namespace {

constexpr uint64_t kDefaultSeed = 0x5EED'D157'A2C3ULL;
constexpr size_t kMaxTestDim = 1024;
// Relative tolerance of a SIMD f32 result against the scalar one (see F32MatchesScalar).
constexpr double kF32Tolerance = 1e-5;

uint64_t seed() {
    static const uint64_t s = [] {
        const uint64_t v = strata::testing::test_seed(kDefaultSeed);
        std::printf("distance_test seed: %llu (override with STRATA_TEST_SEED)\n",
                    static_cast<unsigned long long>(v));
        return v;
    }();
    return s;
}

// dim + 1 elements, so the test can also start one element in (a misaligned pointer).
std::vector<float> random_f32(Rng& rng, size_t dim) {
    std::vector<float> v(dim + 1);
    for (float& x : v) x = static_cast<float>(rng.uniform() * 2.0 - 1.0);
    return v;
}

template <typename T>
std::vector<T> random_bytes(Rng& rng, size_t dim) {
    std::vector<T> v(dim + 1);
    for (T& x : v) x = static_cast<T>(rng.next_u64() >> 56);  // any of the 256 values
    return v;
}

// Exact references in int64, independent of every kernel.
template <typename T>
int64_t exact_l2(const T* a, const T* b, size_t dim) {
    int64_t sum = 0;
    for (size_t i = 0; i < dim; ++i) {
        const int64_t d = int64_t{a[i]} - int64_t{b[i]};
        sum += d * d;
    }
    return sum;
}

template <typename T>
int64_t exact_ip(const T* a, const T* b, size_t dim) {
    int64_t sum = 0;
    for (size_t i = 0; i < dim; ++i) sum += int64_t{a[i]} * int64_t{b[i]};
    return sum;
}

std::string param_name(const ::testing::TestParamInfo<Isa>& info) {
    return std::string(isa_name(info.param));
}

const Kernels& scalar() { return *kernels_for(Isa::kScalar); }

// ---- ISA names, detection, selection ---------------------------------------------------

TEST(IsaTest, NamesRoundTrip) {
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        Result<Isa> parsed = parse_isa(isa_name(isa));
        ASSERT_TRUE(parsed.is_ok());
        EXPECT_EQ(*parsed, isa);
    }
    Result<Isa> bad = parse_isa("sse4");
    ASSERT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(IsaTest, DetectionIsConsistent) {
    const Isa best = detect_isa();
    std::printf("detected ISA: %s\n", std::string(isa_name(best)).c_str());
    EXPECT_TRUE(isa_supported(best));
    ASSERT_NE(kernels_for(Isa::kScalar), nullptr);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        const Kernels* k = kernels_for(isa);
        EXPECT_EQ(k != nullptr, isa <= best) << isa_name(isa);
        EXPECT_EQ(isa_supported(isa), isa <= best) << isa_name(isa);
        if (k != nullptr) {
            EXPECT_EQ(k->isa, isa);
        }
    }
    EXPECT_TRUE(isa_supported(kernels().isa));
}

TEST(IsaTest, ResolveLowersAndWarns) {
    int warnings = 0;
    set_log_sink([&warnings](LogLevel level, std::string_view) {
        if (level == LogLevel::kWarn) ++warnings;
    });
    EXPECT_EQ(detail::resolve_isa("", Isa::kAvx512), Isa::kAvx512);
    EXPECT_EQ(detail::resolve_isa("scalar", Isa::kAvx512), Isa::kScalar);
    EXPECT_EQ(detail::resolve_isa("avx2", Isa::kAvx512), Isa::kAvx2);
    EXPECT_EQ(detail::resolve_isa("avx2", Isa::kAvx2), Isa::kAvx2);
    EXPECT_EQ(warnings, 0);
    EXPECT_EQ(detail::resolve_isa("avx512", Isa::kAvx2), Isa::kAvx2);  // above the CPU
    EXPECT_EQ(warnings, 1);
    EXPECT_EQ(detail::resolve_isa("neon", Isa::kAvx2), Isa::kAvx2);  // unknown name
    EXPECT_EQ(warnings, 2);
    set_log_sink(nullptr);
}

// End to end through the environment. kernels() caches its choice, so this runs in a fresh
// process: the "threadsafe" death-test style re-executes the binary for the statement.
TEST(IsaTest, EnvironmentLowersActiveKernels) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            setenv("STRATA_ISA", "scalar", 1);
            std::exit(kernels().isa == Isa::kScalar &&
                              distance_fn(DType::kF32, Metric::kL2) ==
                                  distance_fn_for(Isa::kScalar, DType::kF32, Metric::kL2)
                          ? 0
                          : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

// ---- Scalar reference against exact arithmetic ------------------------------------------

TEST(ScalarTest, IntegerKernelsMatchExactArithmetic) {
    Rng rng(derive_seed(seed(), 1));
    const Kernels& k = scalar();
    for (size_t dim = 0; dim <= kMaxTestDim; ++dim) {
        const auto a8 = random_bytes<uint8_t>(rng, dim);
        const auto b8 = random_bytes<uint8_t>(rng, dim);
        const auto ai = random_bytes<int8_t>(rng, dim);
        const auto bi = random_bytes<int8_t>(rng, dim);
        ASSERT_EQ(k.l2_u8(a8.data(), b8.data(), dim), exact_l2(a8.data(), b8.data(), dim)) << dim;
        ASSERT_EQ(k.ip_u8(a8.data(), b8.data(), dim), exact_ip(a8.data(), b8.data(), dim)) << dim;
        ASSERT_EQ(k.l2_i8(ai.data(), bi.data(), dim), exact_l2(ai.data(), bi.data(), dim)) << dim;
        ASSERT_EQ(k.ip_i8(ai.data(), bi.data(), dim), exact_ip(ai.data(), bi.data(), dim)) << dim;
    }
}

TEST(ScalarTest, FloatKernelsMatchDoubleArithmetic) {
    Rng rng(derive_seed(seed(), 2));
    const Kernels& k = scalar();
    for (size_t dim = 1; dim <= kMaxTestDim; ++dim) {
        const auto a = random_f32(rng, dim);
        const auto b = random_f32(rng, dim);
        double l2 = 0.0, ip = 0.0, ip_abs = 0.0;
        for (size_t i = 0; i < dim; ++i) {
            const double d = double{a[i]} - double{b[i]};
            l2 += d * d;
            ip += double{a[i]} * double{b[i]};
            ip_abs += std::fabs(double{a[i]} * double{b[i]});
        }
        // A sequential float sum of n terms errs by at most about n * 2^-24 of the sum of |terms|.
        const double bound = static_cast<double>(dim) * 0x1p-24;
        ASSERT_LE(std::fabs(k.l2_f32(a.data(), b.data(), dim) - l2), bound * l2) << dim;
        ASSERT_LE(std::fabs(k.ip_f32(a.data(), b.data(), dim) - ip), bound * ip_abs) << dim;
    }
}

// ---- Every SIMD table against the scalar one ----------------------------------------------

class SimdVsScalar : public ::testing::TestWithParam<Isa> {
  protected:
    void SetUp() override {
        kernels_ = kernels_for(GetParam());
        if (kernels_ == nullptr) GTEST_SKIP() << isa_name(GetParam()) << " not supported here";
    }
    const Kernels* kernels_ = nullptr;
};

// Tolerance: the kernels sum in a different order than the scalar loop, and an inner product
// of random-sign terms can cancel to far below its terms, so its error is measured against
// sum |a_i b_i| (the scale a floating-point dot product's error is proportional to), not the
// result. For L2 every term is >= 0, so that scale is the result itself: plain relative error.
TEST_P(SimdVsScalar, F32MatchesScalar) {
    Rng rng(derive_seed(seed(), 10 + static_cast<uint64_t>(GetParam())));
    const Kernels& k = *kernels_;
    for (size_t dim = 1; dim <= kMaxTestDim; ++dim) {
        const auto va = random_f32(rng, dim);
        const auto vb = random_f32(rng, dim);
        for (size_t offset : {size_t{0}, size_t{1}}) {
            const float* a = va.data() + offset;
            const float* b = vb.data() + offset;
            const float l2_ref = scalar().l2_f32(a, b, dim);
            const float l2 = k.l2_f32(a, b, dim);
            EXPECT_LE(std::fabs(double{l2} - l2_ref), kF32Tolerance * l2_ref)
                << "l2 dim=" << dim << " offset=" << offset << " got " << l2 << " want " << l2_ref;
            double scale = 0.0;
            for (size_t i = 0; i < dim; ++i) scale += std::fabs(double{a[i]} * double{b[i]});
            const float ip_ref = scalar().ip_f32(a, b, dim);
            const float ip = k.ip_f32(a, b, dim);
            EXPECT_LE(std::fabs(double{ip} - ip_ref), kF32Tolerance * scale)
                << "ip dim=" << dim << " offset=" << offset << " got " << ip << " want " << ip_ref;
        }
        if (HasFailure()) return;
    }
}

TEST_P(SimdVsScalar, U8MatchesScalarExactly) {
    Rng rng(derive_seed(seed(), 20 + static_cast<uint64_t>(GetParam())));
    const Kernels& k = *kernels_;
    for (size_t dim = 1; dim <= kMaxTestDim; ++dim) {
        const auto va = random_bytes<uint8_t>(rng, dim);
        const auto vb = random_bytes<uint8_t>(rng, dim);
        for (size_t offset : {size_t{0}, size_t{1}}) {
            const uint8_t* a = va.data() + offset;
            const uint8_t* b = vb.data() + offset;
            EXPECT_EQ(k.l2_u8(a, b, dim), scalar().l2_u8(a, b, dim))
                << "dim=" << dim << " offset=" << offset;
            EXPECT_EQ(k.ip_u8(a, b, dim), scalar().ip_u8(a, b, dim))
                << "dim=" << dim << " offset=" << offset;
        }
        if (HasFailure()) return;
    }
}

TEST_P(SimdVsScalar, I8MatchesScalarExactly) {
    Rng rng(derive_seed(seed(), 30 + static_cast<uint64_t>(GetParam())));
    const Kernels& k = *kernels_;
    for (size_t dim = 1; dim <= kMaxTestDim; ++dim) {
        const auto va = random_bytes<int8_t>(rng, dim);
        const auto vb = random_bytes<int8_t>(rng, dim);
        for (size_t offset : {size_t{0}, size_t{1}}) {
            const int8_t* a = va.data() + offset;
            const int8_t* b = vb.data() + offset;
            EXPECT_EQ(k.l2_i8(a, b, dim), scalar().l2_i8(a, b, dim))
                << "dim=" << dim << " offset=" << offset;
            EXPECT_EQ(k.ip_i8(a, b, dim), scalar().ip_i8(a, b, dim))
                << "dim=" << dim << " offset=" << offset;
        }
        if (HasFailure()) return;
    }
}

INSTANTIATE_TEST_SUITE_P(Isa, SimdVsScalar, ::testing::Values(Isa::kAvx2, Isa::kAvx512),
                         param_name);

// ---- Properties every table (scalar included) must have -----------------------------------

class EveryIsa : public ::testing::TestWithParam<Isa> {
  protected:
    void SetUp() override {
        kernels_ = kernels_for(GetParam());
        if (kernels_ == nullptr) GTEST_SKIP() << isa_name(GetParam()) << " not supported here";
    }
    const Kernels* kernels_ = nullptr;
};

// The largest sums the contract allows (dim = kMaxDimension, extreme values) stay exact in
// int32; checked also from a misaligned start.
TEST_P(EveryIsa, IntegerExtremesDoNotOverflow) {
    const Kernels& k = *kernels_;
    constexpr size_t kDim = kMaxDimension;
    constexpr int64_t kMaxSq = int64_t{255} * 255 * kDim;  // 1'065'369'600 < 2^31
    const std::vector<uint8_t> u255(kDim + 1, 255), u0(kDim + 1, 0);
    const std::vector<int8_t> i_min(kDim + 1, -128), i_max(kDim + 1, 127);
    for (size_t off : {size_t{0}, size_t{1}}) {
        EXPECT_EQ(k.l2_u8(u255.data() + off, u0.data() + off, kDim), kMaxSq);
        EXPECT_EQ(k.ip_u8(u255.data() + off, u255.data() + off, kDim), kMaxSq);
        EXPECT_EQ(k.ip_u8(u255.data() + off, u0.data() + off, kDim), 0);
        EXPECT_EQ(k.l2_i8(i_min.data() + off, i_max.data() + off, kDim), kMaxSq);
        EXPECT_EQ(k.ip_i8(i_min.data() + off, i_min.data() + off, kDim), int64_t{16384} * kDim);
        EXPECT_EQ(k.ip_i8(i_min.data() + off, i_max.data() + off, kDim), int64_t{-16256} * kDim);
        EXPECT_EQ(k.ip_i8(i_max.data() + off, i_max.data() + off, kDim), int64_t{16129} * kDim);
    }
}

TEST_P(EveryIsa, EmptyAndIdenticalVectors) {
    const Kernels& k = *kernels_;
    Rng rng(derive_seed(seed(), 40));
    const auto v = random_f32(rng, 1000);
    const auto u = random_bytes<uint8_t>(rng, 1000);
    const auto s = random_bytes<int8_t>(rng, 1000);
    EXPECT_EQ(k.l2_f32(v.data(), v.data(), 0), 0.0f);
    EXPECT_EQ(k.ip_f32(v.data(), v.data(), 0), 0.0f);
    EXPECT_EQ(k.l2_u8(u.data(), u.data(), 0), 0);
    EXPECT_EQ(k.ip_i8(s.data(), s.data(), 0), 0);
    for (size_t dim : {size_t{1}, size_t{7}, size_t{16}, size_t{33}, size_t{999}}) {
        EXPECT_EQ(k.l2_f32(v.data(), v.data(), dim), 0.0f) << dim;
        EXPECT_EQ(k.l2_u8(u.data(), u.data(), dim), 0) << dim;
        EXPECT_EQ(k.l2_i8(s.data(), s.data(), dim), 0) << dim;
    }
}

TEST_P(EveryIsa, DistanceFnConventions) {
    const Isa isa = GetParam();
    const auto fn = [isa](DType t, Metric m) { return distance_fn_for(isa, t, m); };
    constexpr size_t kDim = 37;  // not a multiple of any vector width
    Rng rng(derive_seed(seed(), 50));

    std::vector<float> fa(kDim), fb(kDim), fzero(kDim, 0.0f);
    std::vector<int8_t> ia(kDim), ineg(kDim), izero(kDim, 0);
    std::vector<uint8_t> ua(kDim), u2a(kDim), uzero(kDim, 0);
    for (size_t i = 0; i < kDim; ++i) {
        fa[i] = static_cast<float>(rng.normal());
        fb[i] = 2.5f * fa[i];
        ia[i] = static_cast<int8_t>(static_cast<int>(rng.below(255)) - 127);  // [-127, 127]
        ineg[i] = static_cast<int8_t>(-ia[i]);
        ua[i] = static_cast<uint8_t>(i == 0 ? 1 : rng.below(128));  // never all zero
        u2a[i] = static_cast<uint8_t>(2 * ua[i]);
    }

    const Kernels& k = *kernels_;
    EXPECT_EQ(fn(DType::kF32, Metric::kL2)(fa.data(), fb.data(), kDim),
              k.l2_f32(fa.data(), fb.data(), kDim));
    EXPECT_EQ(fn(DType::kF32, Metric::kInnerProduct)(fa.data(), fb.data(), kDim),
              -k.ip_f32(fa.data(), fb.data(), kDim));
    EXPECT_LT(fn(DType::kF32, Metric::kInnerProduct)(fa.data(), fb.data(), kDim), 0.0f);
    EXPECT_EQ(fn(DType::kU8, Metric::kL2)(ua.data(), u2a.data(), kDim),
              static_cast<float>(exact_l2(ua.data(), u2a.data(), kDim)));
    EXPECT_EQ(fn(DType::kU8, Metric::kInnerProduct)(ua.data(), u2a.data(), kDim),
              -static_cast<float>(exact_ip(ua.data(), u2a.data(), kDim)));
    EXPECT_EQ(fn(DType::kI8, Metric::kL2)(ia.data(), ineg.data(), kDim),
              static_cast<float>(exact_l2(ia.data(), ineg.data(), kDim)));
    EXPECT_EQ(fn(DType::kI8, Metric::kInnerProduct)(ia.data(), ineg.data(), kDim),
              -static_cast<float>(exact_ip(ia.data(), ineg.data(), kDim)));

    // Cosine: parallel -> 0, opposite -> 2, zero norm -> 1.
    const DistanceFn cos_f = fn(DType::kF32, Metric::kCosine);
    const DistanceFn cos_u = fn(DType::kU8, Metric::kCosine);
    const DistanceFn cos_i = fn(DType::kI8, Metric::kCosine);
    EXPECT_NEAR(cos_f(fa.data(), fb.data(), kDim), 0.0f, 1e-6f);
    EXPECT_NEAR(cos_f(fa.data(), fa.data(), kDim), 0.0f, 1e-6f);
    EXPECT_EQ(cos_u(ua.data(), u2a.data(), kDim), 0.0f);  // exact integer norms
    EXPECT_EQ(cos_i(ia.data(), ia.data(), kDim), 0.0f);
    EXPECT_EQ(cos_i(ia.data(), ineg.data(), kDim), 2.0f);
    EXPECT_EQ(cos_f(fa.data(), fzero.data(), kDim), 1.0f);
    EXPECT_EQ(cos_f(fzero.data(), fzero.data(), kDim), 1.0f);
    EXPECT_EQ(cos_u(uzero.data(), ua.data(), kDim), 1.0f);
    EXPECT_EQ(cos_i(ia.data(), izero.data(), kDim), 1.0f);
    const float orth_a[2] = {1.0f, 0.0f};
    const float orth_b[2] = {0.0f, 3.0f};
    EXPECT_EQ(cos_f(orth_a, orth_b, 2), 1.0f);
}

INSTANTIATE_TEST_SUITE_P(Isa, EveryIsa, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         param_name);

// ---- Active dispatch and norms --------------------------------------------------------------

TEST(DispatchTest, ActiveFunctionsUseActiveKernels) {
    const Isa active = kernels().isa;
    for (DType t : {DType::kF32, DType::kU8, DType::kI8}) {
        for (Metric m : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
            EXPECT_NE(distance_fn(t, m), nullptr);
            EXPECT_EQ(distance_fn(t, m), distance_fn_for(active, t, m));
        }
    }
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        EXPECT_EQ(distance_fn_for(isa, DType::kU8, Metric::kL2) != nullptr, isa_supported(isa));
    }
}

TEST(NormTest, NormAndNormalize) {
    std::vector<float> v = {3.0f, 4.0f};
    EXPECT_FLOAT_EQ(norm_f32(v.data(), 2), 5.0f);
    EXPECT_FLOAT_EQ(normalize_f32(v.data(), 2), 5.0f);
    EXPECT_FLOAT_EQ(v[0], 0.6f);
    EXPECT_FLOAT_EQ(v[1], 0.8f);

    std::vector<float> zero(19, 0.0f);
    EXPECT_EQ(normalize_f32(zero.data(), zero.size()), 0.0f);
    for (float x : zero) EXPECT_EQ(x, 0.0f);

    Rng rng(derive_seed(seed(), 60));
    for (size_t dim : {size_t{1}, size_t{15}, size_t{100}, size_t{1023}}) {
        const auto r = random_f32(rng, dim);
        std::vector<float> w(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(dim));
        normalize_f32(w.data(), dim);
        EXPECT_NEAR(norm_f32(w.data(), dim), 1.0f, 1e-5f) << dim;
    }

    // The float sum of squares overflows here; the norm itself (2e20) does not.
    std::vector<float> big = {1.2e20f, 1.6e20f};
    EXPECT_FLOAT_EQ(norm_f32(big.data(), 2), 2.0e20f);
    EXPECT_FLOAT_EQ(normalize_f32(big.data(), 2), 2.0e20f);
    EXPECT_FLOAT_EQ(big[0], 0.6f);
    // Tiny: 1/norm is beyond float range.
    std::vector<float> tiny = {3e-39f, 4e-39f};
    EXPECT_GT(normalize_f32(tiny.data(), 2), 0.0f);
    EXPECT_NEAR(tiny[0], 0.6f, 1e-3f);
}

}  // namespace
}  // namespace strata::distance
