// SectorReader engines: io_uring (registered file and buffers, READ_FIXED), pread, and a
// fault-injecting wrapper for tests.
#include "io/sector_backends.hpp"

#include <liburing.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/check.hpp"
#include "core/log.hpp"

namespace strata::io {
namespace {

/// Bound on back-to-back -EINTR/-EAGAIN/-EBUSY from io_uring_enter itself (not per read: those
/// are bounded by SectorReaderOptions::max_retries). Generous because a profiler's signals can
/// interrupt waits, yet finite so a wedged ring turns into an error instead of a spin.
constexpr uint32_t kMaxEnterRetries = 64;

bool transient(int err) { return err == EINTR || err == EAGAIN || err == EBUSY; }

/// EAGAIN/EBUSY mean the kernel is short of resources: give it a moment before retrying.
void back_off(int err) {
    if (err != EINTR) std::this_thread::sleep_for(std::chrono::microseconds(50));
}

class UringBackend final : public SectorBackend {
  public:
    UringBackend(const SectorFile& file, uint32_t queue_depth) : file_(file), depth_(queue_depth) {}
    ~UringBackend() override {
        if (initialised_) io_uring_queue_exit(&ring_);
    }

    Status init(uint8_t* region, size_t region_bytes) {
        // CQ holds twice the SQ entries and at most queue_depth ops are outstanding, so the
        // completion queue cannot overflow.
        const int rc = io_uring_queue_init(depth_, &ring_, 0);
        if (rc < 0) {
            const std::string msg = fmt::format(
                "{}: cannot create an io_uring of {} entries (lower queue_depth or "
                "use --io=pread)",
                file_.path(), depth_);
            if (rc == -ENOMEM) return Status::resource_exhausted(msg + ": out of locked memory");
            return Status::io_error(msg, -rc);
        }
        initialised_ = true;
        const int fd = file_.fd();
        if (io_uring_register_files(&ring_, &fd, 1) == 0) {
            fixed_file_ = true;
        } else {
            STRATA_LOG_DEBUG("{}: io_uring file registration refused; using the plain fd",
                             file_.path());
        }
        iovec iov{region, region_bytes};
        const int brc = io_uring_register_buffers(&ring_, &iov, 1);
        if (brc == 0) {
            fixed_buffers_ = true;
        } else {
            // Usually RLIMIT_MEMLOCK: reads still work, only the per-read page pinning returns.
            STRATA_LOG_DEBUG("{}: io_uring buffer registration refused ({}); using plain reads",
                             file_.path(), std::strerror(-brc));
        }
        return Status::ok();
    }

    IoBackendKind kind() const override { return IoBackendKind::kUring; }

    Status queue_read(uint32_t slot, uint8_t* buffer, uint32_t length, uint64_t offset) override {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) {
            // The SQ is full of unsubmitted entries: submitting them frees it.
            STRATA_RETURN_IF_ERROR(flush());
            sqe = io_uring_get_sqe(&ring_);
            if (sqe == nullptr) {
                return Status::internal(
                    fmt::format("{}: io_uring submission queue full after submit", file_.path()));
            }
        }
        const int fd = fixed_file_ ? 0 : file_.fd();
        if (fixed_buffers_) {
            io_uring_prep_read_fixed(sqe, fd, buffer, length, offset, 0);
        } else {
            io_uring_prep_read(sqe, fd, buffer, length, offset);
        }
        if (fixed_file_) sqe->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(sqe, slot);
        return Status::ok();
    }

    Status flush() override {
        uint32_t retries = 0;
        while (io_uring_sq_ready(&ring_) > 0) {
            const int rc = io_uring_submit(&ring_);
            if (rc > 0) {
                retries = 0;
                continue;
            }
            const int err = rc == 0 ? EAGAIN : -rc;
            if (transient(err) && ++retries <= kMaxEnterRetries) {
                back_off(err);
                continue;
            }
            return Status::io_error(
                fmt::format("{}: io_uring_submit failed after {} retries", file_.path(), retries),
                err);
        }
        return Status::ok();
    }

