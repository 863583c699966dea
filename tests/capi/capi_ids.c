/* The C face of the same-ids check (capi_parity_test.sh): opens a collection through the C API,
 * searches every query of an .fbin file (k, L, beam width 4: the defaults of `strata search`)
 * and prints the result ids, one per line, query after query.
 * Usage: capi_ids COLLECTION QUERIES.fbin K L */
#include <stdio.h>
#include <stdlib.h>

#include <strata/strata.h>

int main(int argc, char** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: capi_ids COLLECTION QUERIES.fbin K L\n");
        return 2;
    }
    FILE* f = fopen(argv[2], "rb");
    int32_t hdr[2];
    if (f == NULL || fread(hdr, 4, 2, f) != 2 || hdr[0] <= 0 || hdr[1] <= 0) {
        fprintf(stderr, "capi_ids: cannot read %s\n", argv[2]);
        return 1;
    }
    const uint64_t nq = (uint64_t)hdr[0];
    const uint32_t dim = (uint32_t)hdr[1];
    float* q = malloc(sizeof(float) * nq * dim);
    if (q == NULL || fread(q, sizeof(float) * dim, nq, f) != nq) {
        fprintf(stderr, "capi_ids: %s is short\n", argv[2]);
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
        fprintf(stderr, "capi_ids: %s\n", err);
        strata_free_error(err);
        return 1;
    }
    strata_search_params p;
    strata_search_params_init(&p);
    p.k = (uint32_t)atoi(argv[3]);
    p.list_size = (uint32_t)atoi(argv[4]);
    p.beam_width = 4;
    uint64_t* ids = malloc(sizeof(uint64_t) * p.k * nq);
    float* d = malloc(sizeof(float) * p.k * nq);
    int rc = 0;
    /* One batch call: the queries run on the library's threads. */
    if (strata_collection_search(c, q, STRATA_DTYPE_F32, dim, nq, &p, ids, d, &err) != STRATA_OK) {
        fprintf(stderr, "capi_ids: %s\n", err);
        strata_free_error(err);
        rc = 1;
    } else {
        for (uint64_t i = 0; i < nq * p.k; ++i) printf("%llu\n", (unsigned long long)ids[i]);
    }
    strata_collection_close(c);
    free(q);
    free(ids);
    free(d);
    return rc;
}
