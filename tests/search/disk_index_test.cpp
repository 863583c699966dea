// DiskIndex end to end on small generated indexes: recall gates for both search modes, with and
// without the node cache and the navigation graph; identical results from the io_uring, pread
// and fault-injecting backends; read errors surfacing as errors; bad queries refused.
#include <strata/builder.hpp>
#include <strata/disk_index.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "disk/index_reader.hpp"
#include "disk/nav_graph.hpp"
#include "distance/exact_knn.hpp"
#include "io/dataset.hpp"
#include "io/synthetic.hpp"
#include "search/testing_hooks.hpp"
#include "testing/testing.hpp"

namespace strata {
namespace {

constexpr uint32_t kK = 10;

/// One generated data set, its exact top-k and a built index directory.
struct Fixture {
    testing::TempDir dir;
    uint32_t n = 0, nq = 0, dim = 0;
    DType dtype = DType::kF32;
    Metric metric = Metric::kL2;
    std::vector<uint8_t> base, queries;  // rows of dim elements of dtype
    std::vector<uint32_t> truth;         // nq * kK
    std::string index;

    size_t row_bytes() const { return size_t{dim} * dtype_size(dtype); }
    const void* query(uint32_t q) const { return queries.data() + q * row_bytes(); }
};

std::unique_ptr<Fixture> make_fixture(uint32_t n, uint32_t nq, uint32_t dim, DType dtype,
                                      Metric metric, uint64_t seed, BuildOptions bo = {}) {
    auto f = std::make_unique<Fixture>();
    f->n = n;
    f->nq = nq;
    f->dim = dim;
    f->dtype = dtype;
    f->metric = metric;
    io::SyntheticOptions so;
    so.dim = dim;
    so.dtype = dtype;
    so.seed = seed;
    so.noise_std = 0.5f;  // harder than the default, so small lists do miss neighbours
    auto gen = io::SyntheticGenerator::create(so, n);
    EXPECT_TRUE(gen.is_ok());
    f->base.resize(size_t{n} * f->row_bytes());
    f->queries.resize(size_t{nq} * f->row_bytes());
    gen->generate(io::SyntheticStream::kBase, 0, n, f->base.data());
    gen->generate(io::SyntheticStream::kQueries, 0, nq, f->queries.data());
    const std::string ext = dtype == DType::kF32  ? ".fbin"
                            : dtype == DType::kU8 ? ".u8bin"
                                                  : ".i8bin";
    const std::string base_path = f->dir.file("base" + ext);
    EXPECT_TRUE(io::write_vectors(base_path, dtype, n, dim, f->base.data()).is_ok());
    f->truth.resize(size_t{nq} * kK);
    if (n < kK) nq = 0;  // too small for a top-10: no ground truth
    distance::ExactKnnOptions eo;
    eo.k = kK;
    eo.metric = metric;
    if (nq > 0) {
        EXPECT_TRUE(distance::exact_knn({f->base.data(), n, dim, dtype, 0},
                                        {f->queries.data(), nq, dim, dtype, 0}, eo, f->truth.data(),
                                        nullptr)
                        .is_ok());
    }
    f->index = f->dir.file("index");
    bo.metric = metric;
    bo.threads = 2;
    auto rep = build_index(base_path, f->index, bo);
    EXPECT_TRUE(rep.is_ok()) << rep.status().to_string();
    return f;
}

double recall(const Fixture& f, const std::vector<uint64_t>& ids) {
    size_t hits = 0;
    for (uint32_t q = 0; q < f.nq; ++q) {
        std::set<uint64_t> t(f.truth.begin() + q * kK, f.truth.begin() + (q + 1) * kK);
        for (uint32_t i = 0; i < kK; ++i) hits += t.count(ids[q * kK + i]);
    }
    return static_cast<double>(hits) / (static_cast<double>(f.nq) * kK);
}

std::unique_ptr<DiskIndex> open_index(const std::string& dir, DiskIndexOptions o = {}) {
    auto idx = DiskIndex::open(dir, o);
    EXPECT_TRUE(idx.is_ok()) << idx.status().to_string();
    return idx.is_ok() ? std::move(idx).value() : nullptr;
}

struct SearchRun {
    std::vector<uint64_t> ids;
    std::vector<float> dists;
    std::vector<QueryStats> stats;
    Status status;
};

SearchRun run_all(const DiskIndex& idx, const Fixture& f, const SearchParams& p, int threads = 1) {
    SearchRun r;
    r.ids.assign(size_t{f.nq} * p.k, 0);
    r.dists.assign(r.ids.size(), 0);
    r.stats.resize(f.nq);
    r.status = idx.search_batch(f.queries.data(), f.dtype, f.dim, f.nq, f.row_bytes(), p, threads,
                                r.ids.data(), r.dists.data(), r.stats.data());
    return r;
}

double mean_reads(const SearchRun& r) {
    double s = 0;
    for (const auto& st : r.stats) s += st.reads;
    return s / static_cast<double>(r.stats.size());
}

class DiskIndexL2 : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        const uint64_t seed = testing::test_seed(11);
        std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
        BuildOptions bo;
        bo.degree_max = 32;
        bo.list_size = 64;
        fixture_ = make_fixture(6000, 200, 48, DType::kF32, Metric::kL2, seed, bo).release();
    }
    static void TearDownTestSuite() {
        delete fixture_;
        fixture_ = nullptr;
    }
    static const Fixture& f() { return *fixture_; }
    static Fixture* fixture_;
};
Fixture* DiskIndexL2::fixture_ = nullptr;

