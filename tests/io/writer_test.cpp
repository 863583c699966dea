// Tests for VectorWriter / write_vectors: round trips of every writable format and dtype,
// atomicity.
#include <cstring>
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

struct Combo {
    FileFormat format;
    DType dtype;
    const char* ext;
};

std::string combo_name(const ::testing::TestParamInfo<Combo>& info) {
    return std::string(info.param.ext) + "_" + std::string(dtype_name(info.param.dtype));
}

/// Files in `dir` (to catch stray temp files).
std::vector<std::string> listing(const testing::TempDir& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        names.push_back(e.path().filename().string());
    }
    return names;
}

/// n*dim random elements of `dtype` as bytes (finite floats for f32).
std::vector<uint8_t> make_rows(DType dtype, uint64_t n, uint32_t dim, uint64_t seed) {
    if (dtype == DType::kF32) return test::as_bytes(test::random_floats(n * dim, seed));
    return test::random_bytes(n * dim, seed);
}

void expect_same_rows(const Dataset& ds, const std::vector<uint8_t>& rows) {
    ASSERT_EQ(rows.size(), ds.size() * ds.row_bytes());
    for (uint64_t i = 0; i < ds.size(); ++i) {
        ASSERT_EQ(std::memcmp(ds.row(i), rows.data() + i * ds.row_bytes(), ds.row_bytes()), 0)
            << "row " << i;
    }
}

class RoundTrip : public ::testing::TestWithParam<Combo> {};

TEST_P(RoundTrip, EveryDimAndCount) {
    const Combo c = GetParam();
    const bool texmex = c.format == FileFormat::kFvecs || c.format == FileFormat::kBvecs;
    testing::TempDir dir;
    const uint64_t seed = testing::test_seed(0x5EED);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    for (uint32_t dim : {1u, 3u, 97u}) {
        for (uint64_t n : {0u, 1u, 2u, 300u}) {
            SCOPED_TRACE("dim " + std::to_string(dim) + " n " + std::to_string(n));
            const std::string path =
                dir.file(test::numbered(test::numbered("v", dim, "_"), n, ".") + c.ext);
            const std::vector<uint8_t> rows = make_rows(c.dtype, n, dim, seed + dim * 1000 + n);
            ASSERT_TRUE(write_vectors(path, c.dtype, n, dim, rows.data()).is_ok());
            auto ds = Dataset::open(path);
            ASSERT_TRUE(ds.is_ok()) << ds.status().to_string();
            EXPECT_EQ(ds->format(), c.format);
            EXPECT_EQ(ds->dtype(), c.dtype);
            EXPECT_EQ(ds->size(), n);
            // An empty TEXMEX file cannot record its dimension.
            EXPECT_EQ(ds->dim(), texmex && n == 0 ? 0u : dim);
            if (n > 0) expect_same_rows(*ds, rows);

            const uint64_t payload = n * dim * dtype_size(c.dtype);
            const uint64_t expected_size = c.format == FileFormat::kNpy ? 128 + payload
                                           : texmex                     ? payload + 4 * n
                                                                        : 8 + payload;
            EXPECT_EQ(std::filesystem::file_size(path), expected_size);
        }
    }
    // Only the finished files: no temp file left behind.
    for (const std::string& name : listing(dir)) EXPECT_EQ(name.find(".tmp."), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTrip,
                         ::testing::Values(Combo{FileFormat::kFbin, DType::kF32, "fbin"},
                                           Combo{FileFormat::kU8bin, DType::kU8, "u8bin"},
                                           Combo{FileFormat::kI8bin, DType::kI8, "i8bin"},
                                           Combo{FileFormat::kFvecs, DType::kF32, "fvecs"},
                                           Combo{FileFormat::kBvecs, DType::kU8, "bvecs"},
                                           Combo{FileFormat::kNpy, DType::kF32, "npy"},
                                           Combo{FileFormat::kNpy, DType::kU8, "npy"},
                                           Combo{FileFormat::kNpy, DType::kI8, "npy"}),
                         combo_name);

TEST(VectorWriter, NpyHeaderIsStandardAndAligned) {
    testing::TempDir dir;
    const std::string path = dir.file("h.npy");
    const std::vector<float> rows = {1, 2, 3, 4, 5, 6};
    ASSERT_TRUE(write_vectors(path, DType::kF32, 2, 3, rows.data()).is_ok());
    const std::vector<uint8_t> bytes = testing::read_bytes(path);
    ASSERT_EQ(bytes.size(), 128u + 24u);
    EXPECT_EQ(std::string(bytes.begin() + 1, bytes.begin() + 6), "NUMPY");
    EXPECT_EQ(bytes[6], 1);
    EXPECT_EQ(bytes[7], 0);
    EXPECT_EQ(bytes[8] | (bytes[9] << 8), 118);
    const std::string header(bytes.begin() + 10, bytes.begin() + 128);
    EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u)
        << header;
    EXPECT_EQ(header.back(), '\n');
    float first = 0;
    std::memcpy(&first, bytes.data() + 128, 4);
    EXPECT_EQ(first, 1.0f);
}

