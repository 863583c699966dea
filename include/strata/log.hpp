// Logging hook: strata logs through a sink the embedding process may replace.
#pragma once

#include <functional>
#include <string_view>

namespace strata {

enum class LogLevel : int { kTrace = 0, kDebug = 1, kInfo = 2, kWarn = 3, kError = 4, kOff = 5 };

/// Receives every log line strata emits at or above the current level. Must be thread-safe:
/// it is called from any strata thread.
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

/// Replaces the sink (default: stderr through spdlog). Passing an empty function restores the
/// default. Thread-safe, but lines being logged concurrently may still reach the old sink.
void set_log_sink(LogSink sink);

/// Sets the minimum level that reaches the sink (default kInfo). Thread-safe.
void set_log_level(LogLevel level);

/// Current minimum level.
LogLevel log_level();

}  // namespace strata
