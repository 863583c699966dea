/* The C API from C11: strata.h compiled as C (-std=c11 -pedantic-errors), every entry point
 * driven from C, answers checked against a brute-force scan done here. Data: a fixed seed
 * (printed). Runs under AddressSanitizer in scripts/test.sh (label unit). */
#define _XOPEN_SOURCE 700
#include <strata/strata.h>

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kDim = 16, kRows = 3000, kQueries = 20, kK = 10 };
static const uint64_t kSeed = 20240611;

static int failures = 0;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++failures;                                                              \
            return;                                                                  \
        }                                                                            \
    } while (0)
/* A call that must succeed; prints the library's message otherwise. */
#define OK(call)                                                                 \
    do {                                                                         \
        char* err_ = NULL;                                                       \
        strata_status st_ = (call);                                              \
        if (st_ != STRATA_OK) {                                                  \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, \
                    err_ ? err_ : strata_status_name(st_));                      \
            strata_free_error(err_);                                             \
            ++failures;                                                          \
            return;                                                              \
        }                                                                        \
    } while (0)
/* A call that must fail with `code` and a message containing `needle`. */
#define FAILS(code, needle, call_with_err)                                                      \
    do {                                                                                        \
        char* err = NULL;                                                                       \
        strata_status st_ = (call_with_err);                                                    \
        if (st_ != (code) || err == NULL || strstr(err, (needle)) == NULL) {                    \
            fprintf(stderr, "%s:%d: expected %s with \"%s\", got %s: %s\n", __FILE__, __LINE__, \
                    strata_status_name(code), (needle), strata_status_name(st_),                \
                    err ? err : "(no message)");                                                \
            strata_free_error(err);                                                             \
            ++failures;                                                                         \
            return;                                                                             \
        }                                                                                       \
        strata_free_error(err);                                                                 \
    } while (0)

static uint64_t rng_state;
static float next_float(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rng_state >> 40) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f;
}

static float base[kRows][kDim];
static uint64_t base_ids[kRows];
static int deleted[kRows];
static float queries[kQueries][kDim];

static float l2(const float* a, const float* b) {
    float s = 0;
    for (int i = 0; i < kDim; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

/* Brute force: the k nearest live rows accepted by keep (NULL: all), ids into out (padded). */
typedef int (*keep_fn)(uint64_t id);
static void brute(const float* q, keep_fn keep, uint64_t* out, float* out_d) {
    for (int j = 0; j < kK; ++j) {
        out[j] = STRATA_NO_ID;
        out_d[j] = INFINITY;
    }
    for (int r = 0; r < kRows; ++r) {
        if (deleted[r] || (keep && !keep(base_ids[r]))) continue;
        const float d = l2(q, base[r]);
        if (d >= out_d[kK - 1]) continue;
        int j = kK - 1;
        while (j > 0 && out_d[j - 1] > d) {
            out[j] = out[j - 1];
            out_d[j] = out_d[j - 1];
            --j;
        }
        out[j] = base_ids[r];
        out_d[j] = d;
    }
}

static double recall(const uint64_t* got, keep_fn keep) {
    int hit = 0, total = 0;
    for (int q = 0; q < kQueries; ++q) {
        uint64_t truth[kK];
        float td[kK];
        brute(queries[q], keep, truth, td);
        for (int j = 0; j < kK; ++j) {
            if (truth[j] == STRATA_NO_ID) continue;
            ++total;
            for (int i = 0; i < kK; ++i) hit += got[q * kK + i] == truth[j];
        }
    }
    return total ? (double)hit / total : 1.0;
}

static int is_seventh(uint64_t id) { return id % 7 == 0; }
static bool filter_seventh(uint64_t id, void* ctx) {
    ++*(int*)ctx; /* calls counted: the predicate really runs */
    return id % 7 == 0;
}
static uint64_t kRare[3]; /* three ids of live rows, set in main */
static int is_rare(uint64_t id) { return id == kRare[0] || id == kRare[1] || id == kRare[2]; }
static bool filter_rare(uint64_t id, void* ctx) {
    (void)ctx;
    return is_rare(id);
}
static uint64_t allow_sorted[60];
static int is_allowed(uint64_t id) {
    for (int i = 0; i < 60; ++i) {
        if (allow_sorted[i] == id) return 1;
    }
    return 0;
}

static int log_lines = 0;
static void count_log(int32_t level, const char* message, void* ctx) {
    (void)level;
    (void)ctx;
    if (message && *message) ++log_lines;
}

static int rm_entry(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char dir[256];

static void test_version(void) {
    CHECK(strcmp(strata_version(), "0.1.0") == 0);
    CHECK(strata_version_number() == STRATA_VERSION_NUMBER);
    CHECK(strata_version_compatible(STRATA_VERSION_NUMBER));
    CHECK(!strata_version_compatible(STRATA_VERSION_NUMBER + 10000)); /* next major */
    CHECK(!strata_version_compatible(STRATA_VERSION_NUMBER + 100));   /* newer minor */
    CHECK(strcmp(strata_status_name(STRATA_ERR_BUSY), "Busy") == 0);
    CHECK(strcmp(strata_status_name((strata_status)77), "Unknown") == 0);
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "not a strata_log_level", strata_set_log_level(9, &err));
}

static void test_bad_create(void) {
    strata_collection_params p;
    strata_collection_params_init(&p);
    strata_collection* c = NULL;
    char path[300];
    snprintf(path, sizeof path, "%s/bad", dir);
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "dimension 0",
          strata_collection_create(path, &p, NULL, &c, &err));
    CHECK(c == NULL);
    p.dim = kDim;
    p.metric = 9;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "metric 9",
          strata_collection_create(path, &p, NULL, &c, &err));
    p.metric = STRATA_METRIC_COSINE;
    p.dtype = STRATA_DTYPE_U8;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "cosine",
          strata_collection_create(path, &p, NULL, &c, &err));
    strata_collection_params_init(&p);
    p.dim = kDim;
    p.struct_size = 8;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "struct_size",
          strata_collection_create(path, &p, NULL, &c, &err));
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "params is NULL",
          strata_collection_create(path, NULL, NULL, &c, &err));
    FAILS(STRATA_ERR_NOT_FOUND, "not a collection", strata_collection_open(path, NULL, &c, &err));
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "out is NULL",
          strata_collection_open(path, NULL, NULL, &err));
    /* errmsg may be NULL */
    CHECK(strata_collection_open(path, NULL, &c, NULL) == STRATA_ERR_NOT_FOUND);
    CHECK(!strata_collection_exists(path));
    strata_index* ix = NULL;
    FAILS(STRATA_ERR_NOT_FOUND, "", strata_index_open(path, NULL, &ix, &err));
    CHECK(ix == NULL);
}

