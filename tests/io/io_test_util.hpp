// Shared helpers for the io tests: error assertions and builders for raw (possibly bad) files.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <strata/status.hpp>

#include "core/rng.hpp"
#include "testing/testing.hpp"

namespace strata::io::test {

/// Success when `status` has `code` and its message names `path` and contains `phrase`.
inline ::testing::AssertionResult has_error(const Status& status, StatusCode code,
                                            const std::string& path, std::string_view phrase) {
    if (status.is_ok()) return ::testing::AssertionFailure() << "expected an error, got OK";
    const std::string& msg = status.message();
    if (status.code() != code) {
        return ::testing::AssertionFailure()
               << "code " << status_code_name(status.code()) << ", expected "
               << status_code_name(code) << ": " << msg;
    }
    if (msg.find(path) == std::string::npos) {
        return ::testing::AssertionFailure() << "message does not name " << path << ": " << msg;
    }
    if (msg.find(phrase) == std::string::npos) {
        return ::testing::AssertionFailure() << "message lacks '" << phrase << "': " << msg;
    }
    return ::testing::AssertionSuccess() << msg;
}

template <typename T>
::testing::AssertionResult has_error(const Result<T>& result, StatusCode code,
                                     const std::string& path, std::string_view phrase) {
    if (result.is_ok()) return ::testing::AssertionFailure() << "expected an error, got a value";
    return has_error(result.status(), code, path, phrase);
}

/// int32 n, int32 d header followed by `payload`.
inline std::vector<uint8_t> bin_bytes(int32_t n, int32_t d, const std::vector<uint8_t>& payload) {
    // Sized up front: GCC 12 -O3 warns falsely (-Wstringop-overflow) on insert into an empty
    // vector.
    std::vector<uint8_t> out(8 + payload.size());
    std::memcpy(out.data(), &n, 4);
    std::memcpy(out.data() + 4, &d, 4);
    if (!payload.empty()) std::memcpy(out.data() + 8, payload.data(), payload.size());
    return out;
}

/// prefix + i + suffix (appending avoids GCC 12's false -Wrestrict on "literal" + string).
inline std::string numbered(std::string_view prefix, uint64_t i, std::string_view suffix) {
    std::string out(prefix);
    out.append(std::to_string(i));
    out.append(suffix);
    return out;
}

/// Bytes of `values` (any trivially copyable element).
template <typename T>
std::vector<uint8_t> as_bytes(const std::vector<T>& values) {
    std::vector<uint8_t> out(values.size() * sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
    return out;
}

/// A .npy file: magic, version `major`.0, header `dict` padded with spaces and a newline so the
/// preamble + header is a multiple of `align`, then `payload`.
inline std::vector<uint8_t> npy_bytes(std::string_view dict, const std::vector<uint8_t>& payload,
                                      int major = 1, size_t align = 64) {
    const size_t prefix = major == 1 ? 10 : 12;
    std::string header(dict);
    header += ' ';
    while ((prefix + header.size() + 1) % align != 0) header += ' ';
    header += '\n';
    const uint32_t header_len = static_cast<uint32_t>(header.size());
    // Built by size + memcpy: GCC 12 -O3 warns falsely on growing small vectors with insert.
    std::vector<uint8_t> out(prefix + header.size() + payload.size());
    const uint8_t magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
    std::memcpy(out.data(), magic, 8);
    std::memcpy(out.data() + 8, &header_len, prefix - 8);  // little-endian u16 or u32
    std::memcpy(out.data() + prefix, header.data(), header.size());
    if (!payload.empty()) {
        std::memcpy(out.data() + prefix + header.size(), payload.data(), payload.size());
    }
    return out;
}

/// `count` bytes from a seeded stream.
inline std::vector<uint8_t> random_bytes(size_t count, uint64_t seed) {
    Rng rng(seed);
    std::vector<uint8_t> out(count);
    for (auto& b : out) b = static_cast<uint8_t>(rng.next_u64());
    return out;
}

/// `count` floats in [-1, 1) from a seeded stream.
inline std::vector<float> random_floats(size_t count, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> out(count);
    for (auto& f : out) f = static_cast<float>(rng.uniform() * 2.0 - 1.0);
    return out;
}

}  // namespace strata::io::test
