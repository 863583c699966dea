// peer_bench: the peers' side of the search benchmark. Builds an hnswlib HNSW, a FAISS
// IndexHNSWFlat or a FAISS IndexIVFPQ on the base file strata reads, then searches the queries
// one per call (batch size 1, as a server would) on --threads threads for each value of the
// sweep (ef or nprobe), and prints one JSON object per value on stdout:
//   {"system", "param", "value", "threads", "k", "recall", "qps",
//    "latency_us": {"mean", "p50", "p99", "p999"}, "build_seconds", "index_ram_bytes",
//    "peak_rss_bytes", ...}
// recall = |first k results ∩ first k ground-truth ids| / k, averaged over the queries.
// index_ram_bytes = VmRSS after the build (and malloc_trim) minus before it; peak_rss_bytes = VmHWM
// of the process. Progress goes to stderr. Exit codes: 0 ok, 1 failure inside a peer, 2 bad input
// or flags.
#include <dlfcn.h>
#include <malloc.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFPQ.h>
#include <fmt/format.h>
#include <hnswlib/hnswlib.h>
#include <CLI/CLI.hpp>

#include "core/dtype_util.hpp"
#include "core/json_writer.hpp"
#include "io/dataset.hpp"

namespace strata::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
// Rows converted and handed to FAISS per add() call: small, so the conversion buffer (not FAISS)
// adds little to the peak RSS.
constexpr uint64_t kAddChunkRows = 1 << 13;

struct Args {
    std::string base;
    std::string queries;
    std::string gt;
    uint32_t k = 10;
    std::string system;
    int threads = 1;
    uint64_t limit = 0;
    int build_threads = 2;
    // HNSW (hnswlib, faiss-hnsw)
    uint32_t M = 32;
    uint32_t ef_construction = 200;
    std::vector<uint32_t> ef = {10, 20, 40, 80, 160};
    // IVF-PQ (faiss-ivfpq)
    uint32_t nlist = 0;  // 0 = round(4 * sqrt(n))
    uint32_t pq_bytes = 64;
    std::vector<uint32_t> nprobe = {1, 2, 4, 8, 16, 32, 64};
};

/// An input problem: reported on stderr, exit code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// A "VmRSS:"-style field of /proc/self/status in bytes, 0 when unavailable.
uint64_t proc_status_bytes(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field, 0) == 0) {
            std::istringstream fields(line.substr(field.size()));
            uint64_t kib = 0;
            fields >> kib;
            return kib * 1024;
        }
    }
    return 0;
}
uint64_t rss_bytes() { return proc_status_bytes("VmRSS:"); }
uint64_t peak_rss_bytes() { return proc_status_bytes("VmHWM:"); }

/// OpenBLAS (FAISS training) sizes its own pool from the core count at load time; bound it to
/// the build threads when the BLAS behind libblas.so is OpenBLAS.
void set_blas_threads(int threads) {
    using SetThreads = void (*)(int);
    if (void* fn = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
        reinterpret_cast<SetThreads>(fn)(threads);
    }
}

/// Rows [first, first + count) of `d` as contiguous floats: the mapping itself for a packed
/// f32 file, else converted into `buf`.
const float* rows_as_float(const io::Dataset& d, uint64_t first, uint64_t count,
                           std::vector<float>& buf) {
    if (d.dtype() == DType::kF32 && d.row_stride_bytes() == d.row_bytes()) {
        return d.row_as<float>(first);
    }
    buf.resize(count * d.dim());
    for (uint64_t i = 0; i < count; ++i) {
        to_float(d.dtype(), d.row(first + i), d.dim(), buf.data() + i * d.dim());
    }
    return buf.data();
}

/// One peer index. search() is called concurrently from several threads, one query per call.
class Peer {
  public:
    virtual ~Peer() = default;
    virtual const char* param_name() const = 0;
    virtual void build(const io::Dataset& base, int threads) = 0;
    /// Before a pass at sweep value `value` (hnswlib keeps ef in the index, not per call).
    virtual void prepare(uint32_t /*value*/) {}
    /// Called once on each search thread before its first query.
    virtual void on_search_thread() const {}
    /// k nearest ids of `query` into `ids` (-1 where fewer were found); `distances` is scratch.
    virtual void search(const float* query, uint32_t k, uint32_t value, float* distances,
                        int64_t* ids) const = 0;
    /// Build settings for the JSON lines.
    virtual void describe(JsonWriter& w) const = 0;
};

class HnswlibPeer final : public Peer {
  public:
    HnswlibPeer(uint32_t dim, uint32_t M, uint32_t ef_construction)
        : space_(dim), M_(M), ef_construction_(ef_construction) {}
    const char* param_name() const override { return "ef"; }

