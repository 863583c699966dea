// Collection: write path (validate, log, add to the hot tier, publish in log order), search
// across tiers, recovery, and consolidation with an atomic MANIFEST swap.
//
// Invariants (all under apply_mu):
//  - records are published in LSN order; a published upsert is live in exactly one place (a hot
//    tier slot listed in hot_loc, or a generation node not marked dead);
//  - every record with LSN < manifest.wal_from_lsn is reflected in the generation on disk, so
//    replaying the log from there over it rebuilds the state (replay is idempotent per id).
#include <strata/collection.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "collection/collection_impl.hpp"
#include "collection/manifest.hpp"
#include "collection/merge.hpp"
#include "collection/rows.hpp"
#include "collection/tiers.hpp"
#include "collection/wal.hpp"
#include "core/log.hpp"
#include "core/sysinfo.hpp"
#include "disk/build_input.hpp"
#include "disk/dir_util.hpp"
#include "io/dataset.hpp"
#include "io/file_util.hpp"
#include "search/filter.hpp"

namespace strata {

using collection::Generation;
using collection::HotTier;
using collection::kNoLsn;
using collection::Manifest;

namespace {

constexpr uint8_t kUpsert = 1, kDelete = 2, kUpsertLabeled = 3;

/// Log record: u8 type | 7 zero bytes | u64 n | n u64 ids | (upserts) n stored rows | (labelled
/// upserts) per row: u16 label count, then per label u16 length and the name's bytes.
std::string encode_record(uint8_t type, const uint64_t* ids, uint64_t n, const uint8_t* rows,
                          size_t rows_bytes) {
    std::string out(16 + n * 8 + rows_bytes, '\0');
    out[0] = static_cast<char>(type);
    std::memcpy(out.data() + 8, &n, 8);
    std::memcpy(out.data() + 16, ids, n * 8);
    if (rows_bytes > 0) std::memcpy(out.data() + 16 + n * 8, rows, rows_bytes);
    return out;
}

void append_labels(std::string& out, std::span<const std::vector<std::string>> labels) {
    for (const auto& row : labels) {
        const auto count = static_cast<uint16_t>(row.size());
        out.append(reinterpret_cast<const char*>(&count), 2);
        for (const auto& name : row) {
            const auto len = static_cast<uint16_t>(name.size());
            out.append(reinterpret_cast<const char*>(&len), 2);
            out += name;
        }
    }
}

struct Record {
    uint8_t type = 0;
    uint64_t n = 0;
    std::vector<uint64_t> ids;  // copied out: the payload is not 8-byte aligned
    const uint8_t* rows = nullptr;
    std::vector<std::vector<std::string_view>> labels;  // labelled upserts: per row
};

Status decode_record(std::string_view payload, size_t row_bytes, uint64_t lsn, Record& r) {
    if (payload.size() < 16) return Status::corruption(fmt::format("log record {} too short", lsn));
    r.type = static_cast<uint8_t>(payload[0]);
    std::memcpy(&r.n, payload.data() + 8, 8);
    const bool upsert = r.type == kUpsert || r.type == kUpsertLabeled;
    const size_t per = upsert ? 8 + row_bytes : 8;
    const auto foreign = [&] {
        return Status::corruption(
            fmt::format("log record {}: not a record of this collection (type {}, {} bytes)", lsn,
                        r.type, payload.size()));
    };
    if ((!upsert && r.type != kDelete) || r.n > (payload.size() - 16) / per) return foreign();
    const size_t fixed = 16 + r.n * per;
    if (r.type != kUpsertLabeled ? payload.size() != fixed : payload.size() < fixed) {
        return foreign();
    }
    r.ids.resize(r.n);
    std::memcpy(r.ids.data(), payload.data() + 16, r.n * 8);
    r.rows = reinterpret_cast<const uint8_t*>(payload.data()) + 16 + r.n * 8;
    if (r.type == kUpsertLabeled) {
        r.labels.assign(r.n, {});
        size_t at = fixed;
        const auto u16 = [&](uint16_t& v) {
            if (payload.size() - at < 2) return false;
            std::memcpy(&v, payload.data() + at, 2);
            at += 2;
            return true;
        };
        for (uint64_t i = 0; i < r.n; ++i) {
            uint16_t count = 0;
            if (!u16(count)) return foreign();
            for (uint16_t j = 0; j < count; ++j) {
                uint16_t len = 0;
                if (!u16(len) || len == 0 || payload.size() - at < len) return foreign();
                r.labels[i].push_back(payload.substr(at, len));
                at += len;
            }
        }
        if (at != payload.size()) return foreign();
    }
    return Status::ok();
}

}  // namespace

Status CollectionParams::validate() const {
    if (dim == 0 || dim > kMaxDimension) {
        return Status::invalid_argument(
            fmt::format("dimension {} is not in [1, {}]", dim, kMaxDimension));
    }
    if (metric == Metric::kCosine && dtype != DType::kF32) {
        return Status::invalid_argument("cosine collections take f32 vectors");
    }
    return collection::index_build_options(*this).validate();
}

Status CollectionOptions::validate() const {
    if (wal_interval_ms < 1 || wal_interval_ms > 60000) {
        return Status::invalid_argument("wal interval must be in [1, 60000] ms");
    }
    if (!(recall_margin >= 0 && recall_margin <= 1)) {
        return Status::invalid_argument("recall margin must be in [0, 1]");
    }
    if (validation_queries < 10 || validation_queries > 10000) {
        return Status::invalid_argument("validation queries must be in [10, 10000]");
    }
    if (!(consolidation_memory_gb >= 0) || !std::isfinite(consolidation_memory_gb)) {
        return Status::invalid_argument("consolidation memory budget must be a finite number >= 0");
    }
    if (!(consolidation_read_mib_s >= 0) || !std::isfinite(consolidation_read_mib_s)) {
        return Status::invalid_argument("consolidation read rate must be a finite number >= 0");
    }
    if (hot_m < 2 || hot_m > 128) return Status::invalid_argument("hot_m must be in [2, 128]");
    if (hot_ef_construction < 1 || hot_ef_construction > 10000) {
        return Status::invalid_argument("hot_ef_construction must be in [1, 10000]");
    }
    return disk.validate();
}

Status Collection::Impl::replay(uint64_t lsn, std::string_view payload) {
    Record r;
    STRATA_RETURN_IF_ERROR(decode_record(payload, row_bytes, lsn, r));
    if (r.type == kDelete) {
        apply_delete(r.ids.data(), r.n, lsn);
        return Status::ok();
    }
    std::vector<uint32_t> slots(r.n);
    for (uint64_t i = 0; i < r.n; ++i) {
        std::vector<uint32_t> ls;
        if (!r.labels.empty()) ls = intern_row(r.labels[i]);
        auto slot = active->add(r.ids[i], r.rows + i * row_bytes, std::move(ls));
        if (!slot.is_ok()) {
            return Status(slot.status().code(),
                          fmt::format("replaying log record {}: {}", lsn, slot.status().message()));
        }
        slots[i] = *slot;
    }
    apply_upsert(active.get(), r.ids.data(), slots.data(), r.n, lsn);
    return Status::ok();
}

// -------------------------------------------------------------------------------------------

Collection::Collection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Collection::~Collection() {
    if (!impl_) return;
    {
        std::lock_guard<std::mutex> lock(impl_->worker_mu);
        impl_->stop = true;
    }
    impl_->worker_cv.notify_all();
    if (impl_->worker.joinable()) impl_->worker.join();
    if (impl_->wal) {
        Status s = impl_->wal->sync();
        if (!s.is_ok())
            detail::log(LogLevel::kWarn, "collection {}: final log sync: {}", impl_->dir,
                        s.to_string());
    }
}

bool Collection::exists(const std::string& dir) {
    struct stat st {};
    return ::stat(disk::detail::join(dir, collection::kManifestName).c_str(), &st) == 0;
}

Result<std::unique_ptr<Collection>> Collection::create(const std::string& dir,
                                                       const CollectionParams& params,
                                                       const CollectionOptions& options) {
    STRATA_RETURN_IF_ERROR(params.validate());
    STRATA_RETURN_IF_ERROR(options.validate());
    if (::mkdir(dir.c_str(), 0755) != 0) {
        if (errno == EEXIST) return Status::already_exists(fmt::format("{} already exists", dir));
        return Status::io_error(fmt::format("cannot create {}", dir), errno);
    }
    Manifest m;
    m.params = params;
    Status s = ::mkdir(disk::detail::join(dir, "wal").c_str(), 0755) == 0
                   ? collection::write_manifest(dir, m)
                   : Status::io_error(fmt::format("cannot create {}/wal", dir), errno);
    if (s.is_ok()) s = io::fsync_parent_dir(dir);
    if (!s.is_ok()) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        return s;
    }
    return open(dir, options);
}

