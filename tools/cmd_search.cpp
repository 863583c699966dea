// strata search: k-NN search of a query file against an index on SSD, swept over list sizes,
// with recall (given ground truth), QPS, latency percentiles and per-query I/O.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <strata/collection.hpp>
#include <strata/disk_index.hpp>

#include "commands.hpp"
#include "core/sysinfo.hpp"
#include "io/dataset.hpp"
#include "io/labels.hpp"
#include "search/filter.hpp"

namespace strata::tools {
namespace {

struct SearchArgs {
    std::string index;
    std::string queries;
    std::string gt;
    uint32_t k = 10;
    std::string lists = "10,20,30,50,100,200";
    uint32_t beam_width = 4;
    int threads = 1;
    double cache_mb = 0;
    std::string io = "auto";
    std::string modes = "pipelined";
    bool no_nav = false;
    uint64_t limit = 0;
    std::string out;
    std::string filter;  // label filter of every query (JSON)
    std::string filter_plan = "auto";
    uint64_t scan_limit = 0;
    std::string post_filter;  // labels file: apply --filter to the results only (baseline)
};

Result<FilterPlan> parse_filter_plan(const std::string& name) {
    if (name == "auto") return FilterPlan::kAuto;
    if (name == "graph") return FilterPlan::kGraph;
    if (name == "scan") return FilterPlan::kScan;
    return Status::invalid_argument(
        fmt::format("--filter-plan '{}': expected auto, graph or scan", name));
}

/// Post-filtering (the baseline filtered search is measured against): the label filter is
/// checked on each result's labels, read from a labels file by external id (= row number).
struct PostFilter {
    io::LabelSets labels;
    LabelFilter filter;
    static bool pass(uint64_t id, const void* self) {
        const auto* p = static_cast<const PostFilter*>(self);
        return id < p->labels.rows() && p->filter.matches(p->labels.of(id));
    }
};

Result<std::vector<uint32_t>> parse_list(const std::string& text, const char* flag) {
    std::vector<uint32_t> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v == 0 || v > 100000) {
            return Status::invalid_argument(
                fmt::format("{} '{}': expected comma-separated positive integers", flag, text));
        }
        out.push_back(static_cast<uint32_t>(v));
    }
    if (out.empty()) return Status::invalid_argument(fmt::format("{} is empty", flag));
    return out;
}

struct Row {
    SearchMode mode;
    uint32_t L;
    double recall = -1;
    double qps = 0;
    double mean_us = 0, p50 = 0, p99 = 0, p999 = 0;
    double reads = 0, bytes = 0, hops = 0, cache_hits = 0, nav_hops = 0, io_us = 0, cpu_us = 0;
    double scanned = 0;
    uint64_t short_results = 0;  // queries with fewer results than min(k, true matches)
};

double percentile(std::vector<uint32_t>& v, double p) {
    if (v.empty()) return 0;
    const auto idx = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
    const size_t i = std::min(v.size() - 1, idx);
    std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(i), v.end());
    return v[i];
}

/// recall@k of `ids` (nq rows of k) against `gt`. Filtered ground truth pads rows with fewer
/// than k matches with id 2^32-1: recall counts the true neighbours that exist, and `short_results`
/// (when not null) counts the queries that returned fewer than min(k, matches) results.
double recall_at(const io::GroundTruth& gt, const std::vector<uint64_t>& ids, uint64_t nq,
                 uint32_t k, uint64_t* short_results = nullptr) {
    constexpr uint32_t kPad = std::numeric_limits<uint32_t>::max();
    uint64_t hit = 0, want = 0, shorts = 0;
    for (uint64_t q = 0; q < nq; ++q) {
        const uint32_t* truth = gt.row(static_cast<uint32_t>(q));
        const uint32_t valid = static_cast<uint32_t>(
            std::count_if(truth, truth + k, [](uint32_t t) { return t != kPad; }));
        want += valid;
        uint32_t got = 0;
        for (uint32_t i = 0; i < k; ++i) {
            const uint64_t id = ids[q * k + i];
            if (id == std::numeric_limits<uint64_t>::max()) continue;
            ++got;
            if (std::find(truth, truth + k, id) != truth + k) ++hit;
        }
        if (got < valid) ++shorts;
    }
    if (short_results != nullptr) *short_results = shorts;
    return want == 0 ? 1.0 : static_cast<double>(hit) / static_cast<double>(want);
}

