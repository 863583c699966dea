// Node cache: breadth-first warm-up from the entry points.
#include "search/node_cache.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "io/sector_reader.hpp"

namespace strata::search {

void NodeCache::insert(uint32_t id, uint32_t slot) {
    uint64_t h = hash(id);
    while (slots_[h] != kEmpty) h = (h + 1) & mask_;
    keys_[h] = id;
    slots_[h] = slot;
}

Result<NodeCache> NodeCache::build(io::SectorReader& reader, const disk::NodeLayout& layout,
                                   std::span<const uint32_t> starts, uint64_t budget_bytes) {
    NodeCache cache;
    const uint64_t n = layout.node_count;
    const uint64_t capacity = std::min<uint64_t>(n, budget_bytes / bytes_per_node(layout));
    if (capacity == 0 || starts.empty()) return cache;
    cache.node_bytes_ = layout.node_bytes;
    cache.data_.reset(capacity * layout.node_bytes);
    const uint64_t table = std::bit_ceil(2 * capacity);
    cache.mask_ = table - 1;
    cache.keys_.reset(table);
    cache.slots_.reset(table);
    std::fill_n(cache.slots_.data(), table, kEmpty);

    std::unordered_set<uint32_t> seen;
    std::vector<uint32_t> level;
    for (uint32_t s : starts) {
        if (s < n && seen.insert(s).second) level.push_back(s);
    }
    std::vector<uint32_t> next;
    std::vector<io::ReadRequest> requests;
    Status bad;
    while (!level.empty() && cache.count_ < capacity) {
        if (level.size() > capacity - cache.count_) level.resize(capacity - cache.count_);
        requests.clear();
        for (uint32_t id : level) {
            const auto span = layout.read_span(id);
            requests.push_back({span.offset_bytes, span.length_bytes, id});
        }
        next.clear();
        STRATA_RETURN_IF_ERROR(
            reader.read_batch(requests, [&](uint64_t tag, std::span<const uint8_t> bytes) {
                const auto id = static_cast<uint32_t>(tag);
                const uint8_t* node = bytes.data() + layout.read_span(id).node_offset_bytes;
                const disk::NodeView v = layout.view_node(node);
                if (!v.valid(layout.degree_max)) {
                    bad = Status::corruption(fmt::format("{}: node {} has degree {} > R {}",
                                                         reader.file().path(), id, v.degree,
                                                         layout.degree_max));
                    return;
                }
                const auto slot = static_cast<uint32_t>(cache.count_++);
                std::memcpy(cache.data_.data() + uint64_t{slot} * cache.node_bytes_, node,
                            layout.node_bytes);
                cache.insert(id, slot);
                for (uint32_t j : v.neighbors) {
                    if (j >= n) {
                        bad = Status::corruption(fmt::format("{}: node {} links to {} beyond {}",
                                                             reader.file().path(), id, j, n));
                        return;
                    }
                    if (seen.insert(j).second) next.push_back(j);
                }
            }));
        STRATA_RETURN_IF_ERROR(bad);
        level.swap(next);
    }
    return cache;
}

}  // namespace strata::search
