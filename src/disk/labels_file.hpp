// The labels companion of a filter-aware index: every node's label ids (CSR), each label's name
// and start node, and per-label postings built at load for the planner and for scans.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <strata/status.hpp>

#include "graph/labels.hpp"

namespace strata::disk {

/// Payload of `labels` (little-endian): u32 label_count, u32 reserved (0), u64 node_count,
/// u64 entries; u32 start[label_count] (node ids, 0xFFFFFFFF for none); u64 offsets[node_count
/// + 1]; u32 labels[entries] (each node's ids ascending); then label_count names, each a u16
/// byte length and its bytes (1-256 bytes, unique).
struct IndexLabels {
    std::vector<std::string> names;
    std::vector<uint32_t> start;
    std::vector<uint64_t> offsets;
    std::vector<uint32_t> labels;
    // Built by decode / finish(): not stored.
    std::vector<uint64_t> posting_offsets;  ///< label_count + 1
    std::vector<uint32_t> postings;         ///< nodes of each label, ascending
    std::unordered_map<std::string, uint32_t> ids;

    uint32_t label_count() const { return static_cast<uint32_t>(names.size()); }
    uint64_t node_count() const { return offsets.size() - 1; }
    std::span<const uint32_t> of(uint32_t node) const {
        return {labels.data() + offsets[node], labels.data() + offsets[node + 1]};
    }
    /// Nodes carrying `label` (empty for kUnknown or an id out of range).
    std::span<const uint32_t> nodes_of(uint32_t label) const {
        if (label >= label_count()) return {};
        return {postings.data() + posting_offsets[label],
                postings.data() + posting_offsets[label + 1]};
    }
    graph::LabelView view() const { return {offsets, labels, label_count(), {}}; }
    /// The id of `name`, or UINT32_MAX.
    uint32_t resolve(std::string_view name) const;
    /// Heap bytes held (stored arrays, postings, names).
    uint64_t memory_bytes() const;
    /// Builds postings and the name map from names/offsets/labels.
    void finish();

    std::string encode() const;
    /// Parses and checks a payload for an index of `node_count` nodes: Corruption (naming
    /// `source`) for a short or inconsistent payload, labels not ascending or out of range, a
    /// start node out of range or not carrying its label, empty, long or repeated names.
    static Result<IndexLabels> decode(std::string_view payload, uint64_t node_count,
                                      std::string_view source);
};

}  // namespace strata::disk
