// Internal to disk: paths, file descriptors, exact reads and the companion checks shared by the
// reader and the verifier.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <strata/status.hpp>

#include "disk/format.hpp"

namespace strata::disk::detail {

/// `dir` without trailing slashes ("/" stays "/").
std::string strip_trailing_slashes(std::string dir);
/// The last path component ("a/b" -> "b").
std::string base_name(const std::string& path);
/// Everything before the last component ("a/b" -> "a", "b" -> ".").
std::string parent_dir(const std::string& path);
/// dir + "/" + name.
std::string join(const std::string& dir, std::string_view name);
/// True for names of the form "<base>.tmp-<pid>-<hex>" or "<base>.tmp-<pid>-<hex>-old": the
/// working directories of an IndexWriter, never a finished index.
bool is_temp_dir_name(std::string_view name);

/// An owned read-only file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept;
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();
    int get() const { return fd_; }

  private:
    int fd_ = -1;
};

/// Opens `path` read-only. NotFound for ENOENT, InvalidArgument for a non-regular file, IOError
/// otherwise. `*size_bytes` receives the file size.
Result<Fd> open_regular(const std::string& path, uint64_t* size_bytes);
/// Reads exactly `bytes` at `offset`, retrying EINTR and short reads. IOError (with errno,
/// file and offset) on a failed read; Corruption when the file ends first.
Status pread_exact(int fd, const std::string& path, void* out, size_t bytes, uint64_t offset);

/// Reads and decodes the companion header at the start of `path` (open as `fd`, `file_bytes`
/// long) and checks that header and payload sizes add up to the file size.
Result<CompanionHeader> read_companion_header(int fd, const std::string& path, uint64_t file_bytes);
/// Checks a decoded companion header against its files-table entry and the index header: kind,
/// index_uid, payload checksum recorded in both places, and per-node record counts.
Status check_companion(const std::string& path, const CompanionHeader& companion,
                       const FileEntry& entry, const IndexHeader& index);

}  // namespace strata::disk::detail
