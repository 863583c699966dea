// Process and machine facts read from /proc: resident memory (current and peak), available RAM.
#pragma once

#include <cstdint>

namespace strata {

/// Peak resident set size of this process (VmHWM), bytes; 0 if unknown.
uint64_t peak_rss_bytes();
/// Current resident set size (VmRSS), bytes; 0 if unknown.
uint64_t current_rss_bytes();
/// MemAvailable of the machine, bytes; 0 if unknown.
uint64_t mem_available_bytes();

}  // namespace strata
