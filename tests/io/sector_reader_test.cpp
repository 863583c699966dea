// Tests for io/sector_reader: io_uring, pread and fault-injecting backends — data, slots,
// concurrency, errors, bounded retries, short reads, and no allocation per read.
#include "io/sector_reader.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <strata/log.hpp>

#include "core/rng.hpp"
#include "io/sector_backends.hpp"
#include "io_test_util.hpp"
#include "testing/testing.hpp"

// Counts heap allocations made by the current thread, to prove reads do not allocate.
namespace {
thread_local uint64_t t_allocations = 0;
}  // namespace

void* operator new(size_t bytes) {
    ++t_allocations;
    if (void* p = std::malloc(bytes == 0 ? 1 : bytes)) return p;
    throw std::bad_alloc();
}
// GCC 12 flags free() in a replacement operator delete as mismatched with operator new: it is
// not, both replacements here pair malloc with free.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace strata::io {
namespace {

using test::has_error;

constexpr uint64_t kSectors = 1024;  // 4 MiB test file
constexpr uint64_t kWordsPerSector = kSectorBytes / 8;

/// The 8-byte word at index i of the file holds a mix of i, so every byte names its position.
uint64_t expected_word(uint64_t word_index) { return word_index * 0x9E3779B97F4A7C15ULL + 1; }

struct PatternFile {
    testing::TempDir dir;
    std::string path = dir.file("sectors.bin");
    PatternFile() {
        std::vector<uint64_t> words(kSectors * kWordsPerSector);
        for (uint64_t i = 0; i < words.size(); ++i) words[i] = expected_word(i);
        testing::write_bytes(path, test::as_bytes(words));
    }
};

/// Shared by the suite; removed at exit.
const std::string& pattern_path() {
    static PatternFile file;
    return file.path;
}

::testing::AssertionResult check_data(const uint8_t* data, uint64_t offset, uint32_t length) {
    if (data == nullptr) return ::testing::AssertionFailure() << "null data";
    if (reinterpret_cast<uintptr_t>(data) % kSectorBytes != 0) {
        return ::testing::AssertionFailure() << "buffer not 4 KiB-aligned";
    }
    for (uint32_t w = 0; w < length / 8; ++w) {
        uint64_t got;
        std::memcpy(&got, data + size_t{w} * 8, 8);
        const uint64_t want = expected_word(offset / 8 + w);
        if (got != want) {
            return ::testing::AssertionFailure()
                   << "byte " << (offset + uint64_t{w} * 8) << ": got " << got << " want " << want;
        }
    }
    return ::testing::AssertionSuccess();
}

bool uring_available() { return probe_uring() == 0; }

enum class Mode { kUring, kPread, kFault };

struct ModeName {
    std::string operator()(const ::testing::TestParamInfo<Mode>& info) const {
        switch (info.param) {
            case Mode::kUring:
                return "Uring";
            case Mode::kPread:
                return "Pread";
            case Mode::kFault:
                return "Fault";
        }
        return "Unknown";
    }
};

/// Light faults for the data tests: early ops fail transiently and later ones come back short.
FaultInjection light_faults() {
    FaultInjection f;
    f.transient_error_ops = 3;
    f.transient_errno = EINTR;
    f.short_read_ops = 20;
    return f;
}

class SectorReaderTest : public ::testing::TestWithParam<Mode> {
  protected:
    void SetUp() override {
        if (GetParam() == Mode::kUring && !uring_available()) {
            GTEST_SKIP() << "io_uring unavailable here (errno " << probe_uring() << ")";
        }
    }

    std::shared_ptr<const SectorFile> open_file() {
        SectorFileOptions fo;
        fo.backend = GetParam() == Mode::kUring ? IoBackendKind::kUring : IoBackendKind::kPread;
        auto file = SectorFile::open(pattern_path(), fo);
        EXPECT_TRUE(file.is_ok()) << file.status().to_string();
        if (!file.is_ok()) return nullptr;
        EXPECT_TRUE((*file)->direct_io()) << "O_DIRECT refused on " << pattern_path();
        EXPECT_EQ((*file)->size_bytes(), kSectors * kSectorBytes);
        return *file;
    }

