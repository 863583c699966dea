// Filtered search on disk end to end: an index built with a labels file (filter-aware graph,
// sector-packed so the labels are permuted with the nodes) answers label filters under the graph,
// scan and auto plans with recall against an exact filtered scan, only matching results, and
// min(k, matches) of them; bad filters and filters on an unlabelled index are refused; the labels
// companion is checked when decoded.
#include <strata/builder.hpp>
#include <strata/disk_index.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.hpp"
#include "disk/labels_file.hpp"
#include "io/dataset.hpp"
#include "io/labels.hpp"
#include "io/synthetic.hpp"
#include "testing/testing.hpp"

namespace strata {
namespace {

constexpr uint32_t kK = 10;
constexpr uint32_t kN = 20000, kQ = 100, kDim = 32, kLabels = 100, kSizes = 40;

struct Data {
    testing::TempDir dir;
    std::vector<float> base, queries;
    io::LabelSets labels;
    std::string filtered, plain, labels_path;
};

Data* g_data = nullptr;

class FilteredSearch : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        const uint64_t seed = testing::test_seed(21);
        std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
        auto* d = new Data();
        io::SyntheticOptions so;
        so.dim = kDim;
        so.seed = seed;
        so.noise_std = 0.5f;
        auto gen = io::SyntheticGenerator::create(so, kN);
        ASSERT_TRUE(gen.is_ok());
        d->base.resize(size_t{kN} * kDim);
        d->queries.resize(size_t{kQ} * kDim);
        gen->generate(io::SyntheticStream::kBase, 0, kN, d->base.data());
        gen->generate(io::SyntheticStream::kQueries, 0, kQ, d->queries.data());
        const std::string base_path = d->dir.file("base.fbin");
        ASSERT_TRUE(io::write_vectors(base_path, DType::kF32, kN, kDim, d->base.data()).is_ok());
        // One Zipf label per row (L0 about 19%, L99 about 0.2%); every 7th row also carries
        // "x" (for AND filters); every 50th row carries none of those; every row but every 25th
        // has a numeric field "size=<0..39>" (range conditions).
        auto z = io::zipf_labels(kN, kLabels, 1.0, seed + 1);
        ASSERT_TRUE(z.is_ok());
        std::vector<std::string> sizes(kSizes);
        for (uint32_t v = 0; v < kSizes; ++v) sizes[v] = "size=" + std::to_string(v);
        for (uint64_t i = 0; i < kN; ++i) {
            std::vector<std::string_view> names;
            if (i % 50 != 0) names.push_back(z->name(z->of(i)[0]));
            if (i % 7 == 0) names.push_back("x");
            if (i % 25 != 0) names.push_back(sizes[(i * 7919) % kSizes]);
            ASSERT_TRUE(d->labels.add_row(names).is_ok());
        }
        d->labels_path = d->dir.file("labels.txt");
        ASSERT_TRUE(io::write_labels(d->labels_path, d->labels).is_ok());
        BuildOptions bo;
        bo.degree_max = 32;
        bo.list_size = 64;
        bo.threads = 2;
        bo.seed = seed;
        d->plain = d->dir.file("plain");
        ASSERT_TRUE(build_index(base_path, d->plain, bo).is_ok());
        bo.labels_path = d->labels_path;
        d->filtered = d->dir.file("filtered");
        auto rep = build_index(base_path, d->filtered, bo);
        ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
        EXPECT_TRUE(rep->sector_packed);  // the labels were permuted with the nodes
        EXPECT_EQ(rep->label_count, d->labels.label_count());
        g_data = d;
    }
    static void TearDownTestSuite() {
        delete g_data;
        g_data = nullptr;
    }
    static const Data& d() { return *g_data; }

    static std::unique_ptr<DiskIndex> open(const std::string& dir) {
        auto idx = DiskIndex::open(dir);
        EXPECT_TRUE(idx.is_ok()) << idx.status().to_string();
        return idx.is_ok() ? std::move(idx).value() : nullptr;
    }

