/* strata C API: the embedded library's only ABI promise (libstrata.so.0).
 *
 * Conventions, for every function below:
 *  - Opaque handles (strata_collection, strata_index) are created by the open and create calls
 *    and released by the close calls; a handle is never freed by anything else.
 *  - Functions that can fail return a strata_status. Their last argument `char** errmsg` may be
 *    NULL; otherwise *errmsg is set to NULL on success and, on failure, to a malloc'd
 *    NUL-terminated message ("InvalidArgument: query dimension 3 does not match the
 *    collection's 8") that the caller frees with strata_free_error() (or free()). If even that
 *    message cannot be allocated, *errmsg stays NULL and the code still tells the failure.
 *  - No C++ exception, longjmp or signal crosses this boundary. The library installs no signal
 *    handler and never calls exit(). Threads the library starts (background consolidation,
 *    parallel searches) block every signal, so the host's handlers run on the host's threads.
 *  - Options structs start with `struct_size`: fill them with the matching *_init() function
 *    (which sets struct_size and every default), then change fields. Fields are only ever
 *    appended, so a program built against an older strata.h keeps working with a newer library.
 *  - Integer widths are fixed; sizes and counts are uint64_t; bools in structs are int32_t
 *    (0 = false).
 *
 * Thread safety is stated on each function. In short: a collection or index handle may be used
 * by any number of threads at once, except that strata_*_close must not race any other call on
 * the same handle. A collection directory may be open through one handle at a time in the whole
 * machine (see strata_collection_open).
 */
#ifndef STRATA_STRATA_H
#define STRATA_STRATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define STRATA_API __attribute__((visibility("default")))
#else
#define STRATA_API
#endif

/* Version of this header; strata_version() tells the library's. */
#define STRATA_VERSION_MAJOR 0
#define STRATA_VERSION_MINOR 1
#define STRATA_VERSION_PATCH 0
#define STRATA_VERSION_NUMBER \
    (STRATA_VERSION_MAJOR * 10000 + STRATA_VERSION_MINOR * 100 + STRATA_VERSION_PATCH)

/* Pads search results: no neighbour at this position. */
#define STRATA_NO_ID UINT64_MAX

/* Error codes. Values 0-10 are strata's StatusCode (stable, only added); 100+ are the C API's. */
typedef enum strata_status {
    STRATA_OK = 0,
    STRATA_ERR_INVALID_ARGUMENT = 1, /* malformed argument: NULL pointer, wrong dimension, k = 0 */
    STRATA_ERR_NOT_FOUND = 2,        /* a file, id or collection does not exist */
    STRATA_ERR_CORRUPTION = 3,       /* a file exists but is damaged, truncated or foreign */
    STRATA_ERR_IO = 4,               /* the OS refused an operation */
    STRATA_ERR_NOT_SUPPORTED = 5,    /* valid input this build cannot handle */
    STRATA_ERR_ALREADY_EXISTS = 6,   /* refusing to overwrite something */
    STRATA_ERR_OUT_OF_RANGE = 7,     /* a value outside the accepted bounds */
    STRATA_ERR_RESOURCE_EXHAUSTED = 8, /* a memory or queue budget would be exceeded */
    STRATA_ERR_INTERNAL = 9,           /* a bug, or an unexpected exception caught at the edge */
    STRATA_ERR_CANCELLED = 10,         /* stopped on request */
    STRATA_ERR_NO_MEMORY = 100,        /* an allocation failed */
    STRATA_ERR_BUSY = 101 /* the collection is open through another handle or process */
} strata_status;

/* Distances are "smaller is closer": l2 = squared Euclidean, ip = -<a,b>, cosine = 1 - cos. */
typedef enum strata_metric {
    STRATA_METRIC_L2 = 0,
    STRATA_METRIC_IP = 1,
    STRATA_METRIC_COSINE = 2
} strata_metric;

