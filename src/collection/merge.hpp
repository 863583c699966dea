// Consolidation: writes the next disk generation from the current one plus the frozen hot
// tiers minus the deleted nodes, FreshDiskANN-style (Singh et al. 2021):
//   read     stream the old index once: kept vectors and the whole old graph into RAM;
//   delete   every kept node that lost neighbours is re-pruned over its kept neighbours and
//            the kept neighbours of its deleted neighbours;
//   insert   the new vectors are linked by greedy search on the edited graph, RobustPrune and
//            reverse edges (in parallel);
//   write    the builder lays the graph out (PQ, sector packing, navigation graph, checksums).
// Inner product falls back to a full build (its graph lives in an augmented space), as does
// the first generation. Then recall@10 of the new index is measured against exact search.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <strata/collection.hpp>

#include "collection/tiers.hpp"

namespace strata::collection {

struct MergeInputs {
    CollectionParams params;
    const Generation* old = nullptr;  ///< null for the first generation
    std::vector<uint8_t> old_dead;    ///< per old node, 1 = leave out
    /// New vectors in stored form: (id, row); the rows stay valid during the merge.
    std::vector<std::pair<uint64_t, const void*>> inserts;
    /// Label ids of each insert (parallel to inserts; empty rows when unlabelled).
    std::vector<std::vector<uint32_t>> insert_labels;
    /// The collection's label names by id; empty when no label was ever written. With labels
    /// the generation is filter-aware: the incremental merge repairs and inserts with
    /// FilteredRobustPrune and label walks, a full build runs the filter-aware build.
    std::vector<std::string> label_names;
    std::string out_dir;      ///< the generation directory to write (must not exist)
    std::string temp_prefix;  ///< path prefix of temp files (removed on return)
    int threads = 1;
    double memory_gb = 0;   ///< 0 = 3/4 of the available RAM
    double read_mib_s = 0;  ///< throttle of the old-generation read pass; 0 = none
    uint32_t validation_queries = 200;
    uint64_t seed = 1;
};

/// Writes in.out_dir and fills the report's counts, timings and recall (not swapped/reason).
/// On error nothing is left at out_dir.
Result<ConsolidationReport> merge_generation(const MergeInputs& in);

/// Writes external ids as raw little-endian u64 (the builder's ids file), atomically.
Status write_ids(const std::string& path, const std::vector<uint64_t>& ids);

/// recall@10 at L=100 of the index in `index_dir` on `queries` sampled from the rows of
/// `data_path` (each 0.9 x a random row + 0.1 x another: near the data, as real queries are)
/// against exact search over those rows, whose external ids are `ids`. The sample positions
/// are fixed, so that successive generations are checked alike.
Result<double> measure_recall(const std::string& index_dir, const std::string& data_path,
                              const std::vector<uint64_t>& ids, Metric metric, uint32_t queries,
                              int threads);

}  // namespace strata::collection
