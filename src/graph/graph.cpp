// Graph storage.
#include "graph/graph.hpp"

namespace strata::graph {

void Graph::shrink_capacity(uint32_t new_capacity) {
    new_capacity = std::max(new_capacity, max_degree());
    if (new_capacity == capacity_) return;
    std::vector<uint32_t> ids(size_t{nodes_} * new_capacity);
    for (uint32_t i = 0; i < nodes_; ++i) {
        std::copy_n(ids_.data() + size_t{i} * capacity_, degree_[i],
                    ids.data() + size_t{i} * new_capacity);
    }
    ids_.swap(ids);
    capacity_ = new_capacity;
}

}  // namespace strata::graph