typedef enum strata_dtype {
    STRATA_DTYPE_F32 = 0,
    STRATA_DTYPE_U8 = 1,
    STRATA_DTYPE_I8 = 2
} strata_dtype;

typedef struct strata_collection strata_collection;
typedef struct strata_index strata_index;

/* ---- library ------------------------------------------------------------------------------ */

/* The library's version, "MAJOR.MINOR.PATCH"; static storage, never freed. Thread-safe. */
STRATA_API const char* strata_version(void);
/* The library's STRATA_VERSION_NUMBER. Thread-safe. */
STRATA_API uint32_t strata_version_number(void);
/* True when this library serves a program built against strata.h of version `header_version`
 * (pass STRATA_VERSION_NUMBER): same major version, library minor at least the header's.
 * Thread-safe. */
STRATA_API bool strata_version_compatible(uint32_t header_version);
/* The name of a code, e.g. "InvalidArgument"; "Unknown" for other values. Static storage.
 * Thread-safe. */
STRATA_API const char* strata_status_name(strata_status code);
/* Frees a message returned through errmsg. NULL is ignored. Thread-safe. */
STRATA_API void strata_free_error(char* errmsg);

/* Log levels of strata_set_log_callback. */
typedef enum strata_log_level {
    STRATA_LOG_TRACE = 0,
    STRATA_LOG_DEBUG = 1,
    STRATA_LOG_INFO = 2,
    STRATA_LOG_WARN = 3,
    STRATA_LOG_ERROR = 4,
    STRATA_LOG_OFF = 5
} strata_log_level;
/* Receives one log line (NUL-terminated, valid during the call). Called from any strata thread,
 * including background threads: it must be thread-safe and must not call back into strata. */
typedef void (*strata_log_fn)(int32_t level, const char* message, void* context);
/* Process-wide: routes strata's log lines to `fn` (NULL: back to stderr). Thread-safe, but lines
 * being logged concurrently may still reach the previous sink; `context` must stay valid until
 * the callback is replaced. */
STRATA_API void strata_set_log_callback(strata_log_fn fn, void* context);
/* Process-wide: the minimum level logged (default STRATA_LOG_INFO). INVALID_ARGUMENT for a value
 * outside strata_log_level. Thread-safe. */
STRATA_API strata_status strata_set_log_level(int32_t level, char** errmsg);

/* ---- collections ------------------------------------------------------------------------- */

/* Fixed when a collection is created. */
typedef struct strata_collection_params {
    uint32_t struct_size;
    uint32_t dim;        /* vector dimension, in [1, 16384]; no default (0) */
    int32_t metric;      /* strata_metric; default STRATA_METRIC_L2 */
    int32_t dtype;       /* strata_dtype of the stored vectors; default f32 (cosine: f32 only) */
    uint32_t degree_max; /* graph degree R of the disk generations, in [2, 512]; default 64 */
    uint32_t list_size;  /* build candidate list L; default 100 */
    float alpha;         /* Vamana pruning factor; default 1.2 */
    uint32_t pq_bytes;   /* PQ code bytes per vector; 0 = the builder's default */
} strata_collection_params;
/* Sets struct_size and the defaults. NULL is ignored. Thread-safe. */
STRATA_API void strata_collection_params_init(strata_collection_params* params);

