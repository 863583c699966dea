// Progress rendering: plain lines off a terminal, nothing when quiet, a final summary.
#include "core/progress.hpp"

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace strata {
namespace {

std::string read_all(std::FILE* f) {
    std::rewind(f);
    std::string out;
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    return out;
}

TEST(Progress, QuietPrintsNothing) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    {
        Progress p("work", 100, {.quiet = true, .out = f, .plain_interval_ms = 0, .force_tty = 0});
        p.add(50);
        p.add(50);
    }
    EXPECT_EQ(read_all(f), "");
    std::fclose(f);
}

TEST(Progress, PlainLinesAndSummaryFromManyThreads) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    {
        Progress p("encode", 4000, {.out = f, .plain_interval_ms = 0, .force_tty = 0});
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 1000; ++i) p.add(1);
            });
        }
        for (auto& t : threads) t.join();
        EXPECT_EQ(p.done(), 4000u);
        p.finish();
        p.finish();  // idempotent
    }
    const std::string out = read_all(f);
    std::fclose(f);
    EXPECT_NE(out.find("encode: "), std::string::npos) << out;
    EXPECT_NE(out.find("ETA"), std::string::npos) << out;
    // Exactly one final summary line ("... in <time> (<rate>/s)").
    size_t count = 0;
    for (size_t pos = out.find(" in "); pos != std::string::npos; pos = out.find(" in ", pos + 1))
        ++count;
    EXPECT_EQ(count, 1u) << out;
    EXPECT_EQ(out.find('\r'), std::string::npos) << "no carriage returns off a terminal";
}

TEST(Progress, Formatting) {
    EXPECT_EQ(format_duration(1.25), "1.2 s");
    EXPECT_EQ(format_duration(125), "2 min 05 s");
    EXPECT_EQ(format_duration(7260), "2 h 01 min");
    EXPECT_EQ(format_count(999), "999");
    EXPECT_EQ(format_count(12345), "12.3 K");
    EXPECT_EQ(format_count(4.56e6), "4.56 M");
}

}  // namespace
}  // namespace strata
