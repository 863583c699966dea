// SectorFile (open, O_DIRECT, backend choice) and SectorReader (slots, retries, short reads,
// error reporting) over the engines of sector_backends.cpp.
#include "io/sector_reader.hpp"

#include "io/file_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include <fmt/format.h>

#include "core/check.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "io/sector_backends.hpp"

namespace strata::io {
namespace {

constexpr uint32_t kMaxQueueDepth = 4096;
constexpr uint32_t kMaxReadBytes = 1u << 20;
constexpr uint32_t kMaxRetriesLimit = 100;
constexpr int kMaxOpenRetries = 16;

std::string errno_text(int err) {
    char buf[128];
    return strerror_r(err, buf, sizeof(buf));  // GNU variant: returns the message
}

int open_bounded(const char* path, int flags) {
    int fd = -1;
    for (int i = 0; i < kMaxOpenRetries; ++i) {
        fd = ::open(path, flags);
        if (fd >= 0 || errno != EINTR) break;
    }
    return fd;
}

uint64_t elapsed_us(std::chrono::steady_clock::time_point start) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - start)
                                     .count());
}

}  // namespace

std::string_view io_backend_name(IoBackendKind kind) {
    switch (kind) {
        case IoBackendKind::kAuto:
            return "auto";
        case IoBackendKind::kUring:
            return "uring";
        case IoBackendKind::kPread:
            return "pread";
    }
    return "unknown";
}

Result<IoBackendKind> parse_io_backend(std::string_view name) {
    for (IoBackendKind kind :
         {IoBackendKind::kAuto, IoBackendKind::kUring, IoBackendKind::kPread}) {
        if (name == io_backend_name(kind)) return kind;
    }
    return Status::invalid_argument(
        fmt::format("unknown I/O backend '{}' (expected auto, uring or pread)", name));
}

Status SectorFileOptions::validate() const {
    if (simulate_uring_errno < 0) {
        return Status::invalid_argument("SectorFileOptions.simulate_uring_errno must be >= 0");
    }
    return Status::ok();
}

Status SectorReaderOptions::validate() const {
    if (queue_depth == 0 || queue_depth > kMaxQueueDepth) {
        return Status::invalid_argument(
            fmt::format("SectorReaderOptions.queue_depth must be in 1..{}, got {}", kMaxQueueDepth,
                        queue_depth));
    }
    if (max_read_bytes < kSectorBytes || max_read_bytes > kMaxReadBytes ||
        max_read_bytes % kSectorBytes != 0) {
        return Status::invalid_argument(fmt::format(
            "SectorReaderOptions.max_read_bytes must be a multiple of {} in {}..{}, got {}",
            kSectorBytes, kSectorBytes, kMaxReadBytes, max_read_bytes));
    }
    if (max_retries > kMaxRetriesLimit) {
        return Status::invalid_argument(
            fmt::format("SectorReaderOptions.max_retries must be at most {}, got {}",
                        kMaxRetriesLimit, max_retries));
    }
    return Status::ok();
}

// ---- SectorFile ----------------------------------------------------------------------------

SectorFile::SectorFile(std::string path, int fd, uint64_t size_bytes, bool direct_io,
                       IoBackendKind backend)
    : path_(std::move(path)),
      fd_(fd),
      size_bytes_(size_bytes),
      direct_io_(direct_io),
      backend_(backend) {}

SectorFile::~SectorFile() {
    if (fd_ >= 0) ::close(fd_);
}

Result<std::shared_ptr<const SectorFile>> SectorFile::open(const std::string& path,
                                                           const SectorFileOptions& options) try {
    STRATA_RETURN_IF_ERROR(options.validate());
    bool direct = true;
    int fd = open_bounded(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0 && errno == EINVAL) {
        // The file system cannot do O_DIRECT (e.g. some FUSE mounts): correct but slower.
        direct = false;
        fd = open_bounded(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            STRATA_LOG_WARN(
                "{}: the file system refuses O_DIRECT; sector reads go through the "
                "page cache",
                path);
        }
    }
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) return Status::not_found(fmt::format("{}: no such file", path));
        return Status::io_error(fmt::format("{}: open for sector reads failed", path), err);
    }
    STRATA_ASSIGN_OR_RETURN(const uint64_t file_bytes, regular_file_size_or_close(fd, path));

    IoBackendKind backend = IoBackendKind::kPread;
    if (options.backend != IoBackendKind::kPread) {
        const int err =
            options.simulate_uring_errno != 0 ? options.simulate_uring_errno : probe_uring();
        if (err == 0) {
            backend = IoBackendKind::kUring;
        } else if (options.backend == IoBackendKind::kUring) {
            ::close(fd);
            return Status::not_supported(
                fmt::format("{}: --io=uring was requested but io_uring is unavailable here "
                            "(errno {}: {}; blocked by seccomp or disabled by the kernel?)",
                            path, err, errno_text(err)));
        } else {
            STRATA_LOG_WARN(
                "io_uring unavailable (errno {}: {}); {} is read with the pread "
                "backend (synchronous, slower; --io=pread chooses it explicitly)",
                err, errno_text(err), path);
        }
    }
    return std::shared_ptr<const SectorFile>(new SectorFile(path, fd, file_bytes, direct, backend));
} catch (const std::bad_alloc&) {
    return Status::resource_exhausted(fmt::format("{}: out of memory", path));
}

