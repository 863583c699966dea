// Collection::Impl, shared by the files of the collection module (collection.cpp: open, writes,
// searches, consolidation; scan.cpp: exact search and snapshots). Not a public header.
#pragma once

#include <strata/collection.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "collection/dir_lock.hpp"
#include "collection/manifest.hpp"
#include "collection/tiers.hpp"
#include "collection/wal.hpp"
#include "core/log.hpp"
#include "search/field_labels.hpp"
#include "search/filter.hpp"

namespace strata {
namespace collection {
inline constexpr uint64_t kNoLsn = std::numeric_limits<uint64_t>::max();
}  // namespace collection

namespace collection {

/// The label names of a collection and their ids, append-only (ids are never reused, so a
/// generation's label ids and the hot tiers' agree). Thread-safe.
class LabelDict {
  public:
    static constexpr uint32_t kUnknown = UINT32_MAX;
    uint32_t intern(std::string_view name) {
        std::lock_guard<std::mutex> lock(mu_);
        const auto it = ids_.find(std::string(name));
        if (it != ids_.end()) return it->second;
        const auto id = static_cast<uint32_t>(names_.size());
        names_.emplace_back(name);
        ids_.emplace(names_.back(), id);
        fields_.add(id, name);
        return id;
    }
    /// Parses a filter against the labels so far (a field or label never written matches
    /// nothing).
    Result<LabelFilter> parse_filter(std::string_view json) const {
        std::lock_guard<std::mutex> lock(mu_);
        return search::parse_label_filter(
            json,
            [this](std::string_view name) {
                const auto it = ids_.find(std::string(name));
                return it == ids_.end() ? kUnknown : it->second;
            },
            &fields_, search::UnknownField::kMatchesNothing);
    }
    /// The labels "field=<number>" with the number in `range`.
    std::vector<uint32_t> in_range(std::string_view field, const NumericRange& range) const {
        std::vector<uint32_t> out;
        std::lock_guard<std::mutex> lock(mu_);
        fields_.in_range(field, range, out);
        return out;
    }
    uint32_t find(std::string_view name) const {
        std::lock_guard<std::mutex> lock(mu_);
        const auto it = ids_.find(std::string(name));
        return it == ids_.end() ? kUnknown : it->second;
    }
    std::vector<std::string> names() const {
        std::lock_guard<std::mutex> lock(mu_);
        return names_;
    }
    size_t size() const {
        std::lock_guard<std::mutex> lock(mu_);
        return names_.size();
    }

  private:
    mutable std::mutex mu_;
    std::vector<std::string> names_;
    std::unordered_map<std::string, uint32_t> ids_;
    search::FieldLabels fields_;
};

}  // namespace collection

struct Collection::Impl {
    collection::DirLock dir_lock;  // first: released after everything else is closed
    std::string dir;
    collection::LabelDict labels;
    CollectionOptions options;
    CollectionParams params;  // fixed at create; read without locks (manifest is not)
    size_t row_bytes = 0;
    std::unique_ptr<collection::Wal> wal;

    // The searchable view; changed with both apply_mu and view_mu held.
    mutable std::mutex view_mu;
    std::shared_ptr<collection::Generation> gen;
    std::vector<std::shared_ptr<collection::HotTier>> frozen;
    std::shared_ptr<collection::HotTier> active;

    // Write sequencing and the id map.
    mutable std::mutex apply_mu;
    std::condition_variable apply_cv;
    collection::Manifest manifest;  // as committed
    uint64_t next_apply = 1;
    Status failed;  // fail-stop after a log error
    struct Loc {
        collection::HotTier* tier;
        uint32_t slot;
    };
    std::unordered_map<uint64_t, Loc> hot_loc;
    uint64_t next_id = 0;
    bool track_lsn = false;  // since the last freeze
    uint64_t min_lsn_since_freeze = collection::kNoLsn;
    bool track_touched = false;  // since the consolidation's snapshot
    std::vector<uint64_t> touched;
    uint64_t tier_seed = 1;
    uint64_t last_generation = 0;  // numbers are never reused within a process

    // Consolidation.
    std::mutex consolidate_mu;
    mutable std::mutex commit_mu;  // a generation swap vs a snapshot
    std::thread worker;
    mutable std::mutex worker_mu;
    std::condition_variable worker_cv;
    bool stop = false;
    std::atomic<bool> consolidating{false};
    std::atomic<uint64_t> consolidations{0};
    std::string last_error;  // worker_mu

    Result<std::shared_ptr<collection::HotTier>> new_tier() {
        STRATA_ASSIGN_OR_RETURN(auto t, collection::HotTier::create(params, options, tier_seed++));
        return std::shared_ptr<collection::HotTier>(std::move(t));
    }

    // ---- applying records (apply_mu held) ------------------------------------------------

