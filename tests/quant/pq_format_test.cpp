// The PQ codebook blob: round trip, and refusal (never a crash) of truncated, flipped, foreign
// and inconsistent input.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <xxhash.h>

#include "core/rng.hpp"
#include "quant/pq.hpp"
#include "testing/testing.hpp"

namespace strata::quant {
namespace {

PqCodebook small_codebook(uint32_t dim, uint32_t bytes, bool center) {
    Rng rng(17);
    std::vector<float> x(600 * dim);
    for (float& v : x) v = static_cast<float>(rng.normal() + 3.0);
    PqOptions o;
    o.bytes = bytes;
    o.iterations = 3;
    o.center = center;
    Result<PqCodebook> pq = PqCodebook::train({x.data(), 600, dim, DType::kF32, 0}, o);
    EXPECT_TRUE(pq.is_ok()) << pq.status().to_string();
    return std::move(pq).value();
}

// Rewrites the header checksum of a version 1.0 blob (128-byte header) so a test reaches the
// checks behind it. Uses the writer's header length, not the (possibly edited) field.
void reseal(std::string& blob) {
    constexpr size_t kHeaderBytes = 128;
    const uint64_t sum = XXH3_64bits(blob.data(), kHeaderBytes - 8);
    std::memcpy(blob.data() + kHeaderBytes - 8, &sum, 8);
}

TEST(PqFormat, RoundTrip) {
    for (bool center : {true, false}) {
        const PqCodebook a = small_codebook(7, 3, center);
        const std::string blob = a.serialize();
        Result<PqCodebook> b = PqCodebook::deserialize(blob, "pq.codebook");
        ASSERT_TRUE(b.is_ok()) << b.status().to_string();
        EXPECT_EQ(b->serialize(), blob);
        EXPECT_EQ(b->dim(), 7u);
        EXPECT_EQ(b->bytes(), 3u);
        EXPECT_EQ(b->centered(), center);
        EXPECT_EQ(b->train_rows(), a.train_rows());
        EXPECT_EQ(b->train_mse(), a.train_mse());
        const std::vector<float> q = {1, -2, 3, 0.5f, 4, 2, 1};
        std::vector<float> ta(a.table_size()), tb(b->table_size());
        a.compute_table(q.data(), Metric::kL2, ta.data());
        b->compute_table(q.data(), Metric::kL2, tb.data());
        EXPECT_EQ(ta, tb);
        std::vector<uint8_t> ca(3), cb(3);
        a.encode(q.data(), ca.data());
        b->encode(q.data(), cb.data());
        EXPECT_EQ(ca, cb);
    }
}

TEST(PqFormat, RejectsEveryTruncation) {
    const std::string blob = small_codebook(5, 2, true).serialize();
    for (size_t len = 0; len < blob.size(); ++len) {
        const Status s =
            PqCodebook::deserialize(std::string_view(blob).substr(0, len), "f").status();
        ASSERT_EQ(s.code(), StatusCode::kCorruption) << "length " << len << ": " << s.to_string();
    }
}

TEST(PqFormat, RejectsEveryByteFlip) {
    const std::string blob = small_codebook(5, 2, true).serialize();
    for (size_t i = 0; i < blob.size(); ++i) {
        std::string bad = blob;
        bad[i] = static_cast<char>(bad[i] ^ 0x10);
        const Result<PqCodebook> r = PqCodebook::deserialize(bad, "f");
        ASSERT_FALSE(r.is_ok()) << "flip at " << i;
        EXPECT_TRUE(r.status().code() == StatusCode::kCorruption ||
                    r.status().code() == StatusCode::kNotSupported)
            << r.status().to_string();
    }
}

TEST(PqFormat, NamesTheSourceAndRefusesOtherVersions) {
    std::string blob = small_codebook(4, 2, true).serialize();
    Status s = PqCodebook::deserialize("not a codebook at all", "gen-3/pq.codebook").status();
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_NE(s.message().find("gen-3/pq.codebook"), std::string::npos) << s.message();
    blob[8] = 2;  // major 2
    s = PqCodebook::deserialize(blob, "x").status();
    EXPECT_EQ(s.code(), StatusCode::kNotSupported) << s.to_string();
}

// Headers with a valid checksum but contradictory fields: Corruption, never a crash.
TEST(PqFormat, RejectsInconsistentHeaders) {
    const std::string good = small_codebook(6, 3, false).serialize();
    struct Edit {
        size_t offset;
        uint64_t value;
        size_t width;
    };
    const Edit edits[] = {
        {12, 64, 4},                     // header shorter than the fields
        {12, 1u << 20, 4},               // header longer than the blob
        {12, 130, 4},                    // not a multiple of 8
        {16, 0, 4},                      // dim 0
        {16, 7, 4},                      // dim disagrees with the sections
        {16, 1u << 30, 4},               // dim far beyond the limit
        {20, 0, 4},                      // no chunks
        {20, 7, 4},                      // more chunks than dimensions
        {24, 16, 4},                     // centroids per chunk
        {48, 1, 4},                      // too few sections
        {48, 1000, 4},                   // section table past the header
        {56, 0, 8},                      // mean section inside the header
        {56, ~uint64_t{0}, 8},           // offset overflow
        {64, 12, 8},                     // mean size
        {80, 0, 8},                      // centroids offset inside the header
        {88, 1, 8},                      // centroids size
        {40, 0x7FF8000000000000ull, 8},  // NaN training error
    };
    for (const Edit& e : edits) {
        std::string bad = good;
        std::memcpy(bad.data() + e.offset, &e.value, e.width);
        reseal(bad);
        const Status s = PqCodebook::deserialize(bad, "f").status();
        EXPECT_EQ(s.code(), StatusCode::kCorruption)
            << "edit at " << e.offset << ": " << s.to_string();
    }
    // Flags: an unknown bit is a newer feature, not damage.
    std::string flags = good;
    flags[28] = 0x4;
    reseal(flags);
    EXPECT_EQ(PqCodebook::deserialize(flags, "f").status().code(), StatusCode::kNotSupported);
}

TEST(PqFormat, RandomGarbageNeverCrashes) {
    const uint64_t seed = testing::test_seed(99);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    Rng rng(seed);
    const std::string good = small_codebook(4, 2, true).serialize();
    for (int i = 0; i < 2000; ++i) {
        std::string blob;
        if (i % 2 == 0) {
            blob.resize(rng.below(600));
            for (char& c : blob) c = static_cast<char>(rng.next_u64());
            if (blob.size() >= 8 && i % 4 == 0) std::memcpy(blob.data(), "STRATAPQ", 8);
        } else {  // a valid blob with a few random bytes overwritten, resealed half the time
            blob = good;
            for (int j = 0; j < 3; ++j)
                blob[rng.below(blob.size())] = static_cast<char>(rng.next_u64());
            if (i % 3 == 0) reseal(blob);
        }
        const Result<PqCodebook> r = PqCodebook::deserialize(blob, "fuzz");
        if (r.is_ok()) {
            EXPECT_EQ(r->serialize().size(), blob.size());
        }
    }
}

}  // namespace
}  // namespace strata::quant
