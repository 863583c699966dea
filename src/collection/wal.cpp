// Write-ahead log: segment files, framing, recovery, group commit.
#include "collection/wal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "disk/checksum.hpp"
#include "io/file_util.hpp"

namespace strata::collection {
namespace {

namespace fs = std::filesystem;

constexpr char kSegmentMagic[8] = {'S', 'T', 'R', 'W', 'A', 'L', '0', '1'};
constexpr uint16_t kMajor = 1;
constexpr uint16_t kMinor = 0;
constexpr size_t kSegmentHeaderBytes = 32;
constexpr uint32_t kFrameMagic = 0x52574c53;
constexpr size_t kFrameHeaderBytes = 24;

template <typename T>
T load(const char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

std::string segment_name(uint64_t first_lsn) { return fmt::format("{:020}.log", first_lsn); }

std::string segment_header(uint64_t first_lsn) {
    std::string h(kSegmentHeaderBytes, '\0');
    std::memcpy(h.data(), kSegmentMagic, 8);
    std::memcpy(h.data() + 8, &kMajor, 2);
    std::memcpy(h.data() + 10, &kMinor, 2);
    std::memcpy(h.data() + 16, &first_lsn, 8);
    const uint64_t sum = disk::xxh3_64(h.data(), 24);
    std::memcpy(h.data() + 24, &sum, 8);
    return h;
}

uint64_t frame_checksum(const char* head16, std::string_view payload) {
    disk::Xxh3Stream s;
    s.update(head16, 16);
    s.update(payload.data(), payload.size());
    return s.digest();
}

void append_frame(std::string& out, uint64_t lsn, std::string_view payload) {
    char head[kFrameHeaderBytes];
    const auto len = static_cast<uint32_t>(payload.size());
    std::memcpy(head, &kFrameMagic, 4);
    std::memcpy(head + 4, &len, 4);
    std::memcpy(head + 8, &lsn, 8);
    const uint64_t sum = frame_checksum(head, payload);
    std::memcpy(head + 16, &sum, 8);
    out.append(head, kFrameHeaderBytes);
    out.append(payload.data(), payload.size());
}

Status write_all(int fd, const std::string& path, const char* p, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return Status::io_error(fmt::format("{}: write: {}", path, std::strerror(errno)),
                                    errno);
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return Status::ok();
}

bool all_zero(const char* p, size_t n) {
    return std::all_of(p, p + n, [](char c) { return c == 0; });
}

/// Whether a whole, valid frame starts anywhere at or after `from`.
bool valid_frame_after(const std::string& data, size_t from) {
    for (size_t pos = from; pos + kFrameHeaderBytes <= data.size(); ++pos) {
        const char* p = data.data() + pos;
        if (load<uint32_t>(p) != kFrameMagic) continue;
        const uint32_t len = load<uint32_t>(p + 4);
        if (len > Wal::kMaxPayloadBytes || data.size() - pos - kFrameHeaderBytes < len) continue;
        if (load<uint64_t>(p + 16) == frame_checksum(p, {p + kFrameHeaderBytes, len})) return true;
    }
    return false;
}

}  // namespace

Status WalOptions::validate() const {
    if (interval_ms < 1 || interval_ms > 60000) {
        return Status::invalid_argument(
            fmt::format("WAL sync interval {} ms is outside [1, 60000]", interval_ms));
    }
    if (segment_bytes < 4096 || segment_bytes > (16ull << 30)) {
        return Status::invalid_argument(
            fmt::format("WAL segment size {} is outside [4 KiB, 16 GiB]", segment_bytes));
    }
    return Status::ok();
}

Result<std::unique_ptr<Wal>> Wal::open(const std::string& dir, const WalOptions& options,
                                       uint64_t from_lsn, const ReplayFn& replay) {
    STRATA_RETURN_IF_ERROR(options.validate());
    try {
        std::error_code ec;
        if (!fs::exists(dir, ec)) {
            if (!fs::create_directories(dir, ec)) {
                return Status::io_error(fmt::format("{}: cannot create: {}", dir, ec.message()),
                                        ec.value());
            }
            STRATA_RETURN_IF_ERROR(io::fsync_parent_dir(dir));
        }
        std::unique_ptr<Wal> w(new Wal());
        w->dir_ = dir;
        w->options_ = options;
        STRATA_RETURN_IF_ERROR(w->recover(std::max<uint64_t>(from_lsn, 1), replay));
        if (options.sync == WalOptions::Sync::kInterval) {
            w->syncer_ = std::thread([p = w.get()] { p->sync_loop(); });
        }
        return w;
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(dir + ": out of memory opening the WAL");
    } catch (const std::exception& e) {
        return Status::internal(dir + ": " + e.what());
    }
}

Status Wal::recover(uint64_t from_lsn, const ReplayFn& replay) {
    std::vector<std::pair<uint64_t, std::string>> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
        const std::string name = e.path().filename().string();
        uint64_t first = 0;
        const bool ok = name.size() == 24 && name.compare(20, 4, ".log") == 0 &&
                        std::all_of(name.begin(), name.begin() + 20,
                                    [](char c) { return c >= '0' && c <= '9'; });
        if (!ok) {
            return Status::corruption(
                fmt::format("{}: '{}' is not a WAL segment (foreign file in the WAL)", dir_, name));
        }
        first = std::stoull(name.substr(0, 20));
        files.emplace_back(first, e.path().string());
    }
    if (ec) return Status::io_error(fmt::format("{}: {}", dir_, ec.message()), ec.value());
    std::sort(files.begin(), files.end());
    uint64_t last = 0;  // last LSN seen
    for (size_t f = 0; f < files.size(); ++f) {
        const auto& [first, path] = files[f];
        const bool last_segment = f + 1 == files.size();
        STRATA_ASSIGN_OR_RETURN(std::string data, io::read_file(path));
        const auto bad = [&](uint64_t off, const std::string& why) {
            return Status::corruption(fmt::format("{}: at byte {}: {}", path, off, why));
        };
        if (data.size() < kSegmentHeaderBytes) {
            if (last_segment &&
                (all_zero(data.data(), data.size()) ||
                 std::memcmp(data.data(), kSegmentMagic, std::min<size_t>(8, data.size())) == 0)) {
                // A segment whose creation was cut short: nothing in it was acknowledged.
                fs::remove(path, ec);
                STRATA_RETURN_IF_ERROR(io::fsync_parent_dir(path));
                continue;
            }
            return bad(0, "segment header cut short");
        }
        if (std::memcmp(data.data(), kSegmentMagic, 8) != 0) return bad(0, "not a WAL segment");
        if (load<uint64_t>(data.data() + 24) != disk::xxh3_64(data.data(), 24)) {
            return bad(0, "segment header checksum mismatch");
        }
        if (load<uint16_t>(data.data() + 8) != kMajor) {
            return Status::not_supported(fmt::format("{}: WAL format {}.{} is not readable here",
                                                     path, load<uint16_t>(data.data() + 8),
                                                     load<uint16_t>(data.data() + 10)));
        }
        if (load<uint64_t>(data.data() + 16) != first) {
            return bad(16, "first LSN disagrees with the file name");
        }
        // Records below from_lsn are not needed (a consolidation holds them); any missing
        // record at or above it is damage.
        const uint64_t want = f == 0 ? 1 : last + 1;
        if (first < want || (first > want && first > from_lsn)) {
            return bad(0, fmt::format("segment starts at LSN {}, expected {} (records {}..{} are "
                                      "missing)",
                                      first, want, want, first - 1));
        }
        size_t off = kSegmentHeaderBytes;
        size_t good_end = off;
        uint64_t expect = first;
        bool torn = false;
        while (off < data.size()) {
            const size_t left = data.size() - off;
            const char* p = data.data() + off;
            std::string why;
            uint32_t len = 0;
            if (left < kFrameHeaderBytes) {
                why = "record header cut short";
            } else if (load<uint32_t>(p) != kFrameMagic) {
                why = "bad record magic";
            } else if ((len = load<uint32_t>(p + 4)) > kMaxPayloadBytes) {
                why = fmt::format("record length {} is over the limit", len);
            } else if (left < kFrameHeaderBytes + len) {
                why = "record cut short";
            } else if (load<uint64_t>(p + 16) != frame_checksum(p, {p + kFrameHeaderBytes, len})) {
                why = "record checksum mismatch";
            }
            if (!why.empty()) {
                // Torn: a bad record in the last segment with no valid record after it (a crash
                // mid-append: never acknowledged). A valid record after it means damage.
                if (last_segment && !valid_frame_after(data, off + 1)) {
                    torn = true;
                    break;
                }
                return bad(off, why);
            }
            const uint64_t lsn = load<uint64_t>(p + 8);
            if (lsn != expect) {
                return bad(off,
                           fmt::format("record LSN {} out of sequence (expected {})", lsn, expect));
            }
            if (lsn >= from_lsn) {
                STRATA_RETURN_IF_ERROR(replay(lsn, {p + kFrameHeaderBytes, len}));
            }
            expect = lsn + 1;
            off += kFrameHeaderBytes + len;
            good_end = off;
        }
        last = expect - 1;
        if (torn) {
            if (::truncate(path.c_str(), static_cast<off_t>(good_end)) != 0) {
                return Status::io_error(fmt::format("{}: truncate: {}", path, std::strerror(errno)),
                                        errno);
            }
            const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0 || ::fdatasync(fd) != 0) {
                const int err = errno;
                if (fd >= 0) ::close(fd);
                return Status::io_error(fmt::format("{}: fsync: {}", path, std::strerror(err)),
                                        err);
            }
            ::close(fd);
        }
        segments_.push_back({first, path, good_end});
    }
    next_lsn_ = std::max(last + 1, from_lsn);
    written_lsn_ = durable_lsn_ = next_lsn_ - 1;
    if (segments_.empty() || next_lsn_ != last + 1) {
        // No segment, or the log ends before from_lsn (records below it were dropped): the
        // next record starts a segment of its own so that LSNs stay consecutive in each file.
        return start_segment(next_lsn_);
    }
    const Segment& cur = segments_.back();
    fd_ = ::open(cur.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) {
        return Status::io_error(fmt::format("{}: open: {}", cur.path, std::strerror(errno)), errno);
    }
    return Status::ok();
}

