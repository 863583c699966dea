// Collection: a directory that takes writes while it serves. Upserts and deletes go to a
// write-ahead log and an in-RAM HNSW hot tier; searches merge the hot tier with the current
// disk generation; a consolidation folds the hot tier and the deletes into the next generation
// in the background and swaps it in atomically.
//
// Directory: MANIFEST (the committed state), gen-<N>/ (disk indexes), wal/ (the log).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <strata/builder.hpp>
#include <strata/disk_index.hpp>
#include <strata/status.hpp>
#include <strata/types.hpp>

namespace strata {

/// Fixed when the collection is created.
struct CollectionParams {
    /// Vector dimension, in [1, kMaxDimension]. No default.
    uint32_t dim = 0;
    Metric metric = Metric::kL2;
    /// Element type of the vectors written (cosine: f32 only). Default f32.
    DType dtype = DType::kF32;
    /// Disk index parameters of every generation.
    uint32_t degree_max = 64;  ///< R, in [2, 512]
    uint32_t list_size = 100;  ///< L of the graph build and of consolidation's inserts
    float alpha = 1.2f;
    uint32_t pq_bytes = 0;  ///< 0 = the builder's default
    Status validate() const;
};

/// Chosen at each open.
struct CollectionOptions {
    /// "always": a write returns once its log record is on disk (default); "interval": the log
    /// is synced every wal_interval_ms, so a crash may lose the writes of the last interval.
    enum class Sync : uint8_t { kAlways, kInterval };
    Sync wal_sync = Sync::kAlways;
    uint32_t wal_interval_ms = 100;
    /// The background consolidation starts when the hot tier holds this many vectors (or the
    /// generation this many deletes); 0 = only on request. Default 200,000.
    uint64_t consolidate_at = 200000;
    /// Run consolidations on a background thread (else only consolidate() runs them).
    /// Default true.
    bool background = true;
    /// Threads of a consolidation; 0 = all cores. Default 1, so searches keep a core.
    int consolidation_threads = 1;
    /// Memory budget of a consolidation, GiB; 0 = three quarters of the available RAM. The
    /// incremental merge holds the kept vectors and both graphs in RAM; when its estimate
    /// exceeds the budget, the consolidation rebuilds through the builder instead, which stays
    /// within the budget by building in shards.
    double consolidation_memory_gb = 0;
    /// Read rate of a consolidation's pass over the old generation, MiB/s; 0 = unthrottled.
    /// Default 0.
    double consolidation_read_mib_s = 0;
    /// A consolidation measures recall@10 of the new generation on sampled queries against exact
    /// search and refuses the swap when it is more than this below the current generation's.
    /// Default 0.02.
    double recall_margin = 0.02;
    /// Queries of that check, in [10, 10000]. Default 200.
    uint32_t validation_queries = 200;
    /// Hot tier HNSW: links per node and insert candidate list.
    uint32_t hot_m = 16;
    uint32_t hot_ef_construction = 100;
    /// Options of the disk index of each generation (cache, io backend).
    DiskIndexOptions disk;
    /// A collection is open through one handle at a time on the machine (an advisory lock on
    /// <dir>/LOCK, released when the handle is destroyed or the process ends): an open waits up
    /// to this long for another handle to close it, then fails with Busy. Default 0.
    uint32_t lock_timeout_ms = 0;
    Status validate() const;
};

struct CollectionSearchParams {
    uint32_t k = 10;
    /// Candidate list of the disk search (L) and of the hot tier search (ef). Default 100.
    uint32_t list_size = 100;
    uint32_t beam_width = 4;
    /// Optional label filter (from Collection::parse_filter): only vectors whose labels match
    /// are returned, min(k, matching live vectors) of them. Not owned.
    const LabelFilter* label_filter = nullptr;
    /// Optional id predicate: only ids for which id_filter(id, id_filter_context) is true are
    /// returned. Applied inside the searches of both tiers (refused vectors are still
    /// traversed), which widen their lists while too few pass; when the widest list still
    /// leaves fewer than k, an exact pass over the collection (or over the allow-list, when
    /// one is given) completes the answer, so the result holds min(k, matching live vectors).
    /// A predicate that refuses almost everything therefore costs a full scan per query: pass
    /// such ids as an allow-list instead. Called from the searching thread (several threads
    /// in search_batch), many times per query, never under a collection lock: it must be
    /// cheap and thread-safe. Default none.
    bool (*id_filter)(uint64_t id, const void* context) = nullptr;
    const void* id_filter_context = nullptr;
    /// Optional allow-list, used when use_allow_ids is true (an empty list then matches
    /// nothing): only these ids are returned. Ascending without repeats (InvalidArgument
    /// otherwise; checked on each search() call, once per search_batch()). Up to
    /// kExactAllowIds ids the answer is exact: the vectors of the listed live ids are read and
    /// ranked (one disk read per id of the generation); longer lists filter the tiers'
    /// searches like id_filter. Not owned; must outlive the call.
    std::span<const uint64_t> allow_ids;
    bool use_allow_ids = false;
    /// Allow-lists up to this many ids are answered by exact ranking.
    static constexpr uint64_t kExactAllowIds = 2048;
};

struct CollectionStats {
    uint32_t dim = 0;
    Metric metric = Metric::kL2;
    DType dtype = DType::kF32;
    uint64_t live = 0;                ///< live vectors
    uint64_t generation = 0;          ///< 0 = no disk generation yet
    uint64_t generation_nodes = 0;    ///< nodes of the disk generation
    uint64_t generation_deleted = 0;  ///< of those, deleted or replaced since
    uint64_t hot = 0;                 ///< vectors in the hot tier (live or not)
    uint64_t frozen = 0;              ///< hot vectors being consolidated
    uint64_t hot_bytes = 0;           ///< RAM of the hot tier
    uint64_t wal_bytes = 0;
    uint64_t next_id = 0;          ///< one past the largest id ever written
    uint64_t labels = 0;           ///< distinct filter labels ever written
    double generation_recall = 0;  ///< measured recall@10 of the generation at its swap
    bool consolidating = false;
    uint64_t consolidations = 0;  ///< completed since open
    std::string last_error;       ///< of the last failed or refused consolidation
};

struct ConsolidationReport {
    bool swapped = false;  ///< false: nothing to do, or the new generation was refused
    std::string reason;    ///< why not swapped
    uint64_t generation = 0;
    uint64_t kept = 0, deleted = 0, inserted = 0;  ///< nodes of the new generation
    bool incremental = true;        ///< edited the old graph (false: built from scratch)
    std::string full_build_reason;  ///< why not incremental, when not
    double recall = 0, previous_recall = 0;
    double seconds_read = 0, seconds_graph = 0, seconds_write = 0, seconds_check = 0,
           seconds_total = 0;
    uint64_t peak_rss_bytes = 0;
};

class Collection {
  public:
    /// Creates an empty collection in `dir` (which must not exist) and opens it.
    static Result<std::unique_ptr<Collection>> create(const std::string& dir,
                                                      const CollectionParams& params,
                                                      const CollectionOptions& options = {});
    /// Opens `dir`, replaying the log over the current generation. Corruption when the MANIFEST
    /// or a log record in the middle is damaged (a torn last record is dropped); Busy when
    /// another handle or process holds it open (see CollectionOptions::lock_timeout_ms).
    static Result<std::unique_ptr<Collection>> open(const std::string& dir,
                                                    const CollectionOptions& options = {});
    /// True when `dir` holds a collection MANIFEST.
    static bool exists(const std::string& dir);