Status write_ids_out(const std::string& path, const std::vector<uint64_t>& ids, uint64_t nq,
                     uint32_t k) {
    io::GroundTruth res;
    res.n = static_cast<uint32_t>(nq);
    res.k = k;
    res.ids.resize(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
        res.ids[i] = ids[i] > std::numeric_limits<uint32_t>::max()
                         ? std::numeric_limits<uint32_t>::max()
                         : static_cast<uint32_t>(ids[i]);
    }
    return io::write_ground_truth(path, res);
}

/// strata search on a collection directory: both tiers, external ids; latency per query as
/// the caller sees it.
int run_collection_search(const SearchArgs& a, const GlobalFlags& global,
                          const std::vector<uint32_t>& lists, const io::Dataset& queries,
                          uint64_t nq, const std::optional<io::GroundTruth>& gt) {
    CollectionOptions o;
    o.background = false;
    o.consolidate_at = 0;
    o.disk.cache_bytes = static_cast<uint64_t>(a.cache_mb * 1024 * 1024);
    o.disk.io = a.io;
    o.disk.use_nav_graph = !a.no_nav;
    o.disk.max_beam_width = std::max<uint32_t>(16, a.beam_width);
    o.disk.max_list_size = std::max({1000u, a.k, *std::max_element(lists.begin(), lists.end())});
    auto c = Collection::open(a.index, o);
    if (!c.is_ok()) return fail("search", c.status());
    const CollectionStats st = (*c)->stats();
    if (queries.dim() != st.dim) {
        return fail("search", Status::invalid_argument(
                                  fmt::format("{} has dimension {}, the collection {} has {}",
                                              a.queries, queries.dim(), a.index, st.dim)));
    }
    if (!global.quiet) {
        fmt::print(stderr,
                   "strata search: collection {} ({} live: generation {} with {} nodes, hot "
                   "tier {})\n",
                   a.index, st.live, st.generation, st.generation_nodes, st.hot);
    }
    if (!global.quiet && !global.json) {
        fmt::print("{:>5} {:>3} {:>8} {:>9} {:>8} {:>8} {:>8} {:>9}\n", "L", "T", "recall", "QPS",
                   "mean_us", "p50_us", "p99_us", "p999_us");
    }
    std::optional<LabelFilter> filter;
    if (!a.filter.empty()) {
        if (!a.post_filter.empty() || a.filter_plan != "auto" || a.scan_limit != 0) {
            return fail("search", Status::invalid_argument(
                                      "--post-filter, --filter-plan and --scan-limit apply to an "
                                      "index directory, not a collection"));
        }
        auto f = (*c)->parse_filter(a.filter);
        if (!f.is_ok()) return fail("search", f.status());
        filter = std::move(*f);
    }
    std::vector<uint64_t> ids(nq * a.k);
    std::vector<uint32_t> lat(nq);
    for (uint32_t L : lists) {
        CollectionSearchParams p;
        p.k = a.k;
        p.list_size = std::max(L, a.k);
        p.beam_width = a.beam_width;
        if (filter) p.label_filter = &*filter;
        std::vector<Status> errors(static_cast<size_t>(a.threads));
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> pool;
        for (int t = 0; t < a.threads; ++t) {
            pool.emplace_back([&, t] {
                for (uint64_t q = static_cast<uint64_t>(t); q < nq;
                     q += static_cast<uint64_t>(a.threads)) {
                    const auto s0 = std::chrono::steady_clock::now();
                    Status s = (*c)->search(queries.row(q), queries.dtype(), queries.dim(), p,
                                            ids.data() + q * a.k, nullptr);
                    lat[q] =
                        static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                  std::chrono::steady_clock::now() - s0)
                                                  .count());
                    if (!s.is_ok()) {
                        errors[static_cast<size_t>(t)] = s;
                        return;
                    }
                }
            });
        }
        for (auto& th : pool) th.join();
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (const Status& s : errors) {
            if (!s.is_ok()) return fail("search", s);
        }
        double sum = 0;
        for (uint64_t q = 0; q < nq; ++q) sum += lat[q];
        const double mean = sum / static_cast<double>(nq);
        const double qps = static_cast<double>(nq) / secs;
        const double recall = gt ? recall_at(*gt, ids, nq, a.k) : -1;
        const double p50 = percentile(lat, 0.5), p99 = percentile(lat, 0.99),
                     p999 = percentile(lat, 0.999);
        const std::string rs =
            recall < 0 ? std::string(global.json ? "null" : "-") : fmt::format("{:.4f}", recall);
        if (global.json) {
            fmt::print(
                "{{\"system\": \"strata-collection\", \"L\": {}, \"beamwidth\": {}, "
                "\"threads\": {}, \"k\": {}, \"recall\": {}, \"qps\": {:.1f}, "
                "\"latency_us\": {{\"mean\": {:.1f}, \"p50\": {:.0f}, \"p99\": {:.0f}, "
                "\"p999\": {:.0f}}}, \"queries\": {}}}\n",
                p.list_size, a.beam_width, a.threads, a.k, rs, qps, mean, p50, p99, p999, nq);
        } else if (!global.quiet) {
            fmt::print("{:>5} {:>3} {:>8} {:>9.1f} {:>8.1f} {:>8.0f} {:>8.0f} {:>9.0f}\n",
                       p.list_size, a.threads, rs, qps, mean, p50, p99, p999);
        }
        std::fflush(stdout);
    }
    if (!a.out.empty()) {
        Status s = write_ids_out(a.out, ids, nq, a.k);
        if (!s.is_ok()) return fail("search", s);
    }
    return 0;
}

