// Server metrics and their Prometheus text exposition (format 0.0.4), written here: counters,
// histograms with fixed buckets, and log-bucketed latency summaries.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace strata::server {

/// A histogram with fixed upper bounds (plus +Inf). Thread-safe and lock-free: it sits on the
/// search path.
class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v);
    /// Appends `name`_bucket/_sum/_count lines with `labels` (`k="v",...` or empty).
    void write(std::string& out, std::string_view name, std::string_view labels) const;

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last = +Inf
    std::atomic<double> sum_{0};
};

/// Latencies in log buckets (about 4% apart, 1 us to 100 s) for quantile estimates. Thread-safe,
/// lock-free.
class LatencySummary {
  public:
    void observe(double seconds);
    /// The q-quantile (upper bucket edge) in seconds; 0 before any observation.
    double quantile(double q) const;
    uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    double sum() const;

  private:
    static constexpr int kBuckets = 480;
    std::array<std::atomic<uint64_t>, kBuckets> counts_{};
    std::atomic<uint64_t> count_{0};
    std::atomic<uint64_t> sum_ns_{0};
};

/// The process-wide request and search metrics. Collection gauges are read at scrape time.
class Metrics {
  public:
    Metrics();
    void request(std::string_view endpoint, std::string_view method, int status, double seconds);
    void rejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }
    void connection(int delta) { connections_.fetch_add(delta, std::memory_order_relaxed); }
    void queue_depth(int64_t depth) { queue_depth_.store(depth, std::memory_order_relaxed); }
    /// One search: wall time, the disk search's reads, hops and cache hits, results vs k.
    void search(std::string_view collection, double seconds, uint32_t reads, uint32_t hops,
                uint32_t cache_hits, uint32_t results, uint32_t k, double top1_score);
    /// Appends the exposition of everything above.
    void write(std::string& out) const;

  private:
    struct Endpoint {
        std::map<std::pair<std::string, int>, uint64_t> count;  // (method, status)
        Histogram latency;
        Endpoint();
    };
    mutable std::mutex mu_;
    std::map<std::string, Endpoint, std::less<>> endpoints_;
    std::map<std::string, uint64_t, std::less<>> short_results_;  // per collection
    std::atomic<uint64_t> rejected_{0};
    std::atomic<int64_t> connections_{0};
    std::atomic<int64_t> queue_depth_{0};
    LatencySummary search_latency_;
    Histogram reads_, hops_, cache_hits_;
    // Top-1 scores of recent searches, for their distribution.
    mutable std::mutex score_mu_;
    std::vector<double> scores_;
    size_t score_next_ = 0;
};

/// Appends `# HELP` and `# TYPE` lines.
void metric_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help);
/// Escapes a label value.
std::string label_value(std::string_view v);

}  // namespace strata::server