    void kill_existing(uint64_t id) {
        auto it = hot_loc.find(id);
        if (it != hot_loc.end()) {
            it->second.tier->set_live(it->second.slot, false);
            hot_loc.erase(it);
            return;
        }
        if (gen) {
            const int64_t node = gen->node_of(id);
            if (node >= 0) gen->kill(static_cast<uint64_t>(node));
        }
    }

    void apply_upsert(collection::HotTier* tier, const uint64_t* ids, const uint32_t* slots,
                      uint64_t n, uint64_t lsn) {
        for (uint64_t i = 0; i < n; ++i) {
            kill_existing(ids[i]);
            tier->set_live(slots[i], true);
            hot_loc[ids[i]] = {tier, slots[i]};
            next_id = std::max(next_id, ids[i] + 1);
            if (track_touched) touched.push_back(ids[i]);
        }
        if (track_lsn) min_lsn_since_freeze = std::min(min_lsn_since_freeze, lsn);
    }

    void apply_delete(const uint64_t* ids, uint64_t n, uint64_t lsn) {
        for (uint64_t i = 0; i < n; ++i) {
            kill_existing(ids[i]);
            next_id = std::max(next_id, ids[i] + 1);
            if (track_touched) touched.push_back(ids[i]);
        }
        if (track_lsn) min_lsn_since_freeze = std::min(min_lsn_since_freeze, lsn);
    }

    /// Waits for `lsn`'s turn and runs `fn` under apply_mu.
    template <typename Fn>
    Status publish(uint64_t lsn, Fn&& fn) {
        std::unique_lock<std::mutex> lock(apply_mu);
        apply_cv.wait(lock, [&] { return next_apply == lsn || !failed.is_ok(); });
        if (!failed.is_ok()) return failed;
        fn();
        ++next_apply;
        apply_cv.notify_all();
        return Status::ok();
    }

    void fail(const Status& s) {
        std::lock_guard<std::mutex> lock(apply_mu);
        if (failed.is_ok()) {
            failed = s;
            detail::log(LogLevel::kError, "collection {}: writes stopped: {}", dir, s.to_string());
        }
        apply_cv.notify_all();
    }

    std::shared_ptr<collection::HotTier> acquire_active() {
        std::lock_guard<std::mutex> lock(view_mu);
        active->pending.fetch_add(1);
        return active;
    }

    void release(collection::HotTier* t) {
        std::lock_guard<std::mutex> lock(apply_mu);
        t->pending.fetch_sub(1);
        apply_cv.notify_all();
    }

    void maybe_wake_worker() {
        if (!options.background || options.consolidate_at == 0) return;
        uint64_t hot = 0;
        {
            std::lock_guard<std::mutex> lock(view_mu);
            hot = active->size();
        }
        if (hot >= options.consolidate_at) worker_cv.notify_one();
    }

    /// The ids of a row's label names, interned, ascending, without repeats.
    std::vector<uint32_t> intern_row(std::span<const std::string_view> names) {
        std::vector<uint32_t> out;
        out.reserve(names.size());
        for (std::string_view name : names) out.push_back(labels.intern(name));
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }
    /// Applies one log record (open).
    Status replay(uint64_t lsn, std::string_view payload);

    // ---- searches (collection.cpp, scan.cpp) ------------------------------------------------

    /// Collection::search after its argument checks (search_batch checks once).
    Status search(const void* query, DType dtype, uint32_t dim, const CollectionSearchParams& p,
                  uint64_t* ids, float* dists, QueryStats* stats) const;
    /// Which rows an exact pass keeps (null members: every live row).
    struct ExactFilter {
        const collection::IdMatch* ids = nullptr;
        const LabelFilter* labels = nullptr;
    };
    /// The exact k nearest kept live rows to each of `nq` stored-form queries, by one
    /// sequential pass over the generation and the hot tiers (scan.cpp).
    Status exact_scan(const uint8_t* queries, uint64_t nq, uint32_t k, const ExactFilter& filter,
                      uint64_t* ids, float* dists) const;
    /// The exact k nearest of the live rows listed by `match` (its allow-list) that `match` and
    /// `label_filter` keep, to one stored-form query: each row's vector fetched and ranked.
    Status exact_allowed(const uint8_t* query, uint32_t k, const collection::IdMatch& match,
                         const LabelFilter* label_filter, uint64_t* ids, float* dists) const;

    // ---- consolidation ------------------------------------------------------------------

    Result<ConsolidationReport> consolidate_once();
    /// Makes `next_gen` (null: none, everything was deleted) the committed generation: masks the
    /// ids touched since the snapshot, replaces the MANIFEST, swaps the view, truncates the log.
    Status commit(std::shared_ptr<collection::Generation> next_gen, double recall);
    void worker_loop();
};

}  // namespace strata