/* Chosen at each open. */
typedef struct strata_open_options {
    uint32_t struct_size;
    /* 0 (default): a write returns once its log record is on disk. N > 0: the log is synced
     * every N ms (a crash may lose the last N ms of acknowledged writes). */
    uint32_t wal_sync_interval_ms;
    /* A background consolidation starts when the hot tier holds this many vectors (or the
     * generation this many deletes); 0 = only on strata_collection_consolidate. Default 200000. */
    uint64_t consolidate_at;
    int32_t background;             /* run consolidations on a library thread; default 1 */
    int32_t consolidation_threads;  /* threads of a consolidation, 0 = all cores; default 1 */
    double consolidation_memory_gb; /* budget of a consolidation, GiB; 0 = 3/4 of RAM; default 0 */
    uint64_t cache_bytes;           /* disk node cache per generation, bytes; default 0 */
    uint32_t max_list_size;         /* largest list_size a search may use; default 1000 */
    /* How long open waits for another handle or process to close the collection, ms;
     * 0 (default) = fail at once with STRATA_ERR_BUSY. */
    uint32_t lock_timeout_ms;
    const char* io; /* "auto" (default when NULL), "uring" or "pread"; copied at open */
} strata_open_options;
/* Sets struct_size and the defaults. NULL is ignored. Thread-safe. */
STRATA_API void strata_open_options_init(strata_open_options* options);

/* True when `dir` holds a collection. Thread-safe. */
STRATA_API bool strata_collection_exists(const char* dir);

/* Creates an empty collection in `dir` (which must not exist; its parent must) and opens it into
 * *out. `options` may be NULL (defaults). ALREADY_EXISTS when dir exists; INVALID_ARGUMENT for
 * bad params (naming the field). Thread-safe (different directories). */
STRATA_API strata_status strata_collection_create(const char* dir,
                                                  const strata_collection_params* params,
                                                  const strata_open_options* options,
                                                  strata_collection** out, char** errmsg);
/* Opens the collection in `dir` into *out, replaying its log. `options` may be NULL. A
 * collection may be open through one handle at a time on the machine (an advisory lock on
 * <dir>/LOCK, released by strata_collection_close or when the process ends): a second open waits
 * up to options->lock_timeout_ms, then fails with STRATA_ERR_BUSY. NOT_FOUND when dir holds no
 * collection; CORRUPTION for a damaged MANIFEST or log. Thread-safe (different directories). */
STRATA_API strata_status strata_collection_open(const char* dir, const strata_open_options* options,
                                                strata_collection** out, char** errmsg);
/* Waits for a running consolidation, syncs the log, joins the library's threads, releases the
 * lock and frees the handle. NULL is ignored. Must not race any other call on this handle. */
STRATA_API void strata_collection_close(strata_collection* collection);

/* Writes `n` vectors (row-major, n * dim elements of `dtype`: the collection's dtype, or f32
 * holding integral values for a u8/i8 collection) under `ids`; an existing id is replaced. All
 * or nothing: INVALID_ARGUMENT naming the row for a wrong dtype, NaN/Inf, an out-of-range
 * integer, a zero vector under cosine, an id repeated in the batch, or id STRATA_NO_ID. Durable
 * on return unless wal_sync_interval_ms > 0. n = 0 does nothing. Thread-safe. */
STRATA_API strata_status strata_collection_upsert(strata_collection* collection,
                                                  const uint64_t* ids, uint64_t n,
                                                  const void* vectors, int32_t dtype,
                                                  char** errmsg);
/* Deletes `n` ids (absent ids are ignored). Durable on return as upsert. Thread-safe. */
STRATA_API strata_status strata_collection_delete(strata_collection* collection,
                                                  const uint64_t* ids, uint64_t n, char** errmsg);

/* An id predicate: return true to keep `id` in the results. */
typedef bool (*strata_id_filter_fn)(uint64_t id, void* context);

