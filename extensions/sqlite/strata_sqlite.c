/* SQLite loadable extension: the `strata` virtual table module over the strata C API.
 *
 *   .load ./libstrata_sqlite            (or SELECT load_extension('...', 'sqlite3_strata_init'))
 *   CREATE VIRTUAL TABLE v USING strata(dir=/data/docs, dim=768, metric=cosine);
 *   INSERT INTO v(rowid, vector) VALUES (1, ?);           -- f32 blob or '[0.1, 0.2, ...]'
 *   SELECT rowid, distance FROM v WHERE vector MATCH ? AND k = 10;
 *   DELETE FROM v WHERE rowid = 1;
 *
 * Columns: vector (hidden; the query in MATCH, the stored vector when read), k (hidden, default
 * 10), search_list (hidden, candidate list L, default 100), distance. rowid is the strata id
 * (0 <= id < 2^63). Writes go to the collection's own log when the statement runs and are
 * durable then: they are not part of the SQLite transaction (a ROLLBACK does not undo them).
 * See docs/embedding.md. */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

enum { COL_VECTOR = 0, COL_K = 1, COL_SEARCH_LIST = 2, COL_DISTANCE = 3 };
enum { PLAN_MATCH = 1, PLAN_K = 2, PLAN_LIST = 4, PLAN_ROWID = 8 };
enum { kDefaultK = 10, kDefaultList = 100, kMaxK = 1000 };

typedef struct strata_vtab {
    sqlite3_vtab base;
    strata_collection* collection;
    uint32_t dim;
    int32_t dtype;
    uint64_t row_bytes; /* stored vector */
} strata_vtab;

typedef struct strata_cursor {
    sqlite3_vtab_cursor base;
    uint64_t* ids;
    float* distances;
    uint32_t count; /* results held */
    uint32_t at;
} strata_cursor;

/* Replaces the vtab's error message with `msg` (sqlite3_mprintf'd); returns SQLITE_ERROR. */
static int set_msg(sqlite3_vtab* vt, char* msg) {
    sqlite3_free(vt->zErrMsg);
    vt->zErrMsg = msg;
    return msg ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* Sets the vtab's error message (sqlite3_mprintf'd) from a strata error, frees `err`. */
static int vtab_error(sqlite3_vtab* vt, const char* what, strata_status st, char* err) {
    const int rc =
        set_msg(vt, sqlite3_mprintf("strata: %s: %s", what, err ? err : strata_status_name(st)));
    strata_free_error(err);
    return st == STRATA_ERR_NO_MEMORY ? SQLITE_NOMEM : rc;
}

/* ---- arguments: key=value, values optionally quoted -------------------------------------- */

typedef struct args {
    char* dir;
    uint32_t dim;
    int32_t metric; /* -1: not given */
    int32_t dtype;  /* -1: not given */
    uint32_t lock_timeout_ms;
} args;

static char* unquote(const char* v, size_t n) {
    while (n > 0 && isspace((unsigned char)*v)) ++v, --n;
    while (n > 0 && isspace((unsigned char)v[n - 1])) --n;
    if (n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n - 1] == v[0]) ++v, n -= 2;
    return sqlite3_mprintf("%.*s", (int)n, v);
}

static int parse_uint(const char* s, uint32_t max, uint32_t* out) {
    char* end = NULL;
    errno = 0;
    const unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0' || *s == '-' || x > max) return 0;
    *out = (uint32_t)x;
    return 1;
}