// ---- SectorReader --------------------------------------------------------------------------

struct SectorReader::Slot {
    enum class State : uint8_t { kFree, kInFlight, kHeld };
    uint64_t user_tag = 0;
    uint64_t offset_bytes = 0;
    uint32_t length_bytes = 0;
    uint32_t done_bytes = 0;  // read so far (multiple of 4096: short reads resume aligned)
    uint32_t retries = 0;
    State state = State::kFree;
    Status status;  // error decided at submit (past EOF), handed out through ready_
};

SectorReader::SectorReader(std::shared_ptr<const SectorFile> file,
                           const SectorReaderOptions& options)
    : file_(std::move(file)),
      queue_depth_(options.queue_depth),
      max_read_bytes_(options.max_read_bytes),
      max_retries_(options.max_retries),
      buffers_(nullptr, &std::free),
      slots_(new Slot[options.queue_depth]),
      free_list_(new uint32_t[options.queue_depth]),
      ready_(new uint32_t[options.queue_depth]),
      results_(new SectorResult[options.queue_depth]),
      free_count_(options.queue_depth) {
    const size_t bytes = size_t{queue_depth_} * max_read_bytes_;
    buffers_.reset(static_cast<uint8_t*>(std::aligned_alloc(kSectorBytes, bytes)));
    if (buffers_ == nullptr) throw std::bad_alloc();
    // Touch every page now so the first reads do not fault them in.
    std::memset(buffers_.get(), 0, bytes);
    // Pop order 0, 1, 2, ... keeps the first reads in the first pages.
    for (uint32_t i = 0; i < queue_depth_; ++i) free_list_[i] = queue_depth_ - 1 - i;
}

SectorReader::~SectorReader() {
    if (kernel_ops_ == 0 || backend_ == nullptr) return;
    // The kernel may still write into our buffers: wait for every op before freeing them.
    while (kernel_ops_ > 0) {
        const uint32_t want = std::min(kernel_ops_, queue_depth_);
        Result<uint32_t> got = backend_->reap({results_.get(), queue_depth_}, want);
        if (!got.is_ok()) {
            // Cannot prove the kernel is done with the buffers: leak them rather than risk
            // a late write into freed memory.
            STRATA_LOG_ERROR("{}: {}; leaking {} bytes of read buffers", file_->path(),
                             got.status().to_string(), size_t{queue_depth_} * max_read_bytes_);
            (void)buffers_.release();
            return;
        }
        kernel_ops_ -= *got;
    }
}

Result<std::unique_ptr<SectorReader>> SectorReader::create(std::shared_ptr<const SectorFile> file,
                                                           const SectorReaderOptions& options) {
    return create_impl(std::move(file), options, nullptr);
}

Result<std::unique_ptr<SectorReader>> SectorReader::create_with_faults(
    std::shared_ptr<const SectorFile> file, const SectorReaderOptions& options,
    const FaultInjection& faults) {
    return create_impl(std::move(file), options, &faults);
}

Result<std::unique_ptr<SectorReader>> SectorReader::create_impl(
    std::shared_ptr<const SectorFile> file, const SectorReaderOptions& options,
    const FaultInjection* faults) {
    STRATA_CHECK(file != nullptr);
    STRATA_RETURN_IF_ERROR(options.validate());
    std::unique_ptr<SectorReader> reader;
    Status status = guarded("SectorReader::create", [&]() -> Status {
        reader.reset(new SectorReader(file, options));
        const SectorFile& f = *reader->file_;
        if (f.backend() == IoBackendKind::kUring) {
            const size_t bytes = size_t{options.queue_depth} * options.max_read_bytes;
            STRATA_ASSIGN_OR_RETURN(
                reader->backend_,
                make_uring_backend(f, reader->buffers_.get(), bytes, options.queue_depth));
        } else {
            reader->backend_ = make_pread_backend(f, options.queue_depth);
        }
        if (faults != nullptr) {
            reader->backend_ =
                make_fault_backend(std::move(reader->backend_), *faults, options.queue_depth);
        }
        return Status::ok();
    });
    if (!status.is_ok()) return status;
    return reader;
}

