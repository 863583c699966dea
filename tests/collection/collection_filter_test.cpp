// Label filters on a collection: labelled upserts in the hot tier, a consolidation into a
// filter-aware generation, writes and deletes after it (both tiers at once), a reopen replaying
// the log over the generation; at each step every filtered search returns exactly the matching
// live vectors' nearest (checked against a brute-force model), min(k, matches) of them. Bad
// labels change nothing; unknown labels match nothing.
#include <strata/collection.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/testing.hpp"

namespace strata {
namespace {

constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kDim = 16;

struct Row {
    std::vector<float> v;
    std::vector<std::string> labels;
};
using Model = std::map<uint64_t, Row>;

/// A small collection: R, L and PQ bytes of the test, consolidations on request only.
CollectionParams test_params(uint32_t dim, uint32_t degree_max, uint32_t list_size,
                             uint32_t pq_bytes) {
    CollectionParams p;
    p.dim = dim;
    p.degree_max = degree_max;
    p.list_size = list_size;
    p.pq_bytes = pq_bytes;
    return p;
}

CollectionOptions test_options(uint32_t validation_queries, int consolidation_threads) {
    CollectionOptions o;
    o.background = false;
    o.consolidate_at = 0;
    o.validation_queries = validation_queries;
    o.consolidation_threads = consolidation_threads;
    o.disk.io = "pread";
    return o;
}

Row make_row(uint64_t seed, uint64_t id, uint32_t version) {
    std::mt19937_64 rng(seed * 7919 + id * 131 + version);
    std::normal_distribution<float> nd(0, 1);
    Row r;
    r.v.resize(kDim);
    const float center = static_cast<float>(id % 5);
    for (auto& x : r.v) x = center + nd(rng);
    r.labels.push_back("c" + std::to_string((id + version) % 10));  // ~10% each
    if (id % 97 == 0) r.labels.push_back("rare");                   // ~1%
    if (id % 2 == 0) r.labels.push_back("even");
    return r;
}

Status upsert(Collection& c, Model& m, uint64_t from, uint64_t to, uint64_t seed,
              uint32_t version) {
    std::vector<uint64_t> ids;
    std::vector<float> rows;
    std::vector<std::vector<std::string>> labels;
    std::vector<Row> made;
    for (uint64_t id = from; id < to; ++id) {
        made.push_back(make_row(seed, id, version));
        ids.push_back(id);
        rows.insert(rows.end(), made.back().v.begin(), made.back().v.end());
        labels.push_back(made.back().labels);
    }
    Status s = c.upsert(ids.data(), ids.size(), rows.data(), DType::kF32, labels);
    if (s.is_ok()) {
        for (size_t i = 0; i < ids.size(); ++i) m[ids[i]] = made[i];
    }
    return s;
}

bool matches(const Row& r, const std::vector<std::string>& must_any,
             const std::vector<std::string>& must_not_any) {
    const auto has = [&](const std::string& l) {
        return std::find(r.labels.begin(), r.labels.end(), l) != r.labels.end();
    };
    bool any = must_any.empty();
    for (const auto& l : must_any) any = any || has(l);
    for (const auto& l : must_not_any) {
        if (has(l)) return false;
    }
    return any;
}

std::string filter_json(const std::vector<std::string>& must_any,
                        const std::vector<std::string>& must_not_any) {
    const auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& l : v) s += (s.empty() ? "\"" : ",\"") + l + "\"";
        return s;
    };
    std::string j = "{";
    if (!must_any.empty()) {
        j += R"("must": [{"key": "label", "match": {"any": [)" + list(must_any) + "]}}]";
    }
    if (!must_not_any.empty()) {
        if (j.size() > 1) j += ", ";
        j += R"("must_not": [{"key": "label", "match": {"any": [)" + list(must_not_any) + "]}}]";
    }
    return j + "}";
}