Wal::~Wal() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
        cv_.notify_all();
    }
    if (syncer_.joinable()) syncer_.join();
    (void)sync();
    if (fd_ >= 0) ::close(fd_);
}

Status Wal::start_segment(uint64_t first_lsn) {
    const std::string path = fmt::format("{}/{}", dir_, segment_name(first_lsn));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        return Status::io_error(fmt::format("{}: create: {}", path, std::strerror(errno)), errno);
    }
    const std::string h = segment_header(first_lsn);
    Status st = write_all(fd, path, h.data(), h.size());
    if (st.is_ok() && ::fdatasync(fd) != 0) {
        st = Status::io_error(fmt::format("{}: fsync: {}", path, std::strerror(errno)), errno);
    }
    if (st.is_ok()) st = io::fsync_parent_dir(path);
    if (!st.is_ok()) {
        ::close(fd);
        return st;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
    segments_.push_back({first_lsn, path, h.size()});
    return Status::ok();
}

Status Wal::flush_to(std::unique_lock<std::mutex>& lock, uint64_t lsn, bool durable) {
    for (;;) {
        if (!failed_.is_ok()) return failed_;
        if (durable ? durable_lsn_ >= lsn : written_lsn_ >= lsn) return Status::ok();
        if (leader_) {
            cv_.wait(lock);
            continue;
        }
        // Lead: write everything queued (one write), then sync for everyone waiting.
        leader_ = true;
        std::string batch;
        batch.swap(queued_);
        const uint64_t upto = next_lsn_ - 1;
        Status st;
        if (segments_.back().bytes >= options_.segment_bytes && !batch.empty()) {
            // A full segment: sync it and start the next (rare; done under the lock).
            if (::fdatasync(fd_) != 0) {
                st = Status::io_error(
                    fmt::format("{}: fsync: {}", segments_.back().path, std::strerror(errno)),
                    errno);
            }
            if (st.is_ok()) st = start_segment(written_lsn_ + 1);
        }
        const std::string path = segments_.back().path;
        lock.unlock();
        if (st.is_ok() && !batch.empty()) st = write_all(fd_, path, batch.data(), batch.size());
        const bool do_sync = durable && st.is_ok();
        if (do_sync && ::fdatasync(fd_) != 0) {
            st = Status::io_error(fmt::format("{}: fsync: {}", path, std::strerror(errno)), errno);
        }
        lock.lock();
        leader_ = false;
        if (st.is_ok()) {
            segments_.back().bytes += batch.size();
            stats_.bytes_written += batch.size();
            written_lsn_ = upto;
            if (do_sync) {
                durable_lsn_ = upto;
                ++stats_.syncs;
            }
        } else {
            failed_ = st;  // fail-stop: a failed fsync is never retried (fsyncgate)
        }
        cv_.notify_all();
    }
}

