// The SSD beam search: PQ-guided best-first search over the on-disk Vamana graph, reading each
// expanded node's sector through a SectorReader and re-ranking by exact distance.
#pragma once

#include <cstdint>
#include <memory>

#include <strata/disk_index.hpp>
#include <strata/status.hpp>

#include "core/aligned_buffer.hpp"
#include "disk/format.hpp"
#include "disk/labels_file.hpp"
#include "disk/nav_graph.hpp"
#include "distance/distance.hpp"
#include "io/sector_reader.hpp"
#include "quant/pq.hpp"
#include "search/node_cache.hpp"

namespace strata::search {

/// Everything a query reads and nothing it writes: shared by all threads.
struct IndexContext {
    disk::NodeLayout layout;
    Metric metric = Metric::kL2;
    const quant::PqCodebook* pq = nullptr;
    const uint8_t* codes = nullptr;             ///< node_count * pq_bytes
    const NodeCache* cache = nullptr;           ///< may be empty
    const disk::NavGraph* nav = nullptr;        ///< null: start at the medoid
    const disk::IndexLabels* labels = nullptr;  ///< null: the index has no labels
    uint32_t medoid = 0;
    /// Node -> external id: ids32 or ids64 when set, else the node id itself.
    const uint32_t* ids32 = nullptr;
    const uint64_t* ids64 = nullptr;
    distance::DistanceFn exact = nullptr;  ///< index dtype, metric
    uint32_t max_list_size = 0;
    uint32_t max_beam_width = 0;
    /// Candidates the navigation graph's walk keeps, and how many of its best seed the disk
    /// search. One seed read fewer sectors than 8 or 32 for the same recall (Fashion-MNIST).
    uint32_t nav_list_size = 32;
    uint32_t nav_seeds = 1;

    /// Most expansions a query may make: 2L + 64 (a bound the search never reaches in practice;
    /// it sizes the visited table so that the search path never grows it).
    static uint32_t max_hops(uint32_t list_size) { return 2 * list_size + 64; }

    uint64_t external_id(uint32_t node) const {
        if (ids32 != nullptr) return ids32[node];
        return ids64 != nullptr ? ids64[node] : node;
    }
};

/// One neighbour: distance and internal node id.
struct Scored {
    float dist;
    uint32_t id;
};

/// Per-thread state of a query: the I/O ring, the prepared query, PQ table, candidate list,
/// visited set and results, all sized at creation for the context's maximum L and W.
class QueryScratch {
  public:
    /// `faults` (tests only; may be null) are injected in front of the reader's backend.
    static Result<std::unique_ptr<QueryScratch>> create(const IndexContext& ctx,
                                                        std::shared_ptr<const io::SectorFile> file,
                                                        const io::FaultInjection* faults = nullptr);

    /// Query buffers the caller fills before beam_search: `query` in the index dtype (already
    /// normalized for cosine), `query_f32` the same values as floats.
    uint8_t* query() { return query_.data(); }
    float* query_f32() { return query_f32_.data(); }
    io::SectorReader& reader() { return *reader_; }
    /// The last query's results, closest first (beam_search returns how many).
    const Scored* results() const { return results_.data(); }
    /// True when a failed query could not drain its reads: the ring must not be reused.
    bool broken() const { return broken_; }

  private:
    friend class BeamSearch;
    QueryScratch() = default;

    struct Cand {
        float dist;
        uint32_t id;
        uint32_t state;  // kNew, kInFlight, kDone
    };

    std::unique_ptr<io::SectorReader> reader_;
    AlignedBuffer<uint8_t> query_;
    AlignedBuffer<float> query_f32_;
    AlignedBuffer<float> table_;
    AlignedBuffer<Cand> list_;
    AlignedBuffer<Scored> results_;
    AlignedBuffer<uint32_t> visited_keys_;
    AlignedBuffer<uint32_t> visited_epoch_;
    AlignedBuffer<uint8_t> visited_flags_;  // 1 = expanded
    uint64_t visited_mask_ = 0;
    uint32_t epoch_ = 0;
    AlignedBuffer<uint32_t> fresh_ids_;
    AlignedBuffer<float> fresh_dists_;
    std::unique_ptr<io::ReadCompletion[]> completions_;
    AlignedBuffer<uint64_t> inflight_sectors_;  // sectors of the reads in flight (<= W)
    uint32_t inflight_count_ = 0;
    bool broken_ = false;
    // Navigation walk.
    AlignedBuffer<Cand> nav_list_;
    AlignedBuffer<uint32_t> nav_epoch_;
    AlignedBuffer<uint32_t> nav_ids_;
    AlignedBuffer<uint32_t> nav_nodes_;
    AlignedBuffer<float> nav_dists_;
    // Filtered queries: the labels the walk is restricted to (a clause, or the union of the
    // should clauses), and the seeds from their start nodes.
    std::vector<uint32_t> walk_labels_;
    std::vector<Scored> seeds_;
};

/// What a filter may match, from the label postings.
struct FilterEstimate {
    uint64_t walk_nodes = 0;  ///< nodes of the walk clause (every node without one)
    uint64_t matches = 0;     ///< estimated matching nodes (0 only when none can match)
};

/// The most selective positive clause of `filter` (a must clause, or the union of the should
/// clauses) into `clause` (ascending; empty when the filter has none), its node count from the
/// label postings, and the matches estimated by testing the whole filter on an evenly spaced
/// sample of 256 of those nodes when other clauses narrow them.
FilterEstimate plan_filter(const disk::IndexLabels& labels, const LabelFilter& filter,
                           std::vector<uint32_t>& clause);

/// Runs one query with the scratch's prepared query; leaves min(k, found) results (closest
/// first) in scratch.results() and returns how many. Params must already be validated against
/// the context.
Result<uint32_t> beam_search(const IndexContext& ctx, const SearchParams& params,
                             QueryScratch& scratch, QueryStats& stats);

}  // namespace strata::search
