// Build memory planning.
#include "disk/builder_plan.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <tbb/task_arena.h>

#include "core/sysinfo.hpp"
#include "graph/sharded_build.hpp"
#include "quant/pq.hpp"

namespace strata::disk {

Result<BuildPlan> plan_build(uint64_t rows, uint32_t dim, DType dtype, const BuildOptions& o) {
    BuildPlan plan;
    const uint64_t threads =
        static_cast<uint64_t>(o.threads > 0 ? o.threads : tbb::this_task_arena::max_concurrency());
    plan.budget_bytes = o.memory_gb > 0 ? static_cast<uint64_t>(o.memory_gb * 1073741824.0)
                                        : mem_available_bytes() / 4 * 3;
    if (plan.budget_bytes == 0) plan.budget_bytes = 4ull << 30;
    // PQ codes stay resident through the PQ phase; give them at most a quarter of the budget.
    STRATA_ASSIGN_OR_RETURN(plan.pq_bytes,
                            quant::resolve_pq_bytes(o.pq_bytes, dim, rows, plan.budget_bytes / 4));
    const uint64_t codes = rows * plan.pq_bytes;
    plan.pq_train_memory_bytes = std::min<uint64_t>(1ull << 30, plan.budget_bytes / 4);
    const uint64_t sample = std::min<uint64_t>(rows, o.pq_train_sample);
    const uint64_t pq_phase =
        codes + std::min<uint64_t>(plan.pq_train_memory_bytes, sample * dim * 4) * 2;
    // Graph phase: the store (rows padded to 64 B; MIPS adds a float coordinate, cosine is f32),
    // adjacency with slack, degree + lock, per-thread visited marks, insertion order.
    const uint64_t elem = o.metric == Metric::kInnerProduct ? 4 : dtype_size(dtype);
    const uint64_t store_dim = dim + (o.metric == Metric::kInnerProduct ? 1 : 0);
    const uint64_t stride = (store_dim * elem + 63) / 64 * 64;
    const auto capacity = static_cast<uint64_t>(std::ceil(1.3f * static_cast<float>(o.degree_max)));
    // With sector packing the PQ codes wait through the graph phase for the node order.
    const uint64_t per_vector =
        stride + capacity * 4 + 5 + 4 * threads + 4 + (o.pack_sectors ? plan.pq_bytes : 0);
    const uint64_t graph_phase = rows * per_vector;
    plan.one_shot_bytes = std::max(pq_phase, graph_phase) + kBuildOverheadBytes;
    plan.partitioned = o.shards > 1 || (o.shards == 0 && plan.one_shot_bytes > plan.budget_bytes);
    if (!plan.partitioned) return plan;

    plan.shards = o.shards;
    plan.shard_bytes_per_vector = per_vector + 8;  // + the shard's member id list and merge maps
    const uint64_t reserved = kBuildOverheadBytes + 8 * (1ull << 20) * threads;
    if (plan.budget_bytes <= reserved ||
        plan.budget_bytes - reserved < 2000 * plan.shard_bytes_per_vector) {
        return Status::resource_exhausted(fmt::format(
            "a memory budget of {:.2f} GiB cannot hold a shard of even 2,000 vectors ({} bytes "
            "each) beside {} MiB of fixed overhead",
            static_cast<double>(plan.budget_bytes) / 1073741824.0, plan.shard_bytes_per_vector,
            reserved >> 20));
    }
    plan.shard_budget_bytes = plan.budget_bytes - reserved;
    return plan;
}

}  // namespace strata::disk
