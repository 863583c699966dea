// Tests for io::Dataset reading hand-built files of every format, and format naming/detection.
#include "io/dataset.hpp"

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io_test_util.hpp"
#include "testing/testing.hpp"

namespace strata::io {
namespace {

using test::as_bytes;
using test::bin_bytes;
using test::has_error;
using test::npy_bytes;

Dataset open_ok(const std::string& path, FileFormat format = FileFormat::kAuto) {
    auto r = Dataset::open(path, format);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (!r.is_ok()) std::abort();
    return std::move(r).value();
}

TEST(FileFormat, NamesRoundTrip) {
    for (FileFormat f :
         {FileFormat::kAuto, FileFormat::kFbin, FileFormat::kU8bin, FileFormat::kI8bin,
          FileFormat::kIbin, FileFormat::kFvecs, FileFormat::kBvecs, FileFormat::kIvecs,
          FileFormat::kNpy, FileFormat::kIdx}) {
        auto parsed = parse_file_format(file_format_name(f));
        ASSERT_TRUE(parsed.is_ok());
        EXPECT_EQ(*parsed, f);
    }
    EXPECT_EQ(parse_file_format("parquet").status().code(), StatusCode::kInvalidArgument);
}

TEST(FileFormat, FromPath) {
    const std::vector<std::pair<std::string, FileFormat>> cases = {
        {"/d/base.fbin", FileFormat::kFbin},
        {"base.u8bin", FileFormat::kU8bin},
        {"x/y.i8bin", FileFormat::kI8bin},
        {"gt.ibin", FileFormat::kIbin},
        {"sift_base.fvecs", FileFormat::kFvecs},
        {"bigann_base.BVECS", FileFormat::kBvecs},
        {"gt.ivecs", FileFormat::kIvecs},
        {"emb.npy", FileFormat::kNpy},
        {"mnist/train-images-idx3-ubyte", FileFormat::kIdx},
        {"train-labels-idx1-ubyte", FileFormat::kIdx},
        {"train-images.idx3-ubyte", FileFormat::kIdx},
        {"t.idx", FileFormat::kIdx},
    };
    for (const auto& [path, want] : cases) {
        auto got = format_from_path(path);
        ASSERT_TRUE(got.is_ok()) << path << ": " << got.status().to_string();
        EXPECT_EQ(*got, want) << path;
    }
    EXPECT_TRUE(has_error(format_from_path("/d/base.bin"), StatusCode::kInvalidArgument,
                          "/d/base.bin", "ambiguous"));
    EXPECT_TRUE(has_error(format_from_path("/d/base.txt"), StatusCode::kInvalidArgument,
                          "/d/base.txt", "unknown file extension"));
    EXPECT_TRUE(has_error(format_from_path("/d/base.fvecs.gz"), StatusCode::kInvalidArgument,
                          "/d/base.fvecs.gz", "decompress"));
    EXPECT_FALSE(format_from_path("fbin").is_ok());
    EXPECT_FALSE(format_from_path("idx3-ubyte").is_ok());
}

TEST(Dataset, ReadsFbinKnownBytes) {
    testing::TempDir dir;
    const std::string path = dir.file("a.fbin");
    const std::vector<float> values = {1.5f, -2.0f, 3.25f, 4.0f, 5.0f, 6.5f};
    testing::write_bytes(path, bin_bytes(2, 3, as_bytes(values)));
    const Dataset ds = open_ok(path);
    EXPECT_EQ(ds.format(), FileFormat::kFbin);
    EXPECT_EQ(ds.dtype(), DType::kF32);
    EXPECT_EQ(ds.size(), 2u);
    EXPECT_EQ(ds.dim(), 3u);
    EXPECT_EQ(ds.path(), path);
    EXPECT_EQ(ds.row_bytes(), 12u);
    EXPECT_EQ(ds.row_stride_bytes(), 12u);
    EXPECT_EQ(ds.row_as<float>(0)[2], 3.25f);
    EXPECT_EQ(ds.row_as<float>(1)[0], 4.0f);
    EXPECT_EQ(ds.row_as<float>(1)[2], 6.5f);
    ds.advise(AccessPattern::kRandom);
}

TEST(Dataset, ReadsU8binAndI8bin) {
    testing::TempDir dir;
    const std::string u8 = dir.file("a.u8bin");
    testing::write_bytes(u8, bin_bytes(3, 1, {7, 200, 255}));
    const Dataset a = open_ok(u8);
    EXPECT_EQ(a.dtype(), DType::kU8);
    EXPECT_EQ(a.size(), 3u);
    EXPECT_EQ(a.row_as<uint8_t>(1)[0], 200);
    const std::string i8 = dir.file("a.i8bin");
    testing::write_bytes(i8, bin_bytes(1, 2, {0x80, 0x7f}));
    const Dataset b = open_ok(i8);
    EXPECT_EQ(b.dtype(), DType::kI8);
    EXPECT_EQ(b.row_as<int8_t>(0)[0], -128);
    EXPECT_EQ(b.row_as<int8_t>(0)[1], 127);
}

TEST(Dataset, ZeroRowFilesAreValid) {
    testing::TempDir dir;
    const std::string path = dir.file("z.fbin");
    testing::write_bytes(path, bin_bytes(0, 7, {}));
    const Dataset ds = open_ok(path);
    EXPECT_EQ(ds.size(), 0u);
    EXPECT_EQ(ds.dim(), 7u);
    const std::string vecs = dir.file("z.fvecs");
    testing::write_bytes(vecs, std::string_view());
    const Dataset v = open_ok(vecs);
    EXPECT_EQ(v.size(), 0u);
    EXPECT_EQ(v.dim(), 0u);
}

TEST(Dataset, ExplicitFormatOverridesExtension) {
    testing::TempDir dir;
    const std::string path = dir.file("vectors.dat");
    testing::write_bytes(path, bin_bytes(1, 2, {1, 2}));
    EXPECT_FALSE(Dataset::open(path).is_ok());
    const Dataset ds = open_ok(path, FileFormat::kU8bin);
    EXPECT_EQ(ds.format(), FileFormat::kU8bin);
    EXPECT_EQ(ds.row_as<uint8_t>(0)[1], 2);
    // The same 10 bytes read as i8bin.
    EXPECT_EQ(open_ok(path, FileFormat::kI8bin).dtype(), DType::kI8);
}

TEST(Dataset, ReadsFvecsAndBvecsKnownBytes) {
    testing::TempDir dir;
    std::vector<uint8_t> bytes;
    for (int r = 0; r < 3; ++r) {
        testing::put(bytes, int32_t{2});
        testing::put(bytes, static_cast<float>(r));
        testing::put(bytes, static_cast<float>(r) + 0.5f);
    }
    const std::string fv = dir.file("a.fvecs");
    testing::write_bytes(fv, bytes);
    const Dataset ds = open_ok(fv);
    EXPECT_EQ(ds.format(), FileFormat::kFvecs);
    EXPECT_EQ(ds.size(), 3u);
    EXPECT_EQ(ds.dim(), 2u);
    EXPECT_EQ(ds.row_stride_bytes(), 12u);
    EXPECT_EQ(ds.row_bytes(), 8u);
    EXPECT_EQ(ds.row_as<float>(2)[0], 2.0f);
    EXPECT_EQ(ds.row_as<float>(2)[1], 2.5f);

    std::vector<uint8_t> b;
    for (uint8_t r = 0; r < 2; ++r) {
        testing::put(b, int32_t{3});
        for (uint8_t j = 0; j < 3; ++j) b.push_back(static_cast<uint8_t>(10 * r + j));
    }
    const std::string bv = dir.file("a.bvecs");
    testing::write_bytes(bv, b);
    const Dataset bd = open_ok(bv);
    EXPECT_EQ(bd.dtype(), DType::kU8);
    EXPECT_EQ(bd.size(), 2u);
    EXPECT_EQ(bd.row_stride_bytes(), 7u);
    EXPECT_EQ(bd.row_as<uint8_t>(1)[2], 12);
}

TEST(Dataset, ReadsNpyVersionsAndHeaderSpellings) {
    testing::TempDir dir;
    const std::vector<float> values = {1, 2, 3, 4, 5, 6};
    struct Case {
        std::string dict;
        int major;
    };
    const std::vector<Case> cases = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 1},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 2},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 3},
        {"{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f4\"}", 1},
        {"{ 'fortran_order' : False ,\n 'shape' : ( 2L , 3L ) , 'descr' : '=f4' }", 1},
        {"{'descr': 'f4', 'fortran_order': False, 'shape': [2, 3]}", 1},
    };
    for (size_t i = 0; i < cases.size(); ++i) {
        const std::string path = dir.file(test::numbered("c", i, ".npy"));
        testing::write_bytes(path, npy_bytes(cases[i].dict, as_bytes(values), cases[i].major));
        const Dataset ds = open_ok(path);
        EXPECT_EQ(ds.dtype(), DType::kF32) << cases[i].dict;
        EXPECT_EQ(ds.size(), 2u);
        EXPECT_EQ(ds.dim(), 3u);
        EXPECT_EQ(ds.row_as<float>(1)[2], 6.0f);
    }
    for (const char* descr : {"|u1", "<u1", "u1", "|i1", "<i1", "i1"}) {
        const std::string path = dir.file(std::string("b") + descr[1] + ".npy");
        const std::string dict =
            std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (3, 1), }";
        testing::write_bytes(path, npy_bytes(dict, {1, 0xff, 3}));
        const Dataset ds = open_ok(path);
        const bool is_u8 = std::string(descr).find('u') != std::string::npos;
        EXPECT_EQ(ds.dtype(), is_u8 ? DType::kU8 : DType::kI8) << descr;
        EXPECT_EQ(ds.size(), 3u);
        EXPECT_EQ(ds.row_as<uint8_t>(1)[0], 0xff);
    }
}

