// Internal logging front end: fmt-style calls routed to the injectable sink of <strata/log.hpp>.
#pragma once

#include <string_view>

#include <fmt/format.h>

#include <strata/log.hpp>

namespace strata::detail {

/// True when `level` would reach the sink (cheap: one relaxed atomic load).
bool log_enabled(LogLevel level);
/// Sends one preformatted line to the sink.
void log_line(LogLevel level, std::string_view message);

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (!log_enabled(level)) return;
    log_line(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace strata::detail

#define STRATA_LOG_DEBUG(...) ::strata::detail::log(::strata::LogLevel::kDebug, __VA_ARGS__)
#define STRATA_LOG_INFO(...) ::strata::detail::log(::strata::LogLevel::kInfo, __VA_ARGS__)
#define STRATA_LOG_WARN(...) ::strata::detail::log(::strata::LogLevel::kWarn, __VA_ARGS__)
#define STRATA_LOG_ERROR(...) ::strata::detail::log(::strata::LogLevel::kError, __VA_ARGS__)