IoBackendKind SectorReader::backend() const { return backend_->kind(); }

Status SectorReader::fail(Status status) {
    if (broken_.is_ok()) broken_ = std::move(status);
    return broken_;
}

void SectorReader::start(uint32_t slot) {
    Slot& s = slots_[slot];
    uint8_t* buffer = buffers_.get() + size_t{slot} * max_read_bytes_ + s.done_bytes;
    Status status = backend_->queue_read(slot, buffer, s.length_bytes - s.done_bytes,
                                         s.offset_bytes + s.done_bytes);
    if (status.is_ok()) {
        ++kernel_ops_;
    } else {
        (void)fail(std::move(status));  // the slot stays in flight: a broken reader is dead
    }
}

Result<uint32_t> SectorReader::submit(std::span<const ReadRequest> requests) {
    if (!broken_.is_ok()) return broken_;
    uint32_t accepted = 0;
    for (const ReadRequest& req : requests) {
        if (free_count_ == 0) break;
        STRATA_CHECK(req.offset_bytes % kSectorBytes == 0);
        STRATA_CHECK(req.length_bytes % kSectorBytes == 0);
        STRATA_CHECK(req.length_bytes > 0 && req.length_bytes <= max_read_bytes_);
        const uint32_t slot = free_list_[--free_count_];
        Slot& s = slots_[slot];
        s.user_tag = req.user_tag;
        s.offset_bytes = req.offset_bytes;
        s.length_bytes = req.length_bytes;
        s.done_bytes = 0;
        s.retries = 0;
        s.state = Slot::State::kInFlight;
        ++in_flight_;
        ++accepted;
        const uint64_t size = file_->size_bytes();
        if (req.offset_bytes > size || req.length_bytes > size - req.offset_bytes) {
            s.status = Status::out_of_range(fmt::format(
                "{}: read of {} bytes at offset {} ends past the end of the file ({} bytes)",
                file_->path(), req.length_bytes, req.offset_bytes, size));
            ready_[(ready_head_ + ready_count_) % queue_depth_] = slot;
            ++ready_count_;
            continue;
        }
        start(slot);
        if (!broken_.is_ok()) return broken_;
    }
    const auto t0 = std::chrono::steady_clock::now();
    Status flushed = backend_->flush();
    stats_.io_wait_us += elapsed_us(t0);
    if (!flushed.is_ok()) return fail(std::move(flushed));
    return accepted;
}

void SectorReader::complete_with(uint32_t slot, Status status, ReadCompletion& out) {
    Slot& s = slots_[slot];
    s.state = Slot::State::kHeld;
    --in_flight_;
    out.user_tag = s.user_tag;
    out.slot = slot;
    out.length_bytes = s.length_bytes;
    if (status.is_ok()) {
        out.data = buffers_.get() + size_t{slot} * max_read_bytes_;
        ++stats_.reads;
        stats_.bytes += s.length_bytes;
    } else {
        out.data = nullptr;
        ++stats_.errors;
    }
    out.status = std::move(status);
}

bool SectorReader::finish(uint32_t slot, int32_t result, ReadCompletion& out) {
    STRATA_CHECK(slot < queue_depth_ && slots_[slot].state == Slot::State::kInFlight);
    Slot& s = slots_[slot];
    const uint32_t remaining = s.length_bytes - s.done_bytes;
    const uint64_t at = s.offset_bytes + s.done_bytes;
    if (result >= 0 && static_cast<uint32_t>(result) == remaining) {
        complete_with(slot, Status::ok(), out);
        return true;
    }
    if (result < 0) {
        const int err = -result;
        if ((err == EAGAIN || err == EINTR) && s.retries < max_retries_) {
            ++s.retries;
            ++stats_.retries;
            start(slot);
            return false;
        }
        complete_with(slot,
                      Status::io_error(fmt::format("{}: read of {} bytes at offset {} failed "
                                                   "(after {} retries)",
                                                   file_->path(), remaining, at, s.retries),
                                       err),
                      out);
        return true;
    }
    if (result == 0) {
        complete_with(slot,
                      Status::corruption(fmt::format(
                          "{}: file ends at offset {}, inside the read of {} bytes at offset {} "
                          "(truncated while open?)",
                          file_->path(), at, s.length_bytes, s.offset_bytes)),
                      out);
        return true;
    }
    if (static_cast<uint32_t>(result) > remaining) {
        complete_with(slot,
                      Status::internal(fmt::format("{}: kernel returned {} bytes for a read of {} "
                                                   "at offset {}",
                                                   file_->path(), result, remaining, at)),
                      out);
        return true;
    }
    // Short read: keep whole sectors only, so the remainder stays 4 KiB-aligned for O_DIRECT.
    // Progress is bounded by the length; only reads that gain no sector spend a retry.
    ++stats_.short_reads;
    const uint32_t progress = static_cast<uint32_t>(result) / kSectorBytes * kSectorBytes;
    if (progress == 0) {
        if (s.retries >= max_retries_) {
            complete_with(
                slot,
                Status::io_error(fmt::format("{}: read of {} bytes at offset {} stayed "
                                             "short ({} bytes) after {} retries",
                                             file_->path(), remaining, at, result, s.retries),
                                 EIO),
                out);
            return true;
        }
        ++s.retries;
        ++stats_.retries;
    }
    s.done_bytes += progress;
    start(slot);
    return false;
}

