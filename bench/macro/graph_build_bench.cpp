// Graph build benchmark: Vamana over a vector file or synthetic data; reports thread-ms per
// vector, degree statistics and in-memory recall@10 (exact distances) at several L.
// Usage: graph_build_bench [--data FILE --queries FILE] [--n N --dim D] [--R 64 --L 100
//        --alpha 1.2 --threads 2 --nq 1000 --metric l2]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/progress.hpp"
#include "distance/exact_knn.hpp"
#include "graph/vamana.hpp"
#include "io/dataset.hpp"
#include "io/synthetic.hpp"

using namespace strata;

namespace {

struct Args {
    std::string data, queries, metric = "l2";
    uint64_t n = 100000;
    uint32_t dim = 128, degree = 64, list = 100, nq = 1000;
    float alpha = 1.2f;
    int threads = 2;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--data")
            a.data = v;
        else if (k == "--queries")
            a.queries = v;
        else if (k == "--metric")
            a.metric = v;
        else if (k == "--n")
            a.n = std::strtoull(v.c_str(), nullptr, 10);
        else if (k == "--dim")
            a.dim = static_cast<uint32_t>(std::stoul(v));
        else if (k == "--R")
            a.degree = static_cast<uint32_t>(std::stoul(v));
        else if (k == "--L")
            a.list = static_cast<uint32_t>(std::stoul(v));
        else if (k == "--nq")
            a.nq = static_cast<uint32_t>(std::stoul(v));
        else if (k == "--alpha")
            a.alpha = std::stof(v);
        else if (k == "--threads")
            a.threads = std::stoi(v);
        else {
            std::fprintf(stderr, "unknown flag %s\n", k.c_str());
            std::exit(2);
        }
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    const Metric metric = *parse_metric(a.metric);
    std::vector<uint8_t> base_buf, query_buf;
    DType dtype = DType::kF32;
    uint64_t n = a.n, nq = a.nq;
    uint32_t dim = a.dim;
    if (!a.data.empty()) {
        auto b = io::Dataset::open(a.data);
        auto q = io::Dataset::open(a.queries);
        if (!b.is_ok() || !q.is_ok()) {
            std::fprintf(stderr, "%s\n",
                         (!b.is_ok() ? b.status() : q.status()).to_string().c_str());
            return 1;
        }
        dtype = b->dtype();
        dim = b->dim();
        n = b->size();
        nq = std::min<uint64_t>(nq, q->size());
        base_buf.resize(n * b->row_bytes());
        query_buf.resize(nq * q->row_bytes());
        for (uint64_t i = 0; i < n; ++i)
            std::memcpy(&base_buf[i * b->row_bytes()], b->row(i), b->row_bytes());
        for (uint64_t i = 0; i < nq; ++i)
            std::memcpy(&query_buf[i * q->row_bytes()], q->row(i), q->row_bytes());
    } else {
        io::SyntheticOptions so;
        so.dim = dim;
        if (const char* e = std::getenv("NOISE")) so.noise_std = std::stof(e);
        auto gen = io::SyntheticGenerator::create(so, n);
        base_buf.resize(n * dim * 4);
        query_buf.resize(nq * dim * 4);
        gen->generate(io::SyntheticStream::kBase, 0, n, base_buf.data());
        gen->generate(io::SyntheticStream::kQueries, 0, nq, query_buf.data());
    }
    const size_t row_bytes = size_t{dim} * dtype_size(dtype);
    auto store = graph::FullPrecisionStore::create(dtype, metric, dim, n, base_buf.data(), 0);
    if (!store.is_ok()) {
        std::fprintf(stderr, "%s\n", store.status().to_string().c_str());
        return 1;
    }
    graph::VamanaOptions vo;
    vo.degree_max = a.degree;
    vo.list_size = a.list;
    vo.alpha = a.alpha;
    vo.threads = a.threads;
    Progress progress("graph", n);
    vo.progress = &progress;
    auto built = graph::build_vamana(**store, vo);
    progress.finish();
    if (!built.is_ok()) {
        std::fprintf(stderr, "%s\n", built.status().to_string().c_str());
        return 1;
    }
    const double thread_ms = built->seconds * 1000.0 * a.threads / static_cast<double>(n);
    std::printf(
        "build: n=%llu dim=%u R=%u L=%u alpha=%.2f threads=%d: %.1f s, %.3f thread-ms/vector, "
        "avg degree %.1f\n",
        static_cast<unsigned long long>(n), dim, a.degree, a.list, a.alpha, a.threads,
        built->seconds, thread_ms,
        static_cast<double>(built->graph.edge_count()) / static_cast<double>(n));
    const uint32_t k = 10;
    std::vector<uint32_t> truth(nq * k), got(nq * k);
    distance::ExactKnnOptions eo;
    eo.k = k;
    eo.metric = metric;
    (void)distance::exact_knn({base_buf.data(), n, dim, dtype, 0},
                              {query_buf.data(), nq, dim, dtype, 0}, eo, truth.data(), nullptr);
    for (uint32_t L : {10u, 20u, 50u, 100u, 200u}) {
        graph::GraphSearchOptions so;
        so.k = k;
        so.list_size = L;
        const auto t0 = std::chrono::steady_clock::now();
        (void)graph::search_graph_batch(built->graph, **store, built->medoid, query_buf.data(), nq,
                                        row_bytes, so, got.data(), nullptr);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        size_t hits = 0;
        for (uint64_t q = 0; q < nq; ++q) {
            std::set<uint32_t> t(truth.begin() + static_cast<ptrdiff_t>(q * k),
                                 truth.begin() + static_cast<ptrdiff_t>((q + 1) * k));
            for (uint32_t i = 0; i < k; ++i) hits += t.count(got[q * k + i]);
        }
        std::printf("  L=%3u recall@10 %.4f  %.0f QPS (in memory, exact)\n", L,
                    static_cast<double>(hits) / static_cast<double>(nq * k),
                    static_cast<double>(nq) / s);
    }
    return 0;
}