    std::unique_ptr<SectorReader> make_reader(SectorReaderOptions options = {}) {
        auto file = open_file();
        if (file == nullptr) return nullptr;
        if (GetParam() == Mode::kFault) options.max_retries = 100;  // many short reads in a row
        auto reader = GetParam() == Mode::kFault
                          ? SectorReader::create_with_faults(file, options, light_faults())
                          : SectorReader::create(file, options);
        EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
        if (!reader.is_ok()) return nullptr;
        EXPECT_EQ((*reader)->backend(),
                  GetParam() == Mode::kUring ? IoBackendKind::kUring : IoBackendKind::kPread);
        return std::move(reader).value();
    }
};

/// Reads `requests` keeping the queue full: submit what fits, take 1..4 completions, verify and
/// release them, repeat. Checks every tag completes exactly once.
void read_interleaved(SectorReader& reader, const std::vector<ReadRequest>& requests) {
    std::vector<int> seen(requests.size(), 0);
    std::array<ReadCompletion, 4> out;
    size_t next = 0;
    uint32_t round = 0;
    while (next < requests.size() || reader.in_flight() > 0) {
        auto accepted = reader.submit(std::span(requests).subspan(next));
        ASSERT_TRUE(accepted.is_ok()) << accepted.status().to_string();
        next += *accepted;
        auto got = reader.wait(std::span(out).first(1 + round++ % 4), 1);
        ASSERT_TRUE(got.is_ok()) << got.status().to_string();
        ASSERT_GE(*got, 1u);
        for (uint32_t i = 0; i < *got; ++i) {
            const ReadCompletion& c = out[i];
            ASSERT_TRUE(c.status.is_ok()) << c.status.to_string();
            ASSERT_LT(c.user_tag, requests.size());
            const ReadRequest& r = requests[c.user_tag];
            ASSERT_EQ(c.length_bytes, r.length_bytes);
            ASSERT_TRUE(check_data(c.data, r.offset_bytes, r.length_bytes));
            ++seen[c.user_tag];
            reader.release(c.slot);
        }
    }
    for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 1) << "tag " << i;
    EXPECT_EQ(reader.free_slots(), reader.queue_depth());
}

std::vector<ReadRequest> random_requests(uint64_t seed, size_t count, uint32_t max_sectors) {
    Rng rng(seed);
    std::vector<ReadRequest> out(count);
    for (size_t i = 0; i < count; ++i) {
        const uint32_t sectors = 1 + static_cast<uint32_t>(rng.next_u64() % max_sectors);
        const uint64_t first = rng.next_u64() % (kSectors - sectors + 1);
        out[i] = ReadRequest{first * kSectorBytes, sectors * kSectorBytes, i};
    }
    return out;
}

TEST_P(SectorReaderTest, RandomSectorsInterleaved) {
    const uint64_t seed = testing::test_seed(42);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    SectorReaderOptions options;
    options.queue_depth = 8;
    auto reader = make_reader(options);
    ASSERT_NE(reader, nullptr);
    read_interleaved(*reader, random_requests(seed, 600, 1));
    EXPECT_EQ(reader->stats().reads, 600u);
    EXPECT_EQ(reader->stats().bytes, 600u * kSectorBytes);
    EXPECT_EQ(reader->stats().errors, 0u);
}

TEST_P(SectorReaderTest, MultiSectorReads) {
    const uint64_t seed = testing::test_seed(7);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    SectorReaderOptions options;
    options.queue_depth = 16;
    options.max_read_bytes = 16 * kSectorBytes;
    auto reader = make_reader(options);
    ASSERT_NE(reader, nullptr);
    read_interleaved(*reader, random_requests(seed, 300, 16));
    // The whole file in one pass of maximal reads, last sector included.
    std::vector<ReadRequest> all;
    for (uint64_t s = 0; s < kSectors; s += 16)
        all.push_back({s * kSectorBytes, 16 * kSectorBytes, all.size()});
    read_interleaved(*reader, all);
}