    Result<uint32_t> reap(std::span<SectorResult> out, uint32_t min_complete) override {
        STRATA_RETURN_IF_ERROR(flush());
        uint32_t retries = 0;
        while (io_uring_cq_ready(&ring_) < min_complete) {
            io_uring_cqe* cqe = nullptr;
            const int rc = io_uring_wait_cqe_nr(&ring_, &cqe, min_complete);
            if (rc == 0) continue;  // re-check the count: the loop ends once enough are ready
            if (transient(-rc) && ++retries <= kMaxEnterRetries) {
                back_off(-rc);
                continue;
            }
            return Status::io_error(
                fmt::format("{}: waiting for io_uring completions failed", file_.path()), -rc);
        }
        uint32_t n = 0;
        unsigned head = 0;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            if (n == out.size()) break;
            STRATA_CHECK(cqe->user_data < depth_);
            out[n++] = SectorResult{static_cast<uint32_t>(cqe->user_data), cqe->res};
        }
        io_uring_cq_advance(&ring_, n);
        return n;
    }

  private:
    const SectorFile& file_;
    uint32_t depth_;
    io_uring ring_{};
    bool initialised_ = false;
    bool fixed_file_ = false;
    bool fixed_buffers_ = false;
};

class PreadBackend final : public SectorBackend {
  public:
    PreadBackend(const SectorFile& file, uint32_t queue_depth)
        : file_(file), depth_(queue_depth), pending_(new Op[queue_depth]) {}

    IoBackendKind kind() const override { return IoBackendKind::kPread; }

    Status queue_read(uint32_t slot, uint8_t* buffer, uint32_t length, uint64_t offset) override {
        STRATA_CHECK(count_ < depth_);
        pending_[(head_ + count_) % depth_] = Op{slot, buffer, length, offset};
        ++count_;
        return Status::ok();
    }

    Status flush() override { return Status::ok(); }

    /// Performs exactly min_complete preads (a poll performs none): the caller asked to block
    /// for that many, and returning early lets it submit more work sooner.
    Result<uint32_t> reap(std::span<SectorResult> out, uint32_t min_complete) override {
        const uint32_t n = std::min({min_complete, count_, static_cast<uint32_t>(out.size())});
        for (uint32_t i = 0; i < n; ++i) {
            const Op op = pending_[head_];
            head_ = (head_ + 1) % depth_;
            --count_;
            const ssize_t got =
                ::pread(file_.fd(), op.buffer, op.length, static_cast<off_t>(op.offset));
            out[i] = SectorResult{op.slot, got < 0 ? -errno : static_cast<int32_t>(got)};
        }
        return n;
    }

  private:
    struct Op {
        uint32_t slot = 0;
        uint8_t* buffer = nullptr;
        uint32_t length = 0;
        uint64_t offset = 0;
    };
    const SectorFile& file_;
    uint32_t depth_;
    std::unique_ptr<Op[]> pending_;  // FIFO ring of queued ops
    uint32_t head_ = 0;
    uint32_t count_ = 0;
};

class FaultBackend final : public SectorBackend {
  public:
    FaultBackend(std::unique_ptr<SectorBackend> inner, const FaultInjection& faults,
                 uint32_t queue_depth)
        : inner_(std::move(inner)),
          faults_(faults),
          depth_(queue_depth),
          synthetic_(new SectorResult[queue_depth]),
          shorten_(new uint32_t[queue_depth]()) {}

    IoBackendKind kind() const override { return inner_->kind(); }

    Status queue_read(uint32_t slot, uint8_t* buffer, uint32_t length, uint64_t offset) override {
        const uint64_t op = ops_++;
        int err = 0;
        if (op == faults_.fail_op_index) {
            err = faults_.fail_errno;
        } else if (op < faults_.transient_error_ops) {
            err = faults_.transient_errno;
        }
        if (err != 0) {
            STRATA_CHECK(synthetic_count_ < depth_);
            synthetic_[(synthetic_head_ + synthetic_count_) % depth_] = SectorResult{slot, -err};
            ++synthetic_count_;
            return Status::ok();
        }
        // Remember the full length so only a full result is shortened.
        shorten_[slot] = disk_ops_++ < faults_.short_read_ops ? length : 0;
        return inner_->queue_read(slot, buffer, length, offset);
    }

