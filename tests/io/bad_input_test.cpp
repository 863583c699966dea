// Tests that every malformed data set file is refused with a Status naming the file and problem.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/dataset.hpp"
#include "io_test_util.hpp"
#include "testing/testing.hpp"

namespace strata::io {
namespace {

using test::as_bytes;
using test::bin_bytes;
using test::has_error;
using test::npy_bytes;

constexpr StatusCode kCorruption = StatusCode::kCorruption;
constexpr StatusCode kNotSupported = StatusCode::kNotSupported;
constexpr StatusCode kOutOfRange = StatusCode::kOutOfRange;

class BadInput : public ::testing::Test {
  protected:
    /// Writes `bytes` to `name` in the temp dir and returns the path.
    std::string file(const std::string& name, const std::vector<uint8_t>& bytes) {
        const std::string path = dir_.file(name);
        testing::write_bytes(path, bytes);
        return path;
    }
    std::string npy(const std::string& name, const std::string& dict,
                    const std::vector<uint8_t>& payload = {}) {
        return file(name, npy_bytes(dict, payload));
    }
    testing::TempDir dir_;
};

std::string npy_dict(const std::string& descr, const std::string& shape,
                     const std::string& fortran = "False") {
    return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

TEST_F(BadInput, MissingFile) {
    for (const char* name : {"missing.fbin", "missing.npy", "missing.fvecs", "missing.idx"}) {
        const std::string path = dir_.file(name);
        EXPECT_TRUE(has_error(Dataset::open(path), StatusCode::kNotFound, path, "no such file"));
    }
}

TEST_F(BadInput, DirectoryAndUnknownExtension) {
    const std::string sub = dir_.file("dir.fbin");
    std::filesystem::create_directory(sub);
    EXPECT_TRUE(has_error(Dataset::open(sub), StatusCode::kInvalidArgument, sub, "directory"));
    const std::string odd = file("data.xyz", bin_bytes(0, 1, {}));
    EXPECT_TRUE(has_error(Dataset::open(odd), StatusCode::kInvalidArgument, odd, "extension"));
    const std::string amb = file("data.bin", bin_bytes(0, 1, {}));
    EXPECT_TRUE(has_error(Dataset::open(amb), StatusCode::kInvalidArgument, amb, "ambiguous"));
}

TEST_F(BadInput, EmptyFiles) {
    for (const char* name : {"e.fbin", "e.u8bin", "e.i8bin", "e.npy", "e.idx"}) {
        const std::string path = file(name, {});
        EXPECT_TRUE(has_error(Dataset::open(path), kCorruption, path, "empty file")) << name;
    }
}

TEST_F(BadInput, SmallerThanHeader) {
    const std::string bin = file("s.fbin", {1, 0, 0, 0, 2});
    EXPECT_TRUE(has_error(Dataset::open(bin), kCorruption, bin, "truncated"));
    EXPECT_TRUE(has_error(Dataset::open(bin), kCorruption, bin, "5 bytes"));
    const std::string npy_path = file("s.npy", {0x93, 'N', 'U', 'M', 'P', 'Y', 1});
    EXPECT_TRUE(has_error(Dataset::open(npy_path), kCorruption, npy_path, "truncated"));
    const std::string vecs = file("s.fvecs", {4, 0});
    EXPECT_TRUE(has_error(Dataset::open(vecs), kCorruption, vecs, "truncated"));
    const std::string idx = file("s.idx", {0, 0, 8});
    EXPECT_TRUE(has_error(Dataset::open(idx), kCorruption, idx, "truncated"));
    const std::string idx3 = file("s-idx3-ubyte", {0, 0, 8, 3, 0, 0, 0, 1});
    EXPECT_TRUE(has_error(Dataset::open(idx3), kCorruption, idx3, "truncated"));
}

TEST_F(BadInput, BinTruncatedAndOversized) {
    // Header says 3 rows x 2 dims of f32 = 8 + 24 bytes, file holds one row less.
    const std::string t = file("t.fbin", bin_bytes(3, 2, std::vector<uint8_t>(16)));
    EXPECT_TRUE(has_error(Dataset::open(t), kCorruption, t, "truncated: expected 32 bytes"));
    EXPECT_TRUE(has_error(Dataset::open(t), kCorruption, t, "file has 24"));
    const std::string o = file("o.u8bin", bin_bytes(2, 2, std::vector<uint8_t>(5)));
    EXPECT_TRUE(has_error(Dataset::open(o), kCorruption, o, "header disagrees with file size"));
    EXPECT_TRUE(has_error(Dataset::open(o), kCorruption, o, "expected 12 bytes"));
}

TEST_F(BadInput, BinNegativeCountsAndBadDimensions) {
    const std::string neg = file("neg.fbin", bin_bytes(-1, 4, {}));
    EXPECT_TRUE(has_error(Dataset::open(neg), kCorruption, neg, "n = -1 is negative"));
    const std::string negd = file("negd.fbin", bin_bytes(1, -4, {}));
    EXPECT_TRUE(has_error(Dataset::open(negd), kCorruption, negd, "dimension -4 is negative"));
    const std::string zero = file("zero.fbin", bin_bytes(0, 0, {}));
    EXPECT_TRUE(has_error(Dataset::open(zero), kOutOfRange, zero, "dimension 0"));
    const std::string big = file("big.u8bin", bin_bytes(1, 16385, std::vector<uint8_t>(16385)));
    EXPECT_TRUE(has_error(Dataset::open(big), kOutOfRange, big, "dimension 16385"));
    EXPECT_TRUE(has_error(Dataset::open(big), kOutOfRange, big, "16384"));
    // The largest accepted dimension is fine.
    const std::string max = file("max.u8bin", bin_bytes(1, 16384, std::vector<uint8_t>(16384)));
    EXPECT_TRUE(Dataset::open(max).is_ok());
    // Huge counts must not wrap the size computation into "fits".
    const std::string huge = file("huge.fbin", bin_bytes(INT32_MAX, 16384, {}));
    EXPECT_TRUE(has_error(Dataset::open(huge), kCorruption, huge, "truncated"));
}

TEST_F(BadInput, VecsInconsistentDimensionNamesRow) {
    std::vector<uint8_t> bytes;
    for (int32_t d : {4, 4, 5, 4}) {
        testing::put(bytes, d);
        for (int j = 0; j < 4; ++j) testing::put(bytes, 1.0f);
    }
    const std::string path = file("inc.fvecs", bytes);
    EXPECT_TRUE(has_error(Dataset::open(path), kCorruption, path, "row 2"));
    EXPECT_TRUE(has_error(Dataset::open(path), kCorruption, path, "dimension 5, but row 0 has 4"));
    // A short row shifts the next row's dimension field: still named, never read past the end.
    std::vector<uint8_t> b;
    testing::put(b, int32_t{3});
    b.insert(b.end(), {1, 2, 3});
    testing::put(b, int32_t{2});
    b.insert(b.end(), {1, 2});
    const std::string bv = file("inc.bvecs", b);
    EXPECT_TRUE(has_error(Dataset::open(bv), kCorruption, bv, "row 1"));
}

TEST_F(BadInput, VecsTruncatedAndBadDimension) {
    std::vector<uint8_t> bytes;
    testing::put(bytes, int32_t{2});
    testing::put(bytes, 1.0f);
    testing::put(bytes, 2.0f);
    testing::put(bytes, int32_t{2});
    testing::put(bytes, 1.0f);  // second row misses one value
    const std::string path = file("t.fvecs", bytes);
    EXPECT_TRUE(has_error(Dataset::open(path), kCorruption, path, "truncated"));
    EXPECT_TRUE(has_error(Dataset::open(path), kCorruption, path, "not a multiple of the 12-byte"));
    const std::string zero = file("z.bvecs", {0, 0, 0, 0});
    EXPECT_TRUE(has_error(Dataset::open(zero), kOutOfRange, zero, "dimension 0"));
    std::vector<uint8_t> big;
    testing::put(big, int32_t{20000});
    const std::string bigp = file("b.bvecs", big);
    EXPECT_TRUE(has_error(Dataset::open(bigp), kOutOfRange, bigp, "16384"));
    std::vector<uint8_t> neg;
    testing::put(neg, int32_t{-7});
    const std::string negp = file("n.fvecs", neg);
    EXPECT_TRUE(has_error(Dataset::open(negp), kCorruption, negp, "negative"));
}

TEST_F(BadInput, GroundTruthFormatsAreNotVectors) {
    const std::string ivecs = file("gt.ivecs", {1, 0, 0, 0, 5, 0, 0, 0});
    EXPECT_TRUE(has_error(Dataset::open(ivecs), kNotSupported, ivecs, "read_ground_truth"));
    const std::string ibin = file("gt.ibin", {0, 0, 0, 0, 0, 0, 0, 0});
    EXPECT_TRUE(has_error(Dataset::open(ibin), kNotSupported, ibin, "read_ground_truth"));
}

TEST_F(BadInput, NpyBadMagicAndVersion) {
    std::vector<uint8_t> bytes = npy_bytes(npy_dict("<f4", "(0, 2)"), {});
    bytes[1] = 'X';
    const std::string magic = file("magic.npy", bytes);
    EXPECT_TRUE(has_error(Dataset::open(magic), kCorruption, magic, "bad npy magic"));
    bytes[1] = 'N';
    bytes[6] = 9;
    const std::string version = file("version.npy", bytes);
    EXPECT_TRUE(has_error(Dataset::open(version), kNotSupported, version, "version 9.0"));
    // Header length pointing past the end of the file.
    bytes[6] = 1;
    bytes[8] = 0xff;
    bytes[9] = 0xff;
    const std::string hlen = file("hlen.npy", bytes);
    EXPECT_TRUE(has_error(Dataset::open(hlen), kCorruption, hlen, "truncated"));
}

TEST_F(BadInput, NpyUnsupportedDtypes) {
    int i = 0;
    for (const char* descr : {"<f8", "<f2", "<i4", "<u2", "|b1", "<c8", "|S4", ">f8", "|f4"}) {
        const std::string path = npy(test::numbered("d", i++, ".npy"), npy_dict(descr, "(1, 1)"),
                                     std::vector<uint8_t>(8));
        EXPECT_TRUE(has_error(Dataset::open(path), kNotSupported, path, std::string("'") + descr))
            << descr;
    }
    const std::string structured = npy("st.npy",
                                       "{'descr': [('x', '<f4')], 'fortran_order': False, "
                                       "'shape': (1, 1), }");
    EXPECT_TRUE(has_error(Dataset::open(structured), kNotSupported, structured, "structured"));
}

TEST_F(BadInput, NpyBigEndian) {
    const std::string path = npy("be.npy", npy_dict(">f4", "(1, 2)"), std::vector<uint8_t>(8));
    EXPECT_TRUE(has_error(Dataset::open(path), kNotSupported, path, "big-endian"));
    EXPECT_TRUE(has_error(Dataset::open(path), kNotSupported, path, "'>f4'"));
}

TEST_F(BadInput, NpyFortranOrder) {
    const std::string path =
        npy("f.npy", npy_dict("<f4", "(2, 2)", "True"), std::vector<uint8_t>(16));
    EXPECT_TRUE(has_error(Dataset::open(path), kNotSupported, path, "Fortran"));
}

TEST_F(BadInput, NpyShapes) {
    const std::string one_d = npy("1d.npy", npy_dict("<f4", "(4,)"), std::vector<uint8_t>(16));
    EXPECT_TRUE(has_error(Dataset::open(one_d), kNotSupported, one_d, "2-D"));
    EXPECT_TRUE(has_error(Dataset::open(one_d), kNotSupported, one_d, "(4,)"));
    const std::string three_d =
        npy("3d.npy", npy_dict("<f4", "(1, 2, 2)"), std::vector<uint8_t>(16));
    EXPECT_TRUE(has_error(Dataset::open(three_d), kNotSupported, three_d, "3-D"));
    const std::string zero_d = npy("0d.npy", npy_dict("<f4", "()"), std::vector<uint8_t>(4));
    EXPECT_TRUE(has_error(Dataset::open(zero_d), kNotSupported, zero_d, "0-D"));
    const std::string dim0 = npy("dim0.npy", npy_dict("<f4", "(3, 0)"));
    EXPECT_TRUE(has_error(Dataset::open(dim0), kOutOfRange, dim0, "dimension 0"));
    const std::string wide =
        npy("wide.npy", npy_dict("|u1", "(1, 16385)"), std::vector<uint8_t>(16385));
    EXPECT_TRUE(has_error(Dataset::open(wide), kOutOfRange, wide, "16384"));
    const std::string neg = npy("neg.npy", npy_dict("<f4", "(-1, 2)"));
    EXPECT_TRUE(has_error(Dataset::open(neg), kCorruption, neg, "non-negative"));
    // n * d * 4 overflows 64 bits: must be refused, not wrapped into a small size.
    const std::string huge = npy("huge.npy", npy_dict("<f4", "(4611686018427387904, 8)"));
    EXPECT_TRUE(has_error(Dataset::open(huge), kCorruption, huge, "overflow"));
    const std::string big = npy("big.npy", npy_dict("<f4", "(9223372036854775807, 1)"));
    EXPECT_TRUE(has_error(Dataset::open(big), kCorruption, big, "overflow"));
    const std::string too_big_int = npy("int.npy", npy_dict("<f4", "(99999999999999999999, 1)"));
    EXPECT_TRUE(has_error(Dataset::open(too_big_int), kCorruption, too_big_int, "out of range"));
}

TEST_F(BadInput, NpyTruncatedAndOversizedData) {
    const std::string t = npy("t.npy", npy_dict("<f4", "(3, 2)"), std::vector<uint8_t>(20));
    EXPECT_TRUE(has_error(Dataset::open(t), kCorruption, t, "truncated: expected"));
    EXPECT_TRUE(has_error(Dataset::open(t), kCorruption, t, "3 rows x 8 bytes), file has"));
    const std::string o = npy("o.npy", npy_dict("|u1", "(3, 2)"), std::vector<uint8_t>(7));
    EXPECT_TRUE(has_error(Dataset::open(o), kCorruption, o, "header disagrees with file size"));
}

TEST_F(BadInput, NpyMalformedHeaders) {
    const std::vector<std::string> dicts = {
        "",
        "not a dict",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)",  // unclosed
        "{'descr': '<f4' 'fortran_order': False}",                   // missing comma
        "{'descr: '<f4', 'fortran_order': False, 'shape': (1, 1)}",  // unterminated
        "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1, 1)}",
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)} trailing",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, -)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': "
        "((((((((((((((((((((1,),),),),),),),),),),),),),),),),),),),)}",
        "{descr: '<f4'}",
    };
    for (size_t i = 0; i < dicts.size(); ++i) {
        const std::string path = npy(test::numbered("m", i, ".npy"), dicts[i]);
        EXPECT_TRUE(has_error(Dataset::open(path), kCorruption, path, "malformed npy header"))
            << dicts[i];
    }
    const std::string no_shape = npy("ns.npy", "{'descr': '<f4', 'fortran_order': False}");
    EXPECT_TRUE(has_error(Dataset::open(no_shape), kCorruption, no_shape, "'shape'"));
    const std::string bad_fo =
        npy("fo.npy", npy_dict("<f4", "(1, 1)", "0"), std::vector<uint8_t>(4));
    EXPECT_TRUE(has_error(Dataset::open(bad_fo), kCorruption, bad_fo, "fortran_order"));
    const std::string bad_shape = npy("bs.npy", npy_dict("<f4", "'abc'"));
    EXPECT_TRUE(has_error(Dataset::open(bad_shape), kCorruption, bad_shape, "shape"));
}