static strata_collection* open_col(void) {
    strata_open_options o;
    strata_open_options_init(&o);
    o.background = 0;
    o.consolidate_at = 0;
    strata_collection* c = NULL;
    char* err = NULL;
    if (strata_collection_open(dir, &o, &c, &err) != STRATA_OK) {
        fprintf(stderr, "open: %s\n", err ? err : "?");
        strata_free_error(err);
        return NULL;
    }
    return c;
}

static void search_all(strata_collection* c, const strata_search_params* p, uint64_t* ids, float* d,
                       strata_status* st) {
    char* err = NULL;
    *st = strata_collection_search(c, queries, STRATA_DTYPE_F32, kDim, kQueries, p, ids, d, &err);
    if (*st != STRATA_OK) fprintf(stderr, "search: %s\n", err ? err : "?");
    strata_free_error(err);
}

/* Checks every result is accepted by keep, sorted, not deleted, and padded only when short. */
static int well_formed(const uint64_t* ids, const float* d, keep_fn keep, int expect_full) {
    for (int q = 0; q < kQueries; ++q) {
        for (int j = 0; j < kK; ++j) {
            const uint64_t id = ids[q * kK + j];
            if (id == STRATA_NO_ID) {
                if (expect_full || !isinf(d[q * kK + j])) return 0;
                continue;
            }
            if (keep && !keep(id)) return 0;
            for (int r = 0; r < kRows; ++r) {
                if (base_ids[r] == id && deleted[r]) return 0;
            }
            if (j > 0 && d[q * kK + j] < d[q * kK + j - 1]) return 0;
        }
    }
    return 1;
}