    void build(const io::Dataset& base, int threads) override {
        index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space_, base.size(), M_,
                                                                   ef_construction_);
        const uint64_t n = base.size();
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
                std::vector<float> buf;
                for (uint64_t i = static_cast<uint64_t>(t); i < n;
                     i += static_cast<uint64_t>(threads)) {
                    index_->addPoint(rows_as_float(base, i, 1, buf), i);
                }
            });
        }
        for (auto& w : workers) w.join();
    }
    void prepare(uint32_t value) override { index_->setEf(value); }
    void search(const float* query, uint32_t k, uint32_t /*value*/, float* distances,
                int64_t* ids) const override {
        auto top = index_->searchKnn(query, k);
        std::fill(ids, ids + k, -1);
        // The queue pops the farthest first: fill from the back so ids run nearest-first.
        for (size_t i = top.size(); i > 0; --i) {
            distances[i - 1] = top.top().first;
            ids[i - 1] = static_cast<int64_t>(top.top().second);
            top.pop();
        }
    }
    void describe(JsonWriter& w) const override {
        w.field("M", M_).field("ef_construction", ef_construction_);
    }

  private:
    hnswlib::L2Space space_;
    uint32_t M_;
    uint32_t ef_construction_;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

/// Adds every row of `base` to `index` in chunks (converted to float when needed).
void faiss_add_all(faiss::Index& index, const io::Dataset& base) {
    std::vector<float> buf;
    for (uint64_t first = 0; first < base.size(); first += kAddChunkRows) {
        const uint64_t count = std::min(kAddChunkRows, base.size() - first);
        index.add(static_cast<faiss::Index::idx_t>(count), rows_as_float(base, first, count, buf));
        fmt::print(stderr, "peer_bench: added {}/{}\r", first + count, base.size());
    }
    fmt::print(stderr, "\n");
}

class FaissHnswPeer final : public Peer {
  public:
    FaissHnswPeer(uint32_t dim, uint32_t M, uint32_t ef_construction)
        : index_(static_cast<int>(dim), static_cast<int>(M)), M_(M) {
        index_.hnsw.efConstruction = static_cast<int>(ef_construction);
    }
    const char* param_name() const override { return "ef"; }
    void build(const io::Dataset& base, int threads) override {
        omp_set_num_threads(threads);
        faiss_add_all(index_, base);
    }
    // FAISS 1.7.3 sizes the candidate heap from hnsw.efSearch even when SearchParametersHNSW
    // is given (later releases fixed it): set both, the index between passes, never mid-pass.
    void prepare(uint32_t value) override { index_.hnsw.efSearch = static_cast<int>(value); }
    void on_search_thread() const override { omp_set_num_threads(1); }
    void search(const float* query, uint32_t k, uint32_t value, float* distances,
                int64_t* ids) const override {
        faiss::SearchParametersHNSW params;
        params.efSearch = static_cast<int>(value);
        index_.search(1, query, k, distances, ids, &params);
    }
    void describe(JsonWriter& w) const override {
        w.field("M", M_).field("ef_construction", index_.hnsw.efConstruction);
    }

  private:
    faiss::IndexHNSWFlat index_;
    uint32_t M_;
};

class FaissIvfPqPeer final : public Peer {
  public:
    FaissIvfPqPeer(uint32_t dim, uint32_t nlist, uint32_t pq_bytes)
        : quantizer_(static_cast<faiss::Index::idx_t>(dim)),
          index_(&quantizer_, dim, nlist, pq_bytes, kBitsPerCode),
          nlist_(nlist),
          pq_bytes_(pq_bytes) {}
    const char* param_name() const override { return "nprobe"; }

    void build(const io::Dataset& base, int threads) override {
        omp_set_num_threads(threads);
        set_blas_threads(threads);
        {
            // FAISS k-means itself subsamples to 256 points per centroid: hand it that many
            // evenly spaced rows rather than the whole base.
            const uint64_t n = base.size();
            const uint64_t n_train = std::min<uint64_t>(n, uint64_t{256} * nlist_);
            std::vector<float> train(n_train * base.dim());
            for (uint64_t i = 0; i < n_train; ++i) {
                to_float(base.dtype(), base.row(i * n / n_train), base.dim(),
                         train.data() + i * base.dim());
            }
            fmt::print(stderr, "peer_bench: training IVF{},PQ{}x{} on {} rows\n", nlist_, pq_bytes_,
                       kBitsPerCode, n_train);
            index_.train(static_cast<faiss::Index::idx_t>(n_train), train.data());
        }
        faiss_add_all(index_, base);
        set_blas_threads(1);  // batch-1 searches never reach BLAS; keep its pool quiet anyway
    }
    void on_search_thread() const override { omp_set_num_threads(1); }
    void search(const float* query, uint32_t k, uint32_t value, float* distances,
                int64_t* ids) const override {
        faiss::SearchParametersIVF params;
        params.nprobe = value;
        index_.search(1, query, k, distances, ids, &params);
    }
    void describe(JsonWriter& w) const override {
        w.field("nlist", nlist_).field("pq_bytes", pq_bytes_).field("pq_bits", kBitsPerCode);
    }