    /// Exact filtered top-k of query q (row numbers = external ids).
    static std::vector<uint64_t> truth(uint32_t q, const LabelFilter& f_rows) {
        std::vector<std::pair<float, uint64_t>> all;
        const float* x = &d().queries[size_t{q} * kDim];
        for (uint64_t i = 0; i < kN; ++i) {
            if (!f_rows.matches(d().labels.of(i))) continue;
            float s = 0;
            for (uint32_t j = 0; j < kDim; ++j) {
                const float t = x[j] - d().base[i * kDim + j];
                s += t * t;
            }
            all.emplace_back(s, i);
        }
        const size_t m = std::min<size_t>(kK, all.size());
        std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(m), all.end());
        std::vector<uint64_t> out;
        for (size_t i = 0; i < m; ++i) out.push_back(all[i].second);
        return out;
    }

    /// The filter with label ids of the labels file (the index has its own ids).
    static LabelFilter rows_filter(const std::string& json) {
        auto f = search_filter_for_rows(json);
        EXPECT_TRUE(f.is_ok()) << f.status().to_string();
        return f.is_ok() ? *f : LabelFilter{};
    }
    static Result<LabelFilter> search_filter_for_rows(const std::string& json);

    struct Outcome {
        double recall = 0;
        uint64_t short_results = 0, wrong = 0, scanned = 0, reads = 0;
    };

    /// Runs every query with `json` under `plan` at L and checks each result against the truth.
    static Outcome run(const DiskIndex& idx, const std::string& json, FilterPlan plan,
                       uint32_t L = 64) {
        Outcome o;
        auto f = idx.parse_filter(json);
        EXPECT_TRUE(f.is_ok()) << f.status().to_string();
        if (!f.is_ok()) return o;
        const LabelFilter rows = rows_filter(json);
        SearchParams p;
        p.k = kK;
        p.list_size = L;
        p.label_filter = &*f;
        p.filter_plan = plan;
        uint64_t hits = 0, want = 0;
        std::vector<uint64_t> ids(kK);
        std::vector<float> dists(kK);
        for (uint32_t q = 0; q < kQ; ++q) {
            QueryStats st;
            const Status s = idx.search(&d().queries[size_t{q} * kDim], DType::kF32, kDim, p,
                                        ids.data(), dists.data(), &st);
            EXPECT_TRUE(s.is_ok()) << s.to_string();
            o.scanned += st.scanned;
            o.reads += st.reads;
            const auto t = truth(q, rows);
            want += t.size();
            uint32_t got = 0;
            for (uint32_t i = 0; i < kK; ++i) {
                if (ids[i] == std::numeric_limits<uint64_t>::max()) continue;
                ++got;
                if (!rows.matches(d().labels.of(ids[i]))) ++o.wrong;
                if (std::find(t.begin(), t.end(), ids[i]) != t.end()) ++hits;
            }
            if (got != t.size()) ++o.short_results;
        }
        o.recall = want == 0 ? 1.0 : static_cast<double>(hits) / static_cast<double>(want);
        return o;
    }
};

}  // namespace
}  // namespace strata

#include "search/filter.hpp"