TEST(VectorWriter, StreamsChunksLargerThanTheBuffer) {
    testing::TempDir dir;
    const uint64_t seed = testing::test_seed(7);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    const uint32_t dim = 97;
    const uint64_t n = 12000;  // 4.6 MB of f32: several buffer flushes and direct writes
    const std::vector<uint8_t> rows = make_rows(DType::kF32, n, dim, seed);
    for (const char* ext : {"fbin", "fvecs", "npy"}) {
        const std::string path = dir.file(std::string("s.") + ext);
        auto w = VectorWriter::create(path, DType::kF32, dim);
        ASSERT_TRUE(w.is_ok()) << w.status().to_string();
        uint64_t done = 0;
        for (uint64_t chunk : {1u, 0u, 7u, 5000u, 3u}) {
            ASSERT_TRUE(w->append(rows.data() + done * dim * 4, chunk).is_ok());
            done += chunk;
        }
        ASSERT_TRUE(w->append(rows.data() + done * dim * 4, n - done).is_ok());
        EXPECT_EQ(w->rows_written(), n);
        EXPECT_FALSE(std::filesystem::exists(path));  // not visible until finish()
        ASSERT_TRUE(w->finish().is_ok());
        auto ds = Dataset::open(path);
        ASSERT_TRUE(ds.is_ok()) << ds.status().to_string();
        EXPECT_EQ(ds->size(), n);
        expect_same_rows(*ds, rows);
    }
}