  private:
    static constexpr uint32_t kBitsPerCode = 8;
    faiss::IndexFlatL2 quantizer_;  // declared before index_, which points to it
    faiss::IndexIVFPQ index_;
    uint32_t nlist_;
    uint32_t pq_bytes_;
};

/// Largest divisor of `dim` that is at most `requested` (FAISS PQ needs dim % M == 0).
uint32_t pq_bytes_for(uint32_t dim, uint32_t requested) {
    for (uint32_t m = std::min(requested, dim); m > 1; --m) {
        if (dim % m == 0) return m;
    }
    return 1;
}

struct Inputs {
    io::Dataset base;
    io::Dataset queries;
    io::GroundTruth gt;
    std::vector<float> query_f32;  // nq x dim
    uint64_t nq = 0;
};

template <typename T>
T open_or_throw(Result<T> r) {
    if (!r.is_ok()) throw UsageError(r.status().to_string());
    return std::move(r).value();
}

Inputs load_inputs(const Args& a) {
    Inputs in{open_or_throw(io::Dataset::open(a.base)),
              open_or_throw(io::Dataset::open(a.queries)),
              open_or_throw(io::read_ground_truth(a.gt)),
              {},
              0};
    const uint64_t n = in.base.size();
    if (n == 0) throw UsageError(a.base + ": the base holds no vectors");
    if (n > INT32_MAX) throw UsageError(a.base + ": more rows than the peers index (2^31 - 1)");
    if (in.queries.dim() != in.base.dim()) {
        throw UsageError(fmt::format("dimension mismatch: {} has dim {}, {} has dim {}", a.base,
                                     in.base.dim(), a.queries, in.queries.dim()));
    }
    in.nq = in.queries.size();
    if (a.limit > 0) in.nq = std::min<uint64_t>(in.nq, a.limit);
    if (in.nq == 0) throw UsageError(a.queries + ": no queries");
    if (in.gt.n < in.nq) {
        throw UsageError(fmt::format("{} holds ground truth for {} queries, {} has {}", a.gt,
                                     in.gt.n, a.queries, in.nq));
    }
    if (a.k == 0 || a.k > in.gt.k || a.k > n) {
        throw UsageError(fmt::format("--k {} must be in [1, {}] ({} has {} ids per query)", a.k,
                                     std::min<uint64_t>(in.gt.k, n), a.gt, in.gt.k));
    }
    for (uint64_t q = 0; q < in.nq; ++q) {
        const uint32_t* row = in.gt.row(static_cast<uint32_t>(q));
        if (std::any_of(row, row + a.k, [n](uint32_t id) { return id >= n; })) {
            throw UsageError(fmt::format("{}: query {} has a neighbour id outside {} ({} rows)",
                                         a.gt, q, a.base, n));
        }
    }
    std::vector<float> buf;
    const float* q = rows_as_float(in.queries, 0, in.nq, buf);
    in.query_f32.assign(q, q + in.nq * in.queries.dim());
    return in;
}

struct Pass {
    double wall_seconds = 0;
    std::vector<double> latency_us;  // per query
    std::vector<int64_t> ids;        // nq x k
};

/// Searches every query once, one per call, split into contiguous blocks over `threads`.
Pass run_pass(const Peer& peer, const Inputs& in, uint32_t k, uint32_t value, int threads) {
    Pass pass;
    pass.latency_us.resize(in.nq);
    pass.ids.resize(in.nq * k);
    const uint32_t dim = in.queries.dim();
    const auto t0 = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            peer.on_search_thread();
            std::vector<float> distances(k);
            const uint64_t begin =
                in.nq * static_cast<uint64_t>(t) / static_cast<uint64_t>(threads);
            const uint64_t end =
                in.nq * static_cast<uint64_t>(t + 1) / static_cast<uint64_t>(threads);
            for (uint64_t q = begin; q < end; ++q) {
                const auto s0 = Clock::now();
                peer.search(in.query_f32.data() + q * dim, k, value, distances.data(),
                            pass.ids.data() + q * k);
                pass.latency_us[q] = seconds_since(s0) * 1e6;
            }
        });
    }
    for (auto& w : workers) w.join();
    pass.wall_seconds = seconds_since(t0);
    return pass;
}

