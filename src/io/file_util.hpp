// File utilities: durable writes and atomic replacement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <strata/status.hpp>

namespace strata::io {

/// fstat()s an open `fd` of `path` and requires a regular file; on failure closes `fd` and
/// returns IOError (fstat) or InvalidArgument ("not a regular file", naming a directory as such).
/// On success returns the file size in bytes and leaves `fd` open.
Result<uint64_t> regular_file_size_or_close(int fd, const std::string& path);

/// fsyncs the directory holding `path` so a rename inside it is durable.
Status fsync_parent_dir(const std::string& path);
/// Atomically replaces `path` with `contents`: write `path.tmp.<pid>`, fsync, rename, fsync dir.
Status atomic_write_file(const std::string& path, std::string_view contents);
/// fsyncs the regular file `path`.
Status fsync_file(const std::string& path);
/// Copies `src` to the new file `dst` and fsyncs it (not its directory).
Status copy_file_durable(const std::string& src, const std::string& dst);
/// Reads a whole (small) file.
Result<std::string> read_file(const std::string& path);

/// How a mapping will be read; passed to madvise as a hint (never an error if refused).
/// kDontNeed drops this process's resident pages of the mapping (they are re-read from the page
/// cache on the next access): long passes over a big file call it to keep RSS bounded.
enum class AccessPattern : uint8_t { kNormal, kSequential, kRandom, kWillNeed, kDontNeed };

/// A whole regular file mapped read-only (PROT_READ, MAP_PRIVATE). An empty file maps to
/// data() == nullptr, size() == 0. Movable, not copyable; concurrent reads are safe.
/// The mapping shows the file as it is on disk: if another process truncates the file while it
/// is mapped, reads past the new end raise SIGBUS (no portable way to turn that into a Status).
class MappedFile {
  public:
    /// NotFound when `path` does not exist; IOError (with errno) when open/fstat/mmap fail;
    /// InvalidArgument when `path` is a directory or another non-regular file (never blocks on a
    /// FIFO: it is opened with O_NONBLOCK).
    static Result<MappedFile> open(const std::string& path);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }
    /// Best-effort madvise over the whole mapping.
    void advise(AccessPattern pattern) const;

  private:
    void reset();

    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    std::string path_;
};

/// Writes a new file under `<path>.tmp.<pid>` and renames it over `path` on commit(), so readers
/// see the old file or the complete new one, never a prefix. Appends are buffered. Destroying an
/// uncommitted AtomicFile closes and unlinks the temp file. Not thread-safe. Errors carry errno
/// and name the temp file and offset; after a write error the temp file is already removed and
/// later calls return InvalidArgument.
class AtomicFile {
  public:
    /// Creates (truncating) the temp file beside `path`. NotFound when the directory is missing.
    static Result<AtomicFile> create(const std::string& path);

    AtomicFile(AtomicFile&& other) noexcept;
    AtomicFile& operator=(AtomicFile&& other) noexcept;
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();

    /// Appends `bytes` bytes at the current end (buffered).
    Status append(const void* data, size_t bytes);
    /// Overwrites already appended bytes [offset, offset + bytes), e.g. a header reserved up
    /// front. InvalidArgument if the range reaches past what was appended.
    Status write_at(uint64_t offset, const void* data, size_t bytes);
    /// Flushes, fsyncs, closes, renames over the final path and fsyncs the directory. After
    /// commit (successful or not) the object is spent; a failed commit removes the temp file.
    Status commit();
    /// Bytes appended so far.
    uint64_t size_bytes() const { return size_bytes_; }
    const std::string& final_path() const { return final_path_; }
    const std::string& temp_path() const { return temp_path_; }

  private:
    AtomicFile(std::string final_path, std::string temp_path, int fd);
    Status flush();
    void abandon();

    std::string final_path_;
    std::string temp_path_;
    int fd_ = -1;
    uint64_t size_bytes_ = 0;   ///< bytes appended (flushed + buffered)
    std::vector<char> buffer_;  ///< pending bytes, written at offset size_bytes_ - size()
};

}  // namespace strata::io
