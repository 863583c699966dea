#include "server/recall_monitor.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <shared_mutex>
#include <thread>

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/rng.hpp"
#include "server/registry.hpp"

namespace strata::server {

RecallMonitor::RecallMonitor(const RecallMonitorOptions& options) : options_(options) {
    thread_ = std::thread([this] { loop(); });
}

RecallMonitor::~RecallMonitor() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

bool RecallMonitor::sample() const {
    if (options_.fraction <= 0) return false;
    if (options_.fraction >= 1) return true;
    thread_local Rng rng(std::hash<std::thread::id>{}(std::this_thread::get_id()) ^ 0x5eed);
    return rng.uniform() < options_.fraction;
}

void RecallMonitor::offer(std::shared_ptr<CollectionEntry> entry, const float* query, uint32_t dim,
                          uint32_t k, const uint64_t* ids) {
    Sample s{std::move(entry), std::vector<float>(query, query + dim), k,
             std::vector<uint64_t>(ids, ids + k)};
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (queue_.size() >= options_.queue) {
            ++dropped_;
            return;
        }
        queue_.push_back(std::move(s));
    }
    cv_.notify_one();
}

void RecallMonitor::forget(const std::string& collection) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.erase(collection);
}

void RecallMonitor::drain() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

double RecallMonitor::recall(const std::string& collection) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = stats_.find(collection);
    if (it == stats_.end() || it->second.window.empty()) return -1;
    return it->second.window_sum / static_cast<double>(it->second.window.size());
}

void RecallMonitor::loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        // One collection per pass: the first queued sample's, up to `batch` of its samples.
        std::vector<Sample> batch;
        CollectionEntry* target = queue_.front().entry.get();
        for (auto it = queue_.begin(); it != queue_.end() && batch.size() < options_.batch;) {
            if (it->entry.get() == target) {
                batch.push_back(std::move(*it));
                it = queue_.erase(it);
            } else {
                ++it;
            }
        }
        busy_ = true;
        lock.unlock();
        const auto t0 = std::chrono::steady_clock::now();
        score(batch);
        const auto spent = std::chrono::steady_clock::now() - t0;
        batch.clear();  // releases the entries outside the lock
        lock.lock();
        last_pass_seconds_ = std::chrono::duration<double>(spent).count();
        busy_ = false;
        if (queue_.empty()) idle_cv_.notify_all();
        if (options_.cpu_fraction < 1) {  // keep to the CPU share; stop wakes it
            const auto rest = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                spent * (1.0 / std::max(options_.cpu_fraction, 0.01) - 1.0));
            cv_.wait_for(lock, rest, [&] { return stop_; });
        }
    }
}

void RecallMonitor::score(std::vector<Sample>& batch) {
    CollectionEntry& e = *batch.front().entry;
    std::shared_lock<std::shared_mutex> use(e.use);
    if (e.closed) return;
    const uint32_t dim = e.col->params().dim;
    uint32_t k = 0;
    for (const auto& s : batch) k = std::max(k, s.k);
    std::vector<float> q;
    q.reserve(batch.size() * dim);
    for (const auto& s : batch) q.insert(q.end(), s.query.begin(), s.query.end());
    std::vector<uint64_t> truth(batch.size() * k);
    Status st =
        e.col->exact_search(q.data(), DType::kF32, dim, batch.size(), k, truth.data(), nullptr);
    if (!st.is_ok()) {
        STRATA_LOG_WARN("recall monitor: exact search on '{}': {}", e.name, st.to_string());
        std::lock_guard<std::mutex> lock(mu_);
        failed_ += batch.size();
        return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    PerCollection& pc = stats_[e.name];
    for (size_t i = 0; i < batch.size(); ++i) {
        const Sample& s = batch[i];
        const uint64_t* t = truth.data() + i * k;
        uint32_t want = 0;
        while (want < s.k && t[want] != std::numeric_limits<uint64_t>::max()) ++want;
        if (want == 0) continue;
        uint32_t hits = 0;
        for (uint32_t j = 0; j < want; ++j) {
            if (std::find(s.ids.begin(), s.ids.end(), t[j]) != s.ids.end()) ++hits;
        }
        const double r = static_cast<double>(hits) / want;
        pc.window.push_back(r);
        pc.window_sum += r;
        if (pc.window.size() > options_.window) {
            pc.window_sum -= pc.window.front();
            pc.window.pop_front();
        }
        ++pc.samples;
        pc.hist.observe(r);
    }
}

void RecallMonitor::write(std::string& out) const {
    std::lock_guard<std::mutex> lock(mu_);
    metric_header(out, "strata_recall", "gauge",
                  "Recall@k of served searches against exact search, mean of the last samples "
                  "(the recall monitor).");
    for (const auto& [c, pc] : stats_) {
        if (pc.window.empty()) continue;
        out += fmt::format("strata_recall{{collection=\"{}\"}} {:.4f}\n", label_value(c),
                           pc.window_sum / static_cast<double>(pc.window.size()));
    }
    metric_header(out, "strata_recall_sample", "histogram", "Recall@k of each sampled search.");
    for (const auto& [c, pc] : stats_) {
        pc.hist.write(out, "strata_recall_sample",
                      fmt::format("collection=\"{}\"", label_value(c)));
    }
    metric_header(out, "strata_recall_monitor_fraction", "gauge",
                  "Fraction of searches the recall monitor samples.");
    out += fmt::format("strata_recall_monitor_fraction {}\n", options_.fraction);
    metric_header(out, "strata_recall_monitor_queue", "gauge", "Samples waiting to be scored.");
    out += fmt::format("strata_recall_monitor_queue {}\n", queue_.size());
    metric_header(out, "strata_recall_monitor_pass_seconds", "gauge",
                  "Duration of the monitor's last exact pass over a collection.");
    out += fmt::format("strata_recall_monitor_pass_seconds {:.3f}\n", last_pass_seconds_);
    metric_header(out, "strata_recall_monitor_dropped_total", "counter",
                  "Samples dropped because the monitor's queue was full.");
    out += fmt::format("strata_recall_monitor_dropped_total {}\n", dropped_);
    metric_header(out, "strata_recall_monitor_failed_total", "counter",
                  "Samples whose exact search failed.");
    out += fmt::format("strata_recall_monitor_failed_total {}\n", failed_);
}

}  // namespace strata::server