Result<std::unique_ptr<Collection>> Collection::open(const std::string& dir,
                                                     const CollectionOptions& options) {
    STRATA_RETURN_IF_ERROR(options.validate());
    if (!exists(dir)) {
        return Status::not_found(fmt::format("{} is not a collection (no MANIFEST)", dir));
    }
    // Before anything is read or cleared: another handle may be consolidating.
    STRATA_ASSIGN_OR_RETURN(auto lock, collection::DirLock::acquire(dir, options.lock_timeout_ms));
    STRATA_ASSIGN_OR_RETURN(Manifest m, collection::read_manifest(dir));
    auto impl = std::make_unique<Impl>();
    impl->dir_lock = std::move(lock);
    impl->dir = dir;
    impl->options = options;
    impl->manifest = m;
    impl->params = m.params;
    impl->row_bytes = collection::stored_row_bytes(m.params);
    impl->next_id = m.next_id;
    impl->last_generation = m.generation;
    // Leftovers of an interrupted consolidation: anything but MANIFEST, wal/ and the generation.
    const std::string keep_gen = m.generation ? collection::generation_dir_name(m.generation) : "";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name == collection::kManifestName || name == "wal" || name == keep_gen) continue;
        if (name.rfind("gen-", 0) == 0 || name.rfind("consolidate.tmp", 0) == 0 ||
            name.rfind("MANIFEST.tmp", 0) == 0 || disk::detail::is_temp_dir_name(name)) {
            detail::log(LogLevel::kInfo, "collection {}: removing leftover {}", dir, name);
            std::filesystem::remove_all(entry.path(), ec);
        }
    }
    if (m.generation != 0) {
        STRATA_ASSIGN_OR_RETURN(impl->gen,
                                Generation::open(collection::generation_path(dir, m.generation),
                                                 m.generation, options.disk));
    }
    if (impl->gen) {
        // The label ids of the generation are the collection's: its names come first.
        const DiskIndex& index = impl->gen->index();
        for (uint32_t l = 0; l < index.info().label_count; ++l) {
            if (impl->labels.intern(index.label_name(l)) != l) {
                return Status::corruption(
                    fmt::format("{}: label '{}' appears twice", dir, index.label_name(l)));
            }
        }
    }
    STRATA_ASSIGN_OR_RETURN(impl->active, impl->new_tier());
    collection::WalOptions wo;
    wo.sync = options.wal_sync == CollectionOptions::Sync::kAlways
                  ? collection::WalOptions::Sync::kAlways
                  : collection::WalOptions::Sync::kInterval;
    wo.interval_ms = options.wal_interval_ms;
    Impl* raw = impl.get();
    STRATA_ASSIGN_OR_RETURN(
        impl->wal, collection::Wal::open(disk::detail::join(dir, "wal"), wo, m.wal_from_lsn,
                                         [raw](uint64_t lsn, std::string_view payload) {
                                             return raw->replay(lsn, payload);
                                         }));
    impl->next_apply = impl->wal->next_lsn();
    std::unique_ptr<Collection> c(new Collection(std::move(impl)));
    if (options.background) c->impl_->worker = std::thread([raw] { raw->worker_loop(); });
    return c;
}

