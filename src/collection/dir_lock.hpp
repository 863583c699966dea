// One open handle per collection directory: an exclusive advisory lock (flock) on <dir>/LOCK,
// held for the life of the Collection and released by the kernel when the process ends. A
// second open — from this process or another (the server, `strata ingest`, the C API, Python)
// — would otherwise append to the same log and clear the first one's consolidation files.
#pragma once

#include <cstdint>
#include <string>

#include <strata/status.hpp>

namespace strata::collection {

class DirLock {
  public:
    DirLock() = default;
    DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    DirLock& operator=(DirLock&& o) noexcept;
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;
    ~DirLock();

    /// Takes the lock on `dir`/LOCK, retrying for up to `timeout_ms`; Busy naming the holder's
    /// pid (recorded in the file) when it stays taken; IOError when the file cannot be opened.
    static Result<DirLock> acquire(const std::string& dir, uint32_t timeout_ms);

  private:
    int fd_ = -1;
};

}  // namespace strata::collection
