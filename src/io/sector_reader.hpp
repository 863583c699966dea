// SectorReader: batched 4 KiB-aligned O_DIRECT reads through io_uring, with a pread fallback and
// a fault-injecting backend for tests.
#pragma once

#include <cerrno>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <strata/status.hpp>

namespace strata::io {

/// Unit of alignment for offsets, lengths and buffers of every sector read.
inline constexpr uint32_t kSectorBytes = 4096;

/// Engine that serves the reads. kAuto probes io_uring at SectorFile::open and falls back to
/// pread (with one warning line) when the kernel lacks it or a seccomp filter blocks it.
enum class IoBackendKind : uint8_t {
    kAuto,   ///< io_uring when available, else pread
    kUring,  ///< io_uring or an error (never a silent fallback)
    kPread,  ///< one blocking pread(2) per request
};

/// "auto", "uring", "pread". Parsing accepts the same names; InvalidArgument otherwise.
std::string_view io_backend_name(IoBackendKind kind);
Result<IoBackendKind> parse_io_backend(std::string_view name);

/// How SectorFile::open opens the file and chooses the backend.
struct SectorFileOptions {
    /// Backend for every reader of this file (default kAuto; the `--io=` flag).
    IoBackendKind backend = IoBackendKind::kAuto;
    /// FOR TESTS ONLY: when non-zero the io_uring probe behaves as if io_uring_queue_init failed
    /// with this errno (ENOSYS, EPERM as under seccomp). Default 0: probe the real kernel.
    int simulate_uring_errno = 0;
    /// OK, or InvalidArgument for a negative simulate_uring_errno.
    Status validate() const;
};

/// A file opened once for sector reads (O_RDONLY | O_DIRECT), shared by every search thread.
/// Immutable after open, so thread-safe. Readers hold a shared_ptr: the file outlives them.
class SectorFile {
  public:
    /// Opens `path` and resolves the backend: probes io_uring once for kAuto/kUring. When the file
    /// system refuses O_DIRECT (EINVAL) the file is opened buffered and one warning is logged;
    /// when io_uring is unavailable kAuto logs one warning and uses pread. Errors: NotFound,
    /// IOError (errno, path) from open/fstat, InvalidArgument for a non-regular file,
    /// NotSupported when kUring is forced and io_uring is unavailable (message has the errno).
    static Result<std::shared_ptr<const SectorFile>> open(const std::string& path,
                                                          const SectorFileOptions& options = {});

    SectorFile(const SectorFile&) = delete;
    SectorFile& operator=(const SectorFile&) = delete;
    ~SectorFile();  ///< Closes the descriptor.

    const std::string& path() const { return path_; }
    int fd() const { return fd_; }
    /// File size at open. Sector files are immutable while open; reads past it are refused.
    uint64_t size_bytes() const { return size_bytes_; }
    /// True when O_DIRECT is in effect (false only after the EINVAL fallback).
    bool direct_io() const { return direct_io_; }
    /// Resolved backend: kUring or kPread, never kAuto.
    IoBackendKind backend() const { return backend_; }

  private:
    SectorFile(std::string path, int fd, uint64_t size_bytes, bool direct_io,
               IoBackendKind backend);