Status Collection::upsert(const uint64_t* ids, uint64_t n, const void* vectors, DType dtype) {
    return upsert(ids, n, vectors, dtype, {});
}

uint32_t Collection::label_id(std::string_view name) const { return impl_->labels.find(name); }

std::vector<uint32_t> Collection::labels_in_range(std::string_view field,
                                                  const NumericRange& range) const {
    return impl_->labels.in_range(field, range);
}

Result<LabelFilter> Collection::parse_filter(std::string_view json) const {
    try {
        return impl_->labels.parse_filter(json);
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("out of memory parsing a filter");
    }
}

Status Collection::upsert(const uint64_t* ids, uint64_t n, const void* vectors, DType dtype,
                          std::span<const std::vector<std::string>> labels) {
    Impl& m = *impl_;
    if (n == 0) return Status::ok();
    const bool labelled = !labels.empty();
    if (labelled) STRATA_RETURN_IF_ERROR(collection::check_label_rows(labels, n));
    for (uint64_t i = 0; i < n; ++i) {
        if (ids[i] == std::numeric_limits<uint64_t>::max()) {  // marks "no result" in searches
            return Status::invalid_argument(
                fmt::format("row {}: id 18446744073709551615 is reserved", i));
        }
    }
    if (n > collection::Wal::kMaxPayloadBytes / (8 + m.row_bytes)) {
        return Status::invalid_argument(
            fmt::format("batch of {} rows is too large for one log record", n));
    }
    STRATA_RETURN_IF_ERROR(collection::check_unique_ids(ids, n));
    std::vector<uint8_t> rows;
    STRATA_RETURN_IF_ERROR(collection::to_stored(m.params, vectors, dtype, n, rows));
    std::string payload =
        encode_record(labelled ? kUpsertLabeled : kUpsert, ids, n, rows.data(), rows.size());
    if (labelled) {
        append_labels(payload, labels);
        if (payload.size() > collection::Wal::kMaxPayloadBytes) {
            return Status::invalid_argument(
                fmt::format("batch of {} rows is too large for one log record", n));
        }
    }
    {
        std::lock_guard<std::mutex> lock(m.apply_mu);
        if (!m.failed.is_ok()) return m.failed;
    }
    std::shared_ptr<HotTier> tier = m.acquire_active();
    auto lsn = m.wal->append(payload);
    if (!lsn.is_ok()) {
        m.fail(lsn.status());
        m.release(tier.get());
        return lsn.status();
    }
    std::vector<uint32_t> slots(n);
    Status added;
    for (uint64_t i = 0; i < n && added.is_ok(); ++i) {
        std::vector<uint32_t> ls;
        if (labelled) {
            std::vector<std::string_view> names(labels[i].begin(), labels[i].end());
            ls = m.intern_row(names);
        }
        auto slot = tier->add(ids[i], rows.data() + i * m.row_bytes, std::move(ls));
        if (slot.is_ok()) {
            slots[i] = *slot;
        } else {
            added = slot.status();
        }
    }
    Status s = m.publish(*lsn, [&] {
        if (added.is_ok()) {
            m.apply_upsert(tier.get(), ids, slots.data(), n, *lsn);
        } else {
            // Logged but not applied: stop taking writes; a reopen replays the record.
            m.failed = added;
            detail::log(LogLevel::kError, "collection {}: writes stopped: {}", m.dir,
                        added.to_string());
        }
    });
    m.release(tier.get());
    if (s.is_ok() && !added.is_ok()) s = added;
    if (s.is_ok()) m.maybe_wake_worker();
    return s;
}