int run_search(const SearchArgs& a, const GlobalFlags& global) {
    auto lists = parse_list(a.lists, "--L");
    if (!lists.is_ok()) return fail("search", lists.status());
    std::vector<SearchMode> modes;
    {
        std::stringstream ss(a.modes);
        std::string item;
        while (std::getline(ss, item, ',')) {
            auto m = parse_search_mode(item);
            if (!m.is_ok()) return fail("search", m.status());
            modes.push_back(*m);
        }
    }
    if (!(a.cache_mb >= 0) || !std::isfinite(a.cache_mb)) {
        return fail("search", Status::invalid_argument("--cache-mb must be >= 0"));
    }
    if (a.threads < 1) return fail("search", Status::invalid_argument("--threads must be >= 1"));
    auto queries = io::Dataset::open(a.queries);
    if (!queries.is_ok()) return fail("search", queries.status());
    uint64_t nq = queries->size();
    if (a.limit > 0) nq = std::min(nq, a.limit);
    if (nq == 0) return fail("search", Status::invalid_argument(a.queries + ": no queries"));
    std::optional<io::GroundTruth> gt;
    if (!a.gt.empty()) {
        auto g = io::read_ground_truth(a.gt);
        if (!g.is_ok()) return fail("search", g.status());
        if (g->n < nq) {
            return fail("search",
                        Status::invalid_argument(fmt::format(
                            "{} holds {} queries, fewer than the {} searched", a.gt, g->n, nq)));
        }
        if (g->k < a.k) {
            return fail("search", Status::invalid_argument(fmt::format(
                                      "{} holds {} neighbours per query, fewer than --k {}", a.gt,
                                      g->k, a.k)));
        }
        gt = std::move(*g);
    }
    if (Collection::exists(a.index)) {
        return run_collection_search(a, global, *lists, *queries, nq, gt);
    }
    DiskIndexOptions opt;
    opt.cache_bytes = static_cast<uint64_t>(a.cache_mb * 1024 * 1024);
    opt.io = a.io;
    opt.use_nav_graph = !a.no_nav;
    opt.max_beam_width = std::max<uint32_t>(16, a.beam_width);
    opt.max_list_size = std::max({1000u, a.k, *std::max_element(lists->begin(), lists->end())});
    auto index = DiskIndex::open(a.index, opt);
    if (!index.is_ok()) return fail("search", index.status());
    const DiskIndexInfo& info = (*index)->info();
    if (queries->dim() != info.dim) {
        return fail("search", Status::invalid_argument(
                                  fmt::format("{} has dimension {}, the index {} has {}", a.queries,
                                              queries->dim(), a.index, info.dim)));
    }
    const double mib = 1024.0 * 1024.0;
    if (!global.quiet) {
        fmt::print(
            stderr,
            "strata search: {} ({} x {} {}, {}, R {}, PQ {} B, {} nodes/sector)\n"
            "  io {} (O_DIRECT {}), nav graph {} nodes, cache {} nodes ({:.1f}% of the "
            "index), opened in {:.2f} s\n"
            "  RAM: pq {:.1f} MiB, ids {:.1f} MiB, nav {:.2f} MiB, cache {:.1f} MiB\n",
            a.index, info.node_count, info.dim, dtype_name(info.dtype), metric_name(info.metric),
            info.degree_max, info.pq_bytes, info.nodes_per_sector, info.io_backend,
            info.direct_io ? "on" : "off", info.nav_nodes, info.cache_nodes,
            100.0 * static_cast<double>(info.cache_nodes) / static_cast<double>(info.node_count),
            info.open_seconds, static_cast<double>(info.pq_ram_bytes) / mib,
            static_cast<double>(info.ids_ram_bytes) / mib,
            static_cast<double>(info.nav_ram_bytes) / mib,
            static_cast<double>(info.cache_ram_bytes) / mib);
    }

    // Label filter: in the traversal (the index's labels), or on the results (--post-filter).
    std::optional<LabelFilter> label_filter;
    std::optional<PostFilter> post;
    FilterPlan plan = FilterPlan::kAuto;
    {
        auto pl = parse_filter_plan(a.filter_plan);
        if (!pl.is_ok()) return fail("search", pl.status());
        plan = *pl;
    }
    if (!a.post_filter.empty() && a.filter.empty()) {
        return fail("search", Status::invalid_argument("--post-filter needs --filter"));
    }
    if (!a.filter.empty() && a.post_filter.empty()) {
        auto f = (*index)->parse_filter(a.filter);
        if (!f.is_ok()) return fail("search", f.status());
        label_filter = std::move(*f);
        if (!global.quiet) {
            fmt::print(stderr, "  filter: at most {} matching nodes ({:.3f}%), {} labels\n",
                       (*index)->estimate_matches(*label_filter),
                       100.0 * static_cast<double>((*index)->estimate_matches(*label_filter)) /
                           static_cast<double>(info.node_count),
                       info.label_count);
        }
    } else if (!a.filter.empty()) {
        auto l = io::read_labels(a.post_filter);
        if (!l.is_ok()) return fail("search", l.status());
        post.emplace();
        post->labels = std::move(*l);
        auto f = search::parse_labels_file_filter(a.filter, post->labels);
        if (!f.is_ok()) return fail("search", f.status());
        post->filter = std::move(*f);
    }
    const auto apply_filter = [&](SearchParams& p) {
        if (label_filter) {
            p.label_filter = &*label_filter;
            p.filter_plan = plan;
            p.scan_limit = a.scan_limit;
        } else if (post) {
            p.filter = &PostFilter::pass;
            p.filter_context = &*post;
        }
    };

    const size_t stride = queries->row_stride_bytes();
    std::vector<uint64_t> ids(nq * a.k);
    std::vector<float> dists(nq * a.k);
    std::vector<QueryStats> stats(nq);
    std::vector<uint32_t> lat(nq);
    std::vector<Row> rows;
    // Warm-up: every thread gets its scratch and the first queries' pages are touched.
    {
        SearchParams p;
        p.k = a.k;
        p.list_size = std::max(a.k, (*lists)[0]);
        p.beam_width = a.beam_width;
        apply_filter(p);
        const uint64_t w = std::min<uint64_t>(nq, 64);
        Status st =
            (*index)->search_batch(queries->row(0), queries->dtype(), queries->dim(), w, stride, p,
                                   a.threads, ids.data(), dists.data(), stats.data());
        if (!st.is_ok()) return fail("search", st);
    }
    if (!global.quiet && !global.json) {
        fmt::print(
            "{:>9} {:>5} {:>3} {:>3} {:>8} {:>9} {:>8} {:>8} {:>8} {:>9} {:>7} {:>6} {:>6} "
            "{:>7} {:>7} {:>8} {:>6}\n",
            "mode", "L", "W", "T", "recall", "QPS", "mean_us", "p50_us", "p99_us", "p999_us",
            "reads", "hops", "cache", "io_us", "cpu_us", "scanned", "short");
    }
    for (SearchMode mode : modes) {
        for (uint32_t L : *lists) {
            SearchParams p;
            p.k = a.k;
            p.list_size = std::max(L, a.k);
            p.beam_width = a.beam_width;
            p.mode = mode;
            apply_filter(p);
            const auto t0 = std::chrono::steady_clock::now();
            Status st = (*index)->search_batch(queries->row(0), queries->dtype(), queries->dim(),
                                               nq, stride, p, a.threads, ids.data(), dists.data(),
                                               stats.data());
            const double secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (!st.is_ok()) return fail("search", st);
            Row r{mode, p.list_size};
            r.qps = static_cast<double>(nq) / secs;
            double sum = 0;
            for (uint64_t q = 0; q < nq; ++q) {
                const QueryStats& s = stats[q];
                lat[q] = s.total_us;
                sum += s.total_us;
                r.reads += s.reads;
                r.bytes += static_cast<double>(s.bytes_read);
                r.hops += s.hops;
                r.cache_hits += s.cache_hits;
                r.nav_hops += s.nav_hops;
                r.io_us += s.io_us;
                r.cpu_us += s.cpu_us;
                r.scanned += s.scanned;
            }
            const auto n = static_cast<double>(nq);
            r.mean_us = sum / n;
            for (double* f : {&r.reads, &r.bytes, &r.hops, &r.cache_hits, &r.nav_hops, &r.io_us,
                              &r.cpu_us, &r.scanned}) {
                *f /= n;
            }
            r.p50 = percentile(lat, 0.5);
            r.p99 = percentile(lat, 0.99);
            r.p999 = percentile(lat, 0.999);
            if (gt) r.recall = recall_at(*gt, ids, nq, a.k, &r.short_results);
            if (global.json) {
                fmt::print(
                    "{{\"system\": \"strata\", \"mode\": \"{}\", \"L\": {}, \"beamwidth\": {}, "
                    "\"threads\": {}, \"k\": {}, \"recall\": {}, \"qps\": {:.1f}, "
                    "\"latency_us\": {{\"mean\": {:.1f}, \"p50\": {:.0f}, \"p99\": {:.0f}, "
                    "\"p999\": {:.0f}}}, \"reads_mean\": {:.2f}, \"bytes_mean\": {:.0f}, "
                    "\"hops_mean\": {:.2f}, \"cache_hits_mean\": {:.2f}, \"nav_hops_mean\": "
                    "{:.2f}, \"io_us_mean\": {:.1f}, \"cpu_us_mean\": {:.1f}, \"queries\": {}, "
                    "\"cache_nodes\": {}, \"nav_nodes\": {}, \"io\": \"{}\", "
                    "\"resident_bytes\": {}, \"peak_rss_bytes\": {}, \"scanned_mean\": {:.1f}, "
                    "\"short_results\": {}, \"filter\": \"{}\", \"filter_plan\": \"{}\"}}\n",
                    search_mode_name(mode), r.L, a.beam_width, a.threads, a.k,
                    r.recall < 0 ? std::string("null") : fmt::format("{:.4f}", r.recall), r.qps,
                    r.mean_us, r.p50, r.p99, r.p999, r.reads, r.bytes, r.hops, r.cache_hits,
                    r.nav_hops, r.io_us, r.cpu_us, nq, info.cache_nodes, info.nav_nodes,
                    info.io_backend,
                    info.pq_ram_bytes + info.ids_ram_bytes + info.nav_ram_bytes +
                        info.cache_ram_bytes,
                    peak_rss_bytes(), r.scanned, r.short_results,
                    label_filter ? "index" : (post ? "post" : "none"), a.filter_plan);
            } else if (!global.quiet) {
                fmt::print(
                    "{:>9} {:>5} {:>3} {:>3} {:>8} {:>9.1f} {:>8.1f} {:>8.0f} {:>8.0f} "
                    "{:>9.0f} {:>7.2f} {:>6.1f} {:>6.1f} {:>7.1f} {:>7.1f} {:>8.1f} {:>6}\n",
                    search_mode_name(mode), r.L, a.beam_width, a.threads,
                    r.recall < 0 ? std::string("-") : fmt::format("{:.4f}", r.recall), r.qps,
                    r.mean_us, r.p50, r.p99, r.p999, r.reads, r.hops, r.cache_hits, r.io_us,
                    r.cpu_us, r.scanned, r.short_results);
            }
            std::fflush(stdout);
            rows.push_back(r);
        }
    }
    if (!global.quiet && !global.json) {
        fmt::print("peak RSS {:.1f} MiB\n", static_cast<double>(peak_rss_bytes()) / mib);
    }
    if (!a.out.empty()) {
        io::GroundTruth res;
        res.n = static_cast<uint32_t>(nq);
        res.k = a.k;
        res.ids.resize(ids.size());
        for (size_t i = 0; i < ids.size(); ++i) {
            res.ids[i] = ids[i] > std::numeric_limits<uint32_t>::max()
                             ? std::numeric_limits<uint32_t>::max()
                             : static_cast<uint32_t>(ids[i]);
        }
        Status st = io::write_ground_truth(a.out, res);
        if (!st.is_ok()) return fail("search", st);
    }
    return 0;
}

}  // namespace

