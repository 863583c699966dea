// Collection benchmarks (run by scripts/bench.sh collection, never by ctest).
//
//   collection_bench writes BASE QUERIES WORKDIR
//     Bulk-loads the first 90% of BASE, then, while one thread searches without pause: upserts
//     with fsync=always (1 writer, 4 writers sharing syncs, batches of 100) and with
//     fsync=interval, deletes 5%, consolidates (1 thread) and compares with a full rebuild of
//     the final set; search latency idle, during writes and during the consolidation; recall of
//     both against exact search.
//   collection_bench churn BASE QUERIES WORKDIR [N] [ROUNDS]
//     N vectors (default 200,000), ROUNDS (default 10) of insert 10% new, delete 10% old,
//     consolidate; then recall against a fresh build of the final set.
// One JSON object per measurement on stdout; progress on stderr.
#include <strata/collection.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/sysinfo.hpp"
#include "distance/exact_knn.hpp"
#include "io/dataset.hpp"

namespace {

using namespace strata;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

[[noreturn]] void die(const Status& s, const char* what) {
    std::fprintf(stderr, "collection_bench: %s: %s\n", what, s.to_string().c_str());
    std::exit(1);
}

template <typename T>
T must(Result<T> r, const char* what) {
    if (!r.is_ok()) die(r.status(), what);
    return std::move(*r);
}

void must(const Status& s, const char* what) {
    if (!s.is_ok()) die(s, what);
}

CollectionParams params_for(const io::Dataset& d) {
    CollectionParams p;
    p.dim = d.dim();
    p.dtype = d.dtype();
    p.degree_max = 64;
    p.list_size = 100;
    return p;
}

/// Writes the listed rows of `d` to an fbin file.
void write_rows(const io::Dataset& d, const std::vector<uint64_t>& rows, const std::string& path) {
    auto w = must(io::VectorWriter::create(path, d.dtype(), d.dim()), "writer");
    for (uint64_t r : rows) must(w.append(d.row(r), 1), "write");
    must(w.finish(), "finish");
}

void write_ids(const std::vector<uint64_t>& ids, const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(ids.data(), 8, ids.size(), f);
    std::fclose(f);
}

/// Runs queries back to back on one thread; latencies are tagged with the current phase.
class Searcher {
  public:
    Searcher(const Collection& c, const io::Dataset& q, uint32_t L) : c_(c), q_(q), L_(L) {
        thread_ = std::thread([this] { run(); });
    }
    ~Searcher() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    void phase(const std::string& name) {
        std::lock_guard<std::mutex> lock(mu_);
        phase_ = name;
        lat_[name];
    }
    /// p50, p99, mean (µs) and count of the phase.
    std::vector<double> summary(const std::string& name) {
        std::lock_guard<std::mutex> lock(mu_);
        auto v = lat_[name];
        if (v.empty()) return {0, 0, 0, 0};
        std::sort(v.begin(), v.end());
        double sum = 0;
        for (double x : v) sum += x;
        return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)],
                sum / static_cast<double>(v.size()), static_cast<double>(v.size())};
    }

  private:
    void run() {
        std::vector<uint64_t> ids(10);
        CollectionSearchParams p;
        p.list_size = L_;
        uint64_t i = 0;
        while (!stop_) {
            const auto t0 = Clock::now();
            must(c_.search(q_.row(i++ % q_.size()), q_.dtype(), q_.dim(), p, ids.data(), nullptr),
                 "search");
            const double us = since(t0) * 1e6;
            std::lock_guard<std::mutex> lock(mu_);
            lat_[phase_].push_back(us);
        }
    }
    const Collection& c_;
    const io::Dataset& q_;
    uint32_t L_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::string phase_ = "idle";
    std::map<std::string, std::vector<double>> lat_;
    std::thread thread_;
};