Status Collection::remove(const uint64_t* ids, uint64_t n) {
    Impl& m = *impl_;
    if (n == 0) return Status::ok();
    if (n > collection::Wal::kMaxPayloadBytes / 8) {
        return Status::invalid_argument(fmt::format("batch of {} ids is too large", n));
    }
    const std::string payload = encode_record(kDelete, ids, n, nullptr, 0);
    {
        std::lock_guard<std::mutex> lock(m.apply_mu);
        if (!m.failed.is_ok()) return m.failed;
    }
    auto lsn = m.wal->append(payload);
    if (!lsn.is_ok()) {
        m.fail(lsn.status());
        return lsn.status();
    }
    return m.publish(*lsn, [&] { m.apply_delete(ids, n, *lsn); });
}

namespace {

/// InvalidArgument unless the search's arguments fit the collection.
Status check_search(const CollectionParams& p, uint32_t dim, const CollectionSearchParams& params) {
    if (dim != p.dim) {
        return Status::invalid_argument(
            fmt::format("query dimension {} does not match the collection's {}", dim, p.dim));
    }
    if (params.k == 0 || params.k > 1000) return Status::invalid_argument("k must be in [1, 1000]");
    if (params.use_allow_ids) {
        const auto a = params.allow_ids;
        for (size_t i = 1; i < a.size(); ++i) {
            if (a[i] <= a[i - 1]) {
                return Status::invalid_argument(fmt::format(
                    "allow-list is not ascending without repeats at position {} (id {} after {})",
                    i, a[i], a[i - 1]));
            }
        }
    }
    return Status::ok();
}

}  // namespace