static int parse_args(int argc, const char* const* argv, args* a, char** pzErr) {
    memset(a, 0, sizeof *a);
    a->metric = a->dtype = -1;
    a->lock_timeout_ms = 2000;
    for (int i = 3; i < argc; ++i) { /* argv[0..2]: module, database, table */
        const char* eq = strchr(argv[i], '=');
        if (eq == NULL) {
            *pzErr = sqlite3_mprintf(
                "strata: argument '%s' is not key=value (dir=, dim=, "
                "metric=, dtype=, lock_timeout_ms=)",
                argv[i]);
            return SQLITE_ERROR;
        }
        char* key = unquote(argv[i], (size_t)(eq - argv[i]));
        char* val = unquote(eq + 1, strlen(eq + 1));
        int ok = key != NULL && val != NULL;
        if (!ok) {
        } else if (strcmp(key, "dir") == 0) {
            sqlite3_free(a->dir);
            a->dir = val;
            val = NULL;
            ok = *a->dir != '\0';
        } else if (strcmp(key, "dim") == 0) {
            ok = parse_uint(val, 16384, &a->dim) && a->dim > 0;
        } else if (strcmp(key, "metric") == 0) {
            a->metric = strcmp(val, "l2") == 0       ? STRATA_METRIC_L2
                        : strcmp(val, "ip") == 0     ? STRATA_METRIC_IP
                        : strcmp(val, "cosine") == 0 ? STRATA_METRIC_COSINE
                                                     : -1;
            ok = a->metric >= 0;
        } else if (strcmp(key, "dtype") == 0) {
            a->dtype = strcmp(val, "f32") == 0  ? STRATA_DTYPE_F32
                       : strcmp(val, "u8") == 0 ? STRATA_DTYPE_U8
                       : strcmp(val, "i8") == 0 ? STRATA_DTYPE_I8
                                                : -1;
            ok = a->dtype >= 0;
        } else if (strcmp(key, "lock_timeout_ms") == 0) {
            ok = parse_uint(val, 3600000, &a->lock_timeout_ms);
        } else {
            *pzErr = sqlite3_mprintf(
                "strata: unknown argument '%s' (dir, dim, metric, dtype, "
                "lock_timeout_ms)",
                key ? key : "?");
            sqlite3_free(key);
            sqlite3_free(val);
            return SQLITE_ERROR;
        }
        if (!ok) {
            *pzErr = key && val ? sqlite3_mprintf(
                                      "strata: bad value '%s' for %s (dim: 1-16384; "
                                      "metric: l2, ip, cosine; dtype: f32, u8, i8)",
                                      val, key)
                                : NULL;
            sqlite3_free(key);
            sqlite3_free(val);
            return key && val ? SQLITE_ERROR : SQLITE_NOMEM;
        }
        sqlite3_free(key);
        sqlite3_free(val);
    }
    if (a->dir == NULL) {
        *pzErr = sqlite3_mprintf("strata: dir= is required (the collection directory)");
        return SQLITE_ERROR;
    }
    return SQLITE_OK;
}

/* ---- table ------------------------------------------------------------------------------- */

static int open_table(sqlite3* db, int argc, const char* const* argv, sqlite3_vtab** out,
                      char** pzErr, int create) {
    args a;
    int rc = parse_args(argc, argv, &a, pzErr);
    if (rc != SQLITE_OK) {
        sqlite3_free(a.dir);
        return rc;
    }
    strata_open_options o;
    strata_open_options_init(&o);
    o.lock_timeout_ms = a.lock_timeout_ms;
    strata_collection* c = NULL;
    char* err = NULL;
    strata_status st;
    if (strata_collection_exists(a.dir)) {
        st = strata_collection_open(a.dir, &o, &c, &err);
    } else if (!create) {
        *pzErr = sqlite3_mprintf("strata: %s holds no collection", a.dir);
        sqlite3_free(a.dir);
        return SQLITE_ERROR;
    } else if (a.dim == 0) {
        *pzErr = sqlite3_mprintf("strata: %s holds no collection; dim= is required to create one",
                                 a.dir);
        sqlite3_free(a.dir);
        return SQLITE_ERROR;
    } else {
        strata_collection_params p;
        strata_collection_params_init(&p);
        p.dim = a.dim;
        if (a.metric >= 0) p.metric = a.metric;
        if (a.dtype >= 0) p.dtype = a.dtype;
        st = strata_collection_create(a.dir, &p, &o, &c, &err);
    }
    if (st != STRATA_OK) {
        *pzErr = sqlite3_mprintf("strata: %s: %s", a.dir, err ? err : strata_status_name(st));
        strata_free_error(err);
        sqlite3_free(a.dir);
        return st == STRATA_ERR_NO_MEMORY ? SQLITE_NOMEM : SQLITE_ERROR;
    }
    strata_collection_stats s;
    strata_collection_stats_init(&s);
    st = strata_collection_get_stats(c, &s, &err);
    const char* mismatch = st != STRATA_OK                         ? "cannot read its stats"
                           : a.dim != 0 && a.dim != s.dim          ? "dim= differs"
                           : a.metric >= 0 && a.metric != s.metric ? "metric= differs"
                           : a.dtype >= 0 && a.dtype != s.dtype    ? "dtype= differs"
                                                                   : NULL;
    strata_free_error(err);
    if (mismatch != NULL) {
        *pzErr = sqlite3_mprintf(
            "strata: %s: %s from the collection's (dim %u, metric %s, "
            "dtype %s)",
            a.dir, mismatch, s.dim,
            s.metric == 0   ? "l2"
            : s.metric == 1 ? "ip"
                            : "cosine",
            s.dtype == 0   ? "f32"
            : s.dtype == 1 ? "u8"
                           : "i8");
        strata_collection_close(c);
        sqlite3_free(a.dir);
        return SQLITE_ERROR;
    }
    sqlite3_free(a.dir);
    rc = sqlite3_declare_vtab(db,
                              "CREATE TABLE x(vector HIDDEN, k HIDDEN, search_list HIDDEN, "
                              "distance REAL)");
    strata_vtab* vt = rc == SQLITE_OK ? sqlite3_malloc(sizeof *vt) : NULL;
    if (vt == NULL) {
        strata_collection_close(c);
        return rc == SQLITE_OK ? SQLITE_NOMEM : rc;
    }
    memset(vt, 0, sizeof *vt);
    vt->collection = c;
    vt->dim = s.dim;
    vt->dtype = s.dtype;
    vt->row_bytes = (uint64_t)s.dim * (s.metric == STRATA_METRIC_COSINE || s.dtype == 0 ? 4 : 1);
    *out = &vt->base;
    return SQLITE_OK;
}