Result<uint64_t> Wal::append(std::string_view payload) {
    if (payload.size() > kMaxPayloadBytes) {
        return Status::invalid_argument(fmt::format("WAL record of {} bytes is over the {} limit",
                                                    payload.size(), kMaxPayloadBytes));
    }
    std::unique_lock lock(mu_);
    if (!failed_.is_ok()) return failed_;
    const uint64_t lsn = next_lsn_++;
    append_frame(queued_, lsn, payload);
    ++stats_.appends;
    STRATA_RETURN_IF_ERROR(flush_to(lock, lsn, options_.sync == WalOptions::Sync::kAlways));
    return lsn;
}

Status Wal::sync() {
    std::unique_lock lock(mu_);
    if (fd_ < 0) return failed_;
    return flush_to(lock, next_lsn_ - 1, true);
}

Result<uint64_t> Wal::rotate() {
    std::unique_lock lock(mu_);
    STRATA_RETURN_IF_ERROR(flush_to(lock, next_lsn_ - 1, true));
    while (leader_) cv_.wait(lock);
    STRATA_RETURN_IF_ERROR(failed_);
    const uint64_t first = next_lsn_;
    if (segments_.back().first_lsn == first) return first;  // already empty and current
    Status st = start_segment(first);
    if (!st.is_ok()) {
        failed_ = st;
        return st;
    }
    return first;
}

Status Wal::remove_before(uint64_t lsn) {
    std::unique_lock lock(mu_);
    while (segments_.size() > 1 && segments_[1].first_lsn <= lsn) {
        std::error_code ec;
        fs::remove(segments_.front().path, ec);
        if (ec) {
            return Status::io_error(
                fmt::format("{}: remove: {}", segments_.front().path, ec.message()), ec.value());
        }
        segments_.erase(segments_.begin());
    }
    return io::fsync_parent_dir(segments_.front().path);
}

void Wal::sync_loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
        cv_.wait_for(lock, std::chrono::milliseconds(options_.interval_ms), [&] { return stop_; });
        if (stop_) break;
        if (durable_lsn_ < next_lsn_ - 1) (void)flush_to(lock, next_lsn_ - 1, true);
    }
}

uint64_t Wal::next_lsn() const {
    std::lock_guard lock(mu_);
    return next_lsn_;
}

uint64_t Wal::bytes() const {
    std::lock_guard lock(mu_);
    uint64_t b = 0;
    for (const auto& s : segments_) b += s.bytes;
    return b;
}

WalStats Wal::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

}  // namespace strata::collection
