// Labels files: DiskANN's text format read and written, with errors naming the line.
#include <gtest/gtest.h>

#include "io/labels.hpp"
#include "testing/testing.hpp"

namespace strata::io {
namespace {

TEST(Labels, ReadWriteRoundTrip) {
    testing::TempDir dir;
    testing::write_bytes(dir.file("l.txt"),
                         std::string_view("red,blue\n\nblue\n green , red,red\n"));
    auto l = read_labels(dir.file("l.txt"));
    ASSERT_TRUE(l.is_ok()) << l.status().to_string();
    ASSERT_EQ(l->rows(), 4u);
    EXPECT_EQ(l->label_count(), 3u);
    const uint32_t red = *l->id("red"), blue = *l->id("blue"), green = *l->id("green");
    EXPECT_TRUE(l->has(0, red) && l->has(0, blue) && !l->has(0, green));
    EXPECT_TRUE(l->of(1).empty());
    EXPECT_EQ(l->of(3).size(), 2u);  // the repeated red counts once
    EXPECT_EQ(l->counts()[red], 2u);
    EXPECT_EQ(l->id("purple").status().code(), StatusCode::kNotFound);
    ASSERT_TRUE(write_labels(dir.file("out.txt"), *l).is_ok());
    auto again = read_labels(dir.file("out.txt"), 4);
    ASSERT_TRUE(again.is_ok());
    for (uint64_t r = 0; r < 4; ++r) {
        ASSERT_EQ(again->of(r).size(), l->of(r).size());
        for (uint32_t x : l->of(r)) EXPECT_TRUE(again->has(r, *again->id(l->name(x))));
    }
}

TEST(Labels, ErrorsNameTheLine) {
    testing::TempDir dir;
    testing::write_bytes(dir.file("a.txt"), std::string_view("a\nb,,c\n"));
    auto r = read_labels(dir.file("a.txt"));
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("a.txt:2: empty label"), std::string::npos)
        << r.status().to_string();
    testing::write_bytes(dir.file("b.txt"), std::string_view("a\nb\n"));
    r = read_labels(dir.file("b.txt"), 3);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("labels for 2 rows; the data has 3"), std::string::npos);
    testing::write_bytes(dir.file("c.txt"), std::string(300, 'x') + "\n");
    EXPECT_FALSE(read_labels(dir.file("c.txt")).is_ok());
    EXPECT_EQ(read_labels(dir.file("missing.txt")).status().code(), StatusCode::kNotFound);
}

TEST(Labels, ZipfFrequenciesAndDeterminism) {
    auto l = zipf_labels(100000, 1000, 1.0, 42);
    ASSERT_TRUE(l.is_ok()) << l.status().to_string();
    const auto c = l->counts();
    // P(L0) = 1 / H(1000) = 13.4%, P(L9) = 1.34%, P(L99) = 0.134%.
    EXPECT_NEAR(static_cast<double>(c[*l->id("L0")]) / 100000, 0.1336, 0.005);
    EXPECT_NEAR(static_cast<double>(c[*l->id("L9")]) / 100000, 0.01336, 0.002);
    EXPECT_NEAR(static_cast<double>(c[*l->id("L99")]) / 100000, 0.001336, 0.0006);
    auto again = zipf_labels(100000, 1000, 1.0, 42);
    for (uint64_t r = 0; r < 100000; r += 997) {
        EXPECT_EQ(l->name(l->of(r)[0]), again->name(again->of(r)[0]));
    }
    EXPECT_FALSE(zipf_labels(10, 0, 1.0, 1).is_ok());
    EXPECT_FALSE(zipf_labels(10, 5, -1.0, 1).is_ok());
}

}  // namespace
}  // namespace strata::io
