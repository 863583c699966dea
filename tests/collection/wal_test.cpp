// WAL: replay order and LSNs across reopen, torn tails dropped (and truncated) at every cut,
// damage elsewhere refused with its offset, rotation and segment removal, group commit under
// concurrent appenders, the payload limit.
#include "collection/wal.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/testing.hpp"

namespace strata::collection {
namespace {

namespace fs = std::filesystem;

struct Replayed {
    std::vector<uint64_t> lsns;
    std::vector<std::string> payloads;
};

Result<std::unique_ptr<Wal>> open_wal(const std::string& dir, Replayed& r, uint64_t from = 1,
                                      WalOptions o = {}) {
    r = {};
    return Wal::open(dir, o, from, [&r](uint64_t lsn, std::string_view p) {
        r.lsns.push_back(lsn);
        r.payloads.emplace_back(p);
        return Status::ok();
    });
}

std::string payload(uint64_t i) {
    return std::string(10 + i % 50, static_cast<char>('a' + i % 26));
}

std::vector<std::string> segments(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(Wal, ReplaysInOrderSkipsBelowFromAndContinuesLsns) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("wal");
    Replayed r;
    {
        auto w = open_wal(dir, r);
        ASSERT_TRUE(w.is_ok()) << w.status().to_string();
        for (uint64_t i = 1; i <= 20; ++i) {
            auto lsn = (*w)->append(payload(i));
            ASSERT_TRUE(lsn.is_ok());
            EXPECT_EQ(*lsn, i);
        }
    }
    auto w = open_wal(dir, r, 8);
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    ASSERT_EQ(r.lsns.size(), 13u);
    for (size_t i = 0; i < r.lsns.size(); ++i) {
        EXPECT_EQ(r.lsns[i], 8 + i);
        EXPECT_EQ(r.payloads[i], payload(8 + i));
    }
    EXPECT_EQ((*w)->next_lsn(), 21u);
    EXPECT_EQ(*(*w)->append("x"), 21u);
}

TEST(Wal, TornTailIsDroppedAtEveryCutAndTheLogGoesOn) {
    testing::TempDir tmp;
    std::string full;
    {
        const std::string dir = tmp.file("ref");
        Replayed r;
        auto w = open_wal(dir, r);
        ASSERT_TRUE(w.is_ok());
        for (uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE((*w)->append(payload(i)).is_ok());
        w->reset();
        const auto bytes = testing::read_bytes(segments(dir)[0]);
        full.assign(bytes.begin(), bytes.end());
    }
    const size_t last_record = full.size() - (24 + payload(3).size());
    for (size_t cut = last_record; cut < full.size(); ++cut) {
        SCOPED_TRACE(cut);
        const std::string dir = tmp.file("cut" + std::to_string(cut));
        fs::create_directories(dir);
        const std::string seg = dir + "/00000000000000000001.log";
        testing::write_bytes(seg, std::string_view(full.data(), cut));
        Replayed r;
        {
            auto w = open_wal(dir, r);
            ASSERT_TRUE(w.is_ok()) << w.status().to_string();
            EXPECT_EQ(r.lsns.size(), 2u);
            EXPECT_EQ(fs::file_size(seg), last_record);  // truncated back to the good records
            EXPECT_EQ(*(*w)->append("after"), 3u);
        }
        auto w = open_wal(dir, r);
        ASSERT_TRUE(w.is_ok()) << w.status().to_string();
        ASSERT_EQ(r.lsns.size(), 3u);
        EXPECT_EQ(r.payloads[2], "after");
    }
    // A zero-filled tail (size extended, data never written) is torn too.
    const std::string dir = tmp.file("zeros");
    fs::create_directories(dir);
    std::string z = full.substr(0, last_record) + std::string(300, '\0');
    testing::write_bytes(dir + "/00000000000000000001.log", z);
    Replayed r;
    auto w = open_wal(dir, r);
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    EXPECT_EQ(r.lsns.size(), 2u);
    // The last record damaged in place (checksum) with nothing after: torn as well.
    const std::string dir2 = tmp.file("flip-last");
    fs::create_directories(dir2);
    std::string f = full;
    f[f.size() - 3] ^= 1;
    testing::write_bytes(dir2 + "/00000000000000000001.log", f);
    auto w2 = open_wal(dir2, r);
    ASSERT_TRUE(w2.is_ok());
    EXPECT_EQ(r.lsns.size(), 2u);
}

TEST(Wal, DamageBeforeTheTailIsCorruptionWithItsOffset) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("wal");
    Replayed r;
    WalOptions o;
    o.segment_bytes = 4096;
    {
        auto w = open_wal(dir, r, 1, o);
        ASSERT_TRUE(w.is_ok());
        for (uint64_t i = 1; i <= 200; ++i) ASSERT_TRUE((*w)->append(payload(i)).is_ok());
    }
    const auto segs = segments(dir);
    ASSERT_GE(segs.size(), 3u);
    // A flipped byte in a middle record of the last segment: valid records follow.
    {
        auto bytes = testing::read_bytes(segs.back());
        const auto saved = bytes;
        bytes[32 + 30] ^= 0x40;
        testing::write_bytes(segs.back(), bytes);
        auto w = open_wal(dir, r, 1, o);
        EXPECT_EQ(w.status().code(), StatusCode::kCorruption);
        EXPECT_NE(w.status().message().find("at byte"), std::string::npos) << w.status().message();
        testing::write_bytes(segs.back(), saved);
    }
    // Any damage in an older segment, even at its end.
    {
        auto bytes = testing::read_bytes(segs[0]);
        bytes[bytes.size() - 2] ^= 0x40;
        testing::write_bytes(segs[0], bytes);
        auto w = open_wal(dir, r, 1, o);
        EXPECT_EQ(w.status().code(), StatusCode::kCorruption) << w.status().to_string();
    }
    // A foreign file.
    const std::string dir2 = tmp.file("foreign");
    fs::create_directories(dir2);
    testing::write_bytes(dir2 + "/notes.txt", std::string("hello"));
    EXPECT_EQ(open_wal(dir2, r).status().code(), StatusCode::kCorruption);
}

TEST(Wal, RotateAndRemoveBeforeKeepWhatIsStillNeeded) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("wal");
    Replayed r;
    auto w = open_wal(dir, r);
    ASSERT_TRUE(w.is_ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*w)->append("a").is_ok());
    auto s = (*w)->rotate();
    ASSERT_TRUE(s.is_ok());
    EXPECT_EQ(*s, 6u);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*w)->append("b").is_ok());
    EXPECT_EQ(segments(dir).size(), 2u);
    ASSERT_TRUE((*w)->remove_before(*s).is_ok());
    EXPECT_EQ(segments(dir).size(), 1u);
    w->reset();
    auto again = open_wal(dir, r, *s);
    ASSERT_TRUE(again.is_ok()) << again.status().to_string();
    EXPECT_EQ(r.lsns, (std::vector<uint64_t>{6, 7, 8}));
    EXPECT_EQ((*again)->next_lsn(), 9u);
    // A log that ends below from_lsn continues at from_lsn in a segment of its own.
    again->reset();
    auto later = open_wal(dir, r, 50);
    ASSERT_TRUE(later.is_ok());
    EXPECT_EQ(*(*later)->append("c"), 50u);
    later->reset();
    auto last = open_wal(dir, r, 50);
    ASSERT_TRUE(last.is_ok()) << last.status().to_string();
    EXPECT_EQ(r.lsns, std::vector<uint64_t>{50});
    last->reset();
    // Records that were removed but are asked for are missing, not silently skipped.
    auto missing = open_wal(dir, r, 1);
    EXPECT_EQ(missing.status().code(), StatusCode::kCorruption);
    EXPECT_NE(missing.status().message().find("missing"), std::string::npos)
        << missing.status().message();
}

