/* PostgreSQL extension: strata collections as the cold tier of a PostgreSQL database.
 *
 *   SELECT t.* FROM strata_search('docs', $1, 10) s JOIN docs t ON t.id = s.id;
 *
 * A collection is named by a plain name under the strata.data_dir setting (or, for superusers,
 * by an absolute path). Each backend opens a collection once and keeps the handle until it
 * exits (strata.keep_open = on, default) or until the end of the transaction (off). A collection
 * takes one handle at a time on the machine, so a second backend waits up to
 * strata.lock_timeout_ms for the first to close it, then fails with lock_not_available.
 * Writes are durable when the call returns and are NOT rolled back with the transaction (see
 * docs/embedding.md). Only the C API of libstrata is used: no C++ exception reaches PostgreSQL's
 * frames, and every strata error becomes an ereport(ERROR) after the strata call has returned. */
/* PostgreSQL 15 leaves PGDLLEXPORT empty on Linux; this file is compiled with hidden visibility,
 * so the symbols the server looks up (magic block, _PG_init, function info) are marked here. */
#define PGDLLEXPORT __attribute__((visibility("default")))
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"

#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

PG_MODULE_MAGIC;

#define STRATA_PG_EXPORT PGDLLEXPORT

static char* data_dir = NULL;
static int lock_timeout_ms = 5000;
static bool keep_open = true;

/* This backend's open collections, keyed by directory (malloc'd: they outlive transactions). */
typedef struct Cached {
    char* dir;
    strata_collection* collection;
    uint32_t dim;
    struct Cached* next;
} Cached;
static Cached* cache = NULL;

static void close_all(void) {
    while (cache != NULL) {
        Cached* c = cache;
        cache = c->next;
        strata_collection_close(c->collection);
        free(c->dir);
        free(c);
    }
}

static void close_all_at_exit(int code, Datum arg) { close_all(); }

static void close_at_xact_end(XactEvent event, void* arg) {
    if (!keep_open && (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
                       event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)) {
        close_all();
    }
}

STRATA_PG_EXPORT void _PG_init(void);
void _PG_init(void) {
    DefineCustomStringVariable("strata.data_dir",
                               "Directory under which strata collections are named.",
                               "strata_search('docs', ...) opens <strata.data_dir>/docs.",
                               &data_dir, "", PGC_SUSET, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("strata.lock_timeout_ms",
                            "How long opening a collection waits for another backend to close it.",
                            NULL, &lock_timeout_ms, 5000, 0, 3600000, PGC_USERSET, GUC_UNIT_MS,
                            NULL, NULL, NULL);
    DefineCustomBoolVariable(
        "strata.keep_open", "Keep collections open until the backend exits.",
        "off: each transaction closes the collections it opened, letting other backends in.",
        &keep_open, true, PGC_USERSET, 0, NULL, NULL, NULL);
    MarkGUCPrefixReserved("strata");
    on_proc_exit(close_all_at_exit, 0);
    RegisterXactCallback(close_at_xact_end, NULL);
}

static int sqlstate_of(strata_status st) {
    switch (st) {
        case STRATA_ERR_INVALID_ARGUMENT:
        case STRATA_ERR_OUT_OF_RANGE:
            return ERRCODE_INVALID_PARAMETER_VALUE;
        case STRATA_ERR_NOT_FOUND:
            return ERRCODE_UNDEFINED_OBJECT;
        case STRATA_ERR_ALREADY_EXISTS:
            return ERRCODE_DUPLICATE_OBJECT;
        case STRATA_ERR_CORRUPTION:
            return ERRCODE_DATA_CORRUPTED;
        case STRATA_ERR_IO:
            return ERRCODE_IO_ERROR;
        case STRATA_ERR_NOT_SUPPORTED:
            return ERRCODE_FEATURE_NOT_SUPPORTED;
        case STRATA_ERR_NO_MEMORY:
        case STRATA_ERR_RESOURCE_EXHAUSTED:
            return ERRCODE_OUT_OF_MEMORY;
        case STRATA_ERR_BUSY:
            return ERRCODE_LOCK_NOT_AVAILABLE;
        case STRATA_ERR_CANCELLED:
            return ERRCODE_QUERY_CANCELED;
        default:
            return ERRCODE_INTERNAL_ERROR;
    }
}

/* ereport(ERROR) for a failed strata call; `err` (malloc'd by strata) is freed first. */
static void pg_attribute_noreturn() raise_error(strata_status st, char* err, const char* what) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", err ? err : strata_status_name(st));
    strata_free_error(err);
    ereport(ERROR, (errcode(sqlstate_of(st)), errmsg("strata: %s: %s", what, buf)));
}