    /// Finishes any consolidation, syncs the log. Called by the destructor.
    ~Collection();
    Collection(const Collection&) = delete;
    Collection& operator=(const Collection&) = delete;

    /// Writes `n` vectors (rows of dim elements of `dtype`: the collection's, or f32 holding
    /// integral values for u8/i8) under ids `ids`; an existing id is replaced. All or nothing:
    /// InvalidArgument naming the row for a wrong dtype, NaN/Inf, an out-of-range integer, a
    /// zero vector under cosine, an id repeated in the batch, or id UINT64_MAX (reserved: it pads
    /// short search results). Durable on return under
    /// Sync::kAlways. Thread-safe.
    Status upsert(const uint64_t* ids, uint64_t n, const void* vectors, DType dtype);
    /// upsert() with filter labels: `labels[i]` are the labels of row i (names of 1-256 bytes
    /// without ',' or line breaks, at most 1024 per row; repeats ignored). `labels` must hold n
    /// rows. A labelled collection builds filter-aware generations. Thread-safe.
    Status upsert(const uint64_t* ids, uint64_t n, const void* vectors, DType dtype,
                  std::span<const std::vector<std::string>> labels);
    /// Parses a Qdrant-style label filter against the collection's labels (see
    /// DiskIndex::parse_filter: match conditions on key "label" or on fields of labels named
    /// "field=value", range conditions on those fields; a label or field never written matches
    /// nothing). The filter stays valid for this collection. InvalidArgument naming the part for
    /// a malformed filter.
    Result<LabelFilter> parse_filter(std::string_view json) const;
    /// The id of label `name` (for building a LabelFilter directly), or LabelFilter::kUnknown
    /// when it was never written.
    uint32_t label_id(std::string_view name) const;
    /// The ids of the labels "field=<number>" written so far whose number lies in `range` (a
    /// range condition's clause).
    std::vector<uint32_t> labels_in_range(std::string_view field, const NumericRange& range) const;
    /// Deletes `n` ids (absent ids are ignored). Durable on return under kAlways. Thread-safe.
    Status remove(const uint64_t* ids, uint64_t n);

