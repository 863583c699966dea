// Tests for ground-truth files: ibin with and without distances, ivecs, and their errors.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/dataset.hpp"
#include "io_test_util.hpp"
#include "testing/testing.hpp"

namespace strata::io {
namespace {

using test::has_error;

GroundTruth make_gt(uint32_t n, uint32_t k, bool with_distances) {
    GroundTruth gt;
    gt.n = n;
    gt.k = k;
    for (uint32_t i = 0; i < n * k; ++i) gt.ids.push_back(i * 7 + 1);
    if (with_distances) {
        for (uint32_t i = 0; i < n * k; ++i) gt.distances.push_back(0.5f * static_cast<float>(i));
    }
    return gt;
}

void expect_equal(const GroundTruth& a, const GroundTruth& b) {
    EXPECT_EQ(a.n, b.n);
    EXPECT_EQ(a.k, b.k);
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(a.distances, b.distances);
}

TEST(GroundTruth, IbinRoundTripWithAndWithoutDistances) {
    testing::TempDir dir;
    for (bool dists : {false, true}) {
        for (uint32_t n : {0u, 1u, 5u}) {
            for (uint32_t k : {1u, 3u, 100u}) {
                const std::string path = dir.file("gt.ibin");
                const GroundTruth gt = make_gt(n, k, dists);
                ASSERT_TRUE(write_ground_truth(path, gt).is_ok());
                EXPECT_EQ(std::filesystem::file_size(path), 8u + (dists ? 8u : 4u) * n * k);
                auto back = read_ground_truth(path);
                ASSERT_TRUE(back.is_ok()) << back.status().to_string();
                expect_equal(*back, gt);
            }
        }
    }
}

TEST(GroundTruth, IvecsRoundTripDropsDistances) {
    testing::TempDir dir;
    const std::string path = dir.file("gt.ivecs");
    const GroundTruth gt = make_gt(4, 10, true);
    ASSERT_TRUE(write_ground_truth(path, gt).is_ok());
    EXPECT_EQ(std::filesystem::file_size(path), 4u * (4 + 40));
    auto back = read_ground_truth(path);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    GroundTruth ids_only = gt;
    ids_only.distances.clear();
    expect_equal(*back, ids_only);
    EXPECT_EQ(back->row(3)[9], gt.ids[39]);

    ASSERT_TRUE(write_ground_truth(path, make_gt(0, 0, false)).is_ok());
    auto empty = read_ground_truth(path);
    ASSERT_TRUE(empty.is_ok());
    EXPECT_EQ(empty->n, 0u);
    EXPECT_EQ(empty->k, 0u);
}

TEST(GroundTruth, ReadsKnownBytes) {
    testing::TempDir dir;
    std::vector<uint8_t> ibin;
    for (uint32_t v : {2u, 2u, 10u, 11u, 20u, 0xFFFFFFFFu}) testing::put(ibin, v);
    for (float f : {0.0f, 1.0f, 2.0f, 3.5f}) testing::put(ibin, f);
    const std::string path = dir.file("k.ibin");
    testing::write_bytes(path, ibin);
    auto gt = read_ground_truth(path);
    ASSERT_TRUE(gt.is_ok()) << gt.status().to_string();
    EXPECT_EQ(gt->n, 2u);
    EXPECT_EQ(gt->k, 2u);
    EXPECT_EQ(gt->row(1)[0], 20u);
    EXPECT_EQ(gt->row(1)[1], 0xFFFFFFFFu);  // -1 padding ids survive bit-exactly
    EXPECT_EQ(gt->distances[3], 3.5f);

    std::vector<uint8_t> ivecs;
    for (int32_t v : {3, 5, 6, 7, 3, 8, 9, 10}) testing::put(ivecs, v);
    const std::string iv = dir.file("k.ivecs");
    testing::write_bytes(iv, ivecs);
    auto g2 = read_ground_truth(iv);
    ASSERT_TRUE(g2.is_ok()) << g2.status().to_string();
    EXPECT_EQ(g2->n, 2u);
    EXPECT_EQ(g2->k, 3u);
    EXPECT_EQ(g2->row(1)[2], 10u);
    EXPECT_TRUE(g2->distances.empty());

    // Explicit format on an unusual extension.
    const std::string odd = dir.file("k.gt");
    testing::write_bytes(odd, ivecs);
    EXPECT_TRUE(read_ground_truth(odd, FileFormat::kIvecs).is_ok());
}

TEST(GroundTruth, ReadErrors) {
    testing::TempDir dir;
    const std::string missing = dir.file("missing.ibin");
    EXPECT_TRUE(has_error(read_ground_truth(missing), StatusCode::kNotFound, missing, "no such"));

    const std::string empty = dir.file("empty.ibin");
    testing::write_bytes(empty, std::string_view());
    EXPECT_TRUE(has_error(read_ground_truth(empty), StatusCode::kCorruption, empty, "empty file"));

    const std::string tiny = dir.file("tiny.ibin");
    testing::write_bytes(tiny, std::vector<uint8_t>{1, 0, 0});
    EXPECT_TRUE(has_error(read_ground_truth(tiny), StatusCode::kCorruption, tiny, "truncated"));

    // n=2, k=3 needs 32 (ids) or 56 (ids + distances) bytes.
    std::vector<uint8_t> bytes;
    testing::put(bytes, uint32_t{2});
    testing::put(bytes, uint32_t{3});
    bytes.resize(30);
    const std::string trunc = dir.file("t.ibin");
    testing::write_bytes(trunc, bytes);
    EXPECT_TRUE(has_error(read_ground_truth(trunc), StatusCode::kCorruption, trunc,
                          "truncated: expected 32 bytes"));
    bytes.resize(40);
    const std::string mid = dir.file("m.ibin");
    testing::write_bytes(mid, bytes);
    EXPECT_TRUE(has_error(read_ground_truth(mid), StatusCode::kCorruption, mid,
                          "header disagrees with file size"));
    EXPECT_TRUE(has_error(read_ground_truth(mid), StatusCode::kCorruption, mid, "56 bytes"));

    // Huge n and k: 8*n*k overflows 64 bits and must not wrap to a "matching" size.
    std::vector<uint8_t> huge;
    testing::put(huge, uint32_t{0xFFFFFFFF});
    testing::put(huge, uint32_t{0xFFFFFFFF});
    const std::string hp = dir.file("h.ibin");
    testing::write_bytes(hp, huge);
    EXPECT_TRUE(has_error(read_ground_truth(hp), StatusCode::kCorruption, hp, "overflow"));

    std::vector<uint8_t> k0;
    testing::put(k0, uint32_t{5});
    testing::put(k0, uint32_t{0});
    const std::string kp = dir.file("k0.ibin");
    testing::write_bytes(kp, k0);
    EXPECT_TRUE(has_error(read_ground_truth(kp), StatusCode::kCorruption, kp, "k = 0"));

    std::vector<uint8_t> inc;
    for (int32_t v : {2, 1, 2, 3, 4, 1, 2}) testing::put(inc, v);
    const std::string ip = dir.file("inc.ivecs");
    testing::write_bytes(ip, inc);
    EXPECT_TRUE(has_error(read_ground_truth(ip), StatusCode::kCorruption, ip, "row 1"));

    const std::string fbin = dir.file("base.fbin");
    EXPECT_TRUE(
        has_error(read_ground_truth(fbin), StatusCode::kInvalidArgument, fbin, "ibin or ivecs"));
}

TEST(GroundTruth, WriteErrors) {
    testing::TempDir dir;
    const std::string path = dir.file("w.ibin");
    GroundTruth gt = make_gt(2, 3, true);
    gt.ids.pop_back();
    EXPECT_TRUE(has_error(write_ground_truth(path, gt), StatusCode::kInvalidArgument, path,
                          "5 ids, expected n*k = 6"));
    gt = make_gt(2, 3, true);
    gt.distances.resize(2);
    EXPECT_TRUE(
        has_error(write_ground_truth(path, gt), StatusCode::kInvalidArgument, path, "distances"));
    gt = make_gt(2, 0, false);
    EXPECT_TRUE(
        has_error(write_ground_truth(path, gt), StatusCode::kInvalidArgument, path, "k = 0"));
    const std::string npy = dir.file("w.npy");
    EXPECT_TRUE(has_error(write_ground_truth(npy, make_gt(1, 1, false)),
                          StatusCode::kInvalidArgument, npy, "ibin or ivecs"));
    const std::string iv = dir.file("w.ivecs");
    EXPECT_TRUE(has_error(write_ground_truth(iv, make_gt(1, 16385, false)), StatusCode::kOutOfRange,
                          iv, "16384"));
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace strata::io