void register_search(CLI::App& app, GlobalFlags& global, int& exit_code) {
    auto args = std::make_shared<SearchArgs>();
    CLI::App* cmd = add_command(
        app, "search",
        "Search an index on SSD: for each list size L, recall@k (with --gt), QPS, latency "
        "percentiles and reads per query");
    cmd->add_option("--index", args->index,
                    "Index directory (from strata build) or collection directory (from strata "
                    "ingest: both tiers are searched and ids are the external ids)")
        ->required();
    cmd->add_option("--queries", args->queries,
                    "Query vectors (.fbin/.u8bin/.i8bin/.fvecs/.bvecs/.npy), the index's dtype")
        ->required();
    cmd->add_option("--gt", args->gt, "Ground truth (.ibin/.ivecs, from strata gt) for recall@k");
    cmd->add_option("--k", args->k, "Neighbours per query");
    cmd->add_option("--L", args->lists, "Candidate list sizes to sweep, comma-separated");
    cmd->add_option("--beamwidth", args->beam_width, "Reads in flight per query (W)");
    cmd->add_option("--threads", args->threads, "Search threads (each with its own I/O ring)");
    cmd->add_option("--cache-mb", args->cache_mb,
                    "Node cache in MiB: nodes nearest the entry points, read at open");
    cmd->add_option("--io", args->io, "I/O engine: auto (io_uring, else pread), uring or pread");
    cmd->add_option("--mode", args->modes,
                    "pipelined (next read as soon as a slot frees), rounds (DiskANN's W-wide "
                    "synchronous rounds), or both comma-separated");
    cmd->add_flag("--no-nav", args->no_nav,
                  "Ignore the navigation graph: start every query at the medoid");
    cmd->add_option("--limit", args->limit, "Search only the first N queries (0 = all)");
    cmd->add_option("--out", args->out,
                    "Write the result ids of the last L as .ibin (u32 n, u32 k, int32 ids)");
    cmd->add_option("--filter", args->filter,
                    std::string("Label filter of every query, ") + kFilterSyntax +
                        ". An index must be built with --labels, a collection written with "
                        "labels; recall against a filtered ground truth (strata gt --filter)");
    cmd->add_option("--filter-plan", args->filter_plan,
                    "auto (scan when few nodes can match, else the filtered graph walk), graph "
                    "or scan");
    cmd->add_option("--scan-limit", args->scan_limit,
                    "auto plan: scan when at most this many nodes may match (0 = 50 x L)");
    cmd->add_option("--post-filter", args->post_filter,
                    "Baseline: apply --filter to the results of an unfiltered search, with the "
                    "labels of each result read from this labels file (row = external id)");
    cmd->add_flag("--quiet", global.quiet, "No header or table (JSON lines still print)");
    cmd->add_flag("--json", global.json, "One JSON object per (mode, L) on stdout");
    cmd->callback([args, &global, &exit_code] { exit_code = run_search(*args, global); });
}

}  // namespace strata::tools