/* The directory of a collection argument: a name under strata.data_dir, or (superusers) an
 * absolute path. */
static char* collection_dir(text* name_text) {
    char* name = text_to_cstring(name_text);
    if (name[0] == '/') {
        if (!superuser()) {
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("strata: only superusers may name a collection by path")));
        }
        return name;
    }
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
            strlen(name)) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: collection name \"%s\" must be letters, digits, '_', "
                               "'.' or '-' (or an absolute path)",
                               name)));
    }
    if (data_dir == NULL || data_dir[0] == '\0') {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: strata.data_dir is not set"),
                        errhint("Set strata.data_dir (postgresql.conf or ALTER SYSTEM) to the "
                                "directory holding the collections.")));
    }
    return psprintf("%s/%s", data_dir, name);
}

static Cached* find_cached(const char* dir) {
    for (Cached* c = cache; c != NULL; c = c->next) {
        if (strcmp(c->dir, dir) == 0) return c;
    }
    return NULL;
}

static Cached* remember(const char* dir, strata_collection* collection) {
    strata_collection_stats s;
    strata_collection_stats_init(&s);
    char* err = NULL;
    const strata_status st = strata_collection_get_stats(collection, &s, &err);
    Cached* c = st == STRATA_OK ? malloc(sizeof *c) : NULL;
    char* copy = c != NULL ? strdup(dir) : NULL;
    if (copy == NULL) {
        free(c);
        strata_collection_close(collection);
        if (st != STRATA_OK) raise_error(st, err, dir);
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("strata: out of memory")));
    }
    c->dir = copy;
    c->collection = collection;
    c->dim = s.dim;
    c->next = cache;
    cache = c;
    return c;
}

static strata_open_options open_options(void) {
    strata_open_options o;
    strata_open_options_init(&o);
    o.lock_timeout_ms = (uint32_t)lock_timeout_ms;
    return o;
}

/* This backend's handle on the collection, opened on first use. */
static Cached* get_collection(text* name) {
    char* dir = collection_dir(name);
    Cached* c = find_cached(dir);
    if (c != NULL) return c;
    const strata_open_options o = open_options();
    strata_collection* handle = NULL;
    char* err = NULL;
    const strata_status st = strata_collection_open(dir, &o, &handle, &err);
    if (st != STRATA_OK) raise_error(st, err, "open");
    return remember(dir, handle);
}

/* A 1-D real[] without NULLs; its length into *n. */
static const float* vector_arg(ArrayType* a, int* n, const char* what) {
    if (ARR_ELEMTYPE(a) != FLOAT4OID || ARR_NDIM(a) != 1 || array_contains_nulls(a)) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: %s must be a one-dimensional real[] without NULLs", what)));
    }
    *n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
    return (const float*)ARR_DATA_PTR(a);
}

static uint64_t id_arg(int64 id) {
    if (id < 0) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: id " INT64_FORMAT " is negative", id)));
    }
    return (uint64_t)id;
}

/* A 1-D bigint[] without NULLs of ids >= 0. */
static const uint64_t* ids_arg(ArrayType* a, int* n) {
    if (ARR_ELEMTYPE(a) != INT8OID || ARR_NDIM(a) > 1 || array_contains_nulls(a)) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: ids must be a one-dimensional bigint[] without NULLs")));
    }
    *n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
    const int64* ids = (const int64*)ARR_DATA_PTR(a);
    for (int i = 0; i < *n; ++i) id_arg(ids[i]);
    return (const uint64_t*)ids;
}

#define STRATA_PG_FUNCTION(name) \
    PG_FUNCTION_INFO_V1(name);   \
    STRATA_PG_EXPORT Datum name(PG_FUNCTION_ARGS)