    std::string path_;
    int fd_ = -1;
    uint64_t size_bytes_ = 0;
    bool direct_io_ = false;
    IoBackendKind backend_ = IoBackendKind::kPread;
};

/// Per-reader limits. Everything is allocated at create(); reads never allocate.
struct SectorReaderOptions {
    /// Most reads in flight (submitted and not yet released), 1..4096. Default 64.
    uint32_t queue_depth = 64;
    /// Largest single request in bytes, a multiple of 4096 in 4 KiB..1 MiB; each slot owns a buffer
    /// this large (memory = queue_depth * max_read_bytes). Default 64 KiB.
    uint32_t max_read_bytes = 64 * 1024;
    /// Resubmissions allowed per request after -EAGAIN, -EINTR or a short read that made no
    /// 4 KiB progress, 0..100. Short reads that make progress are bounded by the request length
    /// and do not count. Default 3.
    uint32_t max_retries = 3;
    /// OK, or InvalidArgument naming the field that is out of range.
    Status validate() const;
};

/// FOR TESTS ONLY: faults injected between a SectorReader and its real backend. Ops are counted
/// from 0 over the reader's life and include resubmissions (retries, short-read remainders).
struct FaultInjection {
    static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
    /// Op number that fails with -fail_errno without reaching the disk (default: none).
    uint64_t fail_op_index = kNever;
    int fail_errno = EIO;
    /// The first `transient_error_ops` ops fail with -transient_errno (EAGAIN or EINTR).
    uint32_t transient_error_ops = 0;
    int transient_errno = EAGAIN;
    /// The first `short_read_ops` ops that reach the disk report only part of their bytes: half
    /// rounded down to 4 KiB for multi-sector reads, 2048 bytes for a one-sector read.
    uint32_t short_read_ops = 0;
    /// Sleep added to every call that collects completions, in microseconds (default 0).
    uint32_t delay_us = 0;
};

/// One read: `length_bytes` at `offset_bytes`, both multiples of 4096, length in
/// 4096..max_read_bytes (asserted: a misaligned request is a programmer error).
struct ReadRequest {
    uint64_t offset_bytes = 0;
    uint32_t length_bytes = 0;
    uint64_t user_tag = 0;  ///< Returned unchanged in the completion (e.g. the node id).
};

/// The outcome of one request. Every completion, OK or not, holds its slot until
/// SectorReader::release(slot); `data` stays valid and unchanged until then.
struct ReadCompletion {
    uint64_t user_tag = 0;
    uint32_t slot = 0;              ///< Pass to release() once the data has been used.
    uint32_t length_bytes = 0;      ///< The request's length (all of it was read when OK).
    const uint8_t* data = nullptr;  ///< 4 KiB-aligned bytes read; nullptr on error.
    /// OK; IOError (errno, file, offset) for a failed read or exhausted retries; OutOfRange for a
    /// read past the end of the file; Corruption when the file ended early (it shrank).
    Status status;
};

/// Counters of one reader since create() or reset_stats(), for per-query stats.
struct SectorReaderStats {
    uint64_t reads = 0;        ///< requests completed OK
    uint64_t bytes = 0;        ///< bytes of those requests
    uint64_t errors = 0;       ///< requests completed with an error
    uint64_t retries = 0;      ///< resubmissions after -EAGAIN/-EINTR or no-progress short reads
    uint64_t short_reads = 0;  ///< kernel results shorter than asked
    uint64_t io_wait_us = 0;   ///< time spent blocked in submit/wait (pread time for pread)
};

/// Non-owning callable for read_batch(): (user_tag, bytes) -> void. The callable must outlive
/// the call; no allocation.
class ReadCallback {
  public:
    template <typename Fn,
              typename = std::enable_if_t<!std::is_same_v<std::decay_t<Fn>, ReadCallback>>>
    ReadCallback(Fn&& fn)  // NOLINT(google-explicit-constructor)
        : object_(const_cast<void*>(static_cast<const void*>(std::addressof(fn)))),
          call_([](void* object, uint64_t tag, std::span<const uint8_t> data) {
              (*static_cast<std::remove_reference_t<Fn>*>(object))(tag, data);
          }) {}
    void operator()(uint64_t tag, std::span<const uint8_t> data) const {
        call_(object_, tag, data);
    }

  private:
    void* object_;
    void (*call_)(void*, uint64_t, std::span<const uint8_t>);
};

class SectorBackend;
struct SectorResult;

/// Reads sectors of one SectorFile with at most queue_depth requests in flight. One per search
/// thread; NOT thread-safe (no internal locking), but may be handed between threads.
///
/// Slot life: submit() takes a free slot per accepted request; wait() returns completions, each
/// holding its slot; release(slot) frees it. So a caller can parse data in place and submit the
/// next read as soon as a slot frees, keeping I/O in flight while it computes.
///
/// Per-request failures come back as a completion with an error status and leave the reader
/// usable. An error Result from submit()/wait() means the ring itself failed: the reader is
/// broken and every later call returns that error; destroy it.
class SectorReader {
  public:
    /// Allocates queue_depth buffers of max_read_bytes (4 KiB-aligned) and, for io_uring, a ring
    /// with the file and buffers registered (falling back to unregistered ones when registration
    /// is refused). Errors: InvalidArgument from options.validate(), IOError/ResourceExhausted when
    /// the ring cannot be created (message suggests --io=pread).
    static Result<std::unique_ptr<SectorReader>> create(std::shared_ptr<const SectorFile> file,
                                                        const SectorReaderOptions& options = {});
    /// FOR TESTS ONLY: like create(), with `faults` injected in front of the file's backend.
    static Result<std::unique_ptr<SectorReader>> create_with_faults(
        std::shared_ptr<const SectorFile> file, const SectorReaderOptions& options,
        const FaultInjection& faults);