TEST(Wal, ConcurrentAppendersShareSyncs) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("wal");
    Replayed r;
    constexpr int kThreads = 4, kEach = 200;
    {
        auto w = open_wal(dir, r);
        ASSERT_TRUE(w.is_ok());
        std::vector<std::vector<uint64_t>> got(kThreads);
        std::vector<std::thread> ts;
        for (int t = 0; t < kThreads; ++t) {
            ts.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i) {
                    auto lsn = (*w)->append(std::string(100, static_cast<char>('a' + t)));
                    ASSERT_TRUE(lsn.is_ok());
                    got[t].push_back(*lsn);
                }
            });
        }
        for (auto& t : ts) t.join();
        std::vector<uint64_t> all;
        for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
        std::sort(all.begin(), all.end());
        for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);
        const WalStats st = (*w)->stats();
        EXPECT_EQ(st.appends, uint64_t{kThreads * kEach});
        EXPECT_LT(st.syncs, st.appends);  // group commit batched some of them
        std::printf("%llu appends, %llu syncs\n", static_cast<unsigned long long>(st.appends),
                    static_cast<unsigned long long>(st.syncs));
    }
    auto w = open_wal(dir, r);
    ASSERT_TRUE(w.is_ok());
    EXPECT_EQ(r.lsns.size(), static_cast<size_t>(kThreads * kEach));
}

TEST(Wal, IntervalSyncAndLimits) {
    testing::TempDir tmp;
    const std::string dir = tmp.file("wal");
    Replayed r;
    WalOptions o;
    o.sync = WalOptions::Sync::kInterval;
    o.interval_ms = 5;
    {
        auto w = open_wal(dir, r, 1, o);
        ASSERT_TRUE(w.is_ok());
        for (int i = 0; i < 50; ++i) ASSERT_TRUE((*w)->append("i").is_ok());
        ASSERT_TRUE((*w)->append("").is_ok());  // an empty payload is a record too
        // Refused on its size alone: the bytes behind the view are never read.
        const char one = 'x';
        EXPECT_EQ((*w)->append(std::string_view(&one, Wal::kMaxPayloadBytes + 1)).status().code(),
                  StatusCode::kInvalidArgument);
        EXPECT_EQ((*w)->next_lsn(), 52u);  // the refused record took no LSN
    }
    auto w = open_wal(dir, r);
    ASSERT_TRUE(w.is_ok());
    EXPECT_EQ(r.lsns.size(), 51u);
    WalOptions bad;
    bad.interval_ms = 0;
    EXPECT_EQ(open_wal(dir, r, 1, bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::collection
