// Test helpers.
#include "testing/testing.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

namespace strata::testing {

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::filesystem::path root = base != nullptr ? base : "/tmp";
    std::random_device rd;
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto candidate =
            root / ("strata-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
        std::error_code ec;
        if (std::filesystem::create_directory(candidate, ec)) {
            path_ = candidate;
            return;
        }
    }
    std::fprintf(stderr, "TempDir: cannot create a directory under %s\n", root.c_str());
    std::abort();
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(std::string_view name) const { return (path_ / name).string(); }

void write_bytes(const std::string& path, std::string_view bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
        std::fprintf(stderr, "write_bytes: cannot write %s\n", path.c_str());
        std::abort();
    }
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    write_bytes(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

uint64_t test_seed(uint64_t fallback) {
    const char* s = std::getenv("STRATA_TEST_SEED");
    return s != nullptr ? std::strtoull(s, nullptr, 0) : fallback;
}

}  // namespace strata::testing