    /// The k nearest live vectors to `query` across both tiers (ids UINT64_MAX / +inf pad the
    /// tail only when fewer than k vectors are live). `stats`, when not null, receives the disk
    /// search's cost (summed over its widening retries). Thread-safe with writes.
    Status search(const void* query, DType dtype, uint32_t dim,
                  const CollectionSearchParams& params, uint64_t* ids, float* dists,
                  QueryStats* stats = nullptr) const;
    /// search() for nq queries on `threads` threads (0 = all cores).
    Status search_batch(const void* queries, DType dtype, uint32_t dim, uint64_t nq,
                        size_t stride_bytes, const CollectionSearchParams& params, int threads,
                        uint64_t* ids, float* dists) const;
    /// The exact k nearest live vectors to each of `nq` queries (rows of dim elements of
    /// `dtype`), by one sequential pass over the generation and the hot tiers: the reference
    /// of recall checks. Expensive (reads every vector); `k` in [1, 1000]. Thread-safe.
    Status exact_search(const void* queries, DType dtype, uint32_t dim, uint64_t nq, uint32_t k,
                        uint64_t* ids, float* dists) const;
    /// Copies the stored vector of `id` (dim elements of dtype; unit-length under cosine) to
    /// `out`. NotFound when the id is not live.
    Status get(uint64_t id, void* out) const;

    /// Fills an empty collection (no generation, nothing written yet) from a data file with the
    /// offline builder: the fast path for an initial load. `ids_path` as BuildOptions::ids_path
    /// (empty: next_id, next_id + 1, ...); `threads` 0 = all cores. InvalidArgument when the
    /// collection is not empty; the builder's errors for the file.
    /// `labels_path`: optional labels file (line i = the comma-separated labels of row i) for a
    /// filter-aware first generation.
    Status bulk_load(const std::string& data_path, const std::string& ids_path = "",
                     bool progress = false, int threads = 0, const std::string& labels_path = "");
    /// Runs a consolidation now (waiting for one in progress first).
    Result<ConsolidationReport> consolidate();
    /// Writes a consistent copy of the collection to `dest` (which must not exist): the MANIFEST,
    /// the current generation (hard links where the file system allows, else copies) and the log
    /// as of the call, so that open(dest) sees every write acknowledged before the call and a
    /// prefix of those in flight. Blocks generation swaps (not writes or searches) meanwhile.
    Status snapshot(const std::string& dest) const;
    /// Syncs the log (for Sync::kInterval).
    Status sync();
    CollectionStats stats() const;
    const CollectionParams& params() const;
    const std::string& dir() const;

    struct Impl;

  private:
    explicit Collection(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strata