    SectorReader(const SectorReader&) = delete;
    SectorReader& operator=(const SectorReader&) = delete;
    /// Waits for reads still in the kernel before freeing their buffers.
    ~SectorReader();

    /// Queues up to free_slots() requests, in order, and hands them to the kernel without
    /// waiting. Returns how many were accepted (0 when no slot is free). A request reaching past
    /// the end of the file is accepted and completes with OutOfRange.
    Result<uint32_t> submit(std::span<const ReadRequest> requests);

    /// Fills `out` with up to out.size() completions, blocking until at least
    /// min(min_complete, in_flight()) are available; min_complete 0 only polls. Requires
    /// min_complete <= out.size(). Completions come in the order the reads finish.
    Result<uint32_t> wait(std::span<ReadCompletion> out, uint32_t min_complete);

    /// Frees a slot returned by wait(); its data pointer is dead afterwards. Asserts the slot is
    /// held by the caller.
    void release(uint32_t slot);

    /// Convenience: reads every request (any number, queue_depth at a time), calling
    /// `on_read(user_tag, bytes)` for each as it completes; bytes are valid during the call only.
    /// Returns the first error after letting every started read finish. Needs all slots free.
    Status read_batch(std::span<const ReadRequest> requests, ReadCallback on_read);

    /// Waits for every read in flight and frees every slot, held ones included (e.g. after a
    /// query was abandoned). Returns an error only when the ring failed.
    Status drain();

    uint32_t queue_depth() const { return queue_depth_; }
    uint32_t max_read_bytes() const { return max_read_bytes_; }
    uint32_t free_slots() const { return free_count_; }
    /// Requests submitted and not yet returned by wait().
    uint32_t in_flight() const { return in_flight_; }
    /// kUring or kPread (the backend under any injected faults).
    IoBackendKind backend() const;
    const SectorFile& file() const { return *file_; }
    const SectorReaderStats& stats() const { return stats_; }
    void reset_stats() { stats_ = {}; }

  private:
    struct Slot;
    SectorReader(std::shared_ptr<const SectorFile> file, const SectorReaderOptions& options);
    static Result<std::unique_ptr<SectorReader>> create_impl(std::shared_ptr<const SectorFile> file,
                                                             const SectorReaderOptions& options,
                                                             const FaultInjection* faults);
    void start(uint32_t slot);
    bool finish(uint32_t slot, int32_t result, ReadCompletion& out);
    void complete_with(uint32_t slot, Status status, ReadCompletion& out);
    Result<uint32_t> collect(std::span<ReadCompletion> out, uint32_t min_complete);
    Status fail(Status status);

    std::shared_ptr<const SectorFile> file_;
    uint32_t queue_depth_;
    uint32_t max_read_bytes_;
    uint32_t max_retries_;
    std::unique_ptr<uint8_t, void (*)(void*)> buffers_;  // queue_depth * max_read_bytes, 4 KiB
    std::unique_ptr<Slot[]> slots_;
    std::unique_ptr<uint32_t[]> free_list_;    // stack of free slot ids
    std::unique_ptr<uint32_t[]> ready_;        // FIFO of slots completed without the kernel
    std::unique_ptr<SectorResult[]> results_;  // scratch for backend results
    std::unique_ptr<SectorBackend> backend_;
    uint32_t free_count_ = 0;
    uint32_t in_flight_ = 0;   // submitted, not yet returned by wait()
    uint32_t kernel_ops_ = 0;  // ops handed to the backend whose result is not yet collected
    uint32_t ready_head_ = 0;
    uint32_t ready_count_ = 0;
    Status broken_;
    SectorReaderStats stats_;
};

}  // namespace strata::io
