// Test support: recompute all checksums of an index directory in place.
#include "disk/testing_hooks.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "disk/checksum.hpp"
#include "disk/dir_util.hpp"
#include "disk/format.hpp"
#include "io/file_util.hpp"

namespace strata::disk::detail {
namespace {

using namespace header_offsets;     // NOLINT(google-build-using-namespace)
using namespace companion_offsets;  // NOLINT(google-build-using-namespace)

using Bytes = std::vector<uint8_t>;

Result<Bytes> read_bytes(const std::string& path) {
    STRATA_ASSIGN_OR_RETURN(const std::string s, io::read_file(path));
    return Bytes(s.begin(), s.end());
}

Status write_bytes(const std::string& path, const Bytes& b) {
    return io::atomic_write_file(
        path, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

template <typename T>
T get(const Bytes& b, size_t offset) {
    T v{};
    if (offset + sizeof(T) <= b.size()) std::memcpy(&v, b.data() + offset, sizeof(T));
    return v;
}

template <typename T>
void put(Bytes& b, size_t offset, T v) {
    if (offset + sizeof(T) <= b.size()) std::memcpy(b.data() + offset, &v, sizeof(T));
}

/// Re-seals companion `name`; returns (file bytes, content checksum) for the files table.
Result<std::pair<uint64_t, uint64_t>> reseal_companion(const std::string& path, bool meta) {
    STRATA_ASSIGN_OR_RETURN(Bytes f, read_bytes(path));
    if (meta) return std::make_pair(uint64_t{f.size()}, xxh3_64(f.data(), f.size()));
    const auto hb = get<uint32_t>(f, kCompOffHeaderBytes);
    if (hb < kCompanionHeaderBytes || hb > f.size()) {
        return Status::corruption(fmt::format("{}: header size {} unusable", path, hb));
    }
    const uint64_t sum = xxh3_64(f.data() + hb, f.size() - hb);
    put<uint64_t>(f, kCompOffPayloadBytes, f.size() - hb);
    put<uint64_t>(f, kCompOffPayloadXxh3, sum);
    put<uint64_t>(f, hb - 8, xxh3_64(f.data(), hb - 8));
    STRATA_RETURN_IF_ERROR(write_bytes(path, f));
    return std::make_pair(uint64_t{f.size()}, sum);
}

}  // namespace

Status reseal_index_for_testing(const std::string& dir) {
    const std::string path = join(dir, kIndexFileName);
    STRATA_ASSIGN_OR_RETURN(Bytes b, read_bytes(path));
    const auto header_bytes = get<uint32_t>(b, kOffHeaderBytes);
    if (b.size() < kIndexHeaderBytes || header_bytes < kIndexHeaderBytes ||
        header_bytes > b.size()) {
        return Status::corruption(fmt::format("{}: too short to reseal", path));
    }
    const auto count = get<uint32_t>(b, kOffFileCount);
    const auto entry_bytes = get<uint32_t>(b, kOffFileEntryBytes);
    const auto table = get<uint32_t>(b, kOffFileTable);
    for (uint32_t i = 0; i < std::min(count, kMaxFiles); ++i) {
        const size_t e = table + size_t{i} * entry_bytes;
        if (e + kFileEntryBytes > header_bytes) break;
        const auto* raw = reinterpret_cast<const char*>(b.data() + e + kEntOffName);
        const std::string name(raw, strnlen(raw, kEntNameBytes));
        const bool meta =
            get<uint32_t>(b, e + kEntOffKind) == static_cast<uint32_t>(FileKind::kMetaJson);
        STRATA_ASSIGN_OR_RETURN(const auto sealed, reseal_companion(join(dir, name), meta));
        put<uint64_t>(b, e + kEntOffFileBytes, sealed.first);
        put<uint64_t>(b, e + kEntOffXxh3, sealed.second);
    }
    const auto node_offset = get<uint64_t>(b, kOffNodeOffset);
    const auto node_length = get<uint64_t>(b, kOffNodeLength);
    const auto block = get<uint32_t>(b, kOffBlockBytes);
    const auto sum_offset = get<uint64_t>(b, kOffSumOffset);
    const auto sum_length = get<uint64_t>(b, kOffSumLength);
    if (block > 0 && node_offset + node_length <= b.size() && sum_offset + sum_length <= b.size()) {
        for (uint64_t i = 0; i * 8 < sum_length && i * block < node_length; ++i) {
            const uint64_t begin = node_offset + i * block;
            const uint64_t bytes = std::min<uint64_t>(block, node_length - i * block);
            put<uint64_t>(b, sum_offset + i * 8, xxh3_64(b.data() + begin, bytes));
        }
        put<uint64_t>(b, kOffSumXxh3, xxh3_64(b.data() + sum_offset, sum_length));
    }
    put<uint64_t>(b, header_bytes - 8, xxh3_64(b.data(), header_bytes - 8));
    return write_bytes(path, b);
}

}  // namespace strata::disk::detail
