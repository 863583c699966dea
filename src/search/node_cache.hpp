// NodeCache: whole nodes (vector and neighbour list) nearest the entry points, read once at open
// and served from RAM, so the first hops of every query cost no disk read.
#pragma once

#include <cstdint>
#include <span>

#include <strata/status.hpp>

#include "core/aligned_buffer.hpp"
#include "disk/format.hpp"

namespace strata::io {
class SectorReader;
}

namespace strata::search {

class NodeCache {
  public:
    NodeCache() = default;

    /// RAM one cached node costs: its bytes plus two hash-table slots.
    static uint64_t bytes_per_node(const disk::NodeLayout& layout) {
        return layout.node_bytes + 2 * kSlotBytes;
    }

    /// Reads the nodes breadth-first from `starts` (closest levels first) until `budget_bytes`
    /// (counted with bytes_per_node) or the whole index is cached. Errors: those of the reads,
    /// Corruption for a node whose degree exceeds R or that links past node_count.
    static Result<NodeCache> build(io::SectorReader& reader, const disk::NodeLayout& layout,
                                   std::span<const uint32_t> starts, uint64_t budget_bytes);

    /// The node's bytes (decode with NodeLayout::view_node), or nullptr when not cached.
    const uint8_t* find(uint32_t id) const {
        if (count_ == 0) return nullptr;
        for (uint64_t h = hash(id);; h = (h + 1) & mask_) {
            const uint32_t slot = slots_[h];
            if (slot == kEmpty) return nullptr;
            if (keys_[h] == id) return data_.data() + uint64_t{slot} * node_bytes_;
        }
    }
    uint64_t size() const { return count_; }
    uint64_t memory_bytes() const {
        return data_.size() + (keys_.size() + slots_.size()) * sizeof(uint32_t);
    }

  private:
    static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
    static constexpr uint64_t kSlotBytes = 8;  // key + slot
    uint64_t hash(uint32_t id) const {
        return (uint64_t{id} * 0x9E3779B97F4A7C15ull >> 20) & mask_;
    }
    void insert(uint32_t id, uint32_t slot);

    uint32_t node_bytes_ = 0;
    uint64_t count_ = 0;
    uint64_t mask_ = 0;
    AlignedBuffer<uint8_t> data_;
    AlignedBuffer<uint32_t> keys_;
    AlignedBuffer<uint32_t> slots_;
};

}  // namespace strata::search
