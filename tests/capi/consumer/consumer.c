/* A consumer of the installed strata: creates a collection, writes, searches, checks that each
 * stored vector finds itself first, reopens, and prints "consumer OK <version>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

#define DIM 8
#define N 200

static int fail(const char* what, strata_status st, char* err) {
    fprintf(stderr, "consumer: %s: %s (%s)\n", what, err ? err : "", strata_status_name(st));
    strata_free_error(err);
    return 1;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: consumer NEW_COLLECTION_DIR\n");
        return 2;
    }
    if (!strata_version_compatible(STRATA_VERSION_NUMBER)) {
        fprintf(stderr, "consumer: library %s does not serve header %d\n", strata_version(),
                STRATA_VERSION_NUMBER);
        return 1;
    }
    strata_collection_params p;
    strata_collection_params_init(&p);
    p.dim = DIM;
    strata_collection* c = NULL;
    char* err = NULL;
    strata_status st = strata_collection_create(argv[1], &p, NULL, &c, &err);
    if (st != STRATA_OK) return fail("create", st, err);
    static float v[N][DIM];
    static uint64_t ids[N];
    unsigned s = 7;
    for (int i = 0; i < N; ++i) {
        ids[i] = 100 + (uint64_t)i;
        for (int j = 0; j < DIM; ++j) {
            s = s * 1103515245u + 12345u;
            v[i][j] = (float)((s >> 8) % 1000) / 1000.0f;
        }
    }
    st = strata_collection_upsert(c, ids, N, v, STRATA_DTYPE_F32, &err);
    if (st != STRATA_OK) return fail("upsert", st, err);
    strata_collection_close(c);
    st = strata_collection_open(argv[1], NULL, &c, &err);
    if (st != STRATA_OK) return fail("open", st, err);
    static uint64_t got[N];
    static float d[N];
    strata_search_params sp;
    strata_search_params_init(&sp);
    sp.k = 1;
    st = strata_collection_search(c, v, STRATA_DTYPE_F32, DIM, N, &sp, got, d, &err);
    if (st != STRATA_OK) return fail("search", st, err);
    int self = 0;
    for (int i = 0; i < N; ++i) self += got[i] == ids[i] && d[i] == 0.0f;
    strata_collection_close(c);
    if (self < N) {
        fprintf(stderr, "consumer: only %d of %d vectors found themselves\n", self, N);
        return 1;
    }
    printf("consumer OK %s\n", strata_version());
    return 0;
}