/// Checks every query under the filter: only matching ids, min(k, matches) of them, recall@k
/// against the model's exact filtered top-k at least `min_recall`. Returns the recall.
double check(const Collection& c, const Model& m, const std::vector<std::string>& must_any,
             const std::vector<std::string>& must_not_any, uint64_t seed, double min_recall) {
    auto f = c.parse_filter(filter_json(must_any, must_not_any));
    EXPECT_TRUE(f.is_ok()) << f.status().to_string();
    if (!f.is_ok()) return 0;
    CollectionSearchParams p;
    p.k = 10;
    p.list_size = 64;
    p.label_filter = &*f;
    uint64_t hits = 0, want = 0;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> nd(0, 1);
    for (int q = 0; q < 30; ++q) {
        std::vector<float> query(kDim);
        for (auto& x : query) x = static_cast<float>(q % 5) + nd(rng);
        std::vector<std::pair<float, uint64_t>> truth;
        for (const auto& [id, r] : m) {
            if (!matches(r, must_any, must_not_any)) continue;
            float d = 0;
            for (uint32_t j = 0; j < kDim; ++j) d += (query[j] - r.v[j]) * (query[j] - r.v[j]);
            truth.emplace_back(d, id);
        }
        std::sort(truth.begin(), truth.end());
        const size_t expect = std::min<size_t>(p.k, truth.size());
        std::vector<uint64_t> ids(p.k);
        const Status s = c.search(query.data(), DType::kF32, kDim, p, ids.data(), nullptr);
        EXPECT_TRUE(s.is_ok()) << s.to_string();
        size_t got = 0;
        for (uint64_t id : ids) {
            if (id == kNone) continue;
            ++got;
            const auto it = m.find(id);
            EXPECT_TRUE(it != m.end() && matches(it->second, must_any, must_not_any))
                << "id " << id << " does not match " << filter_json(must_any, must_not_any);
            for (size_t t = 0; t < expect; ++t) hits += truth[t].second == id ? 1 : 0;
        }
        EXPECT_EQ(got, expect) << filter_json(must_any, must_not_any);
        want += expect;
    }
    const double recall = want == 0 ? 1.0 : static_cast<double>(hits) / static_cast<double>(want);
    EXPECT_GE(recall, min_recall) << filter_json(must_any, must_not_any);
    return recall;
}

void check_all(const Collection& c, const Model& m, uint64_t seed, const char* stage) {
    const double a = check(c, m, {"c3"}, {}, seed, 0.9);
    const double b = check(c, m, {"rare"}, {}, seed + 1, 0.9);
    const double d = check(c, m, {"c1", "c2"}, {"even"}, seed + 2, 0.9);
    const double e = check(c, m, {"rare"}, {"c0", "c1", "c2", "c3", "c4"}, seed + 3, 0.9);
    std::printf("%s: recall@10 c3 %.3f, rare %.3f, (c1|c2)&!even %.3f, rare&!c0..c4 %.3f\n", stage,
                a, b, d, e);
}

