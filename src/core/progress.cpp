// Progress bar rendering.
#include "core/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace strata {

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    if (seconds < 60) return fmt::format("{:.1f} s", seconds);
    const auto total = static_cast<int64_t>(seconds);
    if (total < 3600) return fmt::format("{} min {:02} s", total / 60, total % 60);
    return fmt::format("{} h {:02} min", total / 3600, (total % 3600) / 60);
}

std::string format_count(double count) {
    if (count < 1e3) return fmt::format("{:.0f}", count);
    if (count < 1e6) return fmt::format("{:.1f} K", count / 1e3);
    if (count < 1e9) return fmt::format("{:.2f} M", count / 1e6);
    return fmt::format("{:.2f} G", count / 1e9);
}

Progress::Progress(std::string label, uint64_t total, ProgressOptions options)
    : label_(std::move(label)),
      total_(total),
      options_(options),
      tty_(options.force_tty >= 0 ? options.force_tty != 0
                                  : (options.out != nullptr && isatty(fileno(options.out)) != 0)),
      start_(std::chrono::steady_clock::now()) {
    if (options_.quiet || options_.out == nullptr) return;
    const int interval = tty_ ? options_.tty_interval_ms : options_.plain_interval_ms;
    next_render_ns_.store(int64_t{interval} * 1'000'000, std::memory_order_relaxed);
}

Progress::~Progress() { finish(); }

double Progress::elapsed_s() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::add(uint64_t units) {
    done_.fetch_add(units, std::memory_order_relaxed);
    if (options_.quiet || options_.out == nullptr) return;
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - start_)
                               .count();
    if (now_ns < next_render_ns_.load(std::memory_order_relaxed)) return;
    std::unique_lock lock(render_mu_, std::try_to_lock);
    if (!lock.owns_lock() || finished_) return;
    const int interval = tty_ ? options_.tty_interval_ms : options_.plain_interval_ms;
    next_render_ns_.store(now_ns + int64_t{interval} * 1'000'000, std::memory_order_relaxed);
    render(false);
}

void Progress::finish() {
    std::lock_guard lock(render_mu_);
    if (finished_) return;
    finished_ = true;
    if (options_.quiet || options_.out == nullptr) return;
    render(true);
}

void Progress::render(bool final_line) {
    const double elapsed = elapsed_s();
    const auto done = static_cast<double>(done_.load(std::memory_order_relaxed));
    const double total = static_cast<double>(total_);
    const double rate = elapsed > 0 ? done / elapsed : 0.0;
    const double frac = total > 0 ? std::min(1.0, done / total) : 1.0;
    std::string line;
    if (final_line) {
        line = fmt::format("{}: {} in {} ({}/s)", label_, format_count(done),
                           format_duration(elapsed), format_count(rate));
    } else {
        const double eta = rate > 0 ? (total - done) / rate : -1.0;
        if (tty_) {
            constexpr int kWidth = 30;
            const int filled = static_cast<int>(frac * kWidth);
            line = fmt::format("{} [{}{}] {:5.1f}% {}/{} {}/s ETA {}", label_,
                               std::string(static_cast<size_t>(filled), '#'),
                               std::string(static_cast<size_t>(kWidth - filled), '.'), frac * 100,
                               format_count(done), format_count(total), format_count(rate),
                               format_duration(eta));
        } else {
            line = fmt::format("{}: {:.1f}% ({}/{}), {}/s, ETA {}", label_, frac * 100,
                               format_count(done), format_count(total), format_count(rate),
                               format_duration(eta));
        }
    }
    if (tty_) {
        fmt::print(options_.out, "\r\033[2K{}{}", line, final_line ? "\n" : "");
    } else {
        fmt::print(options_.out, "{}\n", line);
    }
    std::fflush(options_.out);
}

}  // namespace strata
