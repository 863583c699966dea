// The payload store: writes, replaces, deletes, copies, and a map that grows past its start.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "server/payload_store.hpp"
#include "testing/testing.hpp"

namespace strata::server {
namespace {

TEST(PayloadStore, WriteGetRemoveCopy) {
    testing::TempDir dir;
    auto s = PayloadStore::open(dir.file("p"));
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    const uint64_t ids[] = {1, 2, 3};
    const std::string_view p[] = {R"({"a":1})", "", R"({"c":[3]})"};
    ASSERT_TRUE((*s)->write(ids, p, 3).is_ok());
    std::string out;
    EXPECT_TRUE(*(*s)->get(1, out));
    EXPECT_EQ(out, R"({"a":1})");
    EXPECT_FALSE(*(*s)->get(2, out));
    EXPECT_EQ((*s)->count(), 2u);
    const std::string_view q[] = {""};
    ASSERT_TRUE((*s)->write(ids, q, 1).is_ok());  // an upsert without payload clears it
    EXPECT_FALSE(*(*s)->get(1, out));
    ASSERT_TRUE((*s)->remove(ids + 2, 1).is_ok());
    EXPECT_EQ((*s)->count(), 0u);
    ASSERT_TRUE((*s)->write(ids, p, 1).is_ok());
    std::filesystem::create_directory(dir.file("copy"));
    ASSERT_TRUE((*s)->copy_to(dir.file("copy")).is_ok());
    s->reset();
    auto c = PayloadStore::open(dir.file("copy"));
    ASSERT_TRUE(c.is_ok());
    EXPECT_TRUE(*(*c)->get(1, out));
    EXPECT_EQ(out, R"({"a":1})");
}

TEST(PayloadStore, MapGrowsBeyondItsStart) {
    testing::TempDir dir;
    auto s = PayloadStore::open(dir.file("p"));
    ASSERT_TRUE(s.is_ok());
    const std::string big(1 << 20, 'x');  // 160 MiB in all: past two doublings of 64 MiB
    for (uint64_t id = 0; id < 160; ++id) {
        const std::string_view v = big;
        ASSERT_TRUE((*s)->write(&id, &v, 1).is_ok()) << id;
    }
    EXPECT_EQ((*s)->count(), 160u);
    s->reset();
    auto r = PayloadStore::open(dir.file("p"));  // reopens with a map large enough
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    std::string out;
    EXPECT_TRUE(*(*r)->get(159, out));
    EXPECT_EQ(out.size(), big.size());
}

}  // namespace
}  // namespace strata::server