TEST_P(SectorReaderTest, ReadBatchCallsBackForEveryRequest) {
    SectorReaderOptions options;
    options.queue_depth = 16;
    auto reader = make_reader(options);
    ASSERT_NE(reader, nullptr);
    const auto requests = random_requests(testing::test_seed(3), 200, 4);
    std::vector<int> seen(requests.size(), 0);
    bool data_ok = true;
    Status status = reader->read_batch(requests, [&](uint64_t tag, std::span<const uint8_t> data) {
        ++seen.at(tag);
        const ReadRequest& r = requests[tag];
        data_ok = data_ok && data.size() == r.length_bytes &&
                  check_data(data.data(), r.offset_bytes, r.length_bytes);
    });
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    EXPECT_TRUE(data_ok);
    for (int n : seen) EXPECT_EQ(n, 1);
    EXPECT_EQ(reader->free_slots(), 16u);
}

TEST_P(SectorReaderTest, ConcurrentReadersShareOneFile) {
    auto file = open_file();
    ASSERT_NE(file, nullptr);
    constexpr int kThreads = 4;
    std::array<std::string, kThreads> failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            SectorReaderOptions options;
            options.queue_depth = 8;
            auto reader = GetParam() == Mode::kFault
                              ? SectorReader::create_with_faults(file, options, FaultInjection{})
                              : SectorReader::create(file, options);
            if (!reader.is_ok()) {
                failures[t] = reader.status().to_string();
                return;
            }
            const auto requests = random_requests(100 + t, 200, 4);
            Status s = (*reader)->read_batch(requests, [&](uint64_t tag,
                                                           std::span<const uint8_t> d) {
                const ReadRequest& r = requests[tag];
                if (failures[t].empty() && !check_data(d.data(), r.offset_bytes, r.length_bytes)) {
                    failures[t] = "bad data for tag " + std::to_string(tag);
                }
            });
            if (!s.is_ok() && failures[t].empty()) failures[t] = s.to_string();
        });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

TEST_P(SectorReaderTest, ReadPastEndIsOutOfRangeAndReaderStaysUsable) {
    auto reader = make_reader();
    ASSERT_NE(reader, nullptr);
    const uint64_t end = kSectors * kSectorBytes;
    const std::array<ReadRequest, 3> requests{ReadRequest{end, kSectorBytes, 1},
                                              ReadRequest{end - kSectorBytes, 2 * kSectorBytes, 2},
                                              ReadRequest{end - kSectorBytes, kSectorBytes, 3}};
    auto accepted = reader->submit(requests);
    ASSERT_TRUE(accepted.is_ok());
    ASSERT_EQ(*accepted, 3u);
    std::array<ReadCompletion, 3> out;
    uint32_t n = 0;
    while (n < 3) {
        auto got = reader->wait(std::span(out).subspan(n), 1);
        ASSERT_TRUE(got.is_ok()) << got.status().to_string();
        n += *got;
    }
    for (const ReadCompletion& c : out) {
        if (c.user_tag == 3) {
            ASSERT_TRUE(c.status.is_ok()) << c.status.to_string();
            EXPECT_TRUE(check_data(c.data, end - kSectorBytes, kSectorBytes));
        } else {
            const std::string offset = std::to_string(c.user_tag == 1 ? end : end - kSectorBytes);
            EXPECT_TRUE(has_error(c.status, StatusCode::kOutOfRange, pattern_path(),
                                  "at offset " + offset));
            EXPECT_EQ(c.data, nullptr);
        }
        reader->release(c.slot);
    }
    EXPECT_EQ(reader->stats().errors, 2u);
    read_interleaved(*reader, random_requests(5, 20, 1));
}

