/* The C API's own search latency, the baseline of the SQL faces (bench/sql/sql_overhead.sh):
 * opens a collection through libstrata.so, searches every query of an .fbin file one call per
 * query on this thread (after one warm-up pass), `runs` times, and prints per run the mean
 * microseconds per query. Usage: capi_search_bench COLLECTION QUERIES.fbin K L RUNS */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <strata/strata.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char** argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: capi_search_bench COLLECTION QUERIES.fbin K L RUNS\n");
        return 2;
    }
    FILE* f = fopen(argv[2], "rb");
    int32_t hdr[2];
    if (f == NULL || fread(hdr, 4, 2, f) != 2 || hdr[0] <= 0 || hdr[1] <= 0) {
        fprintf(stderr, "capi_search_bench: cannot read %s\n", argv[2]);
        return 1;
    }
    const uint64_t nq = (uint64_t)hdr[0];
    const uint32_t dim = (uint32_t)hdr[1];
    float* q = malloc(sizeof(float) * nq * dim);
    if (q == NULL || fread(q, sizeof(float) * dim, nq, f) != nq) {
        fprintf(stderr, "capi_search_bench: %s is short\n", argv[2]);
        return 1;
    }
    fclose(f);
    strata_open_options o;
    strata_open_options_init(&o);
    o.background = 0;
    o.consolidate_at = 0;
    strata_collection* c = NULL;
    char* err = NULL;
    if (strata_collection_open(argv[1], &o, &c, &err) != STRATA_OK) {
        fprintf(stderr, "capi_search_bench: %s\n", err);
        return 1;
    }
    strata_search_params p;
    strata_search_params_init(&p);
    p.k = (uint32_t)atoi(argv[3]);
    p.list_size = (uint32_t)atoi(argv[4]);
    const int runs = atoi(argv[5]);
    uint64_t* ids = malloc(sizeof(uint64_t) * p.k);
    float* d = malloc(sizeof(float) * p.k);
    for (int run = -1; run < runs; ++run) { /* run -1: warm-up */
        const double t0 = now_us();
        for (uint64_t i = 0; i < nq; ++i) {
            if (strata_collection_search(c, q + i * dim, STRATA_DTYPE_F32, dim, 1, &p, ids, d,
                                         &err) != STRATA_OK) {
                fprintf(stderr, "capi_search_bench: %s\n", err);
                return 1;
            }
        }
        if (run >= 0) printf("%.2f\n", (now_us() - t0) / (double)nq);
    }
    strata_collection_close(c);
    free(q);
    free(ids);
    free(d);
    return 0;
}