static void check_searches(strata_collection* c, const char* tier) {
    static uint64_t ids[kQueries * kK], ids2[kQueries * kK];
    static float d[kQueries * kK], d2[kQueries * kK];
    strata_status st;
    strata_search_params p;
    strata_search_params_init(&p);
    p.k = kK;
    search_all(c, &p, ids, d, &st);
    CHECK(st == STRATA_OK);
    const double r = recall(ids, NULL);
    printf("%s: recall@%d %.3f\n", tier, kK, r);
    CHECK(r >= 0.9);
    CHECK(well_formed(ids, d, NULL, 1));
    /* Many threads: same answers. */
    p.threads = 0;
    search_all(c, &p, ids2, d2, &st);
    CHECK(st == STRATA_OK);
    CHECK(memcmp(ids, ids2, sizeof ids) == 0);
    /* distances may be NULL */
    p.threads = 1;
    char* err = NULL;
    CHECK(strata_collection_search(c, queries, STRATA_DTYPE_F32, kDim, kQueries, &p, ids2, NULL,
                                   &err) == STRATA_OK);
    CHECK(memcmp(ids, ids2, sizeof ids) == 0);

    /* Predicate: every answer passes it and k of them come back. */
    int calls = 0;
    p.filter = filter_seventh;
    p.filter_context = &calls;
    search_all(c, &p, ids, d, &st);
    CHECK(st == STRATA_OK);
    CHECK(calls > 0);
    CHECK(well_formed(ids, d, is_seventh, 1));
    printf("%s: filtered recall@%d %.3f\n", tier, kK, recall(ids, is_seventh));
    CHECK(recall(ids, is_seventh) >= 0.85);
    /* A predicate matching 3 ids: exactly those 3, closest first, then padding. */
    p.filter = filter_rare;
    search_all(c, &p, ids, d, &st);
    CHECK(st == STRATA_OK);
    CHECK(well_formed(ids, d, is_rare, 0));
    for (int q = 0; q < kQueries; ++q) {
        uint64_t truth[kK];
        float td[kK];
        brute(queries[q], is_rare, truth, td);
        CHECK(memcmp(truth, ids + q * kK, sizeof truth) == 0);
        CHECK(ids[q * kK + 3] == STRATA_NO_ID);
    }
    p.filter = NULL;

    /* Allow-list (unsorted, with a repeat): exact answers. */
    uint64_t allow[61];
    for (int i = 0; i < 60; ++i) allow[i] = allow_sorted[59 - i];
    allow[60] = allow[0];
    p.allow_ids = allow;
    p.allow_count = 61;
    search_all(c, &p, ids, d, &st);
    CHECK(st == STRATA_OK);
    CHECK(well_formed(ids, d, is_allowed, 1));
    for (int q = 0; q < kQueries; ++q) {
        uint64_t truth[kK];
        float td[kK];
        brute(queries[q], is_allowed, truth, td);
        CHECK(memcmp(truth, ids + q * kK, sizeof truth) == 0);
        CHECK(fabsf(td[0] - d[q * kK]) <= 1e-4f * (1 + td[0]));
    }
    /* Allow-list and predicate together. */
    calls = 0;
    p.filter = filter_seventh;
    p.filter_context = &calls;
    search_all(c, &p, ids, d, &st);
    CHECK(st == STRATA_OK);
    for (int j = 0; j < kQueries * kK; ++j) {
        CHECK(ids[j] == STRATA_NO_ID || (is_allowed(ids[j]) && is_seventh(ids[j])));
    }
    p.filter = NULL;
    /* An empty allow-list matches nothing. */
    p.allow_count = 0;
    search_all(c, &p, ids, d, &st);
    CHECK(st == STRATA_OK);
    for (int j = 0; j < kQueries * kK; ++j) CHECK(ids[j] == STRATA_NO_ID && isinf(d[j]));
    p.allow_ids = NULL;
}

static void check_bad_searches(strata_collection* c) {
    uint64_t ids[kK];
    float d[kK];
    strata_search_params p;
    strata_search_params_init(&p);
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "dimension 3",
          strata_collection_search(c, queries, STRATA_DTYPE_F32, 3, 1, &p, ids, d, &err));
    p.k = 0;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "k is 0",
          strata_collection_search(c, queries, STRATA_DTYPE_F32, kDim, 1, &p, ids, d, &err));
    p.k = kK;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "ids is NULL",
          strata_collection_search(c, queries, STRATA_DTYPE_F32, kDim, 1, &p, NULL, d, &err));
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "queries is NULL",
          strata_collection_search(c, NULL, STRATA_DTYPE_F32, kDim, 1, &p, ids, d, &err));
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "handle is NULL",
          strata_collection_search(NULL, queries, STRATA_DTYPE_F32, kDim, 1, &p, ids, d, &err));
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "dtype 5",
          strata_collection_search(c, queries, 5, kDim, 1, &p, ids, d, &err));
    p.allow_count = 3;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "allow_ids is NULL",
          strata_collection_search(c, queries, STRATA_DTYPE_F32, kDim, 1, &p, ids, d, &err));
    p.allow_count = 0;
    p.label_filter_json = "{\"must\": [";
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "label_filter_json",
          strata_collection_search(c, queries, STRATA_DTYPE_F32, kDim, 1, &p, ids, d, &err));
    p.label_filter_json = NULL;
    p.struct_size = 4;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "struct_size",
          strata_collection_search(c, queries, STRATA_DTYPE_F32, kDim, 1, &p, ids, d, &err));
    float nan_query[kDim] = {0};
    nan_query[2] = NAN;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "query 0",
          strata_collection_search(c, nan_query, STRATA_DTYPE_F32, kDim, 1, NULL, ids, d, &err));
    /* nq = 0 needs no buffers */
    OK(strata_collection_search(c, NULL, STRATA_DTYPE_F32, kDim, 0, NULL, NULL, NULL, &err_));
}