TEST_F(DiskIndexL2, RecallGateBothModesWithAndWithoutCacheAndNav) {
    for (bool nav : {true, false}) {
        for (uint64_t cache : {uint64_t{0}, uint64_t{1} << 20}) {
            DiskIndexOptions o;
            o.use_nav_graph = nav;
            o.cache_bytes = cache;
            auto idx = open_index(f().index, o);
            ASSERT_NE(idx, nullptr);
            EXPECT_EQ(idx->info().nav_nodes > 0, nav);
            EXPECT_EQ(idx->info().cache_nodes > 0, cache > 0);
            for (SearchMode mode : {SearchMode::kPipelined, SearchMode::kRounds}) {
                SearchParams p;
                p.list_size = 20;
                p.mode = mode;
                const SearchRun r = run_all(*idx, f(), p, 2);
                ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
                const double rc = recall(f(), r.ids);
                std::printf("nav %d cache %llu mode %s: recall@10 %.4f, reads %.1f\n", nav,
                            static_cast<unsigned long long>(cache), search_mode_name(mode), rc,
                            mean_reads(r));
                EXPECT_GE(rc, 0.9);
                // Distances are exact and sorted.
                for (uint32_t q = 0; q < f().nq; ++q) {
                    for (uint32_t i = 1; i < kK; ++i) {
                        EXPECT_LE(r.dists[q * kK + i - 1], r.dists[q * kK + i]);
                    }
                }
            }
        }
    }
}

TEST_F(DiskIndexL2, ExactDistancesMatchTheVectors) {
    auto idx = open_index(f().index);
    ASSERT_NE(idx, nullptr);
    SearchParams p;
    p.list_size = 40;
    const SearchRun r = run_all(*idx, f(), p);
    ASSERT_TRUE(r.status.is_ok());
    const auto* base = reinterpret_cast<const float*>(f().base.data());
    for (uint32_t q = 0; q < 20; ++q) {
        const auto* qv = static_cast<const float*>(f().query(q));
        for (uint32_t i = 0; i < kK; ++i) {
            const uint64_t id = r.ids[q * kK + i];
            ASSERT_LT(id, f().n);
            double d = 0;
            for (uint32_t j = 0; j < f().dim; ++j) {
                const double x = double{qv[j]} - base[id * f().dim + j];
                d += x * x;
            }
            EXPECT_NEAR(r.dists[q * kK + i], d, 1e-3 * (1 + d));
        }
    }
}