/* Per search call. */
typedef struct strata_search_params {
    uint32_t struct_size;
    uint32_t k;          /* neighbours per query, in [1, 1000] (and <= max_list_size); default 10 */
    uint32_t list_size;  /* candidate list L (ef of the hot tier); larger is slower and more
                            accurate; default 100 (raised to k when smaller) */
    uint32_t beam_width; /* reads in flight per query, in [1, 16]; default 4 */
    /* Threads for the queries of one call: 1 (default) = all on the calling thread, no library
     * thread involved; 0 = all cores; N = N threads. */
    int32_t threads;
    /* Optional predicate: only ids it accepts are returned. Called from the searching threads
     * (several at once when threads != 1), many times per query, never under a library lock;
     * it must be cheap, thread-safe, and must not longjmp or throw. Searches widen their lists
     * while too few ids pass and finish with an exact pass when the widest list still leaves
     * fewer than k, so a predicate refusing almost everything costs a full scan per query: pass
     * such ids in allow_ids instead. Collections only guarantee min(k, matching) results; an
     * index handle widens up to max_list_size and may return fewer. Default NULL. */
    strata_id_filter_fn filter;
    void* filter_context;
    /* Optional allow-list (any order, repeats allowed): only these ids are returned. NULL
     * (default) = no allow-list; non-NULL with allow_count = 0 matches nothing. Collections
     * answer lists of up to 2048 ids exactly by ranking the listed live vectors (one disk read
     * per id in a disk generation); longer lists filter the search like `filter`. Copied when
     * not ascending; not kept after the call. */
    const uint64_t* allow_ids;
    uint64_t allow_count;
    /* Optional label filter, Qdrant-style JSON ({"must": [{"key": "label", "match": {"value":
     * "x"}}]}), over the labels written with the vectors or built into the index (NULL = none).
     * INVALID_ARGUMENT naming the part for a malformed filter. */
    const char* label_filter_json;
} strata_search_params;
/* Sets struct_size and the defaults. NULL is ignored. Thread-safe. */
STRATA_API void strata_search_params_init(strata_search_params* params);

/* The k nearest live vectors to each of `nq` queries (row-major, nq * dim elements of `dtype`,
 * the collection's or f32), across the hot tier and the disk generation. `params` may be NULL
 * (defaults). Results, caller-owned and closest first: ids[nq * k] and, when `distances` is not
 * NULL, distances[nq * k]; a query with fewer than k matching live vectors has its tail padded
 * with STRATA_NO_ID / +infinity. INVALID_ARGUMENT for a NULL buffer, a dim other than the
 * collection's, k out of range, NaN/Inf in a query, a zero query under cosine, or a malformed
 * label filter; IO/CORRUPTION when a read fails (never a silent short result); on error the
 * output buffers' contents are unspecified. Thread-safe with every call but close. */
STRATA_API strata_status strata_collection_search(const strata_collection* collection,
                                                  const void* queries, int32_t dtype, uint32_t dim,
                                                  uint64_t nq, const strata_search_params* params,
                                                  uint64_t* ids, float* distances, char** errmsg);

/* Copies the stored vector of `id` (dim elements of the collection's dtype, unit length under
 * cosine) into `out`, which holds `out_bytes` bytes (at least dim * element size). NOT_FOUND
 * when the id is not live. Thread-safe. */
STRATA_API strata_status strata_collection_get(const strata_collection* collection, uint64_t id,
                                               void* out, uint64_t out_bytes, char** errmsg);

/* What a consolidation did. */
typedef struct strata_consolidation_report {
    uint32_t struct_size;
    int32_t swapped;     /* 0: nothing to do, or the new generation was refused (see reason) */
    uint64_t generation; /* number of the new generation */
    uint64_t kept, deleted, inserted; /* nodes of the new generation */
    int32_t incremental;              /* edited the old graph (0: rebuilt) */
    double recall, previous_recall;   /* measured recall@10 of the new and the old generation */
    double seconds_total;
    char reason[256]; /* why not swapped, NUL-terminated (truncated) */
} strata_consolidation_report;
/* Sets struct_size (zeroes the rest). NULL is ignored. Thread-safe. */
STRATA_API void strata_consolidation_report_init(strata_consolidation_report* report);
/* Folds the hot tier and the deletes into a new disk generation now (waiting for a running one
 * first) and swaps it in; searches and writes go on meanwhile. `report` may be NULL. Blocks for
 * the whole consolidation. Thread-safe. */
STRATA_API strata_status strata_collection_consolidate(strata_collection* collection,
                                                       strata_consolidation_report* report,
                                                       char** errmsg);
