#include "graph/labels.hpp"

#include <fmt/format.h>

#include "core/rng.hpp"

namespace strata::graph {

Status check_labels(const LabelView& labels, uint64_t nodes) {
    if (labels.offsets.size() != nodes + 1 || labels.offsets.front() != 0 ||
        labels.offsets.back() != labels.labels.size()) {
        return Status::invalid_argument(fmt::format("labels cover {} rows; the graph has {}",
                                                    labels.offsets.size() - 1, nodes));
    }
    for (uint64_t i = 0; i < nodes; ++i) {
        if (labels.offsets[i + 1] < labels.offsets[i]) {
            return Status::invalid_argument(fmt::format("row {}: label offsets go backwards", i));
        }
        const auto l = labels.of(static_cast<uint32_t>(i));
        for (size_t j = 0; j < l.size(); ++j) {
            if (l[j] >= labels.label_count || (j > 0 && l[j] <= l[j - 1])) {
                return Status::invalid_argument(fmt::format(
                    "row {}: labels must be ascending ids below {}", i, labels.label_count));
            }
        }
    }
    return Status::ok();
}

std::vector<uint32_t> choose_label_starts(const LabelView& labels, uint64_t seed) {
    const auto n = static_cast<uint32_t>(labels.offsets.size() - 1);
    std::vector<uint32_t> start(labels.label_count, UINT32_MAX);
    std::vector<std::vector<uint32_t>> carriers(labels.label_count);
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t l : labels.of(i)) carriers[l].push_back(i);
    }
    Rng rng(seed);
    std::vector<uint32_t> load(n, 0);
    for (uint32_t l = 0; l < labels.label_count; ++l) {
        const auto& c = carriers[l];
        if (c.empty()) continue;
        uint32_t best = UINT32_MAX;
        for (int t = 0; t < 32; ++t) {
            const uint32_t cand = c[rng.below(c.size())];
            if (best == UINT32_MAX || load[cand] < load[best]) best = cand;
        }
        start[l] = best;
        ++load[best];
    }
    return start;
}

}  // namespace strata::graph
