// Tests for disk/index_reader: what open() refuses, with messages naming the file and problem.
#include "disk/index_reader.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "disk/testing_hooks.hpp"
#include "disk_test_util.hpp"

namespace strata::disk {
namespace {

namespace fs = std::filesystem;
using test::flip_byte;
using test::has_error;
using test::make_test_index;
using test::patch;
using test::write_test_index;

class IndexReaderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = tmp_.file("idx");
        index_ = dir_ + "/index.strata";
        ASSERT_TRUE(
            write_test_index(dir_, make_test_index(Metric::kL2, DType::kF32, 128, 64, 13, 11))
                .is_ok());
        ASSERT_TRUE(IndexReader::open(dir_).is_ok());
    }
    Status open() { return IndexReader::open(dir_).status(); }

    testing::TempDir tmp_;
    std::string dir_;
    std::string index_;
};

TEST_F(IndexReaderTest, MissingDirectoryOrFile) {
    EXPECT_TRUE(has_error(IndexReader::open(tmp_.file("nope")).status(), StatusCode::kNotFound,
                          {tmp_.file("nope"), "no such index directory"}));
    EXPECT_TRUE(has_error(IndexReader::open(index_).status(), StatusCode::kInvalidArgument,
                          {index_, "not a directory"}));
    fs::remove(index_);
    EXPECT_TRUE(has_error(open(), StatusCode::kNotFound, {index_, "not an index directory"}));
}

TEST_F(IndexReaderTest, ForeignFiles) {
    testing::write_bytes(index_, std::string("{\"hello\": \"this is json, not an index\"}\n"));
    EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {index_, "not a strata index"}));
    std::vector<uint8_t> noise(8192);
    for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<uint8_t>(i * 131 + 7);
    testing::write_bytes(index_, noise);
    EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {index_, "not a strata index"}));
    testing::write_bytes(index_, std::string());
    EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {index_, "empty file"}));
    fs::remove(index_);
    fs::create_directory(index_);
    EXPECT_TRUE(has_error(open(), StatusCode::kInvalidArgument, {index_, "not a regular file"}));
}

TEST_F(IndexReaderTest, TruncatedOrExtended) {
    const auto size = fs::file_size(index_);
    for (const uint64_t keep : {uint64_t{10}, uint64_t{4000}, uint64_t{5000}, size - 1}) {
        SCOPED_TRACE(keep);
        const auto whole = testing::read_bytes(index_);
        fs::resize_file(index_, keep);
        EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {index_, "truncated"}));
        testing::write_bytes(index_, whole);
    }
    fs::resize_file(index_, size + 1);
    EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {index_, "trailing bytes"}));
}

TEST_F(IndexReaderTest, MagicVersionAndChecksum) {
    flip_byte(index_, 0);
    EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {index_, "not a strata index"}));
    flip_byte(index_, 0);
    patch<uint16_t>(index_, header_offsets::kOffMajor, 2);
    EXPECT_TRUE(has_error(open(), StatusCode::kNotSupported, {index_, "format version 2.0"}));
    ASSERT_TRUE(detail::reseal_index_for_testing(dir_).is_ok());  // a real 2.0 file
    EXPECT_TRUE(has_error(open(), StatusCode::kNotSupported, {index_, "format version 2.0"}));
    patch<uint16_t>(index_, header_offsets::kOffMajor, 1);
    patch<uint16_t>(index_, header_offsets::kOffMinor, 7);  // a newer minor stays readable
    ASSERT_TRUE(detail::reseal_index_for_testing(dir_).is_ok());
    auto r = IndexReader::open(dir_);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->header().version_minor, 7);
    flip_byte(index_, header_offsets::kOffNodeCount);
    EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {index_, "header checksum mismatch"}));
}

TEST_F(IndexReaderTest, CompanionProblems) {
    const std::string codes = dir_ + "/pq.codes";
    const auto whole = testing::read_bytes(codes);
    fs::remove(codes);
    EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {codes, "missing"}));
    auto longer = whole;
    longer.push_back(0);
    testing::write_bytes(codes, longer);
    EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {codes, "bytes"}));
    testing::write_bytes(codes, whole);
    flip_byte(codes, 20);
    EXPECT_TRUE(has_error(open(), StatusCode::kCorruption, {codes, "header checksum mismatch"}));
    testing::write_bytes(codes, whole);
    ASSERT_TRUE(IndexReader::open(dir_).is_ok());
    // ids.u64 of another build with the same node count: same size, another uid.
    const std::string other = tmp_.file("other");
    ASSERT_TRUE(write_test_index(other, make_test_index(Metric::kL2, DType::kF32, 128, 64, 13, 12))
                    .is_ok());
    fs::copy_file(other + "/ids.u64", dir_ + "/ids.u64", fs::copy_options::overwrite_existing);
    EXPECT_TRUE(
        has_error(open(), StatusCode::kCorruption, {dir_ + "/ids.u64", "another index build"}));
}

TEST_F(IndexReaderTest, ReadFileChecksPayloads) {
    auto r = IndexReader::open(dir_);
    ASSERT_TRUE(r.is_ok());
    flip_byte(dir_ + "/pq.codebook", 100);
    flip_byte(dir_ + "/meta.json", 3);
    EXPECT_TRUE(has_error(r->read_file(FileKind::kPqCodebook).status(), StatusCode::kCorruption,
                          {"pq.codebook", "checksum mismatch"}));
    EXPECT_TRUE(has_error(r->meta_json().status(), StatusCode::kCorruption,
                          {"meta.json", "checksum mismatch"}));
    EXPECT_TRUE(has_error(r->map_file(FileKind::kMetaJson).status(), StatusCode::kNotFound, {}));
    EXPECT_TRUE(has_error(r->read_file(FileKind::kNavGraph).status(), StatusCode::kNotFound,
                          {"nav.graph"}));
}

TEST_F(IndexReaderTest, LeftoverTemporaryDirectory) {
    // Even a complete copy is refused under a writer's temporary name: only the rename
    // publishes an index.
    const std::string temp = dir_ + ".tmp-4242-00ff00ff00ff00ff";
    fs::copy(dir_, temp);
    EXPECT_TRUE(has_error(IndexReader::open(temp).status(), StatusCode::kCorruption,
                          {temp, "temporary directory"}));
    EXPECT_TRUE(has_error(IndexReader::open(temp + "/").status(), StatusCode::kCorruption,
                          {"temporary directory"}));
    // A temp directory as a build leaves it mid-way: zero header sector.
    auto bytes = testing::read_bytes(index_);
    std::fill(bytes.begin(), bytes.begin() + 4096, 0);
    const std::string renamed = tmp_.file("renamed");
    fs::copy(dir_, renamed);
    testing::write_bytes(renamed + "/index.strata", bytes);
    EXPECT_TRUE(has_error(IndexReader::open(renamed).status(), StatusCode::kCorruption,
                          {renamed + "/index.strata", "not a strata index"}));
}

}  // namespace
}  // namespace strata::disk
