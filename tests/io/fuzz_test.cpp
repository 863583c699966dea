// Fuzz-style robustness: truncated and bit-flipped files of every format must yield a Status or a
// data set whose rows all lie inside the file, never a crash (run under ASan/UBSan too).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.hpp"
#include "io/dataset.hpp"
#include "io_test_util.hpp"
#include "testing/testing.hpp"

namespace strata::io {
namespace {

struct Sample {
    std::string name;
    std::vector<uint8_t> bytes;
    bool ground_truth = false;
};

/// A valid file of every readable format, written by the library where it can write it.
std::vector<Sample> valid_samples(const testing::TempDir& dir) {
    std::vector<Sample> out;
    const std::vector<float> f = test::random_floats(5 * 3, 1);
    const std::vector<uint8_t> b = test::random_bytes(5 * 3, 2);
    const auto add_written = [&](const std::string& name, DType dtype, const void* data) {
        const std::string path = dir.file("src_" + name);
        EXPECT_TRUE(write_vectors(path, dtype, 5, 3, data).is_ok()) << name;
        out.push_back({name, testing::read_bytes(path)});
    };
    add_written("a.fbin", DType::kF32, f.data());
    add_written("a.u8bin", DType::kU8, b.data());
    add_written("a.i8bin", DType::kI8, b.data());
    add_written("a.fvecs", DType::kF32, f.data());
    add_written("a.bvecs", DType::kU8, b.data());
    add_written("a.npy", DType::kF32, f.data());
    out.push_back({"v2.npy", test::npy_bytes("{'descr': '|u1', 'fortran_order': False, "
                                             "'shape': (5, 3), }",
                                             b, 2)});
    std::vector<uint8_t> idx = {0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 3};
    idx.insert(idx.end(), b.begin(), b.end());
    out.push_back({"a-idx3-ubyte", idx});

    GroundTruth gt;
    gt.n = 4;
    gt.k = 3;
    for (uint32_t i = 0; i < 12; ++i) {
        gt.ids.push_back(i);
        gt.distances.push_back(static_cast<float>(i));
    }
    for (const char* name : {"gt.ibin", "gt.ivecs"}) {
        const std::string path = dir.file(std::string("src_") + name);
        EXPECT_TRUE(write_ground_truth(path, gt).is_ok());
        out.push_back({name, testing::read_bytes(path), true});
    }
    gt.distances.clear();
    const std::string ids_only = dir.file("src_ids.ibin");
    EXPECT_TRUE(write_ground_truth(ids_only, gt).is_ok());
    out.push_back({"ids.ibin", testing::read_bytes(ids_only), true});
    return out;
}

/// Opens `bytes` as `name`; an error must name the file, a success must describe rows that lie
/// inside the file (every byte is read so ASan would notice otherwise).
void probe(const testing::TempDir& dir, const Sample& s, const std::vector<uint8_t>& bytes) {
    const std::string path = dir.file(s.name);
    testing::write_bytes(path, bytes);
    if (s.ground_truth) {
        auto gt = read_ground_truth(path);
        if (!gt.is_ok()) {
            ASSERT_NE(gt.status().message().find(path), std::string::npos)
                << gt.status().to_string();
            return;
        }
        ASSERT_EQ(gt->ids.size(), uint64_t{gt->n} * gt->k);
        ASSERT_TRUE(gt->distances.empty() || gt->distances.size() == gt->ids.size());
        return;
    }
    auto ds = Dataset::open(path);
    if (!ds.is_ok()) {
        ASSERT_NE(ds.status().message().find(path), std::string::npos) << ds.status().to_string();
        return;
    }
    ASSERT_LE(ds->size() * ds->row_stride_bytes(), bytes.size());
    ASSERT_LE(ds->dim(), kMaxDimension);
    unsigned sum = 0;
    for (uint64_t i = 0; i < ds->size(); ++i) {
        const auto* row = static_cast<const uint8_t*>(ds->row(i));
        for (size_t j = 0; j < ds->row_bytes(); ++j) sum += row[j];
    }
    volatile unsigned sink = sum;  // keep the reads
    (void)sink;
}

TEST(Fuzz, TruncationAtEveryEarlyOffset) {
    testing::TempDir dir;
    for (const Sample& s : valid_samples(dir)) {
        SCOPED_TRACE(s.name);
        probe(dir, s, s.bytes);  // the untouched file opens
        const size_t size = s.bytes.size();
        std::vector<size_t> cuts;
        for (size_t cut = 0; cut <= std::min<size_t>(64, size); ++cut) cuts.push_back(cut);
        for (size_t cut : {size / 2, size - 5, size - 4, size - 1}) cuts.push_back(cut);
        for (size_t cut : cuts) {
            SCOPED_TRACE("cut at " + std::to_string(cut));
            std::vector<uint8_t> t(s.bytes.begin(), s.bytes.begin() + static_cast<long>(cut));
            probe(dir, s, t);
            if (::testing::Test::HasFatalFailure()) return;
        }
        std::vector<uint8_t> longer = s.bytes;
        longer.push_back(0);
        probe(dir, s, longer);
    }
}

TEST(Fuzz, RandomHeaderByteFlips) {
    const uint64_t seed = testing::test_seed(0xF022);
    std::printf("Fuzz.RandomHeaderByteFlips seed %llu (set STRATA_TEST_SEED to replay)\n",
                static_cast<unsigned long long>(seed));
    testing::TempDir dir;
    Rng rng(seed);
    for (const Sample& s : valid_samples(dir)) {
        SCOPED_TRACE(s.name);
        const size_t span = std::min<size_t>(s.bytes.size(), 140);  // npy header is 128 bytes
        for (int iter = 0; iter < 400; ++iter) {
            std::vector<uint8_t> m = s.bytes;
            const uint64_t flips = 1 + rng.below(3);
            for (uint64_t f = 0; f < flips; ++f) {
                const size_t at = rng.below(span);
                // Half the time a single bit, else a whole random byte (0xff / 0x80 hit signs).
                m[at] = rng.below(2) == 0 ? static_cast<uint8_t>(m[at] ^ (1u << rng.below(8)))
                                          : static_cast<uint8_t>(rng.next_u64());
            }
            SCOPED_TRACE("iteration " + std::to_string(iter));
            probe(dir, s, m);
            if (::testing::Test::HasFatalFailure()) return;
        }
    }
}

TEST(Fuzz, RandomGarbageFiles) {
    const uint64_t seed = testing::test_seed(0x6A8B);
    std::printf("Fuzz.RandomGarbageFiles seed %llu\n", static_cast<unsigned long long>(seed));
    testing::TempDir dir;
    Rng rng(seed);
    const std::vector<Sample> kinds = valid_samples(dir);
    for (int iter = 0; iter < 300; ++iter) {
        const Sample& s = kinds[rng.below(kinds.size())];
        const std::vector<uint8_t> garbage = test::random_bytes(rng.below(200), rng.next_u64());
        SCOPED_TRACE(s.name + " iteration " + std::to_string(iter));
        probe(dir, s, garbage);
        if (::testing::Test::HasFatalFailure()) return;
    }
}

}  // namespace
}  // namespace strata::io