Status Collection::search(const void* query, DType dtype, uint32_t dim,
                          const CollectionSearchParams& params, uint64_t* ids, float* dists,
                          QueryStats* stats) const {
    STRATA_RETURN_IF_ERROR(check_search(impl_->params, dim, params));
    return impl_->search(query, dtype, dim, params, ids, dists, stats);
}

Status Collection::Impl::search(const void* query, DType dtype, uint32_t dim,
                                const CollectionSearchParams& sp, uint64_t* ids, float* dists,
                                QueryStats* stats) const {
    const Impl& m = *this;
    const CollectionParams& p = m.params;
    // Per-thread scratch: no allocation once a thread has run a query of this k.
    thread_local struct {
        std::vector<uint8_t> q;
        std::vector<std::pair<float, uint64_t>> all;
        std::vector<uint64_t> tid;
        std::vector<float> td;
        std::vector<std::shared_ptr<HotTier>> tiers;
    } scratch;
    auto& [q, all, tid, td, tiers] = scratch;
    q.clear();
    all.clear();
    STRATA_RETURN_IF_ERROR(collection::to_stored(p, query, dtype, 1, q, "query"));
    const collection::IdMatch id_match = collection::IdMatch::of(sp);
    if (id_match.use_allow && id_match.allow_count <= CollectionSearchParams::kExactAllowIds) {
        if (stats) *stats = QueryStats{};
        return exact_allowed(q.data(), sp.k, id_match, sp.label_filter, ids, dists);
    }
    std::shared_ptr<Generation> g;
    {
        std::lock_guard<std::mutex> lock(m.view_mu);
        g = m.gen;
        tiers.assign(m.frozen.begin(), m.frozen.end());
        tiers.push_back(m.active);
    }
    // Drop the tier references on the way out: scratch must not keep retired tiers alive.
    struct Release {
        std::vector<std::shared_ptr<HotTier>>& t;
        ~Release() { t.clear(); }
    } release{tiers};
    const uint32_t k = sp.k;
    tid.resize(k);
    td.resize(k);
    if (g && g->live_count() > 0) {
        STRATA_RETURN_IF_ERROR(g->search(query, dtype, dim, sp, tid.data(), td.data(), stats));
        for (uint32_t i = 0; i < k && tid[i] != std::numeric_limits<uint64_t>::max(); ++i) {
            all.emplace_back(td[i], tid[i]);
        }
    }
    for (const auto& t : tiers) {
        if (t->live_count() == 0) continue;
        STRATA_ASSIGN_OR_RETURN(uint32_t got, t->search(q.data(), k, sp.list_size, tid.data(),
                                                        td.data(), sp.label_filter, &id_match));
        for (uint32_t i = 0; i < got; ++i) all.emplace_back(td[i], tid[i]);
    }
    std::sort(all.begin(), all.end());
    uint32_t out = 0;
    for (const auto& [d, id] : all) {
        if (out == k) break;
        if (std::find(ids, ids + out, id) != ids + out) continue;  // mid-replacement duplicate
        ids[out] = id;
        if (dists) dists[out] = d;
        ++out;
    }
    uint64_t live = g ? g->live_count() : 0;
    for (const auto& t : tiers) live += t->live_count();
    if (out < k && out < live && id_match.active()) {
        // The widest lists found too few matches: an exact pass completes the answer.
        const ExactFilter f{&id_match, sp.label_filter};
        return id_match.use_allow
                   ? exact_allowed(q.data(), k, id_match, sp.label_filter, ids, dists)
                   : exact_scan(q.data(), 1, k, f, ids, dists);
    }
    for (; out < k; ++out) {
        ids[out] = std::numeric_limits<uint64_t>::max();
        if (dists) dists[out] = std::numeric_limits<float>::infinity();
    }
    return Status::ok();
}

