// Log sink management. The default sink is a private spdlog logger on stderr; it is never
// registered in spdlog's global registry, so a host process using spdlog is not disturbed.
#include "core/log.hpp"

#include <atomic>
#include <memory>
#include <mutex>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace strata {
namespace {

struct LogState {
    std::atomic<int> level{static_cast<int>(LogLevel::kInfo)};
    std::mutex mu;
    std::shared_ptr<const LogSink> sink;  // null: default sink
    std::shared_ptr<spdlog::logger> fallback;
};

LogState& state() {
    static LogState* s = new LogState();  // leaked on purpose: usable during static destruction
    return *s;
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
    switch (level) {
        case LogLevel::kTrace:
            return spdlog::level::trace;
        case LogLevel::kDebug:
            return spdlog::level::debug;
        case LogLevel::kInfo:
            return spdlog::level::info;
        case LogLevel::kWarn:
            return spdlog::level::warn;
        case LogLevel::kError:
            return spdlog::level::err;
        case LogLevel::kOff:
            return spdlog::level::off;
    }
    return spdlog::level::info;
}

}  // namespace

void set_log_sink(LogSink sink) {
    auto& s = state();
    std::lock_guard lock(s.mu);
    s.sink = sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
}

void set_log_level(LogLevel level) {
    state().level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel log_level() {
    return static_cast<LogLevel>(state().level.load(std::memory_order_relaxed));
}

namespace detail {

bool log_enabled(LogLevel level) {
    return level != LogLevel::kOff &&
           static_cast<int>(level) >= state().level.load(std::memory_order_relaxed);
}

void log_line(LogLevel level, std::string_view message) {
    auto& s = state();
    std::shared_ptr<const LogSink> sink;
    std::shared_ptr<spdlog::logger> fallback;
    {
        std::lock_guard lock(s.mu);
        sink = s.sink;
        if (!sink) {
            if (!s.fallback) {
                s.fallback = std::make_shared<spdlog::logger>(
                    "strata", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
                s.fallback->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
                s.fallback->set_level(spdlog::level::trace);
            }
            fallback = s.fallback;
        }
    }
    if (sink) {
        (*sink)(level, message);
    } else {
        fallback->log(to_spdlog(level), "{}", message);
    }
}

}  // namespace detail
}  // namespace strata