static int x_create(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out,
                    char** pzErr) {
    (void)aux;
    return open_table(db, argc, argv, out, pzErr, 1);
}

static int x_connect(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out,
                     char** pzErr) {
    (void)aux;
    return open_table(db, argc, argv, out, pzErr, 0);
}

/* Closes the collection; the directory stays (DROP TABLE never deletes data). */
static int x_disconnect(sqlite3_vtab* vtab) {
    strata_vtab* vt = (strata_vtab*)vtab;
    strata_collection_close(vt->collection);
    sqlite3_free(vt);
    return SQLITE_OK;
}

static int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
    (void)vtab;
    int plan = 0, argi = 0;
    int slot[4] = {-1, -1, -1, -1}; /* constraint index for MATCH, k, search_list, rowid */
    for (int i = 0; i < info->nConstraint; ++i) {
        const struct sqlite3_index_constraint* c = &info->aConstraint[i];
        if (!c->usable) continue;
        if (c->iColumn == COL_VECTOR && c->op == SQLITE_INDEX_CONSTRAINT_MATCH) slot[0] = i;
        if (c->iColumn == COL_K && c->op == SQLITE_INDEX_CONSTRAINT_EQ) slot[1] = i;
        if (c->iColumn == COL_SEARCH_LIST && c->op == SQLITE_INDEX_CONSTRAINT_EQ) slot[2] = i;
        if (c->iColumn == -1 && c->op == SQLITE_INDEX_CONSTRAINT_EQ) slot[3] = i;
    }
    /* xFilter's argv: MATCH, then k and search_list when given; or, without MATCH, the rowid
     * of a point lookup (with MATCH, SQLite checks a rowid constraint on the search's rows). */
    const int bits[4] = {PLAN_MATCH, PLAN_K, PLAN_LIST, PLAN_ROWID};
    const int first = slot[0] >= 0 ? 0 : 3, last = slot[0] >= 0 ? 2 : 3;
    for (int j = first; j <= last; ++j) {
        if (slot[j] < 0) continue;
        plan |= bits[j];
        info->aConstraintUsage[slot[j]].argvIndex = ++argi;
        info->aConstraintUsage[slot[j]].omit = 1;
    }
    info->idxNum = plan;
    if (plan & PLAN_MATCH) {
        info->estimatedCost = 10.0;
        info->estimatedRows = kDefaultK;
        if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == COL_DISTANCE &&
            !info->aOrderBy[0].desc) {
            info->orderByConsumed = 1; /* results come closest first */
        }
    } else if (plan & PLAN_ROWID) {
        info->estimatedCost = 1.0;
        info->estimatedRows = 1;
        info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
    } else {
        info->estimatedCost = 1e12; /* refused in xFilter: there is no full scan */
    }
    return SQLITE_OK;
}