TEST(Dataset, ReadsNpyUnknownKeysAndZeroRows) {
    testing::TempDir dir;
    const std::string path = dir.file("z.npy");
    testing::write_bytes(path,
                         npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), "
                                   "'extra': [('a', None), {'b': True}], }",
                                   {}));
    const Dataset ds = open_ok(path);
    EXPECT_EQ(ds.size(), 0u);
    EXPECT_EQ(ds.dim(), 5u);
}

TEST(Dataset, ReadsIdxImagesAndLabels) {
    testing::TempDir dir;
    std::vector<uint8_t> images = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3};
    for (uint8_t i = 0; i < 12; ++i) images.push_back(i);
    const std::string img = dir.file("train-images-idx3-ubyte");
    testing::write_bytes(img, images);
    const Dataset ds = open_ok(img);
    EXPECT_EQ(ds.format(), FileFormat::kIdx);
    EXPECT_EQ(ds.dtype(), DType::kU8);
    EXPECT_EQ(ds.size(), 2u);
    EXPECT_EQ(ds.dim(), 6u);
    EXPECT_EQ(ds.row_as<uint8_t>(1)[5], 11);

    const std::string labels = dir.file("train-labels-idx1-ubyte");
    testing::write_bytes(labels, std::vector<uint8_t>{0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9});
    const Dataset lb = open_ok(labels);
    EXPECT_EQ(lb.size(), 3u);
    EXPECT_EQ(lb.dim(), 1u);
    EXPECT_EQ(lb.row_as<uint8_t>(2)[0], 9);
}

TEST(Dataset, MoveKeepsMappingAlive) {
    testing::TempDir dir;
    const std::string path = dir.file("m.u8bin");
    testing::write_bytes(path, bin_bytes(2, 2, {1, 2, 3, 4}));
    Dataset a = open_ok(path);
    Dataset b = std::move(a);
    EXPECT_EQ(b.row_as<uint8_t>(1)[1], 4);
    Dataset c = open_ok(path);
    c = std::move(b);
    EXPECT_EQ(c.row_as<uint8_t>(0)[0], 1);
}

TEST(DatasetDeathTest, RowOutOfRangeAborts) {
    testing::TempDir dir;
    const std::string path = dir.file("d.u8bin");
    testing::write_bytes(path, bin_bytes(1, 1, {1}));
    const Dataset ds = open_ok(path);
    EXPECT_DEATH((void)ds.row(1), "invariant failed");
}

}  // namespace
}  // namespace strata::io
