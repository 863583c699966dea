// Small helpers on ascending id sets (label sets of filtered search).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>

namespace strata {

/// True when the ascending sets `a` and `b` share an element: a merge walk, or binary searches
/// of the smaller set's elements when one is much larger (a range condition's clause of many
/// labels against a row's few).
inline bool sorted_intersects(std::span<const uint32_t> a, std::span<const uint32_t> b) {
    if (a.size() < b.size()) std::swap(a, b);
    if (a.size() > 16 * b.size()) {
        for (uint32_t x : b) {
            if (std::binary_search(a.begin(), a.end(), x)) return true;
        }
        return false;
    }
    auto i = a.begin();
    auto j = b.begin();
    while (i != a.end() && j != b.end()) {
        if (*i == *j) return true;
        if (*i < *j) {
            ++i;
        } else {
            ++j;
        }
    }
    return false;
}

}  // namespace strata
