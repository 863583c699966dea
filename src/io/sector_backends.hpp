// The engines behind SectorReader (io_uring, pread, fault injection): they move bytes and report
// raw results; retries, short reads and error messages are the reader's job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <strata/status.hpp>

#include "io/sector_reader.hpp"

namespace strata::io {

/// The raw outcome of one op: bytes read (possibly short) or -errno.
struct SectorResult {
    uint32_t slot = 0;
    int32_t result = 0;
};

/// One reader's private engine. Capacity: the reader never has more than queue_depth ops
/// outstanding (queued or in the kernel), so queue_read never runs out of room. Not thread-safe.
class SectorBackend {
  public:
    virtual ~SectorBackend() = default;
    /// kUring or kPread (for a fault wrapper, the wrapped engine).
    virtual IoBackendKind kind() const = 0;
    /// Queues a read of `length` bytes at `offset` into `buffer` (inside the reader's buffer
    /// region) for `slot`. Errors only when the ring fails.
    virtual Status queue_read(uint32_t slot, uint8_t* buffer, uint32_t length, uint64_t offset) = 0;
    /// Hands queued reads to the kernel without waiting.
    virtual Status flush() = 0;
    /// Flushes, blocks until `min_complete` results are ready (at most the ops outstanding and
    /// out.size()), then writes up to out.size() results. min_complete 0 only polls.
    virtual Result<uint32_t> reap(std::span<SectorResult> out, uint32_t min_complete) = 0;
};

/// 0 when io_uring can create a ring and run an op here, else the errno that stopped it.
int probe_uring();

/// A ring of queue_depth entries with `file` registered and, when the kernel accepts it, the
/// buffer region registered for READ_FIXED. IOError/ResourceExhausted when the ring cannot be made.
Result<std::unique_ptr<SectorBackend>> make_uring_backend(const SectorFile& file, uint8_t* region,
                                                          size_t region_bytes,
                                                          uint32_t queue_depth);
/// Synchronous pread(2) per op, performed while reaping.
std::unique_ptr<SectorBackend> make_pread_backend(const SectorFile& file, uint32_t queue_depth);
/// Wraps `inner`, injecting `faults` (see FaultInjection).
std::unique_ptr<SectorBackend> make_fault_backend(std::unique_ptr<SectorBackend> inner,
                                                  const FaultInjection& faults,
                                                  uint32_t queue_depth);

}  // namespace strata::io
