#include "collection/dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace strata::collection {

DirLock& DirLock::operator=(DirLock&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

DirLock::~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Result<DirLock> DirLock::acquire(const std::string& dir, uint32_t timeout_ms) {
    const std::string path = dir + "/LOCK";
    DirLock lock;
    lock.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    // A LOCK made by another user: flock needs no write access (only the pid goes unrecorded).
    if (lock.fd_ < 0 && errno == EACCES) lock.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (lock.fd_ < 0) return Status::io_error(fmt::format("{}: cannot open", path), errno);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        if (::flock(lock.fd_, LOCK_EX | LOCK_NB) == 0) break;
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) return Status::io_error(fmt::format("{}: flock", path), errno);
        if (std::chrono::steady_clock::now() >= deadline) {
            char pid[32] = {0};
            const ssize_t n = ::pread(lock.fd_, pid, sizeof(pid) - 1, 0);
            if (n > 0) pid[n] = '\0';
            return Status::busy(
                fmt::format("collection {} is open through another handle or process (pid {}); a "
                            "collection takes one handle at a time",
                            dir, n > 0 ? pid : "unknown"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(lock.fd_, 0) != 0 ||
        ::pwrite(lock.fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        // Only the message of a later Busy error would lack the pid: not worth failing for.
    }
    return lock;
}

}  // namespace strata::collection