Status Collection::search_batch(const void* queries, DType dtype, uint32_t dim, uint64_t nq,
                                size_t stride_bytes, const CollectionSearchParams& params,
                                int threads, uint64_t* ids, float* dists) const {
    STRATA_RETURN_IF_ERROR(check_search(impl_->params, dim, params));
    std::mutex mu;
    Status first;
    tbb::task_arena arena(threads > 0 ? threads : tbb::this_task_arena::max_concurrency());
    arena.execute([&] {
        tbb::parallel_for(uint64_t{0}, nq, [&](uint64_t i) {
            Status s = impl_->search(static_cast<const uint8_t*>(queries) + i * stride_bytes, dtype,
                                     dim, params, ids + i * params.k,
                                     dists ? dists + i * params.k : nullptr, nullptr);
            if (!s.is_ok()) {
                std::lock_guard<std::mutex> lock(mu);
                if (first.is_ok()) first = s;
            }
        });
    });
    return first;
}

Status Collection::get(uint64_t id, void* out) const {
    const Impl& m = *impl_;
    std::shared_ptr<Generation> gen;
    int64_t node = -1;
    {
        std::lock_guard<std::mutex> lock(m.apply_mu);
        auto it = m.hot_loc.find(id);
        if (it != m.hot_loc.end()) {
            std::memcpy(out, it->second.tier->vector(it->second.slot), m.row_bytes);
            return Status::ok();
        }
        std::lock_guard<std::mutex> vlock(m.view_mu);
        gen = m.gen;
        if (gen) node = gen->node_of(id);
        if (node >= 0 && gen->dead(static_cast<uint64_t>(node))) node = -1;
    }
    if (node < 0) return Status::not_found(fmt::format("id {} is not in the collection", id));
    return gen->index().read_vector(static_cast<uint64_t>(node), out);
}

Status Collection::sync() { return impl_->wal->sync(); }

const CollectionParams& Collection::params() const { return impl_->params; }
const std::string& Collection::dir() const { return impl_->dir; }

CollectionStats Collection::stats() const {
    const Impl& m = *impl_;
    CollectionStats s;
    const CollectionParams& p = m.params;
    s.dim = p.dim;
    s.metric = p.metric;
    s.dtype = p.dtype;
    {
        std::lock_guard<std::mutex> lock(m.apply_mu);
        std::lock_guard<std::mutex> vlock(m.view_mu);
        s.next_id = m.next_id;
        s.labels = m.labels.size();
        s.generation_recall = m.manifest.recall;
        if (m.gen) {
            s.generation = m.gen->number();
            s.generation_nodes = m.gen->nodes();
            s.generation_deleted = m.gen->dead_count();
            s.live += m.gen->live_count();
        }
        for (const auto& t : m.frozen) {
            s.frozen += t->size();
            s.hot += t->size();
            s.hot_bytes += t->memory_bytes();
            s.live += t->live_count();
        }
        s.hot += m.active->size();
        s.hot_bytes += m.active->memory_bytes();
        s.live += m.active->live_count();
    }
    s.wal_bytes = m.wal->bytes();
    s.consolidating = m.consolidating.load();
    s.consolidations = m.consolidations.load();
    {
        std::lock_guard<std::mutex> lock(m.worker_mu);
        s.last_error = m.last_error;
    }
    return s;
}

