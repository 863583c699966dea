// Labels of a graph's nodes (filtered search): a CSR view, its checks, the per-label start nodes
// of the filter-aware build, and the label-aware occlusion test of FilteredRobustPrune.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include <strata/status.hpp>

namespace strata::graph {

/// Labels of the store's nodes as CSR: node i carries labels[offsets[i] .. offsets[i + 1]),
/// ascending, each < label_count.
struct LabelView {
    std::span<const uint64_t> offsets;  ///< nodes + 1 entries
    std::span<const uint32_t> labels;
    uint32_t label_count = 0;
    /// Nodes per label (set by the filter-aware build): a node's edge reservation and label walk
    /// then serve its rarest label. Empty: every label of the node alike.
    std::span<const uint32_t> counts;
    std::span<const uint32_t> of(uint32_t node) const {
        return labels.subspan(offsets[node], offsets[node + 1] - offsets[node]);
    }
    /// The labels a node's label-sharing edges serve: its rarest label alone (ties: the lower
    /// id) when counts are set, else all its labels. A rare label's nodes need edges among
    /// themselves; a node's common labels (a numeric field's value shared by thousands) would
    /// otherwise take the reserved slots. Points into `out` or into the view.
    std::span<const uint32_t> served(uint32_t node, uint32_t& out) const {
        const auto own = of(node);
        if (counts.empty() || own.size() <= 1) return own;
        out = own[0];
        for (uint32_t l : own) {
            if (counts[l] < counts[out]) out = l;
        }
        return {&out, 1};
    }
};

/// InvalidArgument when `labels` does not describe `nodes` nodes (offsets size and order, ids
/// ascending and below label_count).
Status check_labels(const LabelView& labels, uint64_t nodes);

/// One start node per label, load-balanced (Filtered-DiskANN): among up to 32 sampled carriers
/// of each label, the one that starts the fewest labels so far. UINT32_MAX for a label no node
/// carries. Deterministic in `seed`.
std::vector<uint32_t> choose_label_starts(const LabelView& labels, uint64_t seed);

/// FilteredRobustPrune's condition: kept neighbour `s` may stand in for candidate `c` of node
/// `p` only when s carries every label p and c share. Arguments are the three label sets.
inline bool covers_shared(std::span<const uint32_t> p, std::span<const uint32_t> c,
                          std::span<const uint32_t> s) {
    auto i = p.begin();
    auto j = c.begin();
    while (i != p.end() && j != c.end()) {
        if (*i == *j) {
            if (!std::binary_search(s.begin(), s.end(), *i)) return false;
            ++i;
            ++j;
        } else if (*i < *j) {
            ++i;
        } else {
            ++j;
        }
    }
    return true;
}

}  // namespace strata::graph
