// The injectable log sink and level filter.
#include "core/log.hpp"

#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(Log, InjectedSinkReceivesFilteredLines) {
    std::mutex mu;
    std::vector<std::pair<LogLevel, std::string>> lines;
    set_log_sink([&](LogLevel level, std::string_view msg) {
        std::lock_guard lock(mu);
        lines.emplace_back(level, std::string(msg));
    });
    set_log_level(LogLevel::kInfo);
    STRATA_LOG_DEBUG("hidden {}", 1);
    STRATA_LOG_INFO("shown {} {}", 2, "x");
    STRATA_LOG_WARN("warned");
    set_log_level(LogLevel::kOff);
    STRATA_LOG_ERROR("off");
    set_log_level(LogLevel::kInfo);
    set_log_sink({});
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].first, LogLevel::kInfo);
    EXPECT_EQ(lines[0].second, "shown 2 x");
    EXPECT_EQ(lines[1].first, LogLevel::kWarn);
    EXPECT_EQ(log_level(), LogLevel::kInfo);
}

}  // namespace
}  // namespace strata
