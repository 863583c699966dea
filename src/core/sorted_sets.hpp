// Small helpers on ascending id sets (label sets of filtered search).
#pragma once

#include <cstdint>
#include <span>

namespace strata {

/// True when the ascending sets `a` and `b` share an element (a merge walk).
inline bool sorted_intersects(std::span<const uint32_t> a, std::span<const uint32_t> b) {
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