static int x_open(sqlite3_vtab* vtab, sqlite3_vtab_cursor** out) {
    (void)vtab;
    strata_cursor* cur = sqlite3_malloc(sizeof *cur);
    if (cur == NULL) return SQLITE_NOMEM;
    memset(cur, 0, sizeof *cur);
    *out = &cur->base;
    return SQLITE_OK;
}

static void reset_cursor(strata_cursor* cur) {
    sqlite3_free(cur->ids);
    sqlite3_free(cur->distances);
    cur->ids = NULL;
    cur->distances = NULL;
    cur->count = cur->at = 0;
}

static int x_close(sqlite3_vtab_cursor* c) {
    reset_cursor((strata_cursor*)c);
    sqlite3_free(c);
    return SQLITE_OK;
}

/* A vector value: a blob of dim little-endian f32, or a JSON-style text array of dim numbers.
 * Fills out (dim floats). */
static int read_vector(strata_vtab* vt, sqlite3_value* v, float* out, const char* what) {
    if (sqlite3_value_type(v) == SQLITE_BLOB) {
        const int n = sqlite3_value_bytes(v);
        if ((uint64_t)n != (uint64_t)vt->dim * 4) {
            return set_msg(&vt->base,
                           sqlite3_mprintf("strata: %s is a blob of %d bytes; dimension %u takes "
                                           "%u bytes of f32",
                                           what, n, vt->dim, vt->dim * 4));
        }
        memcpy(out, sqlite3_value_blob(v), (size_t)n);
        return SQLITE_OK;
    }
    if (sqlite3_value_type(v) == SQLITE_TEXT) {
        const char* s = (const char*)sqlite3_value_text(v);
        while (isspace((unsigned char)*s)) ++s;
        if (*s++ != '[') goto bad;
        for (uint32_t i = 0; i < vt->dim; ++i) {
            char* end = NULL;
            out[i] = strtof(s, &end);
            if (end == s) goto bad;
            s = end;
            while (isspace((unsigned char)*s)) ++s;
            if (*s != (i + 1 == vt->dim ? ']' : ',')) goto bad;
            ++s;
        }
        while (isspace((unsigned char)*s)) ++s;
        if (*s == '\0') return SQLITE_OK;
    bad:
        return set_msg(&vt->base, sqlite3_mprintf("strata: %s is not a text array of %u numbers "
                                                  "('[0.1, 0.2, ...]')",
                                                  what, vt->dim));
    }
    return set_msg(
        &vt->base,
        sqlite3_mprintf("strata: %s must be a blob of %u f32 or a text array, "
                        "not %s",
                        what, vt->dim, sqlite3_value_type(v) == SQLITE_NULL ? "NULL" : "a number"));
}

static int int_arg(strata_vtab* vt, sqlite3_value* v, const char* name, int lo, int hi, int* out) {
    const sqlite3_int64 x = sqlite3_value_int64(v);
    if (sqlite3_value_type(v) != SQLITE_INTEGER || x < lo || x > hi) {
        return set_msg(&vt->base,
                       sqlite3_mprintf("strata: %s must be an integer in [%d, %d]", name, lo, hi));
    }
    *out = (int)x;
    return SQLITE_OK;
}

