// HNSW: recall against exact search (l2, ip, cosine, u8), the result filter, concurrent adds
// beside searches, bad input refused with nothing changed.
#include "graph/hnsw.hpp"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "distance/exact_knn.hpp"
#include "io/synthetic.hpp"
#include "testing/testing.hpp"

namespace strata::graph {
namespace {

constexpr uint32_t kK = 10;

struct Data {
    std::vector<uint8_t> base, queries;
    uint32_t n, nq, dim;
    DType dtype;
    size_t row() const { return size_t{dim} * dtype_size(dtype); }
};

Data make_data(uint32_t n, uint32_t nq, uint32_t dim, DType dtype, uint64_t seed) {
    io::SyntheticOptions opt;
    opt.dim = dim;
    opt.dtype = dtype;
    opt.seed = seed;
    auto gen = io::SyntheticGenerator::create(opt, n);
    EXPECT_TRUE(gen.is_ok());
    Data d{{}, {}, n, nq, dim, dtype};
    d.base.resize(size_t{n} * d.row());
    d.queries.resize(size_t{nq} * d.row());
    gen->generate(io::SyntheticStream::kBase, 0, n, d.base.data());
    gen->generate(io::SyntheticStream::kQueries, 0, nq, d.queries.data());
    return d;
}

std::vector<uint32_t> truth(const Data& d, Metric metric) {
    std::vector<uint32_t> t(size_t{d.nq} * kK);
    distance::ExactKnnOptions eo;
    eo.k = kK;
    eo.metric = metric;
    eo.threads = 1;  // TBB is not instrumented: keep ThreadSanitizer runs to our own threads
    EXPECT_TRUE(distance::exact_knn({d.base.data(), d.n, d.dim, d.dtype, 0},
                                    {d.queries.data(), d.nq, d.dim, d.dtype, 0}, eo, t.data(),
                                    nullptr)
                    .is_ok());
    return t;
}

std::unique_ptr<Hnsw> build(const Data& d, Metric metric, int threads = 1) {
    HnswOptions o;
    o.dim = d.dim;
    o.dtype = d.dtype;
    o.metric = metric;
    auto h = Hnsw::create(o);
    EXPECT_TRUE(h.is_ok()) << h.status().to_string();
    std::vector<std::thread> ts;
    std::atomic<uint32_t> next{0};
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&] {
            for (uint32_t i = next++; i < d.n; i = next++) {
                auto slot = (*h)->add(d.base.data() + i * d.row());
                ASSERT_TRUE(slot.is_ok()) << slot.status().to_string();
                if (threads == 1) {
                    ASSERT_EQ(*slot, i);
                }
            }
        });
    }
    for (auto& t : ts) t.join();
    return std::move(h).value();
}

/// Recall@10 at list ef; slot_to_row maps slots back to rows (identity for 1 thread).
double recall(const Hnsw& h, const Data& d, const std::vector<uint32_t>& t, uint32_t ef,
              const std::vector<uint32_t>& slot_to_row = {}) {
    size_t hits = 0;
    uint32_t slots[kK];
    for (uint32_t q = 0; q < d.nq; ++q) {
        auto n = h.search(d.queries.data() + q * d.row(), kK, ef, nullptr, nullptr, slots, nullptr);
        EXPECT_TRUE(n.is_ok());
        std::set<uint32_t> want(t.begin() + q * kK, t.begin() + (q + 1) * kK);
        for (uint32_t i = 0; i < *n; ++i) {
            hits += want.count(slot_to_row.empty() ? slots[i] : slot_to_row[slots[i]]);
        }
    }
    return static_cast<double>(hits) / (static_cast<double>(d.nq) * kK);
}

TEST(Hnsw, RecallAgainstExactSearchForEveryMetricAndU8) {
    const uint64_t seed = testing::test_seed(31);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    struct Case {
        Metric metric;
        DType dtype;
    };
    for (Case c : {Case{Metric::kL2, DType::kF32}, Case{Metric::kInnerProduct, DType::kF32},
                   Case{Metric::kCosine, DType::kF32}, Case{Metric::kL2, DType::kU8}}) {
        SCOPED_TRACE(metric_name(c.metric));
        const Data d = make_data(10000, 200, 32, c.dtype, seed);
        auto h = build(d, c.metric);
        const auto t = truth(d, c.metric);
        const double r = recall(*h, d, t, 64);
        std::printf("%s %s recall@10 ef=64: %.4f, %.1f MiB\n", metric_name(c.metric).data(),
                    dtype_name(c.dtype).data(), r,
                    static_cast<double>(h->memory_bytes()) / 1048576.0);
        EXPECT_GE(r, 0.95);
        EXPECT_EQ(h->size(), d.n);
    }
}

TEST(Hnsw, FilterAdmitsOnlyAcceptedSlotsAndStillFillsK) {
    const Data d = make_data(5000, 100, 16, DType::kF32, 5);
    auto h = build(d, Metric::kL2);
    const auto odd = [](uint32_t slot, const void*) { return slot % 2 == 1; };
    std::vector<uint32_t> t(size_t{d.nq} * 40);
    distance::ExactKnnOptions eo;
    eo.k = 40;
    eo.threads = 1;
    ASSERT_TRUE(distance::exact_knn({d.base.data(), d.n, d.dim, d.dtype, 0},
                                    {d.queries.data(), d.nq, d.dim, d.dtype, 0}, eo, t.data(),
                                    nullptr)
                    .is_ok());
    size_t hits = 0, wanted = 0;
    uint32_t slots[kK];
    for (uint32_t q = 0; q < d.nq; ++q) {
        auto n = h->search(d.queries.data() + q * d.row(), kK, 64, odd, nullptr, slots, nullptr);
        ASSERT_TRUE(n.is_ok());
        ASSERT_EQ(*n, kK);
        std::set<uint32_t> got(slots, slots + kK);
        for (uint32_t s : got) ASSERT_EQ(s % 2, 1u);
        uint32_t taken = 0;
        for (uint32_t i = 0; i < 40 && taken < kK; ++i) {
            if (t[q * 40 + i] % 2 == 0) continue;
            ++taken;
            ++wanted;
            hits += got.count(t[q * 40 + i]);
        }
    }
    EXPECT_GE(static_cast<double>(hits) / static_cast<double>(wanted), 0.95);
    // Only 3 admitted slots in the whole index: all 3 come back, no more.
    const auto three = [](uint32_t slot, const void*) {
        return slot == 7 || slot == 70 || slot == 700;
    };
    auto n = h->search(d.queries.data(), kK, 20, three, nullptr, slots, nullptr);
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(*n, 3u);
}

