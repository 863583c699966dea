// DiskIndex: k-NN search over an index directory that stays on the SSD. Only the PQ codes, the
// navigation graph and an optional node cache live in RAM; each expanded node costs one 4 KiB
// O_DIRECT read through io_uring (or pread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <strata/filter.hpp>
#include <strata/status.hpp>
#include <strata/types.hpp>

namespace strata {

/// How a query keeps its reads in flight.
enum class SearchMode : uint8_t {
    /// Up to beam_width reads in flight; each completed node is scored at once and the next
    /// read is issued as soon as a slot frees (PipeANN-style). Default.
    kPipelined,
    /// DiskANN's synchronous rounds: read the beam_width closest unexpanded candidates, wait for
    /// all of them, expand them, repeat.
    kRounds,
};

/// How a query with a label filter is answered.
enum class FilterPlan : uint8_t {
    /// Scan when the matches estimated from the label counts are at most scan_limit, else walk
    /// the graph. Default.
    kAuto,
    /// Walk the filter-aware graph from the filter's label start nodes, expanding only nodes
    /// that carry one of the labels of the filter's most selective clause.
    kGraph,
    /// Score every matching node by PQ in RAM and re-rank the list_size best by their full
    /// vectors (exact when at most list_size nodes match).
    kScan,
};

/// "pipelined", "rounds"; parse accepts the same names.
const char* search_mode_name(SearchMode mode);
Result<SearchMode> parse_search_mode(const std::string& name);

/// Fixed at open.
struct DiskIndexOptions {
    /// Node cache budget in bytes: the nodes nearest the entry point (breadth-first from the
    /// medoid and the navigation graph's nodes) are read at open and served from RAM. Default 0.
    uint64_t cache_bytes = 0;
    /// I/O engine: "auto" (io_uring, else pread with one warning), "uring" or "pread".
    std::string io = "auto";
    /// Start each query from the navigation graph's best node when the index has one (else from
    /// the medoid). Default true.
    bool use_nav_graph = true;
    /// Largest candidate list a query may ask for; sizes each thread's scratch. In [1, 10000].
    /// Default 1000.
    uint32_t max_list_size = 1000;
    /// Largest beam width a query may ask for, in [1, 64]. Default 16.
    uint32_t max_beam_width = 16;
    Status validate() const;
};

/// Per query.
struct SearchParams {
    /// Neighbours returned, in [1, list_size]. Default 10.
    uint32_t k = 10;
    /// Candidate list size L, in [k, max_list_size]: larger is slower and more accurate.
    /// Default 100.
    uint32_t list_size = 100;
    /// Reads in flight per query (W), in [1, max_beam_width]. Default 4.
    uint32_t beam_width = 4;
    SearchMode mode = SearchMode::kPipelined;
    /// Optional result filter: a node enters the results only when filter(external id,
    /// filter_context) is true; refused nodes are still traversed, so the search goes on past
    /// them (tombstoned or superseded ids of a collection). Called from the searching thread,
    /// several times per query: keep it cheap and thread-safe. Default none (every node).
    bool (*filter)(uint64_t id, const void* context) = nullptr;
    const void* filter_context = nullptr;
    /// Optional label filter (the index must hold labels): only matching nodes are returned,
    /// and the result holds min(k, matching nodes) items. Not owned; must outlive the call.
    const LabelFilter* label_filter = nullptr;
    FilterPlan filter_plan = FilterPlan::kAuto;
    /// kAuto scans when at most this many nodes may match; 0 = 50 * list_size.
    uint64_t scan_limit = 0;
};

/// What one query cost.
struct QueryStats {
    uint32_t reads = 0;            ///< node reads sent to the disk
    uint64_t bytes_read = 0;       ///< bytes of those reads
    uint32_t hops = 0;             ///< nodes expanded (read, served by the cache, or sector mates)
    uint32_t mate_expansions = 0;  ///< of those, nodes expanded because they shared a read sector
    uint32_t cache_hits = 0;       ///< expansions served by the node cache
    uint32_t nav_hops = 0;         ///< navigation-graph nodes expanded to find the entry point
    uint32_t io_us = 0;            ///< microseconds blocked waiting for reads
    uint32_t cpu_us = 0;           ///< the rest of the query's wall time
    uint32_t total_us = 0;         ///< wall time of the query
    uint32_t scanned = 0;          ///< nodes a filter scan scored by PQ (0: graph walk only)
};

/// What an open index holds and what it costs in RAM.
struct DiskIndexInfo {
    std::string dir;
    Metric metric = Metric::kL2;
    DType dtype = DType::kF32;
    uint32_t dim = 0;
    uint64_t node_count = 0;
    uint32_t degree_max = 0;
    uint32_t pq_bytes = 0;
    uint32_t nodes_per_sector = 0;
    uint32_t entry_point = 0;
    uint32_t nav_nodes = 0;     ///< 0 when the navigation graph is absent or disabled
    uint64_t cache_nodes = 0;   ///< nodes held by the node cache
    std::string io_backend;     ///< "uring" or "pread"
    bool direct_io = false;     ///< O_DIRECT in effect
    uint64_t pq_ram_bytes = 0;  ///< PQ codes and codebook
    uint64_t ids_ram_bytes =
        0;  ///< external ids (0 when they are the row numbers; 4 B each when they fit in u32)
    uint64_t nav_ram_bytes = 0;     ///< navigation graph
    uint64_t cache_ram_bytes = 0;   ///< node cache, data and index
    double open_seconds = 0;        ///< open, including the cache warm-up
    uint32_t label_count = 0;       ///< distinct filter labels (0: the index has no labels)
    uint64_t labels_ram_bytes = 0;  ///< node labels, per-label postings and names
};

/// An open index. Thread-safe: any number of threads may search at once; each borrows a
/// per-thread scratch (an I/O ring and buffers) from a pool, so the search path does not
/// allocate once every thread has run one query.
class DiskIndex {
  public:
    /// Opens the index directory `dir` (checked as IndexReader::open does), loads the PQ codes,
    /// the ids and the navigation graph, and fills the node cache. Errors: those of opening the
    /// index (NotFound, Corruption, NotSupported, IOError), InvalidArgument for bad options,
    /// NotSupported when io = "uring" and io_uring is unavailable.
    static Result<std::unique_ptr<DiskIndex>> open(const std::string& dir,
                                                   const DiskIndexOptions& options = {});
    ~DiskIndex();
    DiskIndex(const DiskIndex&) = delete;
    DiskIndex& operator=(const DiskIndex&) = delete;