static int x_filter(sqlite3_vtab_cursor* c, int plan, const char* idx, int argc,
                    sqlite3_value** argv) {
    (void)idx;
    (void)argc;
    strata_cursor* cur = (strata_cursor*)c;
    strata_vtab* vt = (strata_vtab*)c->pVtab;
    reset_cursor(cur);
    int a = 0;
    if (!(plan & PLAN_MATCH)) {
        if (!(plan & PLAN_ROWID)) {
            return set_msg(&vt->base,
                           sqlite3_mprintf("strata: a query on a strata table needs `vector "
                                           "MATCH ?` (a k-NN search) or `rowid = ?`"));
        }
        /* A point lookup: one row when the id is live (its distance is NULL). */
        if (sqlite3_value_int64(argv[0]) < 0) return SQLITE_OK; /* no such id */
        cur->ids = sqlite3_malloc(sizeof(uint64_t));
        if (cur->ids == NULL) return SQLITE_NOMEM;
        cur->ids[0] = (uint64_t)sqlite3_value_int64(argv[0]);
        void* buf = sqlite3_malloc64(vt->row_bytes);
        if (buf == NULL) return SQLITE_NOMEM;
        char* err = NULL;
        const strata_status st =
            strata_collection_get(vt->collection, cur->ids[0], buf, vt->row_bytes, &err);
        sqlite3_free(buf);
        if (st == STRATA_ERR_NOT_FOUND) {
            strata_free_error(err);
            return SQLITE_OK;
        }
        if (st != STRATA_OK) return vtab_error(&vt->base, "lookup", st, err);
        cur->count = 1;
        return SQLITE_OK;
    }
    int k = kDefaultK, list = kDefaultList;
    float* q = sqlite3_malloc64((uint64_t)vt->dim * 4);
    if (q == NULL) return SQLITE_NOMEM;
    int rc = read_vector(vt, argv[a++], q, "the MATCH vector");
    if (rc == SQLITE_OK && (plan & PLAN_K)) rc = int_arg(vt, argv[a++], "k", 1, kMaxK, &k);
    if (rc == SQLITE_OK && (plan & PLAN_LIST)) {
        rc = int_arg(vt, argv[a++], "search_list", 1, 100000, &list);
    }
    cur->ids = rc == SQLITE_OK ? sqlite3_malloc64(sizeof(uint64_t) * (uint64_t)k) : NULL;
    cur->distances = rc == SQLITE_OK ? sqlite3_malloc64(sizeof(float) * (uint64_t)k) : NULL;
    if (rc == SQLITE_OK && (cur->ids == NULL || cur->distances == NULL)) rc = SQLITE_NOMEM;
    if (rc == SQLITE_OK) {
        strata_search_params p;
        strata_search_params_init(&p);
        p.k = (uint32_t)k;
        p.list_size = (uint32_t)list;
        char* err = NULL;
        const strata_status st = strata_collection_search(
            vt->collection, q, STRATA_DTYPE_F32, vt->dim, 1, &p, cur->ids, cur->distances, &err);
        if (st != STRATA_OK) rc = vtab_error(&vt->base, "search", st, err);
    }
    sqlite3_free(q);
    if (rc != SQLITE_OK) return rc;
    while (cur->count < (uint32_t)k && cur->ids[cur->count] != STRATA_NO_ID) ++cur->count;
    return SQLITE_OK;
}

static int x_next(sqlite3_vtab_cursor* c) {
    ((strata_cursor*)c)->at++;
    return SQLITE_OK;
}

static int x_eof(sqlite3_vtab_cursor* c) {
    const strata_cursor* cur = (const strata_cursor*)c;
    return cur->at >= cur->count;
}

static int x_column(sqlite3_vtab_cursor* c, sqlite3_context* ctx, int col) {
    const strata_cursor* cur = (const strata_cursor*)c;
    strata_vtab* vt = (strata_vtab*)c->pVtab;
    if (col == COL_DISTANCE) {
        if (cur->distances) sqlite3_result_double(ctx, cur->distances[cur->at]);
        return SQLITE_OK;
    }
    if (col != COL_VECTOR) return SQLITE_OK; /* k, search_list: inputs only */
    void* buf = sqlite3_malloc64(vt->row_bytes);
    if (buf == NULL) return SQLITE_NOMEM;
    char* err = NULL;
    const strata_status st =
        strata_collection_get(vt->collection, cur->ids[cur->at], buf, vt->row_bytes, &err);
    if (st == STRATA_ERR_NOT_FOUND) { /* deleted since the search */
        strata_free_error(err);
        sqlite3_free(buf);
        return SQLITE_OK;
    }
    if (st != STRATA_OK) {
        sqlite3_free(buf);
        return vtab_error(&vt->base, "reading a vector", st, err);
    }
    sqlite3_result_blob64(ctx, buf, vt->row_bytes, sqlite3_free);
    return SQLITE_OK;
}

static int x_rowid(sqlite3_vtab_cursor* c, sqlite3_int64* out) {
    const strata_cursor* cur = (const strata_cursor*)c;
    *out = (sqlite3_int64)cur->ids[cur->at];
    return SQLITE_OK;
}