TEST(Hnsw, ConcurrentAddsBesideSearchesMatchASequentialBuild) {
    const Data d = make_data(8000, 200, 32, DType::kF32, 9);
    const auto t = truth(d, Metric::kL2);
    const double sequential = recall(*build(d, Metric::kL2, 1), d, t, 64);
    HnswOptions o;
    o.dim = d.dim;
    auto made = Hnsw::create(o);
    ASSERT_TRUE(made.is_ok());
    Hnsw& h = **made;
    std::vector<uint32_t> slot_to_row(d.n);
    std::atomic<uint32_t> next{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> adders;
    for (int a = 0; a < 2; ++a) {
        adders.emplace_back([&] {
            for (uint32_t i = next++; i < d.n; i = next++) {
                auto slot = h.add(d.base.data() + i * d.row());
                ASSERT_TRUE(slot.is_ok());
                slot_to_row[*slot] = i;
            }
        });
    }
    std::vector<std::thread> searchers;
    for (int s = 0; s < 2; ++s) {
        searchers.emplace_back([&] {
            uint32_t slots[kK];
            for (uint32_t q = 0; !stop; q = (q + 1) % d.nq) {
                ASSERT_TRUE(h.search(d.queries.data() + q * d.row(), kK, 32, nullptr, nullptr,
                                     slots, nullptr)
                                .is_ok());
            }
        });
    }
    for (auto& a : adders) a.join();
    stop = true;
    for (auto& s : searchers) s.join();
    EXPECT_EQ(h.size(), d.n);
    const double concurrent = recall(h, d, t, 64, slot_to_row);
    std::printf("recall@10 ef=64: sequential %.4f, concurrent %.4f\n", sequential, concurrent);
    EXPECT_GE(concurrent, sequential - 0.02);
}

/// A search that meets a node still being added must still find k of the nodes added before:
/// the hot tier filters out the nodes not yet published, and a walk that entered the new node
/// through an upper level before its level-0 links were written found nothing at all.
TEST(Hnsw, SearchesBesideAddsAlwaysFindTheOlderNodes) {
    const Data d = make_data(6000, 100, 16, DType::kF32, 13);
    HnswOptions o;
    o.dim = d.dim;
    auto made = Hnsw::create(o);
    ASSERT_TRUE(made.is_ok());
    Hnsw& h = **made;
    static constexpr uint32_t kOld = 500;
    for (uint32_t i = 0; i < kOld; ++i) ASSERT_TRUE(h.add(d.base.data() + i * d.row()).is_ok());
    const SlotFilter old_only = [](uint32_t slot, const void*) { return slot < kOld; };
    std::atomic<uint32_t> next{kOld};
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> searches{0}, short_answers{0};
    std::vector<std::thread> threads;
    for (int a = 0; a < 2; ++a) {
        threads.emplace_back([&] {
            for (uint32_t i = next++; i < d.n; i = next++) {
                ASSERT_TRUE(h.add(d.base.data() + i * d.row()).is_ok());
            }
        });
    }
    for (int s = 0; s < 2; ++s) {
        threads.emplace_back([&] {
            uint32_t slots[kK];
            for (uint32_t q = 0; !stop; q = (q + 1) % d.nq) {
                auto n = h.search(d.queries.data() + q * d.row(), kK, 32, old_only, nullptr, slots,
                                  nullptr);
                ASSERT_TRUE(n.is_ok());
                ++searches;
                if (*n < kK) ++short_answers;
            }
        });
    }
    threads[0].join();
    threads[1].join();
    stop = true;
    for (size_t t = 2; t < threads.size(); ++t) threads[t].join();
    EXPECT_EQ(short_answers.load(), 0u) << "of " << searches.load() << " searches";
}

TEST(Hnsw, BadInputIsRefusedAndChangesNothing) {
    HnswOptions o;
    o.dim = 4;
    o.metric = Metric::kCosine;
    o.max_elements = 2;
    auto h = Hnsw::create(o);
    ASSERT_TRUE(h.is_ok());
    const float nan[4] = {1, std::nanf(""), 0, 0};
    const float zero[4] = {0, 0, 0, 0};
    const float ok[4] = {1, 2, 3, 4};
    EXPECT_EQ((*h)->add(nan).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ((*h)->add(zero).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ((*h)->size(), 0u);
    EXPECT_EQ(*(*h)->add(ok), 0u);
    EXPECT_EQ(*(*h)->add(ok), 1u);
    EXPECT_EQ((*h)->add(ok).status().code(), StatusCode::kResourceExhausted);
    EXPECT_EQ((*h)->size(), 2u);
    HnswOptions bad = o;
    bad.dtype = DType::kU8;  // cosine stores f32
    EXPECT_EQ(Hnsw::create(bad).status().code(), StatusCode::kInvalidArgument);
    bad = o;
    bad.M = 1;
    EXPECT_EQ(Hnsw::create(bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::graph
