// The recall monitor: a sampled fraction of live searches is re-run off the request path as an
// exact search over the same collection, and recall@k of what the server answered is exported.
// This is the number other engines hide: it drops when a consolidation, a parameter change or
// a data drift costs accuracy.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/metrics.hpp"

namespace strata::server {

struct CollectionEntry;

struct RecallMonitorOptions {
    /// Fraction of searches re-run exactly, in [0, 1]. Default 0.01.
    double fraction = 0.01;
    /// The gauge is the mean over the last `window` samples of a collection. Default 1000.
    uint32_t window = 1000;
    /// Samples waiting at most; more are dropped (and counted). Default 1024.
    size_t queue = 1024;
    /// Samples scored by one pass over a collection. Default 128.
    uint32_t batch = 128;
    /// Share of one core the monitor may use: after a pass of t seconds it rests
    /// t * (1 / cpu_fraction - 1) seconds (samples queue meanwhile). In (0, 1]. Default 0.2.
    double cpu_fraction = 0.2;
};

class RecallMonitor {
  public:
    explicit RecallMonitor(const RecallMonitorOptions& options);
    ~RecallMonitor();
    RecallMonitor(const RecallMonitor&) = delete;
    RecallMonitor& operator=(const RecallMonitor&) = delete;

    /// Whether the calling search should be sampled (a per-thread random draw).
    bool sample() const;
    /// Queues one served search: the f32 query, k and the ids answered. Never blocks.
    void offer(std::shared_ptr<CollectionEntry> entry, const float* query, uint32_t dim, uint32_t k,
               const uint64_t* ids);
    /// Drops the figures of `collection` (dropped or replaced: its recall starts over).
    void forget(const std::string& collection);
    /// Waits until every queued sample has been scored (tests, shutdown).
    void drain();
    /// Mean recall over the window of `collection`; -1 before any sample.
    double recall(const std::string& collection) const;
    /// Appends the exposition of the gauges, histograms and counters.
    void write(std::string& out) const;
    const RecallMonitorOptions& options() const { return options_; }

  private:
    struct Sample {
        std::shared_ptr<CollectionEntry> entry;
        std::vector<float> query;
        uint32_t k;
        std::vector<uint64_t> ids;
    };
    struct PerCollection {
        std::deque<double> window;
        double window_sum = 0;
        uint64_t samples = 0;
        Histogram hist{{0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 1.0}};
    };
    void loop();
    void score(std::vector<Sample>& batch);

    RecallMonitorOptions options_;
    mutable std::mutex mu_;
    std::condition_variable cv_, idle_cv_;
    std::deque<Sample> queue_;
    bool busy_ = false;
    bool stop_ = false;
    uint64_t dropped_ = 0, failed_ = 0;
    double last_pass_seconds_ = 0;
    std::map<std::string, PerCollection> stats_;
    std::thread thread_;
};

}  // namespace strata::server