static void check_writes_refused(strata_collection* c) {
    float bad[2][kDim] = {{0}};
    uint64_t ids[2] = {5000000, 5000001};
    bad[1][3] = INFINITY;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "row 1",
          strata_collection_upsert(c, ids, 2, bad, STRATA_DTYPE_F32, &err));
    ids[1] = ids[0];
    bad[0][0] = bad[1][0] = 1;
    bad[1][3] = 0;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "appears twice",
          strata_collection_upsert(c, ids, 2, bad, STRATA_DTYPE_F32, &err));
    ids[0] = STRATA_NO_ID;
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "reserved",
          strata_collection_upsert(c, ids, 1, bad, STRATA_DTYPE_F32, &err));
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "dtype 3",
          strata_collection_upsert(c, ids, 1, bad, 3, &err));
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "NULL",
          strata_collection_upsert(c, NULL, 1, bad, STRATA_DTYPE_F32, &err));
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "NULL", strata_collection_delete(c, NULL, 1, &err));
    OK(strata_collection_upsert(c, NULL, 0, NULL, STRATA_DTYPE_F32, &err_));
    float v[kDim];
    FAILS(STRATA_ERR_NOT_FOUND, "5000000", strata_collection_get(c, 5000000, v, sizeof v, &err));
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "bytes", strata_collection_get(c, base_ids[0], v, 8, &err));
}

static void check_get_and_stats(strata_collection* c, uint64_t live) {
    float v[kDim];
    for (int r = 0; r < kRows; r += 97) {
        char* err = NULL;
        const strata_status st = strata_collection_get(c, base_ids[r], v, sizeof v, &err);
        strata_free_error(err);
        CHECK(st == (deleted[r] ? STRATA_ERR_NOT_FOUND : STRATA_OK));
        if (!deleted[r]) CHECK(memcmp(v, base[r], sizeof v) == 0);
    }
    strata_collection_stats s;
    strata_collection_stats_init(&s);
    OK(strata_collection_get_stats(c, &s, &err_));
    CHECK(s.dim == kDim && s.metric == STRATA_METRIC_L2 && s.dtype == STRATA_DTYPE_F32);
    CHECK(s.live == live);
    strata_collection_stats bad;
    memset(&bad, 0, sizeof bad);
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "struct_size", strata_collection_get_stats(c, &bad, &err));
}

