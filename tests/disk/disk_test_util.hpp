// Shared helpers for the disk tests: random small indexes, byte flips and error assertions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <strata/status.hpp>

#include "core/rng.hpp"
#include "disk/format.hpp"
#include "disk/index_writer.hpp"
#include "testing/testing.hpp"

namespace strata::disk::test {

/// Everything written into a test index, kept to compare what is read back.
struct TestIndex {
    IndexLayoutParams params;
    std::vector<uint8_t> vectors;  ///< node_count * dim * dtype_size bytes
    std::vector<std::vector<uint32_t>> neighbors;
    std::string codebook;  ///< empty: no pq files
    std::string codes;     ///< node_count * pq_bytes
    uint32_t pq_bytes = 0;
    std::vector<uint64_t> ids;  ///< empty: the writer's default (row numbers)

    const uint8_t* vector(uint64_t id) const {
        return vectors.data() + id * params.dim * dtype_size(params.dtype);
    }
};

/// A random index: degrees in [0, min(R, n-1)], distinct neighbours, no self-loops; PQ files
/// when pq_bytes > 0; custom external ids when `custom_ids`. Deterministic in `seed`.
inline TestIndex make_test_index(Metric metric, DType dtype, uint32_t dim, uint32_t degree_max,
                                 uint64_t node_count, uint64_t seed, uint32_t pq_bytes = 8,
                                 bool custom_ids = false) {
    TestIndex t;
    t.params.metric = metric;
    t.params.dtype = dtype;
    t.params.dim = dim;
    t.params.degree_max = degree_max;
    t.params.node_count = node_count;
    t.params.entry_point = node_count == 0 ? kNoNode : static_cast<uint32_t>(node_count / 2);
    Rng rng(seed);
    t.vectors.resize(node_count * dim * dtype_size(dtype));
    if (dtype == DType::kF32) {
        for (size_t i = 0; i < t.vectors.size() / 4; ++i) {
            const auto v = static_cast<float>(rng.normal());
            std::memcpy(t.vectors.data() + 4 * i, &v, 4);
        }
    } else {
        for (auto& b : t.vectors) b = static_cast<uint8_t>(rng.next_u64());
    }
    t.neighbors.resize(node_count);
    for (uint64_t id = 0; id < node_count; ++id) {
        const uint64_t max_degree = std::min<uint64_t>(degree_max, node_count - 1);
        const uint64_t degree = rng.below(max_degree + 1);
        auto& list = t.neighbors[id];
        while (list.size() < degree) {
            const auto n = static_cast<uint32_t>(rng.below(node_count));
            if (n != id && std::find(list.begin(), list.end(), n) == list.end()) list.push_back(n);
        }
    }
    t.pq_bytes = pq_bytes;
    if (pq_bytes > 0) {
        t.codebook.resize(100 + rng.below(300));
        for (auto& c : t.codebook) c = static_cast<char>(rng.next_u64());
        t.codes.resize(node_count * pq_bytes);
        for (auto& c : t.codes) c = static_cast<char>(rng.next_u64());
    }
    if (custom_ids) {
        for (uint64_t id = 0; id < node_count; ++id) t.ids.push_back(rng.next_u64());
    }
    return t;
}

/// Writes `t` to `dir` with an IndexWriter (codes streamed in pieces). Returns the Status.
inline Status write_test_index(const std::string& dir, const TestIndex& t,
                               const WriterOptions& options = {}) {
    STRATA_ASSIGN_OR_RETURN(IndexWriter w, IndexWriter::create(dir, t.params, options));
    if (!t.codebook.empty()) {
        STRATA_RETURN_IF_ERROR(w.add_file(FileKind::kPqCodebook, t.codebook));
        STRATA_RETURN_IF_ERROR(w.begin_file(FileKind::kPqCodes, t.pq_bytes));
        for (size_t off = 0; off < t.codes.size(); off += 7) {
            const size_t n = std::min<size_t>(7, t.codes.size() - off);
            STRATA_RETURN_IF_ERROR(w.append_file(t.codes.data() + off, n));
        }
        STRATA_RETURN_IF_ERROR(w.end_file());
    }
    if (!t.ids.empty()) {
        STRATA_RETURN_IF_ERROR(w.add_file(
            FileKind::kIds,
            std::string_view(reinterpret_cast<const char*>(t.ids.data()), t.ids.size() * 8), 8));
    }
    for (uint64_t id = 0; id < t.params.node_count; ++id) {
        STRATA_RETURN_IF_ERROR(w.append_node(t.vector(id), t.neighbors[id]));
    }
    return w.finish("{\"test\": true}\n");
}

/// XORs the byte at `offset` of `path` with `mask` (in place).
inline void flip_byte(const std::string& path, uint64_t offset, uint8_t mask = 0x01) {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr) << path;
    ASSERT_EQ(std::fseek(f, static_cast<long>(offset), SEEK_SET), 0);
    const int c = std::fgetc(f);
    ASSERT_NE(c, EOF) << path << " offset " << offset;
    ASSERT_EQ(std::fseek(f, static_cast<long>(offset), SEEK_SET), 0);
    std::fputc(c ^ mask, f);
    std::fclose(f);
}

/// Overwrites sizeof(T) bytes at `offset` of `path` with `value` (in place).
template <typename T>
void patch(const std::string& path, uint64_t offset, T value) {
    auto bytes = testing::read_bytes(path);
    ASSERT_LE(offset + sizeof(T), bytes.size());
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
    testing::write_bytes(path, bytes);
}

/// Success when `status` has `code` and its message contains every phrase.
inline ::testing::AssertionResult has_error(const Status& status, StatusCode code,
                                            std::initializer_list<std::string_view> phrases) {
    if (status.is_ok()) return ::testing::AssertionFailure() << "expected an error, got OK";
    if (status.code() != code) {
        return ::testing::AssertionFailure()
               << "code " << status_code_name(status.code()) << ", expected "
               << status_code_name(code) << ": " << status.message();
    }
    for (const std::string_view phrase : phrases) {
        if (status.message().find(phrase) == std::string::npos) {
            return ::testing::AssertionFailure()
                   << "message lacks '" << phrase << "': " << status.message();
        }
    }
    return ::testing::AssertionSuccess() << status.message();
}

/// Names in `dir` (files and directories), sorted.
inline std::vector<std::string> list_dir(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace strata::disk::test
