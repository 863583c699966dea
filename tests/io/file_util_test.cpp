// Tests for io/file_util: atomic replacement, whole-file reads, mappings and their errors.
#include "io/file_util.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "io_test_util.hpp"
#include "testing/testing.hpp"

namespace strata::io {
namespace {

using test::has_error;

std::string temp_name(const std::string& path) {
    return path + ".tmp." + std::to_string(::getpid());
}

TEST(FileUtil, AtomicWriteThenReadBack) {
    testing::TempDir dir;
    const std::string path = dir.file("a.txt");
    ASSERT_TRUE(atomic_write_file(path, "hello").is_ok());
    auto r = read_file(path);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(*r, "hello");
    // Replacing keeps no temp file behind and the new contents win.
    ASSERT_TRUE(atomic_write_file(path, std::string(3 << 20, 'x')).is_ok());
    r = read_file(path);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->size(), size_t{3} << 20);
    EXPECT_FALSE(std::filesystem::exists(temp_name(path)));
    ASSERT_TRUE(atomic_write_file(path, "").is_ok());
    EXPECT_EQ(read_file(path).value(), "");
}

TEST(FileUtil, ReadMissingFileIsNotFound) {
    testing::TempDir dir;
    const std::string path = dir.file("missing.txt");
    EXPECT_TRUE(has_error(read_file(path), StatusCode::kNotFound, path, "no such file"));
}

TEST(FileUtil, WriteIntoMissingDirectoryIsNotFound) {
    testing::TempDir dir;
    const std::string path = dir.file("nope/a.txt");
    EXPECT_TRUE(has_error(atomic_write_file(path, "x"), StatusCode::kNotFound, path,
                          "directory does not exist"));
}

TEST(FileUtil, RenameOverDirectoryIsIoErrorWithErrno) {
    testing::TempDir dir;
    const std::string path = dir.file("sub");
    std::filesystem::create_directory(path);
    const Status s = atomic_write_file(path, "x");
    EXPECT_TRUE(has_error(s, StatusCode::kIOError, path, "rename"));
    EXPECT_NE(s.sys_errno(), 0);
    EXPECT_FALSE(std::filesystem::exists(temp_name(path)));
}

TEST(FileUtil, FsyncParentDir) {
    testing::TempDir dir;
    EXPECT_TRUE(fsync_parent_dir(dir.file("anything")).is_ok());
    EXPECT_TRUE(fsync_parent_dir("relative-name").is_ok());  // parent is "."
    const std::string missing = dir.file("no/such/file");
    EXPECT_TRUE(has_error(fsync_parent_dir(missing), StatusCode::kNotFound, dir.file("no/such"),
                          "no such file"));
}

TEST(AtomicFile, UncommittedLeavesNothing) {
    testing::TempDir dir;
    const std::string path = dir.file("f.bin");
    {
        auto f = AtomicFile::create(path);
        ASSERT_TRUE(f.is_ok());
        EXPECT_EQ(f->temp_path(), temp_name(path));
        ASSERT_TRUE(f->append("abc", 3).is_ok());
        EXPECT_TRUE(std::filesystem::exists(f->temp_path()));
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_FALSE(std::filesystem::exists(temp_name(path)));
}

TEST(AtomicFile, WriteAtPatchesHeaderAcrossBufferedAndDirectWrites) {
    testing::TempDir dir;
    const std::string path = dir.file("f.bin");
    auto f = AtomicFile::create(path);
    ASSERT_TRUE(f.is_ok());
    ASSERT_TRUE(f->append("????", 4).is_ok());
    const std::string big(2 << 20, 'b');  // larger than the buffer: written directly
    ASSERT_TRUE(f->append(big.data(), big.size()).is_ok());
    ASSERT_TRUE(f->append("tail", 4).is_ok());
    ASSERT_TRUE(f->write_at(0, "HEAD", 4).is_ok());
    EXPECT_EQ(f->size_bytes(), 8 + big.size());
    EXPECT_TRUE(has_error(f->write_at(f->size_bytes() - 2, "xyz", 3), StatusCode::kInvalidArgument,
                          path, "past"));
    ASSERT_TRUE(f->commit().is_ok());
    EXPECT_TRUE(has_error(f->append("x", 1), StatusCode::kInvalidArgument, path, "committed"));
    EXPECT_TRUE(has_error(f->commit(), StatusCode::kInvalidArgument, path, "committed"));
    const std::string got = read_file(path).value();
    EXPECT_EQ(got, "HEAD" + big + "tail");
}

TEST(AtomicFile, MoveTransfersOwnership) {
    testing::TempDir dir;
    const std::string path = dir.file("m.bin");
    auto f = AtomicFile::create(path);
    ASSERT_TRUE(f.is_ok());
    AtomicFile moved = std::move(f.value());
    ASSERT_TRUE(moved.append("xy", 2).is_ok());
    ASSERT_TRUE(moved.commit().is_ok());
    EXPECT_EQ(read_file(path).value(), "xy");
}

TEST(MappedFile, MapsContentsAndEmptyFiles) {
    testing::TempDir dir;
    const std::string path = dir.file("m.dat");
    testing::write_bytes(path, std::string_view("0123456789"));
    auto m = MappedFile::open(path);
    ASSERT_TRUE(m.is_ok());
    ASSERT_EQ(m->size(), 10u);
    EXPECT_EQ(m->data()[3], '3');
    m->advise(AccessPattern::kRandom);
    m->advise(AccessPattern::kWillNeed);
    MappedFile other = std::move(m.value());
    EXPECT_EQ(other.data()[9], '9');
    EXPECT_EQ(other.path(), path);

    const std::string empty = dir.file("empty.dat");
    testing::write_bytes(empty, std::string_view());
    auto e = MappedFile::open(empty);
    ASSERT_TRUE(e.is_ok());
    EXPECT_EQ(e->size(), 0u);
    EXPECT_EQ(e->data(), nullptr);
    e->advise(AccessPattern::kSequential);  // no-op, no crash
}

TEST(MappedFile, Errors) {
    testing::TempDir dir;
    const std::string missing = dir.file("missing.fbin");
    EXPECT_TRUE(has_error(MappedFile::open(missing), StatusCode::kNotFound, missing, "no such"));
    const std::string sub = dir.file("sub.fbin");
    std::filesystem::create_directory(sub);
    EXPECT_TRUE(has_error(MappedFile::open(sub), StatusCode::kInvalidArgument, sub, "directory"));
    const std::string fifo = dir.file("pipe.fbin");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_TRUE(has_error(MappedFile::open(fifo), StatusCode::kInvalidArgument, fifo,
                          "not a regular file"));
}

}  // namespace
}  // namespace strata::io