/* Makes every acknowledged write durable (for wal_sync_interval_ms > 0). Thread-safe. */
STRATA_API strata_status strata_collection_sync(strata_collection* collection, char** errmsg);

/* A collection's counters, as of the call. */
typedef struct strata_collection_stats {
    uint32_t struct_size;
    uint32_t dim;
    int32_t metric;
    int32_t dtype;
    uint64_t live;               /* live vectors */
    uint64_t generation;         /* current disk generation; 0 = none yet */
    uint64_t generation_nodes;   /* nodes of the disk generation */
    uint64_t generation_deleted; /* of those, deleted or replaced since */
    uint64_t hot;                /* vectors in the hot tier (live or not) */
    uint64_t hot_bytes;          /* RAM of the hot tier */
    uint64_t wal_bytes;          /* bytes of the write-ahead log */
    uint64_t next_id;            /* one past the largest id ever written */
    double generation_recall;    /* measured recall@10 of the generation at its swap */
    int32_t consolidating;       /* a consolidation is running */
    uint64_t consolidations;     /* completed since open */
    char last_error[256];        /* of the last failed background consolidation, or "" */
} strata_collection_stats;
/* Sets struct_size (zeroes the rest). NULL is ignored. Thread-safe. */
STRATA_API void strata_collection_stats_init(strata_collection_stats* stats);
/* Fills *stats (initialized with strata_collection_stats_init). Thread-safe. */
STRATA_API strata_status strata_collection_get_stats(const strata_collection* collection,
                                                     strata_collection_stats* stats, char** errmsg);

/* ---- read-only disk indexes (directories written by `strata build`) ----------------------- */

typedef struct strata_index_options {
    uint32_t struct_size;
    uint64_t cache_bytes;   /* node cache, bytes; default 0 */
    uint32_t max_list_size; /* largest list_size a search may use; default 1000 */
    int32_t use_nav_graph;  /* start from the navigation graph when present; default 1 */
    const char* io;         /* "auto" (default when NULL), "uring" or "pread" */
} strata_index_options;
/* Sets struct_size and the defaults. NULL is ignored. Thread-safe. */
STRATA_API void strata_index_options_init(strata_index_options* options);

typedef struct strata_index_info {
    uint32_t struct_size;
    uint32_t dim;
    int32_t metric;
    int32_t dtype;
    uint64_t node_count;
    uint32_t degree_max;
    uint32_t pq_bytes;
    uint64_t pq_ram_bytes; /* RAM of the PQ codes and codebook */
    uint32_t label_count;  /* distinct filter labels; 0 = unlabelled */
} strata_index_info;
/* Sets struct_size (zeroes the rest). NULL is ignored. Thread-safe. */
STRATA_API void strata_index_info_init(strata_index_info* info);

/* Opens an index directory read-only into *out. `options` may be NULL. Any number of handles
 * and processes may open the same index. Thread-safe. */
STRATA_API strata_status strata_index_open(const char* dir, const strata_index_options* options,
                                           strata_index** out, char** errmsg);
/* Frees the handle. NULL is ignored. Must not race any other call on this handle. */
STRATA_API void strata_index_close(strata_index* index);
/* As strata_collection_search, over the index (ids are its external ids). A filter or
 * allow-list widens the list up to max_list_size; with very selective ones the result may then
 * hold fewer than min(k, matching) ids (padded). Thread-safe with every call but close. */
STRATA_API strata_status strata_index_search(const strata_index* index, const void* queries,
                                             int32_t dtype, uint32_t dim, uint64_t nq,
                                             const strata_search_params* params, uint64_t* ids,
                                             float* distances, char** errmsg);
/* Fills *info (initialized with strata_index_info_init). Thread-safe. */
STRATA_API strata_status strata_index_get_info(const strata_index* index, strata_index_info* info,
                                               char** errmsg);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_STRATA_H */