static int id_of(strata_vtab* vt, sqlite3_value* v, uint64_t* out) {
    if (sqlite3_value_type(v) != SQLITE_INTEGER || sqlite3_value_int64(v) < 0) {
        return set_msg(&vt->base,
                       sqlite3_mprintf("strata: rowid must be given, as an integer >= 0 (the "
                                       "strata id)"));
    }
    *out = (uint64_t)sqlite3_value_int64(v);
    return SQLITE_OK;
}

/* INSERT (rowid, vector) upserts; DELETE deletes; UPDATE writes the new vector (and deletes
 * the old rowid when it changes). Each is durable when the statement returns. */
static int x_update(sqlite3_vtab* vtab, int argc, sqlite3_value** argv, sqlite3_int64* rowid) {
    strata_vtab* vt = (strata_vtab*)vtab;
    char* err = NULL;
    uint64_t old_id = 0, new_id = 0;
    if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
        old_id = (uint64_t)sqlite3_value_int64(argv[0]);
        if (argc == 1 || (sqlite3_value_type(argv[1]) == SQLITE_INTEGER &&
                          (uint64_t)sqlite3_value_int64(argv[1]) != old_id)) {
            const strata_status st = strata_collection_delete(vt->collection, &old_id, 1, &err);
            if (st != STRATA_OK) return vtab_error(vtab, "delete", st, err);
        }
        if (argc == 1) return SQLITE_OK;
    }
    if (id_of(vt, argv[1], &new_id) != SQLITE_OK) return SQLITE_ERROR;
    float* v = sqlite3_malloc64((uint64_t)vt->dim * 4);
    if (v == NULL) return SQLITE_NOMEM;
    int rc = read_vector(vt, argv[2 + COL_VECTOR], v, "the vector");
    if (rc == SQLITE_OK) {
        const strata_status st =
            strata_collection_upsert(vt->collection, &new_id, 1, v, STRATA_DTYPE_F32, &err);
        if (st != STRATA_OK) rc = vtab_error(vtab, "upsert", st, err);
    }
    sqlite3_free(v);
    *rowid = (sqlite3_int64)new_id;
    return rc;
}

static int x_rename(sqlite3_vtab* vtab, const char* name) {
    (void)vtab;
    (void)name;
    return SQLITE_OK; /* the collection is named by its directory, not the table */
}

static sqlite3_module strata_module = {
    .iVersion = 1,
    .xCreate = x_create,
    .xConnect = x_connect,
    .xBestIndex = x_best_index,
    .xDisconnect = x_disconnect,
    .xDestroy = x_disconnect,
    .xOpen = x_open,
    .xClose = x_close,
    .xFilter = x_filter,
    .xNext = x_next,
    .xEof = x_eof,
    .xColumn = x_column,
    .xRowid = x_rowid,
    .xUpdate = x_update,
    .xRename = x_rename,
};

static void version_fn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    (void)argc;
    (void)argv;
    sqlite3_result_text(ctx, strata_version(), -1, SQLITE_STATIC);
}

#ifdef __GNUC__
#define STRATA_SQLITE_EXPORT __attribute__((visibility("default")))
#else
#define STRATA_SQLITE_EXPORT
#endif

STRATA_SQLITE_EXPORT int sqlite3_strata_init(sqlite3* db, char** pzErrMsg,
                                             const sqlite3_api_routines* api) {
    SQLITE_EXTENSION_INIT2(api);
    if (!strata_version_compatible(STRATA_VERSION_NUMBER)) {
        *pzErrMsg = sqlite3_mprintf("strata: library %s does not match this extension's %d",
                                    strata_version(), STRATA_VERSION_NUMBER);
        return SQLITE_ERROR;
    }
    int rc = sqlite3_create_module_v2(db, "strata", &strata_module, NULL, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_create_function(db, "strata_version", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                     NULL, version_fn, NULL, NULL);
    }
    return rc;
}

/* The entry point SQLite derives from the file name libstrata_sqlite.so. */
STRATA_SQLITE_EXPORT int sqlite3_stratasqlite_init(sqlite3* db, char** pzErrMsg,
                                                   const sqlite3_api_routines* api) {
    return sqlite3_strata_init(db, pzErrMsg, api);
}