namespace strata {
namespace {

Result<LabelFilter> FilteredSearch::search_filter_for_rows(const std::string& json) {
    return search::parse_labels_file_filter(json, d().labels);
}

std::string value_filter(const std::string& part, const std::string& label) {
    return "{\"" + part + "\": [{\"key\": \"label\", \"match\": {\"value\": \"" + label + "\"}}]}";
}

TEST_F(FilteredSearch, EveryPlanFindsTheFilteredNeighbours) {
    auto idx = open(d().filtered);
    ASSERT_NE(idx, nullptr);
    EXPECT_EQ(idx->info().label_count, kLabels + 1 + kSizes);
    EXPECT_GT(idx->info().labels_ram_bytes, 0u);
    const std::vector<std::pair<std::string, std::string>> filters = {
        {"common (L0, ~19%)", value_filter("must", "L0")},
        {"L9 (~1.9%)", value_filter("must", "L9")},
        {"rare (L90, ~0.2%)", value_filter("must", "L90")},
        {"OR of two rare labels",
         R"({"should": [{"key": "label", "match": {"any": ["L70", "L80"]}}]})"},
        {"AND: L3 and x",
         R"({"must": [{"key": "label", "match": {"value": "L3"}},
                      {"key": "label", "match": {"value": "x"}}]})"},
        {"NOT L0..L2", R"({"must_not": [{"key": "label", "match": {"any": ["L0", "L1", "L2"]}}]})"},
        {"range size < 2 (~4.8%)", R"({"must": [{"key": "size", "range": {"lt": 2}}]})"},
        {"range 10 < size <= 29.5",
         R"({"must": [{"key": "size", "range": {"gt": 10, "lte": 29.5}}]})"},
        {"AND: L0 and 20 <= size < 22",
         R"({"must": [{"key": "label", "match": {"value": "L0"}},
                      {"key": "size", "range": {"gte": 20, "lt": 22}}]})"},
        {"match size 7 OR L95", R"({"should": [{"key": "size", "match": {"value": 7}},
                                               {"key": "label", "match": {"value": "L95"}}]})"},
    };
    for (const auto& [name, json] : filters) {
        for (FilterPlan plan : {FilterPlan::kGraph, FilterPlan::kScan, FilterPlan::kAuto}) {
            const Outcome o = run(*idx, json, plan);
            std::printf("%-24s plan %d: recall@10 %.4f, reads %.1f, scanned %.0f, short %llu\n",
                        name.c_str(), static_cast<int>(plan), o.recall,
                        static_cast<double>(o.reads) / kQ, static_cast<double>(o.scanned) / kQ,
                        static_cast<unsigned long long>(o.short_results));
            EXPECT_EQ(o.wrong, 0u) << name;
            EXPECT_EQ(o.short_results, 0u) << name;
            EXPECT_GE(o.recall, 0.95) << name << " plan " << static_cast<int>(plan);
            if (plan == FilterPlan::kGraph && name.find("AND") == std::string::npos) {
                EXPECT_EQ(o.scanned, 0u) << name << ": the graph walk needed no scan";
            }
            if (plan == FilterPlan::kScan) {
                EXPECT_GT(o.scanned, 0u);
            }
        }
    }
}

TEST_F(FilteredSearch, ShardedBuildIsFilterAwareToo) {
    // A memory budget that calls for shards: each shard is built filter-aware over its rows'
    // labels, the merge re-prunes with FilteredRobustPrune, start nodes are chosen over all rows.
    BuildOptions bo;
    bo.degree_max = 32;
    bo.list_size = 64;
    bo.threads = 2;
    bo.seed = testing::test_seed(21);
    bo.memory_gb = 0.125;
    bo.shards = 4;
    bo.labels_path = d().labels_path;
    const std::string dir = d().dir.file("sharded");
    auto rep = build_index(d().dir.file("base.fbin"), dir, bo);
    ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
    EXPECT_TRUE(rep->partitioned);
    EXPECT_EQ(rep->label_count, d().labels.label_count());
    auto idx = open(dir);
    ASSERT_NE(idx, nullptr);
    for (const std::string& json :
         {value_filter("must", "L0"), value_filter("must", "L9"), value_filter("must", "L90"),
          std::string(R"({"must": [{"key": "size", "range": {"lt": 2}}]})")}) {
        const Outcome o = run(*idx, json, FilterPlan::kGraph);
        std::printf("sharded %-60s recall@10 %.4f, reads %.1f\n", json.c_str(), o.recall,
                    static_cast<double>(o.reads) / kQ);
        EXPECT_EQ(o.wrong, 0u) << json;
        EXPECT_EQ(o.short_results, 0u) << json;
        EXPECT_GE(o.recall, 0.9) << json;
    }
}