Result<ConsolidationReport> Collection::consolidate() {
    std::lock_guard<std::mutex> lock(impl_->consolidate_mu);
    return impl_->consolidate_once();
}

Status Collection::Impl::commit(std::shared_ptr<Generation> next_gen, double recall) {
    std::lock_guard<std::mutex> commit_lock(commit_mu);
    uint64_t from_lsn = 0;
    {
        std::lock_guard<std::mutex> lock(apply_mu);
        // Ids written or deleted since the snapshot are newer than their copy in next_gen.
        if (next_gen) {
            for (uint64_t id : touched) {
                const int64_t node = next_gen->node_of(id);
                if (node >= 0) next_gen->kill(static_cast<uint64_t>(node));
            }
        }
        track_touched = false;
        touched.clear();
        Manifest next = manifest;
        next.generation = next_gen ? next_gen->number() : 0;
        next.wal_from_lsn = std::min(min_lsn_since_freeze, next_apply);
        next.next_id = next_id;
        next.recall = next_gen ? recall : 0;
        if (Status s = collection::write_manifest(dir, next); !s.is_ok()) {
            if (next_gen) next_gen->retire();
            return s;
        }
        manifest = next;
        from_lsn = next.wal_from_lsn;
        // The frozen tiers' vectors now live in next_gen.
        for (auto it = hot_loc.begin(); it != hot_loc.end();) {
            it = it->second.tier != active.get() ? hot_loc.erase(it) : std::next(it);
        }
        std::lock_guard<std::mutex> vlock(view_mu);
        if (gen) gen->retire();
        gen = std::move(next_gen);
        frozen.clear();
    }
    if (Status s = wal->remove_before(from_lsn); !s.is_ok()) {
        detail::log(LogLevel::kWarn, "collection {}: log truncation: {}", dir, s.to_string());
    }
    return Status::ok();
}

