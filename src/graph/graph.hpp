// A directed graph over dense ids with a fixed per-node capacity, stored in one array:
// node i owns slots [i*capacity, (i+1)*capacity) and a degree. Optional per-node spin locks make
// it safe to read and rewrite neighbour lists concurrently during a build.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include <tbb/spin_mutex.h>

#include "core/check.hpp"

namespace strata::graph {

class Graph {
  public:
    Graph() = default;
    /// `capacity` slots per node (the build lets lists grow past R before pruning back).
    Graph(uint32_t nodes, uint32_t capacity)
        : nodes_(nodes),
          capacity_(capacity),
          degree_(nodes, 0),
          ids_(size_t{nodes} * capacity),
          locks_(nodes) {}

    uint32_t size() const { return nodes_; }
    uint32_t capacity() const { return capacity_; }
    uint32_t degree(uint32_t node) const { return degree_[node]; }
    /// Unlocked view; valid while nobody rewrites the node (after the build, or under lock()).
    std::span<const uint32_t> neighbors(uint32_t node) const {
        return {ids_.data() + size_t{node} * capacity_, degree_[node]};
    }
    /// Replaces the list. Caller holds the node's lock when others may read it.
    void set_neighbors(uint32_t node, std::span<const uint32_t> ids) {
        STRATA_CHECK(ids.size() <= capacity_);
        std::copy(ids.begin(), ids.end(),
                  ids_.begin() + static_cast<ptrdiff_t>(size_t{node} * capacity_));
        degree_[node] = static_cast<uint32_t>(ids.size());
    }
    /// Appends when there is room; returns false when full. Caller holds the lock.
    bool try_append(uint32_t node, uint32_t id) {
        if (degree_[node] >= capacity_) return false;
        ids_[size_t{node} * capacity_ + degree_[node]++] = id;
        return true;
    }
    /// Copies the list under the node's lock into `out` (capacity() slots); returns the count.
    uint32_t copy_neighbors_locked(uint32_t node, uint32_t* out) const {
        tbb::spin_mutex::scoped_lock lock(locks_[node]);
        const uint32_t d = degree_[node];
        std::copy_n(ids_.data() + size_t{node} * capacity_, d, out);
        return d;
    }
    tbb::spin_mutex& lock(uint32_t node) const { return locks_[node]; }

    /// Bytes held by the adjacency arrays.
    size_t memory_bytes() const {
        return ids_.size() * sizeof(uint32_t) + degree_.size() * sizeof(uint32_t) + locks_.size();
    }
    uint64_t edge_count() const {
        uint64_t e = 0;
        for (uint32_t d : degree_) e += d;
        return e;
    }
    uint32_t max_degree() const {
        return degree_.empty() ? 0 : *std::max_element(degree_.begin(), degree_.end());
    }
    /// Drops the spare capacity: every node keeps its list, capacity becomes `new_capacity`
    /// (at least the largest degree).
    void shrink_capacity(uint32_t new_capacity);

  private:
    uint32_t nodes_ = 0;
    uint32_t capacity_ = 0;
    std::vector<uint32_t> degree_;
    std::vector<uint32_t> ids_;
    mutable std::vector<tbb::spin_mutex> locks_;
};

}  // namespace strata::graph