/// Samples the RSS every 50 ms; max() is the largest seen.
class RssSampler {
  public:
    RssSampler() {
        thread_ = std::thread([this] {
            while (!stop_) {
                max_ = std::max<uint64_t>(max_, current_rss_bytes());
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
    }
    ~RssSampler() {
        stop_ = true;
        thread_.join();
    }
    uint64_t max() const { return max_; }

  private:
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> max_{0};
    std::thread thread_;
};

/// recall@10 of the collection at list size L; truth holds positions into `ids`.
double recall(const Collection& c, const std::vector<uint64_t>& ids, const io::Dataset& q,
              uint32_t nq, const std::vector<uint32_t>& truth, uint32_t L) {
    CollectionSearchParams p;
    p.list_size = L;
    std::vector<uint64_t> got(10);
    uint64_t hits = 0;
    for (uint32_t i = 0; i < nq; ++i) {
        must(c.search(q.row(i), q.dtype(), q.dim(), p, got.data(), nullptr), "search");
        for (uint32_t j = 0; j < 10; ++j) {
            const uint64_t want = ids[truth[i * 10 + j]];
            if (std::find(got.begin(), got.end(), want) != got.end()) ++hits;
        }
    }
    return static_cast<double>(hits) / (10.0 * nq);
}

/// Exact top-10 row positions (into `rows`) for the first nq queries.
std::vector<uint32_t> exact_truth(const io::Dataset& base, const std::vector<uint64_t>& rows,
                                  const std::string& tmp, const io::Dataset& q, uint32_t nq) {
    write_rows(base, rows, tmp);
    auto live = must(io::Dataset::open(tmp), "open live set");
    distance::MatrixView b{live.row(0), live.size(), live.dim(), live.dtype(),
                           live.row_stride_bytes()};
    distance::MatrixView qv{q.row(0), nq, q.dim(), q.dtype(), q.row_stride_bytes()};
    distance::ExactKnnOptions o;
    o.k = 10;
    std::vector<uint32_t> truth(size_t{nq} * 10);
    must(distance::exact_knn(b, qv, o, truth.data(), nullptr), "exact");
    return truth;
}

CollectionOptions bench_options(int threads) {
    CollectionOptions o;
    o.background = false;
    o.consolidate_at = 0;
    o.consolidation_threads = threads;
    o.disk.cache_bytes = 32ull << 20;
    return o;
}

/// Upserts rows [from, to) of `base` (ids = row numbers) with `writers` threads, `batch` rows a
/// write, for at most `seconds`; returns rows written.
uint64_t upsert_phase(Collection& c, const io::Dataset& base, uint64_t from, uint64_t to,
                      int writers, uint64_t batch, double seconds) {
    std::atomic<uint64_t> next{from}, written{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> ts;
    const size_t row = size_t{base.dim()} * dtype_size(base.dtype());
    for (int w = 0; w < writers; ++w) {
        ts.emplace_back([&] {
            std::vector<uint8_t> buf(batch * row);
            std::vector<uint64_t> ids(batch);
            while (since(t0) < seconds) {
                const uint64_t start = next.fetch_add(batch);
                if (start >= to) return;
                const uint64_t n = std::min(batch, to - start);
                for (uint64_t i = 0; i < n; ++i) {
                    ids[i] = start + i;
                    std::memcpy(buf.data() + i * row, base.row(start + i), row);
                }
                must(c.upsert(ids.data(), n, buf.data(), base.dtype()), "upsert");
                written += n;
            }
        });
    }
    for (auto& t : ts) t.join();
    return written.load();
}

void print_latency(Searcher& s, const std::string& phase) {
    const auto v = s.summary(phase);
    fmt::print(
        "{{\"bench\": \"search_latency\", \"phase\": \"{}\", \"p50_us\": {:.0f}, "
        "\"p99_us\": {:.0f}, \"mean_us\": {:.0f}, \"queries\": {:.0f}}}\n",
        phase, v[0], v[1], v[2], v[3]);
    std::fflush(stdout);
}

/// A fresh WORKDIR with a collection WORKDIR/c bulk-loaded (ids = row numbers) from the first
/// `n` rows of `base`; consolidations there use `threads`.
std::unique_ptr<Collection> load_first_rows(const io::Dataset& base, uint64_t n,
                                            const std::string& work, int threads) {
    std::filesystem::remove_all(work);
    std::filesystem::create_directories(work);
    std::vector<uint64_t> rows(n);
    for (uint64_t i = 0; i < n; ++i) rows[i] = i;
    write_rows(base, rows, work + "/initial.fbin");
    auto c =
        must(Collection::create(work + "/c", params_for(base), bench_options(threads)), "create");
    std::fprintf(stderr, "bulk load of %llu rows...\n", static_cast<unsigned long long>(n));
    must(c->bulk_load(work + "/initial.fbin"), "bulk load");
    std::filesystem::remove(work + "/initial.fbin");
    return c;
}

int writes(const std::string& base_path, const std::string& query_path, const std::string& work) {
    auto base = must(io::Dataset::open(base_path), "base");
    auto q = must(io::Dataset::open(query_path), "queries");
    const uint64_t n = base.size();
    const uint64_t initial = n * 9 / 10;
    auto t0 = Clock::now();
    auto c = load_first_rows(base, initial, work, 1);
    const double bulk_s = since(t0);
    fmt::print("{{\"bench\": \"bulk_load\", \"rows\": {}, \"seconds\": {:.1f}}}\n", initial,
               bulk_s);
    std::fflush(stdout);

    uint64_t next = initial;
    {
        Searcher s(*c, q, 50);
        std::this_thread::sleep_for(std::chrono::seconds(15));
        print_latency(s, "idle");
        struct Phase {
            const char* name;
            int writers;
            uint64_t batch;
            uint64_t quota;
        };
        const Phase phases[] = {{"fsync_always_1_writer", 1, 1, 8000},
                                {"fsync_always_4_writers", 4, 1, 16000},
                                {"fsync_always_batch_100", 1, 100, 40000}};
        for (const Phase& ph : phases) {
            s.phase(std::string("during_") + ph.name);
            t0 = Clock::now();
            const uint64_t w = upsert_phase(*c, base, next, std::min(n, next + ph.quota),
                                            ph.writers, ph.batch, 60);
            const double secs = since(t0);
            next += w;
            fmt::print(
                "{{\"bench\": \"upsert\", \"mode\": \"{}\", \"rows\": {}, \"seconds\": "
                "{:.1f}, \"rows_per_s\": {:.0f}}}\n",
                ph.name, w, secs, static_cast<double>(w) / secs);
            print_latency(s, std::string("during_") + ph.name);
        }
    }
    c.reset();
    {
        CollectionOptions o = bench_options(1);
        o.wal_sync = CollectionOptions::Sync::kInterval;
        c = must(Collection::open(work + "/c", o), "reopen");
        Searcher s(*c, q, 50);
        t0 = Clock::now();
        const uint64_t w = upsert_phase(*c, base, next, n, 1, 1, 60);
        const double secs = since(t0);
        next += w;
        fmt::print(
            "{{\"bench\": \"upsert\", \"mode\": \"fsync_interval_100ms_1_writer\", \"rows\": "
            "{}, \"seconds\": {:.1f}, \"rows_per_s\": {:.0f}}}\n",
            w, secs, static_cast<double>(w) / secs);
    }
    c.reset();
    c = must(Collection::open(work + "/c", bench_options(1)), "reopen");
    // The rest of the new rows in big batches, then delete 5% of the initial rows.
    upsert_phase(*c, base, next, n, 1, 1000, 1e9);
    std::mt19937_64 rng(42);
    std::vector<uint64_t> del;
    for (uint64_t i = 0; i < initial; ++i) {
        if (rng() % 20 == 0) del.push_back(i);
    }
    must(c->remove(del.data(), del.size()), "delete");
    fmt::print("{{\"bench\": \"changes\", \"inserted\": {}, \"deleted\": {}, \"base\": {}}}\n",
               n - initial, del.size(), initial);
    std::fflush(stdout);

    ConsolidationReport rep;
    uint64_t rss_before = current_rss_bytes(), rss_max = 0;
    {
        Searcher s(*c, q, 50);
        std::this_thread::sleep_for(std::chrono::seconds(15));
        print_latency(s, "idle");
        s.phase("during_consolidation");
        RssSampler rss;
        rep = must(c->consolidate(), "consolidate");
        rss_max = rss.max();
        print_latency(s, "during_consolidation");
        s.phase("after");
        std::this_thread::sleep_for(std::chrono::seconds(10));
        print_latency(s, "after");
    }
    fmt::print(
        "{{\"bench\": \"consolidation\", \"threads\": 1, \"swapped\": {}, \"kept\": {}, "
        "\"deleted\": {}, \"inserted\": {}, \"seconds\": {:.1f}, \"read_s\": {:.1f}, "
        "\"graph_s\": {:.1f}, \"write_s\": {:.1f}, \"check_s\": {:.1f}, \"recall\": "
        "{:.4f}, \"rss_before_mib\": {:.0f}, \"rss_peak_mib\": {:.0f}}}\n",
        rep.swapped ? "true" : "false", rep.kept, rep.deleted, rep.inserted, rep.seconds_total,
        rep.seconds_read, rep.seconds_graph, rep.seconds_write, rep.seconds_check, rep.recall,
        static_cast<double>(rss_before) / 1048576.0, static_cast<double>(rss_max) / 1048576.0);
    std::fflush(stdout);

    // The full rebuild of the same final set.
    std::vector<uint64_t> final_rows;
    std::vector<uint8_t> gone(n, 0);
    for (uint64_t d : del) gone[d] = 1;
    for (uint64_t i = 0; i < n; ++i) {
        if (!gone[i]) final_rows.push_back(i);
    }
    write_ids(final_rows, work + "/final.ids");
    const uint32_t nq = static_cast<uint32_t>(std::min<uint64_t>(q.size(), 1000));
    const auto truth = exact_truth(base, final_rows, work + "/final.fbin", q, nq);
    auto fresh =
        must(Collection::create(work + "/fresh", params_for(base), bench_options(1)), "create");
    std::fprintf(stderr, "full rebuild of %zu rows...\n", final_rows.size());
    // The same resources as the consolidation: one thread, while the searcher keeps going.
    double rebuild_s = 0;
    {
        Searcher s(*c, q, 50);
        t0 = Clock::now();
        must(fresh->bulk_load(work + "/final.fbin", work + "/final.ids", false, 1), "rebuild");
        rebuild_s = since(t0);
    }
    fmt::print(
        "{{\"bench\": \"full_rebuild\", \"rows\": {}, \"threads\": 1, \"seconds\": {:.1f}, "
        "\"consolidation_ratio\": {:.3f}}}\n",
        final_rows.size(), rebuild_s, rep.seconds_total / rebuild_s);
    for (uint32_t L : {20u, 50u, 100u}) {
        fmt::print(
            "{{\"bench\": \"recall\", \"L\": {}, \"consolidated\": {:.4f}, \"rebuilt\": "
            "{:.4f}}}\n",
            L, recall(*c, final_rows, q, nq, truth, L),
            recall(*fresh, final_rows, q, nq, truth, L));
    }
    std::filesystem::remove_all(work);
    return 0;
}

int churn(const std::string& base_path, const std::string& query_path, const std::string& work,
          uint64_t n, int rounds) {
    auto base = must(io::Dataset::open(base_path), "base");
    auto q = must(io::Dataset::open(query_path), "queries");
    const uint64_t step = n / 10;
    if (n + step * static_cast<uint64_t>(rounds) > base.size()) {
        std::fprintf(stderr, "collection_bench: base has too few rows\n");
        return 1;
    }
    auto c = load_first_rows(base, n, work, 2);
    std::vector<uint64_t> live(n);
    for (uint64_t i = 0; i < n; ++i) live[i] = i;
    std::mt19937_64 rng(7);
    uint64_t next = n;
    for (int r = 0; r < rounds; ++r) {
        upsert_phase(*c, base, next, next + step, 1, 1000, 1e9);
        for (uint64_t i = next; i < next + step; ++i) live.push_back(i);
        next += step;
        std::shuffle(live.begin(), live.begin() + static_cast<ptrdiff_t>(live.size() - step), rng);
        std::vector<uint64_t> del(live.begin(), live.begin() + static_cast<ptrdiff_t>(step));
        live.erase(live.begin(), live.begin() + static_cast<ptrdiff_t>(step));
        must(c->remove(del.data(), del.size()), "delete");
        const auto rep = must(c->consolidate(), "consolidate");
        fmt::print(
            "{{\"bench\": \"churn_round\", \"round\": {}, \"swapped\": {}, \"seconds\": "
            "{:.1f}, \"sampled_recall\": {:.4f}}}\n",
            r + 1, rep.swapped ? "true" : "false", rep.seconds_total, rep.recall);
        std::fflush(stdout);
    }
    std::sort(live.begin(), live.end());
    const uint32_t nq = static_cast<uint32_t>(std::min<uint64_t>(q.size(), 1000));
    const auto truth = exact_truth(base, live, work + "/final.fbin", q, nq);
    write_ids(live, work + "/final.ids");
    auto fresh =
        must(Collection::create(work + "/fresh", params_for(base), bench_options(2)), "create");
    must(fresh->bulk_load(work + "/final.fbin", work + "/final.ids"), "rebuild");
    for (uint32_t L : {10u, 20u, 50u, 100u}) {
        fmt::print(
            "{{\"bench\": \"churn_recall\", \"n\": {}, \"rounds\": {}, \"L\": {}, "
            "\"churned\": {:.4f}, \"fresh\": {:.4f}}}\n",
            n, rounds, L, recall(*c, live, q, nq, truth, L), recall(*fresh, live, q, nq, truth, L));
    }
    std::filesystem::remove_all(work);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 5 && std::string(argv[1]) == "writes") return writes(argv[2], argv[3], argv[4]);
    if (argc >= 5 && std::string(argv[1]) == "churn") {
        const uint64_t n = argc > 5 ? std::stoull(argv[5]) : 200000;
        const int rounds = argc > 6 ? std::stoi(argv[6]) : 10;
        return churn(argv[2], argv[3], argv[4], n, rounds);
    }
    std::fprintf(stderr,
                 "usage: collection_bench writes BASE QUERIES WORKDIR\n"
                 "       collection_bench churn BASE QUERIES WORKDIR [N] [ROUNDS]\n");
    return 2;
}
