// The write-ahead log of a collection: records (opaque payloads, one per write batch) framed with
// an LSN and a checksum, appended to segment files, made durable by fdatasync. Concurrent
// appenders share syncs (group commit: one thread writes and syncs everyone's queued records).
//
// Directory: segments `<first LSN, 20 digits>.log`, each a 32-byte header (magic "STRWAL01",
// version 1.0, first LSN, xxh3 of the header) then frames of 24 bytes + payload:
//   u32 magic 0x52574c53 | u32 payload length | u64 lsn | u64 xxh3(the first 16 bytes, payload).
// LSNs are consecutive from 1. Recovery drops a torn tail — the last record of the last segment
// cut short by the end of the file, or failing its checksum with nothing after it but zeros —
// and truncates the file there; damage anywhere else is Corruption naming file and offset.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <strata/status.hpp>

namespace strata::collection {

struct WalOptions {
    enum class Sync : uint8_t {
        kAlways,    ///< append() returns once the record is on disk (fdatasync). Default.
        kInterval,  ///< a background thread syncs every interval_ms; append() returns after write()
    };
    Sync sync = Sync::kAlways;
    /// Sync period for kInterval, milliseconds, in [1, 60000]. Default 100.
    uint32_t interval_ms = 100;
    /// A segment is closed and a new one started past this size, bytes, in [4 KiB, 16 GiB].
    /// Default 64 MiB.
    uint64_t segment_bytes = 64ull << 20;
    Status validate() const;
};

struct WalStats {
    uint64_t appends = 0;        ///< records appended since open
    uint64_t syncs = 0;          ///< fdatasync calls since open
    uint64_t bytes_written = 0;  ///< bytes written since open
};

class Wal {
  public:
    /// Largest payload, bytes.
    static constexpr uint64_t kMaxPayloadBytes = 256ull << 20;

    using ReplayFn = std::function<Status(uint64_t lsn, std::string_view payload)>;

    /// Opens (creating when missing) the log in `dir` and calls `replay` for every record with
    /// lsn >= from_lsn, in order; its first error aborts the open. Appends continue at
    /// max(last LSN + 1, from_lsn).
    static Result<std::unique_ptr<Wal>> open(const std::string& dir, const WalOptions& options,
                                             uint64_t from_lsn, const ReplayFn& replay);
    ~Wal();
    Wal(const Wal&) = delete;
    Wal& operator=(const Wal&) = delete;

    /// Appends one record and returns its LSN; thread-safe. Durable on return under kAlways.
    /// InvalidArgument for a payload over kMaxPayloadBytes (nothing written). After a write or
    /// sync failure the log is fail-stop: that call and every later one return the IOError.
    Result<uint64_t> append(std::string_view payload);
    /// Makes every appended record durable.
    Status sync();
    /// Closes the current segment and starts a new one; returns its first LSN (every record
    /// appended before the call has a smaller LSN, every later one this or larger).
    Result<uint64_t> rotate();
    /// Deletes the segments whose records all have LSN < `lsn` (never the current one).
    Status remove_before(uint64_t lsn);

    uint64_t next_lsn() const;
    /// Bytes in the live segments.
    uint64_t bytes() const;
    WalStats stats() const;

  private:
    struct Segment {
        uint64_t first_lsn;
        std::string path;
        uint64_t bytes;
    };
    Wal() = default;
    Status recover(uint64_t from_lsn, const ReplayFn& replay);
    Status start_segment(uint64_t first_lsn);  // under leadership
    /// Writes (and with `durable` syncs) everything queued up to `lsn`; lock held on entry.
    Status flush_to(std::unique_lock<std::mutex>& lock, uint64_t lsn, bool durable);
    void sync_loop();

    std::string dir_;
    WalOptions options_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    int fd_ = -1;                    // current segment, written only by the leader
    std::vector<Segment> segments_;  // oldest first; the last is current
    uint64_t next_lsn_ = 1;
    std::string queued_;        // frames not yet written, in LSN order
    uint64_t written_lsn_ = 0;  // last LSN written to the file
    uint64_t durable_lsn_ = 0;  // last LSN synced
    bool leader_ = false;       // a thread is writing or syncing outside the lock
    Status failed_;
    WalStats stats_;
    bool stop_ = false;
    std::thread syncer_;
};

}  // namespace strata::collection