    const DiskIndexInfo& info() const;

    /// The k nearest neighbours of `query` (`dim` elements of `dtype`: the index's dtype, or f32
    /// holding integral values for a u8/i8 index), closest first: external ids into `ids` and
    /// metric distances (l2 squared, ip -dot, cosine 1 - cos) into `dists` (may be null). When
    /// the index holds fewer than k reachable nodes the tail is ids UINT64_MAX, dists +inf.
    /// Errors, with nothing written: InvalidArgument for a wrong dimension or dtype, NaN or
    /// infinity, a zero query under cosine, or params out of range; IOError/Corruption when a
    /// read fails (never a silent short result).
    Status search(const void* query, DType dtype, uint32_t dim, const SearchParams& params,
                  uint64_t* ids, float* dists, QueryStats* stats = nullptr) const;

    /// search() for `nq` queries (rows `stride_bytes` apart) on `threads` threads (0 = all
    /// cores). Writes nq * k ids/dists and, when `stats` is not null, nq stats. Returns the
    /// first error (the other queries' results are then unspecified).
    Status search_batch(const void* queries, DType dtype, uint32_t dim, uint64_t nq,
                        size_t stride_bytes, const SearchParams& params, int threads, uint64_t* ids,
                        float* dists, QueryStats* stats = nullptr) const;

    /// Parses a Qdrant-style label filter, resolving label names against this index:
    /// {"must"|"should"|"must_not": [{"key": "label", "match": {"value": "x"} | {"any": [...]}}]}.
    /// Labels named "field=value" are fields: {"key": "field", "match": {"value": v}} matches
    /// the label "field=v", and {"key": "field", "range": {"gte": a, "lt": b}} every label
    /// "field=<number>" with a <= number < b. A name the index does not know makes its clause
    /// match nothing. InvalidArgument naming the part for malformed JSON, unknown fields, a key
    /// no label's field is, a range on key "label", and when the index holds no labels.
    Result<LabelFilter> parse_filter(std::string_view json) const;

    /// The nodes `filter` may match, estimated from the label counts and a sample (what kAuto
    /// plans by); 0 only when no node can match.
    uint64_t estimate_matches(const LabelFilter& filter) const;

    /// The label ids of node `node` (< info().node_count; asserted), ascending; empty when the
    /// index holds no labels. Valid while the index is open.
    std::span<const uint32_t> node_labels(uint64_t node) const;
    /// The name of label `id` (< info().label_count; asserted).
    const std::string& label_name(uint32_t id) const;

    /// External id of internal node `node` (< info().node_count; asserted).
    uint64_t external_id(uint64_t node) const;
    /// Copies node `node`'s stored vector (dim elements of info().dtype; unit-length f32 under
    /// cosine) to `out` with one read. OutOfRange for a node beyond the index, IOError or
    /// Corruption when the read fails. Thread-safe.
    Status read_vector(uint64_t node, void* out) const;

    struct Impl;

  private:
    friend struct DiskIndexTestAccess;  // fault injection in tests (src/search/testing_hooks)
    explicit DiskIndex(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strata