TEST_F(DiskIndexL2, ResultFilterAdmitsOnlyAcceptedIdsAndStillFindsK) {
    auto idx = open_index(f().index);
    ASSERT_NE(idx, nullptr);
    // Refuse even ids: every result is odd, and the odd ids among the exact top-20 are found.
    const auto odd = [](uint64_t id, const void*) { return id % 2 == 1; };
    SearchParams p;
    p.list_size = 64;
    p.filter = odd;
    const SearchRun r = run_all(*idx, f(), p);
    ASSERT_TRUE(r.status.is_ok());
    std::vector<uint32_t> truth(size_t{f().nq} * 20);
    distance::ExactKnnOptions eo;
    eo.k = 20;
    ASSERT_TRUE(distance::exact_knn({f().base.data(), f().n, f().dim, f().dtype, 0},
                                    {f().queries.data(), f().nq, f().dim, f().dtype, 0}, eo,
                                    truth.data(), nullptr)
                    .is_ok());
    size_t hits = 0, wanted = 0;
    for (uint32_t q = 0; q < f().nq; ++q) {
        std::set<uint64_t> found;
        for (uint32_t i = 0; i < kK; ++i) {
            const uint64_t id = r.ids[q * kK + i];
            ASSERT_EQ(id % 2, 1u) << "query " << q;
            found.insert(id);
        }
        EXPECT_EQ(found.size(), kK);
        uint32_t taken = 0;
        for (uint32_t i = 0; i < 20 && taken < kK; ++i) {
            if (truth[q * 20 + i] % 2 == 0) continue;
            ++taken;
            ++wanted;
            hits += found.count(truth[q * 20 + i]);
        }
    }
    EXPECT_GE(static_cast<double>(hits) / static_cast<double>(wanted), 0.9);
}

TEST_F(DiskIndexL2, ReadVectorReturnsTheRowOfTheNodesExternalId) {
    auto idx = open_index(f().index);
    ASSERT_NE(idx, nullptr);
    std::vector<float> v(f().dim);
    std::set<uint64_t> seen;
    for (uint64_t node = 0; node < f().n; node += 97) {
        ASSERT_TRUE(idx->read_vector(node, v.data()).is_ok());
        const uint64_t id = idx->external_id(node);
        ASSERT_LT(id, f().n);
        EXPECT_TRUE(seen.insert(id).second);
        EXPECT_EQ(0,
                  std::memcmp(v.data(), f().base.data() + id * f().row_bytes(), f().row_bytes()));
    }
    EXPECT_EQ(idx->read_vector(f().n, v.data()).code(), StatusCode::kOutOfRange);
}

TEST_F(DiskIndexL2, LargerListReadsMoreAndFindsMore) {
    auto idx = open_index(f().index);
    ASSERT_NE(idx, nullptr);
    SearchParams small, large;
    small.list_size = 10;
    large.list_size = 100;
    const SearchRun a = run_all(*idx, f(), small);
    const SearchRun b = run_all(*idx, f(), large);
    ASSERT_TRUE(a.status.is_ok() && b.status.is_ok());
    EXPECT_LT(mean_reads(a), mean_reads(b));
    EXPECT_LE(recall(f(), a.ids), recall(f(), b.ids));
    for (const auto& st : b.stats) {
        EXPECT_GT(st.reads, 0u);
        EXPECT_EQ(st.bytes_read, uint64_t{st.reads} * 4096);
        EXPECT_GE(st.hops, st.reads);
        EXPECT_EQ(st.cache_hits, 0u);
        EXPECT_GT(st.nav_hops, 0u);
        EXPECT_EQ(st.total_us, st.io_us + st.cpu_us);
    }
}

