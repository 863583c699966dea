// Filter-aware Vamana: recall of label-restricted searches, rare labels included, against the
// unfiltered graph with post-filtering at the same list size.
#include "graph/filtered_vamana.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.hpp"
#include "io/synthetic.hpp"

namespace strata::graph {
namespace {

TEST(FilteredVamana, RareLabelsKeepTheirRecall) {
    constexpr uint32_t n = 6000, nq = 200, dim = 16, kLabels = 40, k = 10, L = 64;
    io::SyntheticOptions so;
    so.dim = dim;
    so.seed = 5;
    auto gen = io::SyntheticGenerator::create(so, n);
    ASSERT_TRUE(gen.is_ok());
    std::vector<float> base(size_t{n} * dim), queries(size_t{nq} * dim);
    gen->generate(io::SyntheticStream::kBase, 0, n, base.data());
    gen->generate(io::SyntheticStream::kQueries, 0, nq, queries.data());
    // Two Zipf(1) draws per node (one or two labels), independent of position: the rarest label
    // is on about 70 nodes. Nodes with two labels are where a label-blind prune cuts paths.
    std::vector<double> cdf(kLabels);
    double sum = 0;
    for (uint32_t i = 0; i < kLabels; ++i) cdf[i] = (sum += 1.0 / (i + 1));
    Rng rng(9);
    std::vector<uint64_t> offsets{0};
    std::vector<uint32_t> labels;
    auto draw = [&] {
        const double u = rng.uniform() * sum;
        return static_cast<uint32_t>(std::min<size_t>(
            kLabels - 1, std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()));
    };
    for (uint32_t i = 0; i < n; ++i) {
        uint32_t a = draw(), b = draw();
        if (a > b) std::swap(a, b);
        labels.push_back(a);
        if (b != a) labels.push_back(b);
        offsets.push_back(labels.size());
    }
    auto carries = [&](uint32_t node, uint32_t l) {
        return std::binary_search(labels.begin() + static_cast<ptrdiff_t>(offsets[node]),
                                  labels.begin() + static_cast<ptrdiff_t>(offsets[node + 1]), l);
    };
    const LabelView view{offsets, labels, kLabels, {}};
    auto store = FullPrecisionStore::create(DType::kF32, Metric::kL2, dim, n, base.data(), 0);
    ASSERT_TRUE(store.is_ok());
    VamanaOptions vo;
    vo.degree_max = 32;
    vo.list_size = L;
    auto fv = build_filtered_vamana(**store, view, vo);
    ASSERT_TRUE(fv.is_ok()) << fv.status().to_string();
    for (uint32_t l = 0; l < kLabels; ++l) {
        ASSERT_NE(fv->start[l], UINT32_MAX);
        EXPECT_TRUE(carries(fv->start[l], l)) << "start node of label " << l << " carries it";
    }
    for (uint32_t i = 0; i < n; ++i) EXPECT_LE(fv->graph.degree(i), vo.degree_max);
    auto plain = build_vamana(**store, vo);
    ASSERT_TRUE(plain.is_ok());

    uint64_t hits_f = 0, hits_p = 0, want_total = 0, short_f = 0;
    double rare_f = 0, rare_p = 0;
    int rare = 0;
    std::vector<uint32_t> ids(L);
    std::vector<float> d(L);
    for (uint32_t qi = 0; qi < nq; ++qi) {
        const uint32_t ql = qi % kLabels;
        const float* q = &queries[size_t{qi} * dim];
        std::vector<std::pair<float, uint32_t>> truth;
        for (uint32_t i = 0; i < n; ++i) {
            if (!carries(i, ql)) continue;
            float s = 0;
            for (uint32_t j = 0; j < dim; ++j)
                s += (q[j] - base[size_t{i} * dim + j]) * (q[j] - base[size_t{i} * dim + j]);
            truth.emplace_back(s, i);
        }
        std::sort(truth.begin(), truth.end());
        const size_t want = std::min<size_t>(k, truth.size());
        want_total += want;
        auto count = [&](const uint32_t* got, size_t m) {
            uint64_t h = 0;
            for (size_t t = 0; t < want; ++t) {
                if (std::find(got, got + m, truth[t].second) != got + m) ++h;
            }
            return h;
        };
        GraphSearchOptions so2;
        so2.k = k;
        so2.list_size = L;
        const uint32_t one = ql;
        auto got = search_filtered(fv->graph, **store, view, fv->start, q, {&one, 1}, so2,
                                   ids.data(), d.data());
        ASSERT_TRUE(got.is_ok());
        if (*got < want) ++short_f;
        for (uint32_t t = 0; t < *got; ++t) EXPECT_TRUE(carries(ids[t], ql));
        const uint64_t hf = count(ids.data(), *got);
        hits_f += hf;
        // Post-filtering: the L nearest of the plain graph, then the label.
        GraphSearchOptions po;
        po.k = L;
        po.list_size = L;
        ASSERT_TRUE(search_graph(plain->graph, **store, plain->medoid, q, po, ids.data(), d.data())
                        .is_ok());
        std::vector<uint32_t> kept;
        for (uint32_t t = 0; t < L && kept.size() < k; ++t) {
            if (carries(ids[t], ql)) kept.push_back(ids[t]);
        }
        const uint64_t hp = count(kept.data(), kept.size());
        hits_p += hp;
        if (ql >= 20) {  // the rarer half: each under 0.9% of the nodes
            rare_f += static_cast<double>(hf) / static_cast<double>(want);
            rare_p += static_cast<double>(hp) / static_cast<double>(want);
            ++rare;
        }
    }
    const double rf = static_cast<double>(hits_f) / static_cast<double>(want_total),
                 rp = static_cast<double>(hits_p) / static_cast<double>(want_total);
    std::printf(
        "filtered recall@10 %.4f (rare labels %.4f), post-filtered %.4f (rare %.4f), "
        "short results %llu\n",
        rf, rare_f / rare, rp, rare_p / rare, static_cast<unsigned long long>(short_f));
    EXPECT_GE(rf, 0.95);
    EXPECT_GE(rare_f / rare, 0.95);
    EXPECT_EQ(short_f, 0u);                         // every query gets min(k, matches) results
    EXPECT_GT(rare_f / rare, rare_p / rare + 0.2);  // post-filtering loses the rare labels

    // Unfiltered searches on the filter-aware graph keep the plain graph's recall: the build
    // joins the unfiltered pool with the label-restricted one.
    uint64_t hit_fa = 0, hit_plain = 0;
    const uint32_t L2 = 32;
    std::vector<uint32_t> got(k);
    for (uint32_t qi = 0; qi < nq; ++qi) {
        const float* q = &queries[size_t{qi} * dim];
        std::vector<std::pair<float, uint32_t>> truth;
        for (uint32_t i = 0; i < n; ++i) {
            float s = 0;
            for (uint32_t j = 0; j < dim; ++j)
                s += (q[j] - base[size_t{i} * dim + j]) * (q[j] - base[size_t{i} * dim + j]);
            truth.emplace_back(s, i);
        }
        std::partial_sort(truth.begin(), truth.begin() + k, truth.end());
        GraphSearchOptions uo;
        uo.k = k;
        uo.list_size = L2;
        for (int g = 0; g < 2; ++g) {
            const Graph& graph = g == 0 ? fv->graph : plain->graph;
            const uint32_t entry = g == 0 ? fv->medoid : plain->medoid;
            ASSERT_TRUE(search_graph(graph, **store, entry, q, uo, got.data(), nullptr).is_ok());
            for (uint32_t t = 0; t < k; ++t) {
                if (std::find(got.begin(), got.end(), truth[t].second) != got.end()) {
                    ++(g == 0 ? hit_fa : hit_plain);
                }
            }
        }
    }
    const double ua = static_cast<double>(hit_fa) / (nq * k),
                 up = static_cast<double>(hit_plain) / (nq * k);
    std::printf("unfiltered recall@10 at L=%u: filter-aware graph %.4f, plain graph %.4f\n", L2, ua,
                up);
    EXPECT_GE(ua, up - 0.02);
}

TEST(FilteredVamana, RefusesLabelsThatDoNotFit) {
    std::vector<float> v(8, 1.0f);
    auto store = FullPrecisionStore::create(DType::kF32, Metric::kL2, 2, 4, v.data(), 0);
    ASSERT_TRUE(store.is_ok());
    std::vector<uint64_t> off{0, 1, 2};
    std::vector<uint32_t> lab{0, 1};
    EXPECT_FALSE(build_filtered_vamana(**store, {off, lab, 2, {}}, {}).is_ok());  // 2 rows for 4
    std::vector<uint64_t> off4{0, 1, 2, 3, 4};
    std::vector<uint32_t> bad{0, 5, 1, 1};
    EXPECT_FALSE(build_filtered_vamana(**store, {off4, bad, 2, {}}, {}).is_ok());  // label 5 >= 2
}

}  // namespace
}  // namespace strata::graph