/* strata_search(collection text, query real[], k int, search_list int) -> (id, distance) */
STRATA_PG_FUNCTION(strata_pg_search);
Datum strata_pg_search(PG_FUNCTION_ARGS) {
    Cached* c = get_collection(PG_GETARG_TEXT_PP(0));
    int dim = 0;
    const float* q = vector_arg(PG_GETARG_ARRAYTYPE_P(1), &dim, "query");
    const int32 k = PG_GETARG_INT32(2), list = PG_GETARG_INT32(3);
    if (k < 1 || k > 1000 || list < 1) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: k must be in [1, 1000] and search_list >= 1 (k %d, "
                               "search_list %d)",
                               k, list)));
    }
    uint64_t* ids = palloc(sizeof(uint64_t) * (size_t)k);
    float* dists = palloc(sizeof(float) * (size_t)k);
    strata_search_params p;
    strata_search_params_init(&p);
    p.k = (uint32_t)k;
    p.list_size = (uint32_t)list;
    char* err = NULL;
    const strata_status st = strata_collection_search(c->collection, q, STRATA_DTYPE_F32,
                                                      (uint32_t)dim, 1, &p, ids, dists, &err);
    if (st != STRATA_OK) raise_error(st, err, "search");
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rs = (ReturnSetInfo*)fcinfo->resultinfo;
    for (int i = 0; i < k && ids[i] != STRATA_NO_ID; ++i) {
        Datum values[2] = {Int64GetDatum((int64)ids[i]), Float4GetDatum(dists[i])};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rs->setResult, rs->setDesc, values, nulls);
    }
    return (Datum)0;
}

/* strata_upsert(collection text, id bigint, vector real[]) */
STRATA_PG_FUNCTION(strata_pg_upsert);
Datum strata_pg_upsert(PG_FUNCTION_ARGS) {
    Cached* c = get_collection(PG_GETARG_TEXT_PP(0));
    const uint64_t id = id_arg(PG_GETARG_INT64(1));
    int n = 0;
    const float* v = vector_arg(PG_GETARG_ARRAYTYPE_P(2), &n, "vector");
    if ((uint32_t)n != c->dim) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: vector has %d elements, the collection's dimension is %u",
                               n, c->dim)));
    }
    char* err = NULL;
    const strata_status st =
        strata_collection_upsert(c->collection, &id, 1, v, STRATA_DTYPE_F32, &err);
    if (st != STRATA_OK) raise_error(st, err, "upsert");
    PG_RETURN_VOID();
}

/* strata_upsert(collection text, ids bigint[], vectors real[][]) */
STRATA_PG_FUNCTION(strata_pg_upsert_batch);
Datum strata_pg_upsert_batch(PG_FUNCTION_ARGS) {
    Cached* c = get_collection(PG_GETARG_TEXT_PP(0));
    int n = 0;
    const uint64_t* ids = ids_arg(PG_GETARG_ARRAYTYPE_P(1), &n);
    ArrayType* a = PG_GETARG_ARRAYTYPE_P(2);
    if (n == 0) PG_RETURN_VOID();
    if (ARR_ELEMTYPE(a) != FLOAT4OID || ARR_NDIM(a) != 2 || array_contains_nulls(a) ||
        ARR_DIMS(a)[0] != n || (uint32_t)ARR_DIMS(a)[1] != c->dim) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: vectors must be a real[%d][%u] without NULLs (one row "
                               "per id, the collection's dimension)",
                               n, c->dim)));
    }
    char* err = NULL;
    const strata_status st = strata_collection_upsert(c->collection, ids, (uint64_t)n,
                                                      ARR_DATA_PTR(a), STRATA_DTYPE_F32, &err);
    if (st != STRATA_OK) raise_error(st, err, "upsert");
    PG_RETURN_VOID();
}

static void delete_ids(Cached* c, const uint64_t* ids, int n) {
    char* err = NULL;
    const strata_status st = strata_collection_delete(c->collection, ids, (uint64_t)n, &err);
    if (st != STRATA_OK) raise_error(st, err, "delete");
}

STRATA_PG_FUNCTION(strata_pg_delete);
Datum strata_pg_delete(PG_FUNCTION_ARGS) {
    Cached* c = get_collection(PG_GETARG_TEXT_PP(0));
    const uint64_t id = id_arg(PG_GETARG_INT64(1));
    delete_ids(c, &id, 1);
    PG_RETURN_VOID();
}

STRATA_PG_FUNCTION(strata_pg_delete_batch);
Datum strata_pg_delete_batch(PG_FUNCTION_ARGS) {
    Cached* c = get_collection(PG_GETARG_TEXT_PP(0));
    int n = 0;
    const uint64_t* ids = ids_arg(PG_GETARG_ARRAYTYPE_P(1), &n);
    delete_ids(c, ids, n);
    PG_RETURN_VOID();
}