TEST_F(DiskIndexL2, CacheServesHopsWithoutReads) {
    DiskIndexOptions o;
    o.cache_bytes = 2u << 20;
    auto cached = open_index(f().index, o);
    auto plain = open_index(f().index);
    ASSERT_NE(cached, nullptr);
    ASSERT_NE(plain, nullptr);
    EXPECT_GT(cached->info().cache_nodes, 1000u);
    EXPECT_LE(cached->info().cache_ram_bytes, o.cache_bytes);
    SearchParams p;
    p.list_size = 30;
    const SearchRun a = run_all(*cached, f(), p);
    const SearchRun b = run_all(*plain, f(), p);
    ASSERT_TRUE(a.status.is_ok() && b.status.is_ok());
    double hits = 0;
    for (const auto& st : a.stats) hits += st.cache_hits;
    EXPECT_GT(hits, 0);
    EXPECT_LT(mean_reads(a), mean_reads(b));
}

/// Rounds (any W) and pipelined with W = 1 are deterministic: every backend must give the same
/// ids and distances, even with short reads, transient errors and delays injected.
TEST_F(DiskIndexL2, BackendsGiveIdenticalResults) {
    struct Case {
        SearchMode mode;
        uint32_t w;
    };
    for (Case c : {Case{SearchMode::kRounds, 4}, Case{SearchMode::kPipelined, 1}}) {
        SearchParams p;
        p.list_size = 40;
        p.mode = c.mode;
        p.beam_width = c.w;
        std::vector<SearchRun> runs;
        for (const char* io : {"uring", "pread", "fault"}) {
            DiskIndexOptions o;
            o.io = std::string(io) == "fault" ? "pread" : io;
            auto opened = DiskIndex::open(f().index, o);
            if (!opened.is_ok() && std::string(io) == "uring") {
                GTEST_LOG_(INFO) << "io_uring unavailable here: " << opened.status().to_string();
                continue;
            }
            ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
            auto& idx = *opened;
            if (std::string(io) == "fault") {
                io::FaultInjection faults;
                faults.short_read_ops = 1;  // each within the reader's 3 retries
                faults.transient_error_ops = 1;
                faults.delay_us = 20;
                search::testing::set_fault_injection(*idx, faults);
            }
            runs.push_back(run_all(*idx, f(), p));
            ASSERT_TRUE(runs.back().status.is_ok()) << io << ": " << runs.back().status.to_string();
        }
        ASSERT_GE(runs.size(), 2u);
        for (size_t i = 1; i < runs.size(); ++i) {
            EXPECT_EQ(runs[i].ids, runs[0].ids) << "mode " << search_mode_name(c.mode);
            EXPECT_EQ(runs[i].dists, runs[0].dists);
        }
    }
}

TEST_F(DiskIndexL2, ReadErrorIsAnErrorNotAShortResult) {
    auto idx = open_index(f().index, {});
    ASSERT_NE(idx, nullptr);
    for (SearchMode mode : {SearchMode::kPipelined, SearchMode::kRounds}) {
        io::FaultInjection faults;
        faults.fail_op_index = 3;
        faults.fail_errno = EIO;
        search::testing::set_fault_injection(*idx, faults);
        SearchParams p;
        p.mode = mode;
        std::vector<uint64_t> ids(kK, 7);
        std::vector<float> dists(kK, 7);
        Status st = idx->search(f().query(0), f().dtype, f().dim, p, ids.data(), dists.data());
        ASSERT_FALSE(st.is_ok());
        EXPECT_EQ(st.code(), StatusCode::kIOError) << st.to_string();
        EXPECT_NE(st.message().find("index.strata"), std::string::npos) << st.message();
        EXPECT_EQ(ids, std::vector<uint64_t>(kK, 7)) << "nothing written on error";
        // The batch form reports it too, naming the query. Re-armed: the fault counts the reads
        // of each query context, and the pool may hand the batch the one that already failed.
        search::testing::set_fault_injection(*idx, faults);
        const SearchRun r = run_all(*idx, f(), p, 2);
        EXPECT_FALSE(r.status.is_ok());
        EXPECT_NE(r.status.message().find("query"), std::string::npos);
        // Once the fault is gone the index answers again.
        search::testing::set_fault_injection(*idx, std::nullopt);
        st = idx->search(f().query(0), f().dtype, f().dim, p, ids.data(), dists.data());
        EXPECT_TRUE(st.is_ok()) << st.to_string();
    }
}