    Status flush() override { return inner_->flush(); }

    Result<uint32_t> reap(std::span<SectorResult> out, uint32_t min_complete) override {
        if (faults_.delay_us > 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(faults_.delay_us));
        }
        uint32_t n = 0;
        while (synthetic_count_ > 0 && n < out.size()) {
            out[n++] = synthetic_[synthetic_head_];
            synthetic_head_ = (synthetic_head_ + 1) % depth_;
            --synthetic_count_;
        }
        if (n == out.size()) return n;
        const uint32_t need = min_complete > n ? min_complete - n : 0;
        STRATA_ASSIGN_OR_RETURN(const uint32_t got, inner_->reap(out.subspan(n), need));
        for (uint32_t i = n; i < n + got; ++i) {
            SectorResult& r = out[i];
            const uint32_t full = std::exchange(shorten_[r.slot], 0);
            if (full == 0 || r.result != static_cast<int32_t>(full)) continue;
            const uint32_t cut =
                full > kSectorBytes ? full / 2 / kSectorBytes * kSectorBytes : kSectorBytes / 2;
            r.result = static_cast<int32_t>(cut);
        }
        return n + got;
    }

  private:
    std::unique_ptr<SectorBackend> inner_;
    FaultInjection faults_;
    uint32_t depth_;
    uint64_t ops_ = 0;
    uint64_t disk_ops_ = 0;
    std::unique_ptr<SectorResult[]> synthetic_;  // FIFO ring of injected results
    uint32_t synthetic_head_ = 0;
    uint32_t synthetic_count_ = 0;
    std::unique_ptr<uint32_t[]> shorten_;  // per slot: full length to shorten, or 0
};

}  // namespace

int probe_uring() {
    io_uring ring{};
    int rc = io_uring_queue_init(2, &ring, 0);
    if (rc < 0) return -rc;
    int err = 0;
    io_uring_probe* probe = io_uring_get_probe_ring(&ring);
    if (probe == nullptr || !io_uring_opcode_supported(probe, IORING_OP_READ) ||
        !io_uring_opcode_supported(probe, IORING_OP_READ_FIXED)) {
        err = ENOTSUP;  // before 5.6: no probe, no IORING_OP_READ
    }
    if (probe != nullptr) io_uring_free_probe(probe);
    // Run one no-op end to end: a seccomp filter may allow io_uring_setup but block enter.
    if (err == 0) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_nop(sqe);
        io_uring_cqe* cqe = nullptr;
        rc = io_uring_submit_and_wait(&ring, 1);
        if (rc < 0) {
            err = -rc;
        } else if ((rc = io_uring_peek_cqe(&ring, &cqe)) < 0) {
            err = -rc;
        } else {
            io_uring_cqe_seen(&ring, cqe);
        }
    }
    io_uring_queue_exit(&ring);
    return err;
}

Result<std::unique_ptr<SectorBackend>> make_uring_backend(const SectorFile& file, uint8_t* region,
                                                          size_t region_bytes,
                                                          uint32_t queue_depth) {
    auto backend = std::make_unique<UringBackend>(file, queue_depth);
    STRATA_RETURN_IF_ERROR(backend->init(region, region_bytes));
    return std::unique_ptr<SectorBackend>(std::move(backend));
}

std::unique_ptr<SectorBackend> make_pread_backend(const SectorFile& file, uint32_t queue_depth) {
    return std::make_unique<PreadBackend>(file, queue_depth);
}

std::unique_ptr<SectorBackend> make_fault_backend(std::unique_ptr<SectorBackend> inner,
                                                  const FaultInjection& faults,
                                                  uint32_t queue_depth) {
    return std::make_unique<FaultBackend>(std::move(inner), faults, queue_depth);
}

}  // namespace strata::io
