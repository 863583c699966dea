#include "server/metrics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace strata::server {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double v) {
    const size_t b =
        static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    counts_[b].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

void Histogram::write(std::string& out, std::string_view name, std::string_view labels) const {
    const std::string sep = labels.empty() ? "" : ",";
    uint64_t cum = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
        cum += counts_[i].load(std::memory_order_relaxed);
        const std::string le = i < bounds_.size() ? fmt::format("{}", bounds_[i]) : "+Inf";
        out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, le, cum);
    }
    const std::string l = labels.empty() ? "" : fmt::format("{{{}}}", labels);
    out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, l, sum_.load(), name, l, cum);
}

namespace {
constexpr double kBase = 1e-6, kGrowth = 1.04;
}

void LatencySummary::observe(double seconds) {
    int b = seconds <= kBase
                ? 0
                : static_cast<int>(std::ceil(std::log(seconds / kBase) / std::log(kGrowth)));
    b = std::clamp(b, 0, kBuckets - 1);
    counts_[static_cast<size_t>(b)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

double LatencySummary::quantile(double q) const {
    const uint64_t n = count();
    if (n == 0) return 0;
    const auto want = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n)));
    uint64_t cum = 0;
    for (int b = 0; b < kBuckets; ++b) {
        cum += counts_[static_cast<size_t>(b)].load(std::memory_order_relaxed);
        if (cum >= std::max<uint64_t>(want, 1)) return kBase * std::pow(kGrowth, b);
    }
    return kBase * std::pow(kGrowth, kBuckets - 1);
}

double LatencySummary::sum() const {
    return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9;
}

Metrics::Endpoint::Endpoint()
    : latency({0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
               2.5, 5, 10}) {}

Metrics::Metrics()
    : reads_({0, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000}),
      hops_({0, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000}),
      cache_hits_({0, 1, 2, 5, 10, 20, 50, 100, 200, 500}) {}

void Metrics::request(std::string_view endpoint, std::string_view method, int status,
                      double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = endpoints_.find(endpoint);
    if (it == endpoints_.end()) it = endpoints_.try_emplace(std::string(endpoint)).first;
    ++it->second.count[{std::string(method), status}];
    it->second.latency.observe(seconds);
}

void Metrics::search(std::string_view collection, double seconds, uint32_t reads, uint32_t hops,
                     uint32_t cache_hits, uint32_t results, uint32_t k, double top1_score) {
    search_latency_.observe(seconds);
    reads_.observe(reads);
    hops_.observe(hops);
    cache_hits_.observe(cache_hits);
    if (results < k) {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = short_results_.find(collection);
        if (it == short_results_.end()) it = short_results_.emplace(collection, 0).first;
        ++it->second;
    }
    if (results > 0) {
        std::lock_guard<std::mutex> lock(score_mu_);
        constexpr size_t kKeep = 4096;
        if (scores_.size() < kKeep) {
            scores_.push_back(top1_score);
        } else {
            scores_[score_next_] = top1_score;
            score_next_ = (score_next_ + 1) % kKeep;
        }
    }
}

void metric_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string label_value(std::string_view v) {
    std::string s;
    for (char c : v) {
        if (c == '\\' || c == '"') s += '\\';
        if (c == '\n') {
            s += "\\n";
            continue;
        }
        s += c;
    }
    return s;
}

void Metrics::write(std::string& out) const {
    {
        std::lock_guard<std::mutex> lock(mu_);
        metric_header(out, "strata_http_requests_total", "counter",
                      "HTTP requests by endpoint, method and status code.");
        for (const auto& [ep, e] : endpoints_) {
            for (const auto& [key, n] : e.count) {
                out += fmt::format(
                    "strata_http_requests_total{{endpoint=\"{}\",method=\"{}\",code=\"{}\"}} {}\n",
                    label_value(ep), label_value(key.first), key.second, n);
            }
        }
        metric_header(out, "strata_http_errors_total", "counter",
                      "HTTP requests answered 4xx or 5xx, by endpoint and status code.");
        for (const auto& [ep, e] : endpoints_) {
            std::map<int, uint64_t> by_code;
            for (const auto& [key, n] : e.count) {
                if (key.second >= 400) by_code[key.second] += n;
            }
            for (const auto& [code, n] : by_code) {
                out += fmt::format("strata_http_errors_total{{endpoint=\"{}\",code=\"{}\"}} {}\n",
                                   label_value(ep), code, n);
            }
        }
        metric_header(out, "strata_http_request_duration_seconds", "histogram",
                      "Time from a request read to its response queued, by endpoint.");
        for (const auto& [ep, e] : endpoints_) {
            e.latency.write(out, "strata_http_request_duration_seconds",
                            fmt::format("endpoint=\"{}\"", label_value(ep)));
        }
        metric_header(out, "strata_search_short_results_total", "counter",
                      "Searches that returned fewer than k results, by collection.");
        for (const auto& [c, n] : short_results_) {
            out += fmt::format("strata_search_short_results_total{{collection=\"{}\"}} {}\n",
                               label_value(c), n);
        }
    }
    metric_header(out, "strata_http_rejected_total", "counter",
                  "Requests answered 503 because the request queue was full.");
    out += fmt::format("strata_http_rejected_total {}\n", rejected_.load());
    metric_header(out, "strata_http_connections", "gauge", "Open HTTP connections.");
    out += fmt::format("strata_http_connections {}\n", connections_.load());
    metric_header(out, "strata_http_queue_depth", "gauge", "Requests waiting for a worker.");
    out += fmt::format("strata_http_queue_depth {}\n", queue_depth_.load());

    metric_header(out, "strata_search_latency_seconds", "summary",
                  "Search time inside the engine (both tiers), all collections.");
    for (double q : {0.5, 0.95, 0.99, 0.999}) {
        out += fmt::format("strata_search_latency_seconds{{quantile=\"{}\"}} {:.6f}\n", q,
                           search_latency_.quantile(q));
    }
    out += fmt::format(
        "strata_search_latency_seconds_sum {:.6f}\nstrata_search_latency_seconds_count {}\n",
        search_latency_.sum(), search_latency_.count());
    metric_header(out, "strata_search_disk_reads", "histogram", "Disk node reads per search.");
    reads_.write(out, "strata_search_disk_reads", "");
    metric_header(out, "strata_search_hops", "histogram", "Graph nodes expanded per search.");
    hops_.write(out, "strata_search_hops", "");
    metric_header(out, "strata_search_cache_hits", "histogram",
                  "Expansions served by the node cache per search.");
    cache_hits_.write(out, "strata_search_cache_hits", "");

    std::vector<double> s;
    {
        std::lock_guard<std::mutex> lock(score_mu_);
        s = scores_;
    }
    metric_header(out, "strata_search_top1_score", "summary",
                  "Score of the best result over the last 4096 searches.");
    if (!s.empty()) {
        std::sort(s.begin(), s.end());
        for (double q : {0.01, 0.1, 0.5, 0.9, 0.99}) {
            const size_t i =
                std::min(s.size() - 1, static_cast<size_t>(q * static_cast<double>(s.size())));
            out += fmt::format("strata_search_top1_score{{quantile=\"{}\"}} {}\n", q, s[i]);
        }
    }
    double sum = 0;
    for (double v : s) sum += v;
    out += fmt::format("strata_search_top1_score_sum {}\nstrata_search_top1_score_count {}\n", sum,
                       s.size());
}

}  // namespace strata::server
