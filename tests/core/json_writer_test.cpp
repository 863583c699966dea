// JSON writer output, compact and indented, with escaping.
#include "core/json_writer.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "core/sysinfo.hpp"

namespace strata {
namespace {

TEST(JsonWriter, CompactNestedWithEscapes) {
    JsonWriter w;
    w.begin_object()
        .field("name", "a\"b\\c\n")
        .field("n", uint64_t{18446744073709551615ULL})
        .field("neg", -3)
        .field("ok", true)
        .field("x", 0.5)
        .field("nan", std::nan(""));
    w.key("list").begin_array().value(1).value("two").begin_object().end_object().end_array();
    w.key("empty").begin_array().end_array();
    w.end_object();
    EXPECT_EQ(w.str(), R"({"name":"a\"b\\c\n","n":18446744073709551615,"neg":-3,"ok":true,"x":0.5,)"
                       R"("nan":null,"list":[1,"two",{}],"empty":[]})");
}

TEST(JsonWriter, Indented) {
    JsonWriter w(2);
    w.begin_object().field("a", 1);
    w.key("b").begin_array().value(2).value(3).end_array();
    w.end_object();
    EXPECT_EQ(w.str(), "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ]\n}");
}

TEST(SysInfo, ReadsProc) {
    EXPECT_GT(peak_rss_bytes(), 1u << 20);
    EXPECT_GE(peak_rss_bytes(), current_rss_bytes() / 2);
    EXPECT_GT(mem_available_bytes(), 0u);
}

}  // namespace
}  // namespace strata
