// The navigation graph's sampling, encoding and checks, and the sector-packing order.
#include "disk/nav_graph.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <set>

#include <gtest/gtest.h>

#include "disk/sector_packing.hpp"
#include "graph/graph.hpp"

namespace strata::disk {
namespace {

TEST(NavGraph, SampleCountAndSample) {
    EXPECT_EQ(nav_sample_count(0, 0.01), 0u);
    EXPECT_EQ(nav_sample_count(1000000, 0), 0u);
    EXPECT_EQ(nav_sample_count(1000000, 0.01), 10000u);
    EXPECT_EQ(nav_sample_count(60000, 0.01), 600u);
    EXPECT_EQ(nav_sample_count(5000, 0.01), 256u) << "at least 256";
    EXPECT_EQ(nav_sample_count(100, 0.01), 100u) << "all of a small index";
    const auto s = nav_sample(100000, 1000, 7);
    ASSERT_EQ(s.size(), 1000u);
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
    EXPECT_EQ(std::set<uint32_t>(s.begin(), s.end()).size(), 1000u);
    EXPECT_LT(s.back(), 100000u);
    EXPECT_GT(s.back(), 90000u) << "spread over the whole range";
    EXPECT_EQ(s, nav_sample(100000, 1000, 7)) << "deterministic in the seed";
    EXPECT_NE(s, nav_sample(100000, 1000, 8));
    EXPECT_EQ(nav_sample(10, 10, 1).size(), 10u);
}

NavGraph small_nav() {
    NavGraph g;
    g.nodes = {3, 10, 11, 40};
    g.degree_max = 2;
    g.entry = 1;
    g.degrees = {2, 1, 0, 2};
    g.adjacency = {1, 2, 0, 0, 0, 0, 0, 2};
    return g;
}

TEST(NavGraph, EncodeDecodeRoundTrip) {
    const NavGraph g = small_nav();
    auto back = NavGraph::decode(g.encode(), 50, "t");
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->nodes, g.nodes);
    EXPECT_EQ(back->degrees, g.degrees);
    EXPECT_EQ(back->adjacency, g.adjacency);
    EXPECT_EQ(back->entry, 1u);
    EXPECT_EQ(back->neighbors(0).size(), 2u);
    EXPECT_EQ(back->neighbors(2).size(), 0u);
}

TEST(NavGraph, DecodeRefusesDamage) {
    const std::string good = small_nav().encode();
    const auto refused = [](const std::string& bytes, uint64_t n, const char* needle) {
        auto r = NavGraph::decode(bytes, n, "nav.graph");
        ASSERT_FALSE(r.is_ok());
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
        EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
    };
    refused(good.substr(0, 10), 50, "shorter");
    refused(good.substr(0, good.size() - 4), 50, "payload");
    refused(good, 40, "out of range");  // node 40 in an index of 40 nodes
    auto patch = [&](size_t offset, uint32_t v) {
        std::string b = good;
        std::memcpy(b.data() + offset, &v, 4);
        return b;
    };
    refused(patch(8, 9), 50, "entry");
    refused(patch(16 + 4, 2), 50, "ascending");  // nodes {3, 2, ...}
    refused(patch(16 + 16 + 4, 3), 50, "degree");
    refused(patch(16 + 32, 9), 50, "beyond the sample");
}

graph::Graph ring_graph(uint32_t n) {
    graph::Graph g(n, 2);
    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t nb[2] = {(i + 1) % n, (i + n - 1) % n};
        g.set_neighbors(i, nb);
    }
    return g;
}

TEST(SectorPacking, IsAPermutationGroupingNeighbours) {
    const uint32_t n = 103;
    const graph::Graph g = ring_graph(n);
    for (uint32_t nps : {1u, 2u, 3u, 5u}) {
        const auto order = sector_packing_order(g, 50, nps);
        ASSERT_EQ(order.size(), n);
        std::vector<uint32_t> sorted = order;
        std::sort(sorted.begin(), sorted.end());
        std::vector<uint32_t> iota(n);
        std::iota(iota.begin(), iota.end(), 0u);
        EXPECT_EQ(sorted, iota) << "nps " << nps;
        if (nps == 1) {
            EXPECT_EQ(order, iota);
            continue;
        }
        EXPECT_EQ(order[0], 50u) << "the entry opens the first sector";
        // On a ring most sector mates are ring neighbours (within nps - 1 steps).
        uint32_t close = 0, pairs = 0;
        for (uint32_t s = 0; s + nps <= n; s += nps) {
            for (uint32_t i = s + 1; i < s + nps; ++i) {
                const uint32_t d = (order[i] + n - order[s]) % n;
                close += std::min(d, n - d) < nps ? 1 : 0;
                ++pairs;
            }
        }
        EXPECT_GE(close * 10, pairs * 8) << "nps " << nps;
    }
}

TEST(SectorPacking, DisconnectedNodesAreStillPlaced) {
    graph::Graph g(10, 2);  // no edges at all
    const auto order = sector_packing_order(g, 4, 3);
    std::set<uint32_t> s(order.begin(), order.end());
    EXPECT_EQ(order.size(), 10u);
    EXPECT_EQ(s.size(), 10u);
}

}  // namespace
}  // namespace strata::disk