double recall_at_k(const Pass& pass, const Inputs& in, uint32_t k) {
    uint64_t hits = 0;
    std::vector<uint32_t> truth(k);
    for (uint64_t q = 0; q < in.nq; ++q) {
        const uint32_t* row = in.gt.row(static_cast<uint32_t>(q));
        truth.assign(row, row + k);
        std::sort(truth.begin(), truth.end());
        for (uint32_t i = 0; i < k; ++i) {
            const int64_t id = pass.ids[q * k + i];
            if (id >= 0 &&
                std::binary_search(truth.begin(), truth.end(), static_cast<uint32_t>(id)))
                ++hits;
        }
    }
    return static_cast<double>(hits) / static_cast<double>(in.nq * k);
}

/// Nearest-rank percentile of sorted values, p in (0, 1].
double percentile(const std::vector<double>& sorted, double p) {
    const auto n = static_cast<double>(sorted.size());
    const auto rank = static_cast<size_t>(std::max(1.0, std::ceil(p * n)));
    return sorted[std::min(rank, sorted.size()) - 1];
}

/// `v` with `digits` decimals, as the double nearest to that decimal so JSON prints it short.
double decimals(double v, int digits) {
    return std::strtod(fmt::format("{:.{}f}", v, digits).c_str(), nullptr);
}

struct BuildInfo {
    double seconds = 0;
    uint64_t index_ram_bytes = 0;
};

std::string json_line(const Args& a, const Peer& peer, const Inputs& in, const BuildInfo& build,
                      uint32_t value, Pass& pass) {
    std::sort(pass.latency_us.begin(), pass.latency_us.end());
    double sum = 0;
    for (double l : pass.latency_us) sum += l;
    const auto& lat = pass.latency_us;
    JsonWriter w;
    w.begin_object()
        .field("system", a.system)
        .field("param", peer.param_name())
        .field("value", value)
        .field("threads", a.threads)
        .field("k", a.k)
        .field("recall", decimals(recall_at_k(pass, in, a.k), 5))
        .field("qps", decimals(static_cast<double>(in.nq) / pass.wall_seconds, 1));
    w.key("latency_us").begin_object();
    w.field("mean", decimals(sum / static_cast<double>(lat.size()), 2))
        .field("p50", decimals(percentile(lat, 0.50), 2))
        .field("p99", decimals(percentile(lat, 0.99), 2))
        .field("p999", decimals(percentile(lat, 0.999), 2));
    w.end_object()
        .field("build_seconds", decimals(build.seconds, 3))
        .field("index_ram_bytes", build.index_ram_bytes)
        .field("peak_rss_bytes", peak_rss_bytes())
        .field("build_threads", a.build_threads)
        .field("n", in.base.size())
        .field("dim", in.base.dim())
        .field("queries", in.nq)
        .field("base", a.base);
    peer.describe(w);
    w.end_object();
    return w.take();
}

std::unique_ptr<Peer> make_peer(const Args& a, const Inputs& in) {
    const uint32_t dim = in.base.dim();
    if (a.system == "hnswlib") return std::make_unique<HnswlibPeer>(dim, a.M, a.ef_construction);
    if (a.system == "faiss-hnsw") {
        return std::make_unique<FaissHnswPeer>(dim, a.M, a.ef_construction);
    }
    const auto n = static_cast<double>(in.base.size());
    uint32_t nlist = a.nlist;
    if (nlist == 0) nlist = static_cast<uint32_t>(std::max(1.0, std::round(4 * std::sqrt(n))));
    if (nlist > in.base.size()) {
        throw UsageError(fmt::format("--nlist {} exceeds the base size {}", nlist, in.base.size()));
    }
    const uint32_t m = pq_bytes_for(dim, a.pq_bytes);
    if (m != a.pq_bytes) {
        fmt::print(stderr,
                   "peer_bench: dim {} is not divisible by --pq-bytes {}; using {} (the largest "
                   "divisor of {} not above it)\n",
                   dim, a.pq_bytes, m, dim);
    }
    return std::make_unique<FaissIvfPqPeer>(dim, nlist, m);
}