TEST_P(SectorReaderTest, SlotsAreHeldUntilReleasedAndDrainFreesThem) {
    SectorReaderOptions options;
    options.queue_depth = 4;
    auto reader = make_reader(options);
    ASSERT_NE(reader, nullptr);
    const auto requests = random_requests(9, 6, 1);
    auto accepted = reader->submit(requests);
    ASSERT_TRUE(accepted.is_ok());
    EXPECT_EQ(*accepted, 4u);
    EXPECT_EQ(reader->free_slots(), 0u);
    std::array<ReadCompletion, 4> out;
    uint32_t n = 0;
    while (n < 4) {
        auto got = reader->wait(std::span(out).subspan(n), static_cast<uint32_t>(4 - n));
        ASSERT_TRUE(got.is_ok());
        n += *got;
    }
    EXPECT_EQ(reader->in_flight(), 0u);
    // Nothing freed yet: every held buffer still has its bytes.
    EXPECT_EQ(*reader->submit(std::span(requests).subspan(4)), 0u);
    for (const ReadCompletion& c : out) {
        EXPECT_TRUE(check_data(c.data, requests[c.user_tag].offset_bytes, kSectorBytes));
    }
    reader->release(out[0].slot);
    EXPECT_EQ(*reader->submit(std::span(requests).subspan(4)), 1u);
    // wait with min_complete above what is in flight returns what there is.
    auto got = reader->wait(out, 4);
    ASSERT_TRUE(got.is_ok());
    EXPECT_EQ(*got, 1u);
    EXPECT_EQ(*reader->submit(std::span(requests).subspan(5)), 0u);
    ASSERT_TRUE(reader->drain().is_ok());
    EXPECT_EQ(reader->free_slots(), 4u);
    // A poll with nothing in flight returns nothing.
    got = reader->wait(out, 0);
    ASSERT_TRUE(got.is_ok());
    EXPECT_EQ(*got, 0u);
}

TEST_P(SectorReaderTest, DestroyWithReadsInFlight) {
    auto reader = make_reader();
    ASSERT_NE(reader, nullptr);
    ASSERT_TRUE(reader->submit(random_requests(11, 64, 1)).is_ok());
    reader.reset();  // must wait for the kernel before freeing buffers (ASan would notice)
}