TEST_F(BadInput, NpyMisalignedData) {
    // A 1-byte alignment header puts f32 data at an odd offset: refused rather than misread.
    std::string dict = npy_dict("<f4", "(1, 1)");
    dict.pop_back();  // reopen the dict and pad inside it
    while ((10 + dict.size() + 3) % 4 != 2) dict.push_back(' ');
    dict.push_back('}');
    const std::string path = file("mis.npy", npy_bytes(dict, std::vector<uint8_t>(4), 1, 1));
    EXPECT_TRUE(has_error(Dataset::open(path), kNotSupported, path, "not aligned"));
}

TEST_F(BadInput, IdxErrors) {
    const std::string magic = file("m.idx", {1, 0, 8, 1, 0, 0, 0, 0});
    EXPECT_TRUE(has_error(Dataset::open(magic), kCorruption, magic, "bad IDX magic"));
    const std::string f32 = file("f-idx3-ubyte", {0, 0, 0x0D, 1, 0, 0, 0, 0});
    EXPECT_TRUE(has_error(Dataset::open(f32), kNotSupported, f32, "0x0d (float32)"));
    const std::string unknown = file("u.idx", {0, 0, 0x42, 1, 0, 0, 0, 0});
    EXPECT_TRUE(has_error(Dataset::open(unknown), kCorruption, unknown, "element type 0x42"));
    const std::string nodims = file("n.idx", {0, 0, 8, 0});
    EXPECT_TRUE(has_error(Dataset::open(nodims), kCorruption, nodims, "0 dimensions"));
    // 2 images of 2x2 announced, 7 payload bytes present.
    std::vector<uint8_t> t = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2};
    t.resize(t.size() + 7);
    const std::string trunc = file("t.idx", t);
    EXPECT_TRUE(has_error(Dataset::open(trunc), kCorruption, trunc, "truncated"));
    const std::string wide = file("w.idx", {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0});
    EXPECT_TRUE(has_error(Dataset::open(wide), kOutOfRange, wide, "65536"));
    const std::string zero = file("z.idx", {0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 0});
    EXPECT_TRUE(has_error(Dataset::open(zero), kOutOfRange, zero, "dimension 0"));
    // Dimension product overflowing 64 bits.
    std::vector<uint8_t> over = {0, 0, 8, 4, 0, 0, 0, 1};
    for (int i = 0; i < 3; ++i) over.insert(over.end(), {0xff, 0xff, 0xff, 0xff});
    const std::string ov = file("o.idx", over);
    EXPECT_TRUE(has_error(Dataset::open(ov), kCorruption, ov, "overflow"));
}

}  // namespace
}  // namespace strata::io