int run(const Args& a) {
    Inputs in = load_inputs(a);
    const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
    fmt::print(stderr, "peer_bench: {} base {} x {} ({}), {} queries, k = {}, OMP_WAIT_POLICY={}\n",
               a.system, in.base.size(), in.base.dim(), dtype_name(in.base.dtype()), in.nq, a.k,
               wait_policy != nullptr ? wait_policy : "(unset)");
    std::unique_ptr<Peer> peer = make_peer(a, in);
    const std::vector<uint32_t>& sweep = peer->param_name() == std::string("ef") ? a.ef : a.nprobe;
    if (sweep.empty() || std::count(sweep.begin(), sweep.end(), 0u) > 0) {
        throw UsageError(fmt::format("--{} needs values >= 1", peer->param_name()));
    }

    BuildInfo build;
    in.base.advise(io::AccessPattern::kSequential);
    const uint64_t rss_before = rss_bytes();
    const auto t0 = Clock::now();
    peer->build(in.base, a.build_threads);
    build.seconds = seconds_since(t0);
    // Hand back the heap pages freed during the build (training sets, conversion buffers) that
    // glibc would otherwise keep, so the RSS delta is what the index holds.
    malloc_trim(0);
    const uint64_t rss_after = rss_bytes();
    build.index_ram_bytes = rss_after > rss_before ? rss_after - rss_before : 0;
    fmt::print(stderr, "peer_bench: built in {:.1f} s on {} threads, RSS +{:.1f} MiB\n",
               build.seconds, a.build_threads,
               static_cast<double>(build.index_ram_bytes) / (1 << 20));

    for (uint32_t value : sweep) {
        peer->prepare(value);
        Pass pass = run_pass(*peer, in, a.k, value, a.threads);
        fmt::print("{}\n", json_line(a, *peer, in, build, value, pass));
        std::fflush(stdout);
        fmt::print(stderr, "peer_bench: {}={} done in {:.2f} s\n", peer->param_name(), value,
                   pass.wall_seconds);
    }
    return 0;
}

void add_flags(CLI::App& app, Args& a) {
    app.add_option("--base", a.base, "Base vectors (fbin, u8bin, i8bin, fvecs, bvecs, npy, idx)")
        ->required();
    app.add_option("--queries", a.queries, "Query vectors (same formats)")->required();
    app.add_option("--gt", a.gt, "Ground truth (.ibin or .ivecs), at least k ids per query")
        ->required();
    app.add_option("--k", a.k, "Neighbours per query; recall@k");
    app.add_option("--system", a.system, "Peer to measure")
        ->required()
        ->check(CLI::IsMember({"hnswlib", "faiss-hnsw", "faiss-ivfpq"}));
    app.add_option("--limit", a.limit, "Search only the first N queries (0 = all)");
    app.add_option("--threads", a.threads, "Search threads (one query per call each)")
        ->check(CLI::Range(1, 1024));
    app.add_option("--build-threads", a.build_threads, "Threads for the index build")
        ->check(CLI::Range(1, 1024));
    app.add_option("--M", a.M, "HNSW: neighbours per node on upper layers (2M on layer 0)")
        ->check(CLI::Range(2u, 2048u));
    app.add_option("--ef-construction", a.ef_construction, "HNSW: candidate list during build")
        ->check(CLI::Range(1u, 1u << 20));
    app.add_option("--ef", a.ef, "HNSW: search list sizes to sweep")->delimiter(',');
    app.add_option("--nlist", a.nlist, "IVF-PQ: inverted lists (0 = round(4 sqrt(n)))");
    app.add_option("--pq-bytes", a.pq_bytes,
                   "IVF-PQ: bytes per code, 8 bits each (lowered to a divisor of dim)")
        ->check(CLI::Range(1u, 4096u));
    app.add_option("--nprobe", a.nprobe, "IVF-PQ: lists probed per query, to sweep")
        ->delimiter(',');
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
    using namespace strata::bench;
    // GNU OpenMP's idle workers spin after each parallel region and starve OpenBLAS's threads,
    // which slows FAISS training several-fold (FAISS wiki, Troubleshooting: OpenBLAS). libgomp
    // reads OMP_WAIT_POLICY when it loads, so unless the caller chose one, run again with
    // PASSIVE set. Should exec fail, carry on: only the FAISS build is slower.
    if (std::getenv("OMP_WAIT_POLICY") == nullptr && setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0) {
        execv("/proc/self/exe", argv);
    }
    CLI::App app{
        "peer_bench: build an hnswlib or FAISS index on a strata data set and sweep its search "
        "parameter; one JSON line per value on stdout."};
    app.option_defaults()->always_capture_default();
    Args args;
    add_flags(app, args);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }
    try {
        return run(args);
    } catch (const UsageError& e) {
        fmt::print(stderr, "peer_bench: error: {}\n", e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        fmt::print(stderr, "peer_bench: {} failed: {}\n", args.system, e.what());
        return kExitFailure;
    }
}