TEST_P(SectorReaderTest, NoAllocationPerRead) {
    SectorReaderOptions options;
    options.queue_depth = 8;
    auto reader = make_reader(options);
    ASSERT_NE(reader, nullptr);
    const auto requests = random_requests(13, 400, 2);
    // Warm up past the injected faults of the fault mode.
    ASSERT_TRUE(reader->read_batch(std::span(requests).first(100), [](uint64_t, auto) {}).is_ok());
    std::array<ReadCompletion, 4> out;
    size_t next = 100;
    uint64_t checksum = 0;
    const uint64_t before = t_allocations;
    while (next < requests.size() || reader->in_flight() > 0) {
        auto accepted = reader->submit(std::span(requests).subspan(next));
        if (!accepted.is_ok()) break;
        next += *accepted;
        auto got = reader->wait(out, 1);
        if (!got.is_ok()) break;
        for (uint32_t i = 0; i < *got; ++i) {
            if (out[i].status.is_ok()) checksum += out[i].data[8];
            reader->release(out[i].slot);
        }
    }
    const uint64_t allocations = t_allocations - before;
    EXPECT_EQ(allocations, 0u);
    auto probe = std::make_unique<int>(1);  // the counter does see allocations
    EXPECT_EQ(t_allocations, before + 1);
    EXPECT_EQ(next, requests.size());
    EXPECT_NE(checksum, 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SectorReaderTest,
                         ::testing::Values(Mode::kUring, Mode::kPread, Mode::kFault), ModeName());

// ---- fault injection: over each real backend --------------------------------------------------

class SectorFaultTest : public ::testing::TestWithParam<Mode> {
  protected:
    void SetUp() override {
        if (GetParam() == Mode::kUring && !uring_available()) {
            GTEST_SKIP() << "io_uring unavailable here (errno " << probe_uring() << ")";
        }
    }

    std::unique_ptr<SectorReader> make(const FaultInjection& faults, uint32_t max_retries = 3,
                                       uint32_t queue_depth = 1) {
        SectorFileOptions fo;
        fo.backend = GetParam() == Mode::kUring ? IoBackendKind::kUring : IoBackendKind::kPread;
        auto file = SectorFile::open(pattern_path(), fo);
        EXPECT_TRUE(file.is_ok()) << file.status().to_string();
        if (!file.is_ok()) return nullptr;
        SectorReaderOptions options;
        options.queue_depth = queue_depth;
        options.max_retries = max_retries;
        auto reader = SectorReader::create_with_faults(*file, options, faults);
        EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
        return reader.is_ok() ? std::move(reader).value() : nullptr;
    }

    /// Reads one request to completion and returns its status (data checked when OK).
    static Status read_one(SectorReader& reader, const ReadRequest& request) {
        auto accepted = reader.submit(std::span(&request, 1));
        if (!accepted.is_ok()) return accepted.status();
        EXPECT_EQ(*accepted, 1u);
        std::array<ReadCompletion, 1> out;
        auto got = reader.wait(out, 1);
        if (!got.is_ok()) return got.status();
        EXPECT_EQ(*got, 1u);
        Status status = std::move(out[0].status);
        if (status.is_ok()) {
            EXPECT_TRUE(check_data(out[0].data, request.offset_bytes, request.length_bytes));
        }
        reader.release(out[0].slot);
        return status;
    }
};

TEST_P(SectorFaultTest, EioOnNthReadNamesFileOffsetAndErrno) {
    FaultInjection f;
    f.fail_op_index = 5;
    f.fail_errno = EIO;
    auto reader = make(f);
    ASSERT_NE(reader, nullptr);
    for (uint64_t i = 0; i < 10; ++i) {
        const ReadRequest r{(100 + i) * kSectorBytes, kSectorBytes, i};
        Status s = read_one(*reader, r);
        if (i == 5) {
            EXPECT_TRUE(has_error(s, StatusCode::kIOError, pattern_path(),
                                  "at offset " + std::to_string(r.offset_bytes)));
            EXPECT_EQ(s.sys_errno(), EIO);
            EXPECT_NE(s.to_string().find("Input/output error"), std::string::npos) << s.to_string();
        } else {
            EXPECT_TRUE(s.is_ok()) << i << ": " << s.to_string();
        }
    }
    EXPECT_EQ(reader->stats().errors, 1u);
    EXPECT_EQ(reader->stats().reads, 9u);
}

TEST_P(SectorFaultTest, ShortReadsAreCompleted) {
    FaultInjection f;
    f.short_read_ops = 4;  // 8 sectors -> 4 + 2 + 1 sectors, then 2048 bytes of the last one
    auto reader = make(f);
    ASSERT_NE(reader, nullptr);
    Status s = read_one(*reader, ReadRequest{64 * kSectorBytes, 8 * kSectorBytes, 0});
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_EQ(reader->stats().short_reads, 4u);
    EXPECT_EQ(reader->stats().retries, 1u);  // only the no-progress 2048-byte read spends one
    EXPECT_EQ(reader->stats().reads, 1u);
}

TEST_P(SectorFaultTest, ShortReadsMakingNoProgressFailAfterTheBound) {
    FaultInjection f;
    f.short_read_ops = 1000;
    auto reader = make(f, /*max_retries=*/2);
    ASSERT_NE(reader, nullptr);
    Status s = read_one(*reader, ReadRequest{3 * kSectorBytes, kSectorBytes, 0});
    EXPECT_TRUE(has_error(s, StatusCode::kIOError, pattern_path(), "stayed short"));
    EXPECT_NE(s.message().find("after 2 retries"), std::string::npos) << s.message();
    EXPECT_EQ(reader->stats().retries, 2u);
    EXPECT_EQ(reader->stats().short_reads, 3u);
}

TEST_P(SectorFaultTest, TransientErrorsWithinTheBoundSucceed) {
    for (int err : {EAGAIN, EINTR}) {
        FaultInjection f;
        f.transient_error_ops = 3;
        f.transient_errno = err;
        auto reader = make(f, /*max_retries=*/3);
        ASSERT_NE(reader, nullptr);
        Status s = read_one(*reader, ReadRequest{7 * kSectorBytes, kSectorBytes, 0});
        EXPECT_TRUE(s.is_ok()) << s.to_string();
        EXPECT_EQ(reader->stats().retries, 3u);
    }
}

TEST_P(SectorFaultTest, TransientErrorsBeyondTheBoundFail) {
    FaultInjection f;
    f.transient_error_ops = 4;
    auto reader = make(f, /*max_retries=*/3);
    ASSERT_NE(reader, nullptr);
    Status s = read_one(*reader, ReadRequest{7 * kSectorBytes, kSectorBytes, 0});
    EXPECT_TRUE(has_error(s, StatusCode::kIOError, pattern_path(),
                          "at offset " + std::to_string(7 * kSectorBytes)));
    EXPECT_EQ(s.sys_errno(), EAGAIN);
    EXPECT_NE(s.message().find("after 3 retries"), std::string::npos) << s.message();
    // The reader carries on: the next read (op 4) succeeds.
    EXPECT_TRUE(read_one(*reader, ReadRequest{0, kSectorBytes, 1}).is_ok());
}

TEST_P(SectorFaultTest, DelaysShowInIoWaitTime) {
    FaultInjection f;
    f.delay_us = 2000;
    auto reader = make(f);
    ASSERT_NE(reader, nullptr);
    for (uint64_t i = 0; i < 5; ++i) {
        ASSERT_TRUE(read_one(*reader, ReadRequest{i * kSectorBytes, kSectorBytes, i}).is_ok());
    }
    EXPECT_GE(reader->stats().io_wait_us, 5u * 2000u);
    reader->reset_stats();
    EXPECT_EQ(reader->stats().io_wait_us, 0u);
}

TEST_P(SectorFaultTest, ErrorsInABatchLetTheRestFinish) {
    FaultInjection f;
    f.fail_op_index = 10;
    auto reader = make(f, 3, /*queue_depth=*/8);
    ASSERT_NE(reader, nullptr);
    const auto requests = random_requests(17, 50, 1);
    uint32_t calls = 0;
    Status s = reader->read_batch(requests, [&](uint64_t, std::span<const uint8_t>) { ++calls; });
    EXPECT_TRUE(has_error(s, StatusCode::kIOError, pattern_path(), "failed"));
    EXPECT_EQ(s.sys_errno(), EIO);
    EXPECT_EQ(reader->in_flight(), 0u);
    EXPECT_EQ(reader->free_slots(), 8u);
    EXPECT_LT(calls, 50u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SectorFaultTest, ::testing::Values(Mode::kUring, Mode::kPread),
                         ModeName());

// ---- opening, backend choice, options --------------------------------------------------------

TEST(SectorFile, ForcedUringWhenUnavailableIsAnError) {
    SectorFileOptions fo;
    fo.backend = IoBackendKind::kUring;
    fo.simulate_uring_errno = ENOSYS;
    auto file = SectorFile::open(pattern_path(), fo);
    EXPECT_TRUE(has_error(file, StatusCode::kNotSupported, pattern_path(), "io_uring"));
}

TEST(SectorFile, AutoFallsBackToPreadWithOneWarning) {
    std::vector<std::string> warnings;
    set_log_sink([&warnings](LogLevel level, std::string_view msg) {
        if (level == LogLevel::kWarn) warnings.emplace_back(msg);
    });
    SectorFileOptions fo;
    fo.simulate_uring_errno = EPERM;  // what a seccomp filter returns
    auto file = SectorFile::open(pattern_path(), fo);
    set_log_sink(nullptr);
    ASSERT_TRUE(file.is_ok()) << file.status().to_string();
    EXPECT_EQ((*file)->backend(), IoBackendKind::kPread);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("pread"), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find("io_uring unavailable"), std::string::npos) << warnings[0];
    auto reader = SectorReader::create(*file);
    ASSERT_TRUE(reader.is_ok());
    EXPECT_EQ((*reader)->backend(), IoBackendKind::kPread);
}

TEST(SectorFile, AutoPicksUringWhenAvailable) {
    auto file = SectorFile::open(pattern_path());
    ASSERT_TRUE(file.is_ok());
    EXPECT_EQ((*file)->backend(),
              uring_available() ? IoBackendKind::kUring : IoBackendKind::kPread);
    std::printf("io_uring available: %s\n", uring_available() ? "yes" : "no");
}

TEST(SectorFile, OpenErrors) {
    testing::TempDir dir;
    EXPECT_TRUE(has_error(SectorFile::open(dir.file("missing")), StatusCode::kNotFound,
                          dir.file("missing"), "no such file"));
    EXPECT_FALSE(SectorFile::open(dir.path().string()).is_ok());
    SectorFileOptions bad;
    bad.simulate_uring_errno = -1;
    EXPECT_FALSE(SectorFile::open(pattern_path(), bad).is_ok());
}

TEST(SectorReaderOptions, Validate) {
    EXPECT_TRUE(SectorReaderOptions{}.validate().is_ok());
    SectorReaderOptions o;
    o.queue_depth = 0;
    EXPECT_EQ(o.validate().code(), StatusCode::kInvalidArgument);
    o = {};
    o.max_read_bytes = 5000;
    EXPECT_NE(o.validate().message().find("max_read_bytes"), std::string::npos);
    o = {};
    o.max_retries = 1000;
    EXPECT_FALSE(o.validate().is_ok());
    auto file = SectorFile::open(pattern_path());
    ASSERT_TRUE(file.is_ok());
    EXPECT_FALSE(SectorReader::create(*file, o).is_ok());
}

TEST(IoBackendKind, ParseAndName) {
    for (auto kind : {IoBackendKind::kAuto, IoBackendKind::kUring, IoBackendKind::kPread}) {
        auto parsed = parse_io_backend(io_backend_name(kind));
        ASSERT_TRUE(parsed.is_ok());
        EXPECT_EQ(*parsed, kind);
    }
    EXPECT_EQ(parse_io_backend("aio").status().code(), StatusCode::kInvalidArgument);
}

TEST(SectorReaderDeathTest, MisalignedRequestsCrash) {
    // "fast" (fork) style on purpose: the child reuses the parent's pattern file instead of
    // re-running the test and leaking a new one when it aborts. No thread is running here.
    GTEST_FLAG_SET(death_test_style, "fast");
    (void)pattern_path();
    auto submit_one = [](ReadRequest r) {
        SectorFileOptions fo;
        fo.backend = IoBackendKind::kPread;
        auto reader = SectorReader::create(SectorFile::open(pattern_path(), fo).value());
        (void)(*reader)->submit(std::span(&r, 1));
    };
    EXPECT_DEATH(submit_one({100, kSectorBytes, 0}), "invariant failed");
    EXPECT_DEATH(submit_one({0, 1000, 0}), "invariant failed");
    EXPECT_DEATH(submit_one({0, 0, 0}), "invariant failed");
    EXPECT_DEATH(submit_one({0, 128 * kSectorBytes, 0}), "invariant failed");
}

}  // namespace
}  // namespace strata::io
