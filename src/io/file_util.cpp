// File utilities: read-only mappings, buffered atomic writes (temp, fsync, rename, fsync dir).
#include "io/file_util.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <utility>

#include <filesystem>

#include <fmt/format.h>

namespace strata::io {
namespace {

constexpr size_t kWriteBufferBytes = size_t{1} << 20;

/// NotFound for ENOENT, IOError carrying errno otherwise. `what` names the failed operation.
Status errno_status(const std::string& path, std::string_view what, int err) {
    if (err == ENOENT) return Status::not_found(fmt::format("{}: no such file or directory", path));
    return Status::io_error(fmt::format("{}: {} failed", path, what), err);
}

int open_retry(const char* path, int flags, mode_t mode = 0) {
    int fd;
    do {
        fd = ::open(path, flags, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

/// pwrite until done, retrying EINTR and short writes.
Status pwrite_all(int fd, const std::string& path, const void* data, size_t bytes,
                  uint64_t offset) {
    const auto* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::pwrite(fd, p, bytes, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return Status::io_error(
                fmt::format("{}: write of {} bytes at offset {} failed", path, bytes, offset),
                errno);
        }
        if (n == 0) {
            return Status::io_error(
                fmt::format("{}: write at offset {} made no progress", path, offset), EIO);
        }
        p += n;
        bytes -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return Status::ok();
}

std::string parent_dir(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

Status fsync_parent_dir(const std::string& path) try {
    const std::string dir = parent_dir(path);
    const int fd = open_retry(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_status(dir, "open directory", errno);
    Status status;
    // Some file systems (and FUSE mounts) cannot fsync a directory; that is not a write error.
    if (::fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
        status = Status::io_error(fmt::format("{}: fsync of directory failed", dir), errno);
    }
    ::close(fd);
    return status;
} catch (const std::bad_alloc&) {
    return Status::resource_exhausted(fmt::format("{}: out of memory", path));
}

Status fsync_file(const std::string& path) {
    const int fd = open_retry(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_status(path, "open", errno);
    Status status;
    if (::fsync(fd) != 0) status = Status::io_error(fmt::format("{}: fsync failed", path), errno);
    ::close(fd);
    return status;
}

Status copy_file_durable(const std::string& src, const std::string& dst) {
    std::error_code ec;
    std::filesystem::copy_file(src, dst, ec);
    if (ec) return Status::io_error(fmt::format("cannot copy {} to {}", src, dst), ec.value());
    return fsync_file(dst);
}

Status atomic_write_file(const std::string& path, std::string_view contents) {
    STRATA_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::create(path));
    STRATA_RETURN_IF_ERROR(file.append(contents.data(), contents.size()));
    return file.commit();
}

Result<std::string> read_file(const std::string& path) {
    const int fd = open_retry(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return errno_status(path, "open", errno);
    std::string out;
    Status status;
    try {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            out.reserve(static_cast<size_t>(st.st_size));
        char chunk[64 * 1024];
        for (;;) {
            const ssize_t n = ::read(fd, chunk, sizeof(chunk));
            if (n < 0) {
                if (errno == EINTR) continue;
                status = Status::io_error(
                    fmt::format("{}: read failed at offset {}", path, out.size()), errno);
                break;
            }
            if (n == 0) break;
            out.append(chunk, static_cast<size_t>(n));
        }
    } catch (const std::exception& e) {  // bad_alloc, length_error
        status = Status::resource_exhausted(
            fmt::format("{}: cannot hold the file in memory: {}", path, e.what()));
    }
    ::close(fd);
    if (!status.is_ok()) return status;
    return out;
}

// ---------------------------------------------------------------------------------------------
// MappedFile

Result<uint64_t> regular_file_size_or_close(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        return Status::io_error(fmt::format("{}: fstat failed", path), err);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return Status::invalid_argument(fmt::format(
            "{}: not a regular file{}", path, S_ISDIR(st.st_mode) ? " (it is a directory)" : ""));
    }
    return static_cast<uint64_t>(st.st_size);
}

Result<MappedFile> MappedFile::open(const std::string& path) {
    const int fd = open_retry(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return errno_status(path, "open", errno);
    STRATA_ASSIGN_OR_RETURN(const uint64_t file_bytes, regular_file_size_or_close(fd, path));
    MappedFile file;
    file.path_ = path;
    file.size_ = static_cast<size_t>(file_bytes);
    if (file.size_ > 0) {
        void* p = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            file.size_ = 0;
            return Status::io_error(fmt::format("{}: mmap of {} bytes failed", path, file_bytes),
                                    err);
        }
        file.data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);  // the mapping keeps the file referenced
    return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        reset();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        path_ = std::move(other.path_);
    }
    return *this;
}

MappedFile::~MappedFile() { reset(); }

void MappedFile::reset() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = nullptr;
    size_ = 0;
}

void MappedFile::advise(AccessPattern pattern) const {
    if (data_ == nullptr) return;
    int advice = MADV_NORMAL;
    switch (pattern) {
        case AccessPattern::kNormal:
            advice = MADV_NORMAL;
            break;
        case AccessPattern::kSequential:
            advice = MADV_SEQUENTIAL;
            break;
        case AccessPattern::kRandom:
            advice = MADV_RANDOM;
            break;
        case AccessPattern::kWillNeed:
            advice = MADV_WILLNEED;
            break;
        case AccessPattern::kDontNeed:
            advice = MADV_DONTNEED;
            break;
    }
    // A hint only: failure changes performance, never results.
    (void)::madvise(const_cast<uint8_t*>(data_), size_, advice);
}

// ---------------------------------------------------------------------------------------------
// AtomicFile

AtomicFile::AtomicFile(std::string final_path, std::string temp_path, int fd)
    : final_path_(std::move(final_path)), temp_path_(std::move(temp_path)), fd_(fd) {}

Result<AtomicFile> AtomicFile::create(const std::string& path) {
    try {
        std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
        const int fd = open_retry(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            const int err = errno;
            if (err == ENOENT) {
                return Status::not_found(
                    fmt::format("{}: cannot create file: directory does not exist", path));
            }
            return Status::io_error(fmt::format("{}: cannot create temp file", temp), err);
        }
        AtomicFile file(path, std::move(temp), fd);
        file.buffer_.reserve(kWriteBufferBytes);
        return file;
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(fmt::format("{}: out of memory creating file", path));
    }
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::exchange(other.fd_, -1)),
      size_bytes_(std::exchange(other.size_bytes_, 0)),
      buffer_(std::move(other.buffer_)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
    if (this != &other) {
        abandon();
        final_path_ = std::move(other.final_path_);
        temp_path_ = std::move(other.temp_path_);
        fd_ = std::exchange(other.fd_, -1);
        size_bytes_ = std::exchange(other.size_bytes_, 0);
        buffer_ = std::move(other.buffer_);
    }
    return *this;
}

AtomicFile::~AtomicFile() { abandon(); }

void AtomicFile::abandon() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
    ::unlink(temp_path_.c_str());
}

Status AtomicFile::flush() {
    if (buffer_.empty()) return Status::ok();
    const uint64_t offset = size_bytes_ - buffer_.size();
    Status status = pwrite_all(fd_, temp_path_, buffer_.data(), buffer_.size(), offset);
    buffer_.clear();
    return status;
}

Status AtomicFile::append(const void* data, size_t bytes) {
    if (fd_ < 0) {
        return Status::invalid_argument(fmt::format(
            "{}: append to a file already committed or abandoned after an error", final_path_));
    }
    if (bytes == 0) return Status::ok();
    Status status;
    if (buffer_.size() + bytes > buffer_.capacity()) status = flush();
    if (status.is_ok() && bytes >= buffer_.capacity()) {
        status = pwrite_all(fd_, temp_path_, data, bytes, size_bytes_);
    } else if (status.is_ok()) {
        const auto* p = static_cast<const char*>(data);
        buffer_.insert(buffer_.end(), p, p + bytes);  // within capacity: no allocation
    }
    if (!status.is_ok()) {
        abandon();  // the file has a hole now; an error is final
        return status;
    }
    size_bytes_ += bytes;
    return Status::ok();
}

Status AtomicFile::write_at(uint64_t offset, const void* data, size_t bytes) {
    if (fd_ < 0) {
        return Status::invalid_argument(fmt::format(
            "{}: write to a file already committed or abandoned after an error", final_path_));
    }
    if (offset > size_bytes_ || bytes > size_bytes_ - offset) {
        return Status::invalid_argument(
            fmt::format("{}: write_at [{}, +{}) reaches past the {} bytes appended", final_path_,
                        offset, bytes, size_bytes_));
    }
    Status status = flush();
    if (status.is_ok()) status = pwrite_all(fd_, temp_path_, data, bytes, offset);
    if (!status.is_ok()) abandon();
    return status;
}

Status AtomicFile::commit() {
    if (fd_ < 0) {
        return Status::invalid_argument(fmt::format(
            "{}: commit of a file already committed or abandoned after an error", final_path_));
    }
    Status status = flush();
    if (status.is_ok() && ::fsync(fd_) != 0) {
        status = Status::io_error(fmt::format("{}: fsync failed", temp_path_), errno);
    }
    if (!status.is_ok()) {
        abandon();
        return status;
    }
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(temp_path_.c_str());
        return Status::io_error(fmt::format("{}: close failed", temp_path_), err);
    }
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp_path_.c_str());
        return Status::io_error(fmt::format("{}: rename from {} failed", final_path_, temp_path_),
                                err);
    }
    return fsync_parent_dir(final_path_);
}

}  // namespace strata::io