TEST_F(DiskIndexL2, BadQueriesAndParamsAreRefused) {
    auto idx = open_index(f().index);
    ASSERT_NE(idx, nullptr);
    std::vector<uint64_t> ids(kK, 7);
    SearchParams p;
    const auto expect_invalid = [&](Status st, const char* needle) {
        EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.to_string();
        EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
        EXPECT_EQ(ids, std::vector<uint64_t>(kK, 7));
    };
    expect_invalid(idx->search(f().query(0), DType::kF32, f().dim - 1, p, ids.data(), nullptr),
                   "dimension");
    std::vector<float> q(f().dim, 0.5f);
    q[3] = std::numeric_limits<float>::quiet_NaN();
    expect_invalid(idx->search(q.data(), DType::kF32, f().dim, p, ids.data(), nullptr),
                   "element 3");
    q[3] = std::numeric_limits<float>::infinity();
    expect_invalid(idx->search(q.data(), DType::kF32, f().dim, p, ids.data(), nullptr),
                   "element 3");
    expect_invalid(idx->search(f().query(0), DType::kU8, f().dim, p, ids.data(), nullptr), "dtype");
    SearchParams bad = p;
    bad.k = 0;
    expect_invalid(idx->search(f().query(0), f().dtype, f().dim, bad, ids.data(), nullptr), "k");
    bad = p;
    bad.k = 20;
    bad.list_size = 10;
    expect_invalid(idx->search(f().query(0), f().dtype, f().dim, bad, ids.data(), nullptr), "k");
    bad = p;
    bad.list_size = 5000;
    expect_invalid(idx->search(f().query(0), f().dtype, f().dim, bad, ids.data(), nullptr),
                   "max list size");
    bad = p;
    bad.beam_width = 0;
    expect_invalid(idx->search(f().query(0), f().dtype, f().dim, bad, ids.data(), nullptr),
                   "beam width");
}

