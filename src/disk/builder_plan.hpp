// Memory planning for a build: what a one-shot build would need, the PQ code size the budget
// allows, and the shard layout when the one-shot build does not fit.
#pragma once

#include <cstdint>

#include <strata/builder.hpp>
#include <strata/status.hpp>
#include <strata/types.hpp>

namespace strata::disk {

struct BuildPlan {
    uint64_t budget_bytes = 0;
    uint32_t pq_bytes = 0;
    uint64_t pq_train_memory_bytes = 0;
    /// Peak of the one-shot build: max(PQ phase, graph phase).
    uint64_t one_shot_bytes = 0;
    bool partitioned = false;
    uint32_t shards = 0;  ///< 0 = decided by the sharded build from the budget
    uint32_t overlap = 2;
    uint64_t shard_budget_bytes = 0;
    uint64_t shard_bytes_per_vector = 0;
};

/// Fixed allowance for everything not proportional to the rows (code, libraries, TBB, buffers).
inline constexpr uint64_t kBuildOverheadBytes = 96ull << 20;

/// Plans a build of `rows` vectors of `dim` elements of `dtype` (after preparation).
/// ResourceExhausted when the budget cannot hold the PQ codes plus a workable shard.
Result<BuildPlan> plan_build(uint64_t rows, uint32_t dim, DType dtype, const BuildOptions& o);

}  // namespace strata::disk