/* strata_create(collection text, dim int, metric text) */
STRATA_PG_FUNCTION(strata_pg_create);
Datum strata_pg_create(PG_FUNCTION_ARGS) {
    char* dir = collection_dir(PG_GETARG_TEXT_PP(0));
    const int32 dim = PG_GETARG_INT32(1);
    char* metric = text_to_cstring(PG_GETARG_TEXT_PP(2));
    strata_collection_params p;
    strata_collection_params_init(&p);
    p.dim = dim > 0 ? (uint32_t)dim : 0;
    if (strcmp(metric, "l2") == 0) {
        p.metric = STRATA_METRIC_L2;
    } else if (strcmp(metric, "ip") == 0) {
        p.metric = STRATA_METRIC_IP;
    } else if (strcmp(metric, "cosine") == 0) {
        p.metric = STRATA_METRIC_COSINE;
    } else {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: metric \"%s\" is not l2, ip or cosine", metric)));
    }
    const strata_open_options o = open_options();
    strata_collection* handle = NULL;
    char* err = NULL;
    const strata_status st = strata_collection_create(dir, &p, &o, &handle, &err);
    if (st != STRATA_OK) raise_error(st, err, "create");
    remember(dir, handle);
    PG_RETURN_VOID();
}

STRATA_PG_FUNCTION(strata_pg_consolidate);
Datum strata_pg_consolidate(PG_FUNCTION_ARGS) {
    Cached* c = get_collection(PG_GETARG_TEXT_PP(0));
    strata_consolidation_report r;
    strata_consolidation_report_init(&r);
    char* err = NULL;
    const strata_status st = strata_collection_consolidate(c->collection, &r, &err);
    if (st != STRATA_OK) raise_error(st, err, "consolidate");
    if (!r.swapped && r.reason[0] != '\0') {
        ereport(NOTICE, (errmsg("strata: consolidation did not swap: %s", r.reason)));
    }
    PG_RETURN_BOOL(r.swapped != 0);
}

STRATA_PG_FUNCTION(strata_pg_stats);
Datum strata_pg_stats(PG_FUNCTION_ARGS) {
    Cached* c = get_collection(PG_GETARG_TEXT_PP(0));
    strata_collection_stats s;
    strata_collection_stats_init(&s);
    char* err = NULL;
    const strata_status st = strata_collection_get_stats(c->collection, &s, &err);
    if (st != STRATA_OK) raise_error(st, err, "stats");
    TupleDesc desc;
    if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE) {
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("strata: bad result type")));
    }
    desc = BlessTupleDesc(desc);
    Datum values[5] = {Int32GetDatum((int32)s.dim), Int64GetDatum((int64)s.live),
                       Int64GetDatum((int64)s.generation), Int64GetDatum((int64)s.hot),
                       Int64GetDatum((int64)s.wal_bytes)};
    bool nulls[5] = {false, false, false, false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

STRATA_PG_FUNCTION(strata_pg_close);
Datum strata_pg_close(PG_FUNCTION_ARGS) {
    char* dir = collection_dir(PG_GETARG_TEXT_PP(0));
    for (Cached** at = &cache; *at != NULL; at = &(*at)->next) {
        Cached* c = *at;
        if (strcmp(c->dir, dir) != 0) continue;
        *at = c->next;
        strata_collection_close(c->collection);
        free(c->dir);
        free(c);
        PG_RETURN_BOOL(true);
    }
    PG_RETURN_BOOL(false);
}

/* strata_vector(bytea) -> real[]: a little-endian f32 blob as an array. */
STRATA_PG_FUNCTION(strata_pg_vector);
Datum strata_pg_vector(PG_FUNCTION_ARGS) {
    bytea* b = PG_GETARG_BYTEA_PP(0);
    const size_t bytes = VARSIZE_ANY_EXHDR(b);
    if (bytes == 0 || bytes % 4 != 0) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("strata: a vector blob holds a positive multiple of 4 bytes, not "
                               "%zu",
                               bytes)));
    }
    const int n = (int)(bytes / 4);
    Datum* elems = palloc(sizeof(Datum) * (size_t)n);
    const char* data = VARDATA_ANY(b);
    for (int i = 0; i < n; ++i) {
        float f;
        memcpy(&f, data + 4 * i, 4);
        elems[i] = Float4GetDatum(f);
    }
    PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
}

STRATA_PG_FUNCTION(strata_pg_version);
Datum strata_pg_version(PG_FUNCTION_ARGS) { PG_RETURN_TEXT_P(cstring_to_text(strata_version())); }