Result<ConsolidationReport> Collection::Impl::consolidate_once() {
    struct Flag {
        std::atomic<bool>& f;
        explicit Flag(std::atomic<bool>& flag) : f(flag) { f = true; }
        ~Flag() { f = false; }
    } flag(consolidating);
    const auto t0 = std::chrono::steady_clock::now();
    ConsolidationReport rep;
    // Freeze: the active tier stops taking writes; records published from now on are tracked.
    std::vector<std::shared_ptr<HotTier>> merging;
    {
        std::lock_guard<std::mutex> lock(apply_mu);
        if (!failed.is_ok()) return failed;
        std::lock_guard<std::mutex> vlock(view_mu);
        const bool has_active = active->size() > 0;
        if (!has_active && frozen.empty() && (!gen || gen->dead_count() == 0)) {
            rep.reason = "nothing to consolidate";
            return rep;
        }
        if (has_active) {
            STRATA_ASSIGN_OR_RETURN(auto fresh, new_tier());
            frozen.push_back(active);
            active = std::move(fresh);
        }
        merging = frozen;
        track_lsn = true;
        min_lsn_since_freeze = kNoLsn;
    }
    STRATA_RETURN_IF_ERROR(wal->rotate().status());
    // Snapshot, once every writer of the frozen tiers has published.
    collection::MergeInputs in;
    in.params = params;
    std::shared_ptr<Generation> old;
    uint64_t number = 0;
    {
        std::unique_lock<std::mutex> lock(apply_mu);
        apply_cv.wait(lock, [&] {
            if (!failed.is_ok()) return true;
            for (const auto& t : merging) {
                if (t->pending.load() != 0) return false;
            }
            return true;
        });
        if (!failed.is_ok()) return failed;
        for (const auto& t : merging) {
            for (uint32_t s = 0; s < t->size(); ++s) {
                if (!t->live(s)) continue;
                in.inserts.emplace_back(t->id(s), t->vector(s));
                const auto ls = t->labels(s);
                in.insert_labels.emplace_back(ls.begin(), ls.end());
            }
        }
        old = gen;
        if (old) {
            in.old_dead.resize(old->nodes());
            for (uint64_t i = 0; i < old->nodes(); ++i) in.old_dead[i] = old->dead(i) ? 1 : 0;
        }
        track_touched = true;
        touched.clear();
        number = std::max(manifest.generation, last_generation) + 1;
        last_generation = number;
    }
    const auto stop_tracking = [&] {
        std::lock_guard<std::mutex> lock(apply_mu);
        track_touched = false;
        touched.clear();
    };
    in.old = old.get();
    in.out_dir = collection::generation_path(dir, number);
    in.temp_prefix = disk::detail::join(dir, "consolidate.tmp");
    in.threads = options.consolidation_threads;
    in.memory_gb = options.consolidation_memory_gb;
    in.read_mib_s = options.consolidation_read_mib_s;
    in.validation_queries = options.validation_queries;
    in.seed = number;
    in.label_names = labels.names();
    uint64_t live_rows = in.inserts.size();
    if (old)
        live_rows += old->nodes() -
                     static_cast<uint64_t>(std::count(in.old_dead.begin(), in.old_dead.end(), 1));
    if (live_rows == 0) {  // everything was deleted: an empty collection needs no generation
        STRATA_RETURN_IF_ERROR(commit(nullptr, 0));
        rep.swapped = true;
        return rep;
    }
    auto merged = collection::merge_generation(in);
    if (!merged.is_ok()) {
        stop_tracking();
        return merged.status();
    }
    rep = *merged;
    rep.generation = number;
    rep.previous_recall = manifest.recall;
    std::error_code ec;
    if (rep.recall + options.recall_margin < manifest.recall) {
        std::filesystem::remove_all(in.out_dir, ec);
        stop_tracking();
        rep.reason = fmt::format(
            "refused: recall@10 {:.4f} of the new generation is more than {:.3f} below the "
            "current {:.4f}",
            rep.recall, options.recall_margin, manifest.recall);
        return rep;
    }
    auto opened = Generation::open(in.out_dir, number, options.disk);
    if (!opened.is_ok()) {
        std::filesystem::remove_all(in.out_dir, ec);
        stop_tracking();
        return opened.status();
    }
    std::shared_ptr<Generation> next_gen = std::move(*opened);
    STRATA_RETURN_IF_ERROR(commit(std::move(next_gen), rep.recall));
    rep.swapped = true;
    rep.seconds_total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    consolidations.fetch_add(1);
    detail::log(
        LogLevel::kInfo,
        "collection {}: generation {} swapped in ({} kept, {} deleted, {} inserted, recall@10 "
        "{:.4f}, {:.1f} s)",
        dir, number, rep.kept, rep.deleted, rep.inserted, rep.recall, rep.seconds_total);
    return rep;
}

void Collection::Impl::worker_loop() {
    auto backoff_until = std::chrono::steady_clock::now();
    auto backoff = std::chrono::seconds(10);  // doubles after each failure, up to 10 minutes
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(worker_mu);
            worker_cv.wait_for(lock, std::chrono::milliseconds(200));
            if (stop) return;
        }
        if (options.consolidate_at == 0 || std::chrono::steady_clock::now() < backoff_until)
            continue;
        uint64_t hot = 0, dead = 0;
        {
            std::lock_guard<std::mutex> lock(view_mu);
            hot = active->size();
            dead = gen ? gen->dead_count() : 0;
        }
        if (hot < options.consolidate_at && dead < options.consolidate_at) continue;
        std::lock_guard<std::mutex> lock(consolidate_mu);
        auto r = consolidate_once();
        std::string err;
        if (!r.is_ok()) {
            err = r.status().to_string();
        } else if (!r->swapped) {
            err = r->reason;
        }
        if (!err.empty()) {
            detail::log(LogLevel::kWarn, "collection {}: background consolidation: {}", dir, err);
            backoff_until = std::chrono::steady_clock::now() + backoff;
            backoff = std::min<std::chrono::seconds>(backoff * 2, std::chrono::seconds(600));
        } else {
            backoff = std::chrono::seconds(10);
        }
        std::lock_guard<std::mutex> wlock(worker_mu);
        last_error = err;
    }
}

}  // namespace strata