TEST_F(FilteredSearch, PostFilteringThePlainIndexLosesRareLabels) {
    // The baseline the filter-aware index is measured against: the plain index, its results
    // filtered afterwards at the same L.
    auto idx = open(d().plain);
    ASSERT_NE(idx, nullptr);
    const std::string json = value_filter("must", "L90");
    const LabelFilter rows = rows_filter(json);
    struct Ctx {
        const LabelFilter* f;
    } ctx{&rows};
    SearchParams p;
    p.k = kK;
    p.list_size = 64;
    p.filter = [](uint64_t id, const void* c) {
        return static_cast<const Ctx*>(c)->f->matches(d().labels.of(id));
    };
    p.filter_context = &ctx;
    uint64_t short_results = 0;
    std::vector<uint64_t> ids(kK);
    for (uint32_t q = 0; q < kQ; ++q) {
        ASSERT_TRUE(
            idx->search(&d().queries[size_t{q} * kDim], DType::kF32, kDim, p, ids.data(), nullptr)
                .is_ok());
        if (ids[kK - 1] == std::numeric_limits<uint64_t>::max()) ++short_results;
    }
    std::printf("post-filtered plain index, L90: %llu of %u queries short\n",
                static_cast<unsigned long long>(short_results), kQ);
    EXPECT_GT(short_results, kQ / 2);
    auto fidx = open(d().filtered);
    ASSERT_NE(fidx, nullptr);
    EXPECT_EQ(run(*fidx, json, FilterPlan::kGraph).short_results, 0u);
}

TEST_F(FilteredSearch, FewMatchesGiveThemAllAndNoMatchGivesNothing) {
    auto idx = open(d().filtered);
    ASSERT_NE(idx, nullptr);
    // L99 and x: a handful of rows.
    const std::string few = R"({"must": [{"key": "label", "match": {"value": "L99"}},
                                          {"key": "label", "match": {"value": "x"}}]})";
    const LabelFilter rows = rows_filter(few);
    uint64_t matching = 0;
    for (uint64_t i = 0; i < kN; ++i) matching += rows.matches(d().labels.of(i)) ? 1 : 0;
    ASSERT_LT(matching, kK);
    for (FilterPlan plan : {FilterPlan::kGraph, FilterPlan::kScan, FilterPlan::kAuto}) {
        const Outcome o = run(*idx, few, plan);
        EXPECT_EQ(o.short_results, 0u);  // exactly `matching` results each
        EXPECT_EQ(o.wrong, 0u);
        EXPECT_DOUBLE_EQ(o.recall, 1.0);
    }
    // An unknown label or a range no value falls in matches nothing: an empty result, quickly,
    // for every plan.
    for (FilterPlan plan : {FilterPlan::kGraph, FilterPlan::kScan, FilterPlan::kAuto}) {
        auto f = idx->parse_filter(plan == FilterPlan::kAuto
                                       ? R"({"must": [{"key": "size", "range": {"gt": 39}}]})"
                                       : value_filter("must", "no-such-label"));
        ASSERT_TRUE(f.is_ok());
        EXPECT_EQ(idx->estimate_matches(*f), 0u);
        SearchParams p;
        p.label_filter = &*f;
        p.filter_plan = plan;
        std::vector<uint64_t> ids(p.k, 7);
        QueryStats st;
        ASSERT_TRUE(idx->search(d().queries.data(), DType::kF32, kDim, p, ids.data(), nullptr, &st)
                        .is_ok());
        for (uint64_t id : ids) EXPECT_EQ(id, std::numeric_limits<uint64_t>::max());
        EXPECT_EQ(st.reads, 0u);
    }
}

TEST_F(FilteredSearch, UnfilteredQueriesKeepTheirRecall) {
    auto fidx = open(d().filtered);
    auto pidx = open(d().plain);
    ASSERT_NE(fidx, nullptr);
    ASSERT_NE(pidx, nullptr);
    const LabelFilter all;  // empty: every row
    double r[2] = {0, 0};
    SearchParams p;
    p.k = kK;
    p.list_size = 32;
    std::vector<uint64_t> ids(kK);
    for (int which = 0; which < 2; ++which) {
        const DiskIndex& idx = which == 0 ? *fidx : *pidx;
        uint64_t hits = 0;
        for (uint32_t q = 0; q < kQ; ++q) {
            ASSERT_TRUE(idx.search(&d().queries[size_t{q} * kDim], DType::kF32, kDim, p, ids.data(),
                                   nullptr)
                            .is_ok());
            const auto t = truth(q, all);
            for (uint64_t id : ids) hits += std::find(t.begin(), t.end(), id) != t.end() ? 1 : 0;
        }
        r[which] = static_cast<double>(hits) / (kQ * kK);
    }
    std::printf("unfiltered recall@10 at L=32: filter-aware index %.4f, plain index %.4f\n", r[0],
                r[1]);
    EXPECT_GE(r[0], r[1] - 0.02);
}