TEST_F(DiskIndexL2, ConcurrentSearchesAgreeWithSequentialOnes) {
    auto idx = open_index(f().index);
    ASSERT_NE(idx, nullptr);
    SearchParams p;
    p.mode = SearchMode::kRounds;
    p.list_size = 30;
    const SearchRun seq = run_all(*idx, f(), p, 1);
    ASSERT_TRUE(seq.status.is_ok());
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            std::vector<uint64_t> ids(kK);
            for (uint32_t q = static_cast<uint32_t>(t); q < f().nq; q += 4) {
                Status st = idx->search(f().query(q), f().dtype, f().dim, p, ids.data(), nullptr);
                if (!st.is_ok() || !std::equal(ids.begin(), ids.end(), seq.ids.begin() + q * kK)) {
                    ++mismatches[t];
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST_F(DiskIndexL2, OpenRefusesBadOptionsAndMissingIndexes) {
    DiskIndexOptions o;
    o.io = "mmap";
    auto r = DiskIndex::open(f().index, o);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    o = {};
    o.max_beam_width = 0;
    EXPECT_EQ(DiskIndex::open(f().index, o).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(DiskIndex::open(f().dir.file("nope")).status().code(), StatusCode::kNotFound);
}

TEST(DiskIndexU8, IntegralFloatQueriesMatchU8QueriesAndFractionsAreRefused) {
    const uint64_t seed = testing::test_seed(12);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    BuildOptions bo;
    bo.degree_max = 32;
    bo.list_size = 64;
    auto f = make_fixture(3000, 50, 64, DType::kU8, Metric::kL2, seed, bo);
    auto idx = open_index(f->index);
    ASSERT_NE(idx, nullptr);
    SearchParams p;
    p.list_size = 50;
    const SearchRun r = run_all(*idx, *f, p);
    ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
    EXPECT_GE(recall(*f, r.ids), 0.95);
    std::vector<uint64_t> ids(kK);
    std::vector<float> qf(f->dim);
    for (uint32_t q = 0; q < 5; ++q) {
        const auto* row = static_cast<const uint8_t*>(f->query(q));
        for (uint32_t j = 0; j < f->dim; ++j) qf[j] = row[j];
        ASSERT_TRUE(idx->search(qf.data(), DType::kF32, f->dim, p, ids.data(), nullptr).is_ok());
        EXPECT_TRUE(std::equal(ids.begin(), ids.end(), r.ids.begin() + q * kK)) << "query " << q;
    }
    qf[0] = 1.5f;
    EXPECT_EQ(idx->search(qf.data(), DType::kF32, f->dim, p, ids.data(), nullptr).code(),
              StatusCode::kInvalidArgument);
    qf[0] = 300.0f;
    EXPECT_EQ(idx->search(qf.data(), DType::kF32, f->dim, p, ids.data(), nullptr).code(),
              StatusCode::kInvalidArgument);
}

TEST(DiskIndexMetrics, CosineAndInnerProductRecall) {
    for (Metric metric : {Metric::kCosine, Metric::kInnerProduct}) {
        const uint64_t seed = testing::test_seed(13);
        BuildOptions bo;
        bo.degree_max = 32;
        bo.list_size = 64;
        auto f = make_fixture(3000, 100, 32, DType::kF32, metric, seed, bo);
        auto idx = open_index(f->index);
        ASSERT_NE(idx, nullptr);
        SearchParams p;
        p.list_size = 80;
        const SearchRun r = run_all(*idx, *f, p);
        ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
        const double rc = recall(*f, r.ids);
        std::printf("%s: recall@10 %.4f\n", std::string(metric_name(metric)).c_str(), rc);
        EXPECT_GE(rc, 0.9) << metric_name(metric);
        if (metric == Metric::kCosine) {
            std::vector<uint64_t> ids(kK);
            std::vector<float> zero(f->dim, 0.0f);
            EXPECT_EQ(idx->search(zero.data(), DType::kF32, f->dim, p, ids.data(), nullptr).code(),
                      StatusCode::kInvalidArgument);
        }
    }
}

TEST(DiskIndexSmall, FewerNodesThanKPadsTheTail) {
    BuildOptions bo;
    bo.degree_max = 8;
    bo.list_size = 16;
    auto f = make_fixture(6, 3, 8, DType::kF32, Metric::kL2, 5, bo);
    auto idx = open_index(f->index);
    ASSERT_NE(idx, nullptr);
    SearchParams p;
    p.k = 10;
    p.list_size = 20;
    std::vector<uint64_t> ids(10);
    std::vector<float> dists(10);
    ASSERT_TRUE(idx->search(f->query(0), f->dtype, f->dim, p, ids.data(), dists.data()).is_ok());
    std::set<uint64_t> found(ids.begin(), ids.begin() + 6);
    EXPECT_EQ(found.size(), 6u);
    for (int i = 6; i < 10; ++i) {
        EXPECT_EQ(ids[i], std::numeric_limits<uint64_t>::max());
        EXPECT_TRUE(std::isinf(dists[i]));
    }
}

TEST(DiskIndexSmall, OneTwoAndThreeRowIndexesBuildAndFindEveryRow) {
    for (uint32_t n : {1u, 2u, 3u}) {
        SCOPED_TRACE(n);
        BuildOptions bo;
        bo.degree_max = 8;
        bo.list_size = 16;
        auto f = make_fixture(n, 1, 8, DType::kF32, Metric::kL2, 7, bo);
        auto idx = open_index(f->index);
        ASSERT_NE(idx, nullptr);
        SearchParams p;
        p.k = 3;
        p.list_size = 10;
        std::vector<uint64_t> ids(3);
        std::vector<float> dists(3);
        ASSERT_TRUE(
            idx->search(f->query(0), f->dtype, f->dim, p, ids.data(), dists.data()).is_ok());
        std::set<uint64_t> found(ids.begin(), ids.begin() + n);
        EXPECT_EQ(found.size(), n);
        for (uint64_t id : found) EXPECT_LT(id, n);
    }
}

}  // namespace
}  // namespace strata