static void test_collection(void) {
    char path[300];
    snprintf(path, sizeof path, "%s", dir);
    strata_collection_params p;
    strata_collection_params_init(&p);
    p.dim = kDim;
    p.degree_max = 24;
    p.pq_bytes = 8;
    strata_open_options o;
    strata_open_options_init(&o);
    o.background = 0;
    o.consolidate_at = 0;
    strata_collection* c = NULL;
    OK(strata_collection_create(path, &p, &o, &c, &err_));
    CHECK(c != NULL && strata_collection_exists(path));
    /* One handle at a time: a second open is refused, naming this process. */
    strata_collection* c2 = c;
    FAILS(STRATA_ERR_ALREADY_EXISTS, "exists", strata_collection_create(path, &p, &o, &c2, &err));
    CHECK(c2 == NULL); /* *out is NULL after a failure */
    char pid[32];
    snprintf(pid, sizeof pid, "pid %d", (int)getpid());
    o.lock_timeout_ms = 50;
    FAILS(STRATA_ERR_BUSY, pid, strata_collection_open(path, &o, &c2, &err));
    CHECK(c2 == NULL);
    o.lock_timeout_ms = 0;

    /* Write in batches of 500, replace 100 rows, delete 300. */
    for (int b = 0; b < kRows; b += 500) {
        OK(strata_collection_upsert(c, base_ids + b, 500, base[b], STRATA_DTYPE_F32, &err_));
    }
    for (int r = 0; r < 100; ++r) {
        for (int j = 0; j < kDim; ++j) base[r][j] = next_float();
    }
    OK(strata_collection_upsert(c, base_ids, 100, base[0], STRATA_DTYPE_F32, &err_));
    uint64_t gone[300];
    for (int i = 0; i < 300; ++i) {
        gone[i] = base_ids[i * 10 + 5];
        deleted[i * 10 + 5] = 1;
    }
    OK(strata_collection_delete(c, gone, 300, &err_));
    check_writes_refused(c);
    check_bad_searches(c);
    check_searches(c, "hot tier");
    check_get_and_stats(c, kRows - 300);

    /* Consolidate: the disk generation answers the same way. */
    strata_set_log_callback(count_log, NULL);
    strata_consolidation_report rep;
    strata_consolidation_report_init(&rep);
    OK(strata_collection_consolidate(c, &rep, &err_));
    strata_set_log_callback(NULL, NULL);
    CHECK(rep.swapped == 1 && rep.generation == 1);
    CHECK(rep.inserted + rep.kept == kRows - 300);
    CHECK(log_lines > 0);
    strata_collection_stats s;
    strata_collection_stats_init(&s);
    OK(strata_collection_get_stats(c, &s, &err_));
    CHECK(s.generation == 1 && s.generation_nodes == kRows - 300 && s.hot == 0);
    check_searches(c, "generation");
    /* Writes after the generation: two deleted ids come back in the hot tier. */
    OK(strata_collection_upsert(c, &base_ids[5], 1, base[5], STRATA_DTYPE_F32, &err_));
    OK(strata_collection_upsert(c, &base_ids[15], 1, base[15], STRATA_DTYPE_F32, &err_));
    deleted[5] = deleted[15] = 0;
    check_searches(c, "generation + hot tier");
    strata_collection_close(c);

    /* Reopen: the log replays the last writes over the generation. */
    c = open_col();
    CHECK(c != NULL);
    check_get_and_stats(c, kRows - 300 + 2);
    check_searches(c, "reopened");
    strata_collection_close(c);
    strata_collection_close(NULL);
}

static void test_index(void) {
    char gen[300];
    snprintf(gen, sizeof gen, "%s/gen-000001", dir);
    strata_index_options o;
    strata_index_options_init(&o);
    strata_index* ix = NULL;
    OK(strata_index_open(gen, &o, &ix, &err_));
    strata_index_info info;
    strata_index_info_init(&info);
    OK(strata_index_get_info(ix, &info, &err_));
    CHECK(info.dim == kDim && info.node_count == kRows - 300 && info.pq_bytes == 8);
    static uint64_t ids[kQueries * kK];
    static float d[kQueries * kK];
    strata_search_params p;
    strata_search_params_init(&p);
    int calls = 0;
    p.filter = filter_seventh;
    p.filter_context = &calls;
    p.threads = 2;
    OK(strata_index_search(ix, queries, STRATA_DTYPE_F32, kDim, kQueries, &p, ids, d, &err_));
    CHECK(calls > 0);
    for (int j = 0; j < kQueries * kK; ++j) CHECK(ids[j] != STRATA_NO_ID && ids[j] % 7 == 0);
    FAILS(STRATA_ERR_INVALID_ARGUMENT, "dimension",
          strata_index_search(ix, queries, STRATA_DTYPE_F32, 2, 1, &p, ids, d, &err));
    strata_index_close(ix);
    strata_index_close(NULL);
}

int main(void) {
    rng_state = kSeed;
    printf("capi_test: seed %llu, %d rows of dim %d\n", (unsigned long long)kSeed, kRows, kDim);
    for (int r = 0; r < kRows; ++r) {
        base_ids[r] = 1000000 + (uint64_t)r * 3; /* sparse ids, a seventh of them % 7 == 0 */
        for (int j = 0; j < kDim; ++j) base[r][j] = next_float();
    }
    for (int q = 0; q < kQueries; ++q) {
        for (int j = 0; j < kDim; ++j) queries[q][j] = next_float();
    }
    for (int i = 0; i < 60; ++i) allow_sorted[i] = base_ids[i * 50 + 1];
    kRare[0] = base_ids[2];
    kRare[1] = base_ids[200];
    kRare[2] = base_ids[600];
    const char* tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/strata_capi_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_version();
    test_bad_create();
    /* the collection lives in dir/c */
    char root[256];
    memcpy(root, dir, sizeof root);
    strncat(dir, "/c", sizeof dir - strlen(dir) - 1);
    if (!failures) test_collection();
    if (!failures) test_index();
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (failures) {
        fprintf(stderr, "capi_test: %d failure(s)\n", failures);
        return 1;
    }
    printf("capi_test: all checks passed\n");
    return 0;
}