TEST_F(FilteredSearch, BadFiltersAreRefused) {
    auto idx = open(d().filtered);
    ASSERT_NE(idx, nullptr);
    for (const char* bad : {
             "{",
             "[]",
             R"({"must": {"key": "label"}})",
             R"({"must": [{"key": "price", "match": {"value": "x"}}]})",
             R"({"must": [{"key": "label", "range": {"lt": 5}}]})",
             R"({"must": [{"key": "label", "match": {"value": {"a": 1}}}]})",
             R"({"must": [{"key": "label", "match": {"value": null}}]})",
             R"({"must": [{"key": "weight", "range": {"lt": 5}}]})",  // no label weight=...
             R"({"must": [{"key": "size", "range": {"lt": "5"}}]})",
             R"({"must": [{"key": "size", "range": {"lt": 5, "lte": 6}}]})",
             R"({"must": [{"key": "size", "range": {}}]})",
             R"({"must": [{"key": "size", "range": {"lt": 5}, "match": {"value": 3}}]})",
             R"({"must": [{"key": "label", "match": {"any": []}}]})",
             R"({"maybe": []})",
         }) {
        auto f = idx->parse_filter(bad);
        EXPECT_FALSE(f.is_ok()) << bad;
        if (!f.is_ok()) {
            EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << bad;
        }
    }
    // An index without labels refuses filters instead of ignoring them.
    auto plain = open(d().plain);
    ASSERT_NE(plain, nullptr);
    EXPECT_FALSE(plain->parse_filter(value_filter("must", "L0")).is_ok());
    LabelFilter f;
    f.must.push_back({0});
    SearchParams p;
    p.label_filter = &f;
    std::vector<uint64_t> ids(p.k);
    const Status s = plain->search(d().queries.data(), DType::kF32, kDim, p, ids.data(), nullptr);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
}

TEST(IndexLabels, DecodeChecksThePayload) {
    disk::IndexLabels l;
    l.names = {"a", "b"};
    l.offsets = {0, 1, 3, 3};
    l.labels = {0, 0, 1};
    l.start = {0, 1};
    const std::string good = l.encode();
    auto back = disk::IndexLabels::decode(good, 3, "t");
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->nodes_of(0).size(), 2u);
    EXPECT_EQ(back->resolve("b"), 1u);
    EXPECT_EQ(back->resolve("c"), UINT32_MAX);
    EXPECT_FALSE(disk::IndexLabels::decode(good, 4, "t").is_ok());  // another node count
    EXPECT_FALSE(disk::IndexLabels::decode(good.substr(0, good.size() - 1), 3, "t").is_ok());
    EXPECT_FALSE(disk::IndexLabels::decode(good + "x", 3, "t").is_ok());
    disk::IndexLabels bad_start = l;
    bad_start.start = {2, 1};  // node 2 carries no label
    EXPECT_EQ(disk::IndexLabels::decode(bad_start.encode(), 3, "t").status().code(),
              StatusCode::kCorruption);
    disk::IndexLabels unsorted = l;
    unsorted.labels = {0, 1, 0};
    EXPECT_FALSE(disk::IndexLabels::decode(unsorted.encode(), 3, "t").is_ok());
    disk::IndexLabels twice = l;
    twice.names = {"a", "a"};
    EXPECT_FALSE(disk::IndexLabels::decode(twice.encode(), 3, "t").is_ok());
}

}  // namespace
}  // namespace strata
