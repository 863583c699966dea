// FOR TESTS ONLY: hooks into a DiskIndex that production code never calls.
#pragma once

#include <optional>

#include <strata/disk_index.hpp>

#include "io/sector_reader.hpp"

namespace strata::search::testing {

/// Every per-thread scratch created after this call reads through `faults` (each new reader
/// counts ops from 0); pooled scratches are dropped. std::nullopt restores plain reads.
void set_fault_injection(const DiskIndex& index, std::optional<io::FaultInjection> faults);

}  // namespace strata::search::testing