Result<uint32_t> SectorReader::collect(std::span<ReadCompletion> out, uint32_t min_complete) {
    const uint32_t target = std::min(min_complete, in_flight_);
    uint32_t n = 0;
    while (ready_count_ > 0 && n < out.size()) {
        const uint32_t slot = ready_[ready_head_];
        ready_head_ = (ready_head_ + 1) % queue_depth_;
        --ready_count_;
        complete_with(slot, std::move(slots_[slot].status), out[n++]);
    }
    // Invariant: every kernel op ends as one completion, so target - n <= kernel_ops_.
    while (n < out.size() && kernel_ops_ > 0) {
        const uint32_t need = n < target ? target - n : 0;
        const uint32_t room = std::min(static_cast<uint32_t>(out.size()) - n, kernel_ops_);
        const auto t0 = std::chrono::steady_clock::now();
        Result<uint32_t> got = backend_->reap({results_.get(), room}, need);
        stats_.io_wait_us += elapsed_us(t0);
        if (!got.is_ok()) return fail(got.status());
        for (uint32_t i = 0; i < *got; ++i) {
            --kernel_ops_;
            if (finish(results_[i].slot, results_[i].result, out[n])) ++n;
        }
        if (!broken_.is_ok()) return broken_;
        if (*got == 0) break;  // a poll found nothing more
    }
    if (kernel_ops_ > 0) {  // hand resubmissions to the kernel now, not at the next call
        const auto t0 = std::chrono::steady_clock::now();
        Status flushed = backend_->flush();
        stats_.io_wait_us += elapsed_us(t0);
        if (!flushed.is_ok()) return fail(std::move(flushed));
    }
    return n;
}

Result<uint32_t> SectorReader::wait(std::span<ReadCompletion> out, uint32_t min_complete) {
    STRATA_CHECK(min_complete <= out.size());
    if (!broken_.is_ok()) return broken_;
    return collect(out, min_complete);
}

void SectorReader::release(uint32_t slot) {
    STRATA_CHECK(slot < queue_depth_ && slots_[slot].state == Slot::State::kHeld);
    slots_[slot].state = Slot::State::kFree;
    free_list_[free_count_++] = slot;
}

Status SectorReader::drain() {
    std::array<ReadCompletion, 16> batch;
    while (in_flight_ > 0) {
        STRATA_ASSIGN_OR_RETURN(const uint32_t got,
                                wait(batch, std::min<uint32_t>(in_flight_, batch.size())));
        for (uint32_t i = 0; i < got; ++i) release(batch[i].slot);
    }
    for (uint32_t slot = 0; slot < queue_depth_; ++slot) {
        if (slots_[slot].state == Slot::State::kHeld) release(slot);
    }
    return Status::ok();
}

Status SectorReader::read_batch(std::span<const ReadRequest> requests, ReadCallback on_read) {
    STRATA_CHECK(free_count_ == queue_depth_);
    std::array<ReadCompletion, 16> batch;
    Status first_error;
    size_t next = 0;
    while (true) {
        if (next < requests.size() && first_error.is_ok()) {
            STRATA_ASSIGN_OR_RETURN(const uint32_t accepted, submit(requests.subspan(next)));
            next += accepted;
        }
        if (in_flight_ == 0) break;
        STRATA_ASSIGN_OR_RETURN(const uint32_t got, wait(batch, 1));
        for (uint32_t i = 0; i < got; ++i) {
            ReadCompletion& c = batch[i];
            if (c.status.is_ok()) {
                if (first_error.is_ok()) on_read(c.user_tag, {c.data, c.length_bytes});
            } else if (first_error.is_ok()) {
                first_error = std::move(c.status);
            }
            release(c.slot);
        }
    }
    return first_error;
}

}  // namespace strata::io
