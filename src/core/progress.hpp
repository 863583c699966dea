// Progress reporting for long work: a bar with rate and ETA on a terminal, a plain line every
// few seconds otherwise, nothing when quiet.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace strata {

struct ProgressOptions {
    /// No output at all. Default false.
    bool quiet = false;
    /// Where lines go. Default stderr.
    std::FILE* out = stderr;
    /// Redraw period of the terminal bar, milliseconds. Default 200.
    int tty_interval_ms = 200;
    /// Period of plain lines when `out` is not a terminal, milliseconds. Default 5000.
    int plain_interval_ms = 5000;
    /// Force terminal (true) or plain (false) rendering; default: detect with isatty.
    int force_tty = -1;
};

/// Counts units of work done towards a known total. add() is thread-safe and cheap (an atomic
/// add; rendering happens at most once per interval, by whichever thread wins a try-lock).
class Progress {
  public:
    Progress(std::string label, uint64_t total, ProgressOptions options = {});
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    /// Calls finish() if it was not called.
    ~Progress();

    void add(uint64_t units);
    /// Prints the final line (total, elapsed, mean rate). Idempotent.
    void finish();
    uint64_t done() const { return done_.load(std::memory_order_relaxed); }
    double elapsed_s() const;

  private:
    void render(bool final_line);

    std::string label_;
    uint64_t total_;
    ProgressOptions options_;
    bool tty_;
    std::chrono::steady_clock::time_point start_;
    std::atomic<uint64_t> done_{0};
    std::atomic<int64_t> next_render_ns_{0};
    std::mutex render_mu_;
    bool finished_ = false;
};

/// "1.23 s", "4 min 05 s", "2 h 10 min".
std::string format_duration(double seconds);
/// "12.3 K", "4.56 M" style count.
std::string format_count(double count);

}  // namespace strata
