// Navigation graph: sampling, build, encoding.
#include "disk/nav_graph.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/rng.hpp"
#include "graph/vamana.hpp"

namespace strata::disk {
namespace {

constexpr size_t kNavHeaderBytes = 16;

void put_u32(std::string& out, uint32_t v) {
    char b[4];
    std::memcpy(b, &v, 4);
    out.append(b, 4);
}

}  // namespace

uint64_t nav_sample_count(uint64_t n, double fraction) {
    if (fraction <= 0 || n == 0) return 0;
    const auto want = static_cast<uint64_t>(std::llround(static_cast<double>(n) * fraction));
    return std::min(n, std::max<uint64_t>(want, std::min<uint64_t>(n, 256)));
}

std::vector<uint32_t> nav_sample(uint64_t n, uint64_t count, uint64_t seed) {
    std::vector<uint32_t> out;
    out.reserve(count);
    Rng rng(seed ^ 0x6e61762e67726170ull);  // "nav.grap"
    // Knuth's Algorithm S: row i is taken with probability (still needed) / (rows left).
    for (uint64_t i = 0; i < n && out.size() < count; ++i) {
        const double left = static_cast<double>(n - i);
        const double need = static_cast<double>(count - out.size());
        if (left * rng.uniform() < need) out.push_back(static_cast<uint32_t>(i));
    }
    return out;
}

Result<NavGraph> build_nav_graph(const graph::VectorStore& store, std::vector<uint32_t> nodes,
                                 uint32_t degree_max, int threads, uint64_t seed) {
    if (nodes.empty() || store.size() != nodes.size()) {
        return Status::invalid_argument("navigation graph: the sample and its vectors disagree");
    }
    NavGraph nav;
    nav.degree_max = std::max<uint32_t>(1, std::min<uint32_t>(degree_max, store.size() - 1));
    nav.nodes = std::move(nodes);
    const uint32_t count = nav.size();
    nav.degrees.assign(count, 0);
    nav.adjacency.assign(size_t{count} * nav.degree_max, 0);
    if (count == 1) return nav;
    if (count == 2) {  // Vamana needs R >= 2; two samples simply point at each other
        nav.degrees = {1, 1};
        nav.adjacency = {1, 0};
        return nav;
    }
    graph::VamanaOptions vo;
    vo.degree_max = nav.degree_max;
    vo.list_size = std::max<uint32_t>(2 * nav.degree_max, 32);
    vo.alpha = 1.2f;
    vo.threads = threads;
    vo.seed = seed;
    STRATA_ASSIGN_OR_RETURN(auto built, graph::build_vamana(store, vo));
    nav.entry = built.medoid;
    for (uint32_t s = 0; s < count; ++s) {
        const auto nb = built.graph.neighbors(s);
        nav.degrees[s] = static_cast<uint32_t>(nb.size());
        std::copy(nb.begin(), nb.end(), nav.adjacency.begin() + size_t{s} * nav.degree_max);
    }
    return nav;
}

std::string NavGraph::encode() const {
    std::string out;
    out.reserve(kNavHeaderBytes + memory_bytes());
    put_u32(out, size());
    put_u32(out, degree_max);
    put_u32(out, entry);
    put_u32(out, 0);
    out.append(reinterpret_cast<const char*>(nodes.data()), nodes.size() * 4);
    out.append(reinterpret_cast<const char*>(degrees.data()), degrees.size() * 4);
    out.append(reinterpret_cast<const char*>(adjacency.data()), adjacency.size() * 4);
    return out;
}

Result<NavGraph> NavGraph::decode(std::string_view payload, uint64_t node_count,
                                  std::string_view source) {
    const auto bad = [&](std::string_view what) {
        return Status::corruption(fmt::format("{}: navigation graph {}", source, what));
    };
    if (payload.size() < kNavHeaderBytes) return bad("is shorter than its 16-byte header");
    uint32_t head[4];
    std::memcpy(head, payload.data(), sizeof head);
    NavGraph nav;
    const uint32_t count = head[0];
    nav.degree_max = head[1];
    nav.entry = head[2];
    if (count == 0 || nav.degree_max == 0) return bad("is empty");
    if (count > node_count)
        return bad(fmt::format("has {} samples for {} nodes", count, node_count));
    const uint64_t expect = kNavHeaderBytes + uint64_t{count} * 4 * (2 + uint64_t{nav.degree_max});
    if (payload.size() != expect) {
        return bad(fmt::format("payload is {} bytes, expected {}", payload.size(), expect));
    }
    if (nav.entry >= count)
        return bad(fmt::format("entry {} is outside its {} samples", nav.entry, count));
    const char* p = payload.data() + kNavHeaderBytes;
    nav.nodes.resize(count);
    std::memcpy(nav.nodes.data(), p, size_t{count} * 4);
    p += size_t{count} * 4;
    nav.degrees.resize(count);
    std::memcpy(nav.degrees.data(), p, size_t{count} * 4);
    p += size_t{count} * 4;
    nav.adjacency.resize(size_t{count} * nav.degree_max);
    std::memcpy(nav.adjacency.data(), p, nav.adjacency.size() * 4);
    for (uint32_t s = 0; s < count; ++s) {
        if (nav.nodes[s] >= node_count || (s > 0 && nav.nodes[s] <= nav.nodes[s - 1])) {
            return bad(fmt::format("sample {} names node {} (out of range or not ascending)", s,
                                   nav.nodes[s]));
        }
        if (nav.degrees[s] > nav.degree_max) {
            return bad(
                fmt::format("sample {} has degree {} > {}", s, nav.degrees[s], nav.degree_max));
        }
        for (uint32_t t : nav.neighbors(s)) {
            if (t >= count)
                return bad(fmt::format("sample {} links to {} beyond the sample", s, t));
        }
    }
    return nav;
}

}  // namespace strata::disk