TEST(VectorWriter, UnfinishedWriterLeavesNoFile) {
    testing::TempDir dir;
    const std::string path = dir.file("u.fbin");
    const std::vector<float> rows(10, 1.0f);
    {
        auto w = VectorWriter::create(path, DType::kF32, 5);
        ASSERT_TRUE(w.is_ok());
        ASSERT_TRUE(w->append(rows.data(), 2).is_ok());
        EXPECT_EQ(listing(dir).size(), 1u);  // the temp file
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_TRUE(listing(dir).empty());
}

TEST(VectorWriter, FinishReplacesExistingFileAtomically) {
    testing::TempDir dir;
    const std::string path = dir.file("r.u8bin");
    const std::vector<uint8_t> old_rows = {1, 2};
    ASSERT_TRUE(write_vectors(path, DType::kU8, 1, 2, old_rows.data()).is_ok());
    auto w = VectorWriter::create(path, DType::kU8, 2);
    ASSERT_TRUE(w.is_ok());
    const std::vector<uint8_t> new_rows = {7, 8, 9, 10};
    ASSERT_TRUE(w->append(new_rows.data(), 2).is_ok());
    EXPECT_EQ(Dataset::open(path)->size(), 1u);  // the old file is intact meanwhile
    ASSERT_TRUE(w->finish().is_ok());
    auto ds = Dataset::open(path);
    ASSERT_TRUE(ds.is_ok());
    EXPECT_EQ(ds->size(), 2u);
    expect_same_rows(*ds, new_rows);
    EXPECT_EQ(listing(dir).size(), 1u);
}

TEST(VectorWriter, SpentWriterRefusesMoreWork) {
    testing::TempDir dir;
    const std::string path = dir.file("s.i8bin");
    auto w = VectorWriter::create(path, DType::kI8, 1);
    ASSERT_TRUE(w.is_ok());
    const int8_t v = -3;
    ASSERT_TRUE(w->append(&v, 1).is_ok());
    ASSERT_TRUE(w->finish().is_ok());
    EXPECT_TRUE(
        has_error(w->append(&v, 1), StatusCode::kInvalidArgument, path, "already finished"));
    EXPECT_TRUE(has_error(w->finish(), StatusCode::kInvalidArgument, path, "already finished"));
    VectorWriter moved = std::move(w.value());
    EXPECT_EQ(moved.rows_written(), 1u);
}

TEST(VectorWriter, DtypeFormatMismatch) {
    testing::TempDir dir;
    struct Case {
        const char* name;
        DType dtype;
        const char* phrase;
    };
    for (const Case& c : {Case{"a.u8bin", DType::kF32, "stores u8 values, not f32"},
                          Case{"a.fvecs", DType::kU8, "stores f32 values, not u8"},
                          Case{"a.bvecs", DType::kI8, "stores u8 values, not i8"},
                          Case{"a.i8bin", DType::kU8, "stores i8 values, not u8"},
                          Case{"a.fbin", DType::kI8, "stores f32 values, not i8"}}) {
        const std::string path = dir.file(c.name);
        EXPECT_TRUE(has_error(VectorWriter::create(path, c.dtype, 4), StatusCode::kInvalidArgument,
                              path, c.phrase));
    }
    for (const char* name : {"g.ibin", "g.ivecs"}) {
        const std::string path = dir.file(name);
        EXPECT_TRUE(has_error(VectorWriter::create(path, DType::kF32, 4),
                              StatusCode::kInvalidArgument, path, "write_ground_truth"));
    }
    const std::string idx = dir.file("x-idx3-ubyte");
    EXPECT_TRUE(has_error(VectorWriter::create(idx, DType::kU8, 4), StatusCode::kInvalidArgument,
                          idx, "read-only"));
    EXPECT_TRUE(listing(dir).empty());
}

TEST(VectorWriter, BadArguments) {
    testing::TempDir dir;
    const std::string path = dir.file("b.fbin");
    EXPECT_TRUE(has_error(VectorWriter::create(path, DType::kF32, 0), StatusCode::kOutOfRange, path,
                          "dimension 0"));
    EXPECT_TRUE(has_error(VectorWriter::create(path, DType::kF32, 16385), StatusCode::kOutOfRange,
                          path, "16384"));
    const std::string unknown = dir.file("b.txt");
    EXPECT_TRUE(has_error(VectorWriter::create(unknown, DType::kF32, 2),
                          StatusCode::kInvalidArgument, unknown, "extension"));
    const std::string nodir = dir.file("missing/b.fbin");
    EXPECT_TRUE(has_error(VectorWriter::create(nodir, DType::kF32, 2), StatusCode::kNotFound, nodir,
                          "directory"));
    EXPECT_TRUE(has_error(write_vectors(path, DType::kF32, 3, 2, nullptr),
                          StatusCode::kInvalidArgument, path, "null"));
    EXPECT_FALSE(std::filesystem::exists(path));

    // Counts that overflow the header or the byte count fail before reading any data.
    auto w = VectorWriter::create(path, DType::kF32, 2);
    ASSERT_TRUE(w.is_ok());
    const float one[2] = {1, 2};
    EXPECT_TRUE(has_error(w->append(one, uint64_t{1} << 31), StatusCode::kOutOfRange, path,
                          "at most 2147483647 rows"));
    const std::string npy = dir.file("b.npy");
    auto wn = VectorWriter::create(npy, DType::kF32, 97);
    ASSERT_TRUE(wn.is_ok());
    EXPECT_TRUE(has_error(wn->append(one, uint64_t{1} << 62), StatusCode::kInvalidArgument, npy,
                          "overflow"));
}

TEST(VectorWriter, ExplicitFormatOverridesExtension) {
    testing::TempDir dir;
    const std::string path = dir.file("vectors.dat");
    const std::vector<float> rows = {1, 2, 3};
    ASSERT_TRUE(write_vectors(path, DType::kF32, 1, 3, rows.data(), FileFormat::kFvecs).is_ok());
    auto ds = Dataset::open(path, FileFormat::kFvecs);
    ASSERT_TRUE(ds.is_ok());
    EXPECT_EQ(ds->row_as<float>(0)[2], 3.0f);
    EXPECT_EQ(std::filesystem::file_size(path), 16u);
}

}  // namespace
}  // namespace strata::io
