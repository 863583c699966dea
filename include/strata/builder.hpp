// The offline index builder: a data set file in, a self-describing, checksummed index directory
// out (PQ codes, Vamana graph and full vectors in 4 KiB node sectors), within a memory budget.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <strata/status.hpp>
#include <strata/types.hpp>

namespace strata {

struct BuildOptions {
    /// Distance metric. cosine normalizes on ingest (stored vectors are unit-length f32).
    /// Default l2.
    Metric metric = Metric::kL2;
    /// Maximum graph degree R, in [2, 512]. Default 64.
    uint32_t degree_max = 64;
    /// Candidate list size L of the graph build, in [1, 10000]. Default 100.
    uint32_t list_size = 100;
    /// RobustPrune α, in [1, 4]. Default 1.2.
    float alpha = 1.2f;
    /// PQ code size in bytes (chunks); 0 = 32 for d <= 256, d/8 above, capped by the budget.
    /// Default 0.
    uint32_t pq_bytes = 0;
    /// Hard budget for the builder's own memory, GiB; 0 = three quarters of the available RAM.
    /// When the one-shot build would not fit, the graph is built in shards. Default 0.
    double memory_gb = 0;
    /// Worker threads; 0 = all hardware threads. Default 0.
    int threads = 0;
    /// Input format name (fbin, u8bin, i8bin, fvecs, bvecs, npy, idx) or "auto" (by
    /// extension). Default "auto".
    std::string data_format = "auto";
    /// Optional external ids file (one u64 per row: ".txt" one per line, else raw
    /// little-endian u64). Default: the row number in the data file.
    std::string ids_path;
    /// Optional labels file for filtered search (line i = the comma-separated labels of row i,
    /// DiskANN's format; an empty line = no label). The graph is then built filter-aware and the
    /// labels are stored in the index. Sharded builds (memory budget) build each shard
    /// filter-aware and re-prune the merge label-aware. Default none.
    std::string labels_path;
    /// Label ids of the index: these names take ids 0, 1, ... in this order (a collection keeps
    /// its label ids across generations); the file's other names follow. Default none.
    std::vector<std::string> label_names;
    /// Skip rows with NaN/Inf (or zero norm under cosine) instead of refusing the build; the
    /// skipped count goes to meta.json. Default false.
    bool skip_bad = false;
    /// Replace an existing index directory (atomically, when the new one is complete).
    /// Default false.
    bool force = false;
    /// Progress bars on stderr per phase. Default false (library code stays quiet).
    bool progress = false;
    /// Seed for sampling, k-means and insertion order. Default 1.
    uint64_t seed = 1;
    /// Rows PQ trains on. Default 256,000.
    uint64_t pq_train_sample = 256000;
    /// Force this many graph shards (0 = decided by the budget; 1 = one-shot). Default 0.
    uint32_t shards = 0;
    /// Fraction of the nodes sampled into the navigation graph (nav.graph), which search walks
    /// in RAM to pick its entry points; at least 256 nodes are sampled (all of a smaller
    /// index). 0 = no navigation graph (search starts at the medoid). In [0, 0.1]. Default 0.01.
    double nav_fraction = 0.01;
    /// Maximum degree of the navigation graph, in [2, 128]. Default 32.
    uint32_t nav_degree = 32;
    /// When several nodes share a 4 KiB sector, order the nodes so that graph neighbours share
    /// sectors (one read then brings nodes the search expands next). One-shot builds only; the
    /// external ids are unchanged. Default true.
    bool pack_sectors = true;

    Status validate() const;
};

/// What a build did, with timings and memory.
struct BuildReport {
    uint64_t rows_read = 0;
    uint64_t rows_indexed = 0;
    uint64_t rows_skipped = 0;
    uint32_t dim = 0;
    DType dtype = DType::kF32;  ///< stored element type (f32 for cosine)
    uint32_t pq_bytes = 0;
    bool partitioned = false;
    uint32_t shards = 1;
    uint64_t largest_shard = 0;
    uint32_t entry_point = 0;
    double average_degree = 0;
    uint32_t max_degree = 0;
    uint64_t memory_budget_bytes = 0;
    uint64_t estimated_one_shot_bytes = 0;
    uint64_t peak_rss_bytes = 0;
    double seconds_prepare = 0;  ///< scan, validation, normalization
    double seconds_pq_train = 0;
    double seconds_pq_encode = 0;
    double seconds_graph = 0;    ///< partitioned: partition + shard builds + merge
    double seconds_layout = 0;   ///< writing node sectors (partitioned: inside the merge)
    double seconds_nav = 0;      ///< sampling and building the navigation graph
    uint64_t nav_samples = 0;    ///< nodes in the navigation graph (0 = none)
    bool sector_packed = false;  ///< nodes reordered so that graph neighbours share sectors
    uint32_t label_count = 0;    ///< distinct labels stored (0 = no labels file)
    double seconds_total = 0;
};

/// Builds an index directory at `out_dir` from the vectors in `data_path`.
/// Errors (nothing is left at out_dir on any error): InvalidArgument for bad options, bad rows
/// (NaN/Inf/zero norm, named by row, unless skip_bad) or a bad ids file; NotFound/Corruption/
/// NotSupported for the data file (see io::Dataset); AlreadyExists when out_dir exists and
/// force is false; IOError when out_dir cannot be written; ResourceExhausted when the budget
/// cannot hold even the PQ codes. Runs on its own TBB arena; safe to call from any thread.
Result<BuildReport> build_index(const std::string& data_path, const std::string& out_dir,
                                const BuildOptions& options);

}  // namespace strata
