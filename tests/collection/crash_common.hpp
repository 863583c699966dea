// Shared by crash_child and crash_test: the collection's parameters and the vector of (id,
// version).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <strata/collection.hpp>

namespace strata::crash {

inline constexpr uint32_t kDim = 16;

inline CollectionParams params() {
    CollectionParams p;
    p.dim = kDim;
    p.degree_max = 24;
    p.list_size = 64;
    p.pq_bytes = 8;
    return p;
}

inline CollectionOptions child_options() {
    CollectionOptions o;
    o.background = true;
    o.consolidate_at = 300;
    o.consolidation_threads = 1;
    o.validation_queries = 50;
    o.recall_margin = 1;  // the crash test is about durability, not recall
    o.disk.io = "pread";
    return o;
}

inline std::vector<float> vector_for(uint64_t seed, uint64_t id, uint32_t version) {
    std::mt19937_64 rng(seed * 1000003 + id * 131 + version);
    std::normal_distribution<float> nd(0, 1);
    std::vector<float> v(kDim);
    for (auto& x : v) x = static_cast<float>(id % 5) + nd(rng);
    return v;
}

}  // namespace strata::crash