TEST(CollectionFilter, LabelsHoldAcrossTiersConsolidationAndReopen) {
    const uint64_t seed = testing::test_seed(31);
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    testing::TempDir dir;
    const std::string path = dir.file("c");
    const CollectionParams p = test_params(kDim, 24, 64, 8);
    const CollectionOptions o = test_options(50, 2);
    Model m;
    {
        auto c = Collection::create(path, p, o);
        ASSERT_TRUE(c.is_ok()) << c.status().to_string();
        ASSERT_TRUE(upsert(**c, m, 0, 3000, seed, 0).is_ok());
        check_all(**c, m, seed, "hot tier");
        auto rep = (*c)->consolidate();
        ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
        ASSERT_TRUE(rep->swapped) << rep->reason;
        EXPECT_EQ(rep->full_build_reason, "first generation");
        check_all(**c, m, seed, "generation");
        // Replacements (labels change with the version), deletes and new rows: both tiers.
        ASSERT_TRUE(upsert(**c, m, 2500, 3500, seed, 1).is_ok());
        std::vector<uint64_t> gone;
        for (uint64_t id = 0; id < 3500; id += 11) gone.push_back(id);
        ASSERT_TRUE((*c)->remove(gone.data(), gone.size()).is_ok());
        for (uint64_t id : gone) m.erase(id);
        check_all(**c, m, seed, "both tiers");
        EXPECT_EQ((*c)->stats().labels, 12u);  // c0..c9, rare, even
    }
    auto c = Collection::open(path, o);
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    check_all(**c, m, seed, "reopened");
    auto rep = (*c)->consolidate();
    ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
    ASSERT_TRUE(rep->swapped) << rep->reason;
    // The label-aware incremental merge: repaired and inserted with FilteredRobustPrune.
    EXPECT_TRUE(rep->incremental) << rep->full_build_reason;
    check_all(**c, m, seed, "second generation");

    // A label never written matches nothing; must_not of it everything.
    auto none = (*c)->parse_filter(R"({"must": [{"key": "label", "match": {"value": "nope"}}]})");
    ASSERT_TRUE(none.is_ok());
    CollectionSearchParams sp;
    sp.label_filter = &*none;
    std::vector<uint64_t> ids(sp.k);
    std::vector<float> q(kDim, 1.0f);
    ASSERT_TRUE((*c)->search(q.data(), DType::kF32, kDim, sp, ids.data(), nullptr).is_ok());
    for (uint64_t id : ids) EXPECT_EQ(id, kNone);

    // Bad labels are refused and change nothing.
    const uint64_t before = (*c)->stats().live;
    const uint64_t id = 99999;
    const std::vector<std::string> bads = {"a,b", "", " padded", "line\nbreak",
                                           std::string(257, 'x')};
    for (const std::string& bad : bads) {
        std::vector<std::vector<std::string>> labels = {{bad}};
        const Status s = (*c)->upsert(&id, 1, q.data(), DType::kF32, labels);
        EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << bad << "'";
    }
    std::vector<std::vector<std::string>> two_rows = {{"a"}, {"b"}};
    EXPECT_EQ((*c)->upsert(&id, 1, q.data(), DType::kF32, two_rows).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ((*c)->stats().live, before);
    EXPECT_FALSE((*c)->parse_filter(R"({"must": [{"key": "label", "range": {"lt": 3}}]})").is_ok());
}

TEST(CollectionFilter, UnlabelledGenerationAndLabelledHotTier) {
    // Vectors written without labels carry none: a positive filter skips them, must_not keeps
    // them; labels written later are found in the hot tier beside the unlabelled generation.
    testing::TempDir dir;
    const CollectionParams p = test_params(kDim, 16, 32, 8);
    const CollectionOptions o = test_options(20, 1);
    auto c = Collection::create(dir.file("c"), p, o);
    ASSERT_TRUE(c.is_ok());
    std::vector<uint64_t> ids;
    std::vector<float> rows;
    for (uint64_t i = 0; i < 500; ++i) {
        ids.push_back(i);
        auto r = make_row(5, i, 0);
        rows.insert(rows.end(), r.v.begin(), r.v.end());
    }
    ASSERT_TRUE((*c)->upsert(ids.data(), ids.size(), rows.data(), DType::kF32).is_ok());
    ASSERT_TRUE((*c)->consolidate().is_ok());
    const uint64_t id = 1000;
    std::vector<std::vector<std::string>> labels = {{"fresh"}};
    ASSERT_TRUE((*c)->upsert(&id, 1, rows.data(), DType::kF32, labels).is_ok());
    auto f = (*c)->parse_filter(R"({"must": [{"key": "label", "match": {"value": "fresh"}}]})");
    ASSERT_TRUE(f.is_ok());
    CollectionSearchParams sp;
    sp.label_filter = &*f;
    std::vector<uint64_t> out(sp.k);
    ASSERT_TRUE((*c)->search(rows.data(), DType::kF32, kDim, sp, out.data(), nullptr).is_ok());
    EXPECT_EQ(out[0], id);
    EXPECT_EQ(out[1], kNone);
    auto nf =
        (*c)->parse_filter(R"({"must_not": [{"key": "label", "match": {"value": "fresh"}}]})");
    ASSERT_TRUE(nf.is_ok());
    sp.label_filter = &*nf;
    ASSERT_TRUE((*c)->search(rows.data(), DType::kF32, kDim, sp, out.data(), nullptr).is_ok());
    for (uint64_t x : out) EXPECT_NE(x, id);
    EXPECT_EQ(std::count(out.begin(), out.end(), kNone), 0);
}

TEST(CollectionFilter, ConcurrentLabelledWritesFilteredSearchesAndConsolidation) {
    // Labels are fixed per id (c<id % 10>), so every answer can be checked while writers replace
    // and delete, searchers filter and consolidations swap generations (run under TSan too).
    testing::TempDir dir;
    const CollectionParams p = test_params(8, 16, 32, 4);
    const CollectionOptions o = test_options(20, 1);
    auto c = Collection::create(dir.file("c"), p, o);
    ASSERT_TRUE(c.is_ok());
    Collection& col = **c;
    const auto write = [&](uint64_t from, uint64_t to, uint32_t version) {
        std::vector<uint64_t> ids;
        std::vector<float> rows;
        std::vector<std::vector<std::string>> labels;
        std::mt19937_64 rng(from * 31 + version);
        std::normal_distribution<float> nd(0, 1);
        for (uint64_t id = from; id < to; ++id) {
            ids.push_back(id);
            for (uint32_t j = 0; j < p.dim; ++j)
                rows.push_back(static_cast<float>(id % 3) + nd(rng));
            std::string label(1, 'c');
            label += std::to_string(id % 10);
            labels.push_back({label});
        }
        return col.upsert(ids.data(), ids.size(), rows.data(), DType::kF32, labels);
    };
    ASSERT_TRUE(write(0, 400, 0).is_ok());
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> wrong{0}, searches{0}, failures{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 2; ++w) {
        threads.emplace_back([&, w] {
            for (uint32_t round = 1; round <= 12 && !stop; ++round) {
                const uint64_t base = 400 + static_cast<uint64_t>(w) * 1000 + (round % 6) * 100;
                if (!write(base, base + 100, round).is_ok()) ++failures;
                std::vector<uint64_t> gone;
                for (uint64_t id = base; id < base + 100; id += 13) gone.push_back(id);
                if (!col.remove(gone.data(), gone.size()).is_ok()) ++failures;
            }
        });
    }
    threads.emplace_back([&] {
        auto f = col.parse_filter(R"({"must": [{"key": "label", "match": {"value": "c3"}}]})");
        if (!f.is_ok()) {
            ++failures;
            return;
        }
        CollectionSearchParams sp;
        sp.k = 10;
        sp.list_size = 32;
        sp.label_filter = &*f;
        std::vector<uint64_t> ids(sp.k);
        std::vector<float> q(p.dim, 1.0f);
        while (!stop) {
            if (!col.search(q.data(), DType::kF32, p.dim, sp, ids.data(), nullptr).is_ok()) {
                ++failures;
                continue;
            }
            ++searches;
            uint32_t got = 0;
            for (uint64_t id : ids) {
                if (id == kNone) continue;
                ++got;
                if (id % 10 != 3) ++wrong;
            }
            if (got < sp.k) ++wrong;  // ids 3, 13, ..., 393 are never deleted: always >= 10
        }
    });
    for (int i = 0; i < 2; ++i) {
        auto rep = col.consolidate();
        EXPECT_TRUE(rep.is_ok()) << rep.status().to_string();
    }
    for (size_t t = 0; t < 2; ++t) threads[t].join();
    stop = true;
    threads[2].join();
    EXPECT_EQ(failures.load(), 0u);
    EXPECT_EQ(wrong.load(), 0u);
    EXPECT_GT(searches.load(), 0u);
    std::printf("%llu filtered searches during writes and 2 consolidations\n",
                static_cast<unsigned long long>(searches.load()));
}

}  // namespace
}  // namespace strata
