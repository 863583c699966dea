#include "server/registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "disk/dir_util.hpp"
#include "io/file_util.hpp"

namespace strata::server {
namespace fs = std::filesystem;
using disk::detail::join;

namespace {

constexpr size_t kRecentQueries = 256;

Status mkdir_p(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::io_error(fmt::format("cannot create {}", dir), ec.value());
    return Status::ok();
}

void remove_tree(const std::string& path) {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) STRATA_LOG_WARN("cannot remove {}: {}", path, ec.message());
}

Status rename_durable(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        return Status::io_error(fmt::format("cannot rename {} to {}", from, to), errno);
    }
    return io::fsync_parent_dir(to);
}

// Copies directory `src` to the new directory `dst`: files of gen-* directories (immutable
// index files) are hard-linked where possible, everything else copied and fsynced.
Status copy_tree(const std::string& src, const std::string& dst) {
    std::error_code ec;
    if (!fs::is_directory(src, ec))
        return Status::not_found(fmt::format("{} is not a directory", src));
    STRATA_RETURN_IF_ERROR(mkdir_p(dst));
    for (auto it = fs::recursive_directory_iterator(src, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
        const fs::path rel = it->path().lexically_relative(src);
        const std::string to = join(dst, rel.string());
        std::error_code tec;
        if (it->is_directory(tec)) {
            STRATA_RETURN_IF_ERROR(mkdir_p(to));
            continue;
        }
        if (!it->is_regular_file(tec)) {
            return Status::corruption(fmt::format("{}: unexpected entry", it->path().string()));
        }
        const std::string parent = rel.parent_path().filename().string();
        if (parent.rfind("gen-", 0) == 0 && ::link(it->path().c_str(), to.c_str()) == 0) continue;
        STRATA_RETURN_IF_ERROR(io::copy_file_durable(it->path().string(), to));
    }
    if (ec) return Status::io_error(fmt::format("cannot read {}", src), ec.value());
    return Status::ok();
}

uint64_t tree_bytes(const std::string& dir) {
    uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
        std::error_code fec;
        if (it->is_regular_file(fec)) {
            const uint64_t size = it->file_size(fec);
            if (!fec) total += size;
        }
    }
    return total;
}

std::string utc_now(const char* format) {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

// Checks that `dir` is a snapshot: snapshot.json, collection/MANIFEST, payloads/.
Status check_snapshot(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return Status::not_found(fmt::format("no snapshot at {}", dir));
    for (const char* need : {"snapshot.json", "collection/MANIFEST", "payloads/data.mdb"}) {
        if (!fs::exists(join(dir, need), ec)) {
            return Status::invalid_argument(
                fmt::format("{} is not a strata snapshot (no {})", dir, need));
        }
    }
    return Status::ok();
}

constexpr char kFilterableFile[] = "filterable";

}  // namespace

Status write_filterable(const std::string& dir, const std::vector<std::string>& fields) {
    std::string text;
    for (const auto& f : fields) text += f + "\n";
    return io::atomic_write_file(join(dir, kFilterableFile), text);
}

namespace {

Result<std::vector<std::string>> read_filterable(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    const std::string path = join(dir, kFilterableFile);
    if (!fs::exists(path, ec)) return out;
    STRATA_ASSIGN_OR_RETURN(std::string text, io::read_file(path));
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t eol = text.find('\n', pos);
        const size_t end = eol == std::string::npos ? text.size() : eol;
        if (end > pos) out.emplace_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

// Copies snapshot `src` to the fresh directory `tmp` and opens it once: a damaged snapshot
// fails here, before anything is replaced. On error `tmp` is removed.
Status stage_snapshot(const std::string& src, const std::string& tmp, CollectionOptions options) {
    remove_tree(tmp);
    Status s = [&]() -> Status {
        STRATA_RETURN_IF_ERROR(mkdir_p(tmp));
        STRATA_RETURN_IF_ERROR(copy_tree(join(src, "collection"), join(tmp, "collection")));
        STRATA_RETURN_IF_ERROR(copy_tree(join(src, "payloads"), join(tmp, "payloads")));
        std::error_code ec;
        if (fs::exists(join(src, kFilterableFile), ec)) {
            STRATA_RETURN_IF_ERROR(
                io::copy_file_durable(join(src, kFilterableFile), join(tmp, kFilterableFile)));
        }
        options.background = false;
        STRATA_ASSIGN_OR_RETURN(auto col, Collection::open(join(tmp, "collection"), options));
        return Status::ok();
    }();
    if (!s.is_ok()) remove_tree(tmp);
    return s;
}

}  // namespace

Status validate_name(std::string_view name, std::string_view what, size_t max_length) {
    if (name.empty() || name.size() > max_length) {
        return Status::invalid_argument(
            fmt::format("{} must be 1 to {} characters", what, max_length));
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) {
            return Status::invalid_argument(
                fmt::format("{} may only hold letters, digits, '_' and '-'", what));
        }
    }
    return Status::ok();
}

CollectionEntry::Fields CollectionEntry::fields() const {
    std::lock_guard<std::mutex> lock(fields_mu_);
    return fields_;
}

void CollectionEntry::set_fields(std::vector<std::string> fields) {
    auto f = std::make_shared<const std::vector<std::string>>(std::move(fields));
    std::lock_guard<std::mutex> lock(fields_mu_);
    fields_ = std::move(f);
}

void CollectionEntry::remember_query(const float* q, uint32_t dim) {
    std::lock_guard<std::mutex> lock(recent_mu_);
    if (recent_.size() < kRecentQueries * dim) {
        recent_.insert(recent_.end(), q, q + dim);
        return;
    }
    std::copy(q, q + dim, recent_.begin() + static_cast<ptrdiff_t>(recent_next_ * dim));
    recent_next_ = (recent_next_ + 1) % kRecentQueries;
}

std::vector<float> CollectionEntry::recent_queries() const {
    std::lock_guard<std::mutex> lock(recent_mu_);
    return recent_;
}

std::string Registry::collections_dir() const { return join(data_dir_, "collections"); }
std::string Registry::snapshots_dir(std::string_view name) const {
    return join(join(data_dir_, "snapshots"), std::string(name));
}

Result<std::unique_ptr<Registry>> Registry::open(const std::string& data_dir,
                                                 const RegistryOptions& options) {
    STRATA_RETURN_IF_ERROR(options.collection.validate());
    std::unique_ptr<Registry> r(new Registry());
    r->data_dir_ = data_dir;
    r->options_ = options;
    STRATA_RETURN_IF_ERROR(mkdir_p(r->collections_dir()));
    STRATA_RETURN_IF_ERROR(mkdir_p(join(data_dir, "snapshots")));
    std::error_code ec;
    std::vector<std::string> names;
    for (auto it = fs::directory_iterator(r->collections_dir(), ec); !ec && it != fs::end(it);
         it.increment(ec)) {
        const fs::directory_entry& e = *it;
        const std::string name = e.path().filename().string();
        if (name.rfind(".tmp-", 0) == 0 || name.rfind(".drop-", 0) == 0) {
            STRATA_LOG_INFO("removing the leftover {}", e.path().string());
            remove_tree(e.path().string());
            continue;
        }
        std::error_code dec;
        if (!validate_name(name).is_ok() || !e.is_directory(dec)) {
            STRATA_LOG_WARN("ignoring {}: not a collection", e.path().string());
            continue;
        }
        names.push_back(name);
    }
    if (ec)
        return Status::io_error(fmt::format("cannot list {}", r->collections_dir()), ec.value());
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        auto entry = r->open_entry(name);
        if (!entry.is_ok()) {
            return Status(entry.status().code(),
                          fmt::format("collection '{}': {}", name, entry.status().message()));
        }
        r->entries_[name] = std::move(*entry);
    }
    return r;
}

Registry::~Registry() = default;

Result<std::shared_ptr<CollectionEntry>> Registry::open_entry(const std::string& name) {
    auto e = std::make_shared<CollectionEntry>();
    e->name = name;
    e->dir = join(collections_dir(), name);
    STRATA_ASSIGN_OR_RETURN(e->col,
                            Collection::open(join(e->dir, "collection"), options_.collection));
    STRATA_ASSIGN_OR_RETURN(e->payloads, PayloadStore::open(join(e->dir, "payloads")));
    STRATA_ASSIGN_OR_RETURN(auto fields, read_filterable(e->dir));
    e->set_fields(std::move(fields));
    return e;
}

Result<std::shared_ptr<CollectionEntry>> Registry::get(std::string_view name) const {
    STRATA_RETURN_IF_ERROR(validate_name(name));
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(name);
    if (it == entries_.end()) {
        return Status::not_found(fmt::format("collection '{}' does not exist", name));
    }
    return it->second;
}

std::vector<std::shared_ptr<CollectionEntry>> Registry::list() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<CollectionEntry>> out;
    for (const auto& [n, e] : entries_) out.push_back(e);
    return out;
}

Result<std::shared_ptr<CollectionEntry>> Registry::create(
    std::string_view name, const CollectionParams& params,
    const std::vector<std::string>& filterable) {
    STRATA_RETURN_IF_ERROR(validate_name(name));
    STRATA_RETURN_IF_ERROR(params.validate());
    std::lock_guard<std::mutex> admin(admin_mu_);
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (entries_.count(name)) {
            return Status::already_exists(fmt::format("collection '{}' already exists", name));
        }
    }
    const std::string n(name);
    const std::string tmp = join(collections_dir(), ".tmp-" + n);
    const std::string dir = join(collections_dir(), n);
    remove_tree(tmp);
    STRATA_RETURN_IF_ERROR(mkdir_p(tmp));
    Status s = [&]() -> Status {
        STRATA_ASSIGN_OR_RETURN(
            auto col, Collection::create(join(tmp, "collection"), params, options_.collection));
        col.reset();
        STRATA_ASSIGN_OR_RETURN(auto payloads, PayloadStore::open(join(tmp, "payloads")));
        payloads.reset();
        if (!filterable.empty()) STRATA_RETURN_IF_ERROR(write_filterable(tmp, filterable));
        return rename_durable(tmp, dir);
    }();
    if (!s.is_ok()) {
        remove_tree(tmp);
        return s;
    }
    STRATA_ASSIGN_OR_RETURN(auto e, open_entry(n));
    e->ready = true;  // nothing to warm
    std::lock_guard<std::mutex> lock(mu_);
    entries_[n] = e;
    STRATA_LOG_INFO("collection '{}' created: dim {}, metric {}, dtype {}", n, params.dim,
                    metric_name(params.metric), dtype_name(params.dtype));
    return e;
}

Status Registry::drop(std::string_view name) {
    std::lock_guard<std::mutex> admin(admin_mu_);
    STRATA_ASSIGN_OR_RETURN(auto e, get(name));
    const std::string gone = join(collections_dir(), fmt::format(".drop-{}-{}", name, ++seq_));
    std::unique_ptr<Collection> col;
    std::unique_ptr<PayloadStore> payloads;
    {
        std::unique_lock<std::shared_mutex> use(e->use);
        STRATA_RETURN_IF_ERROR(rename_durable(e->dir, gone));
        e->closed = true;
        col = std::move(e->col);
        payloads = std::move(e->payloads);
        std::lock_guard<std::mutex> lock(mu_);
        entries_.erase(std::string(name));
    }
    // Closed outside the lock: closing waits for a running consolidation.
    col.reset();
    payloads.reset();
    remove_tree(gone);
    STRATA_LOG_INFO("collection '{}' dropped", name);
    return Status::ok();
}

Result<SnapshotInfo> Registry::snapshot(std::string_view name) {
    STRATA_ASSIGN_OR_RETURN(auto e, get(name));
    std::shared_lock<std::shared_mutex> use(e->use);
    if (e->closed) return Status::not_found(fmt::format("collection '{}' does not exist", name));
    std::lock_guard<std::mutex> write(e->write);  // payloads and vectors in step
    SnapshotInfo info;
    info.name = fmt::format("{}-{}-{}", name, utc_now("%Y-%m-%d-%H-%M-%S"), ++seq_);
    info.created = utc_now("%Y-%m-%dT%H:%M:%SZ");
    const std::string root = snapshots_dir(name);
    STRATA_RETURN_IF_ERROR(mkdir_p(root));
    const std::string tmp = join(root, ".tmp-" + info.name);
    const std::string dst = join(root, info.name);
    remove_tree(tmp);
    STRATA_RETURN_IF_ERROR(mkdir_p(tmp));
    Status s = [&]() -> Status {
        STRATA_RETURN_IF_ERROR(e->col->snapshot(join(tmp, "collection")));
        STRATA_RETURN_IF_ERROR(mkdir_p(join(tmp, "payloads")));
        STRATA_RETURN_IF_ERROR(e->payloads->copy_to(join(tmp, "payloads")));
        if (!e->fields()->empty()) {
            STRATA_RETURN_IF_ERROR(
                io::copy_file_durable(join(e->dir, kFilterableFile), join(tmp, kFilterableFile)));
        }
        const CollectionStats st = e->col->stats();
        info.points = st.live;
        JsonWriter w(2);
        w.begin_object()
            .field("name", info.name)
            .field("collection", name)
            .field("created", info.created)
            .field("points", st.live)
            .field("dim", st.dim)
            .field("metric", metric_name(st.metric))
            .end_object();
        STRATA_RETURN_IF_ERROR(io::atomic_write_file(join(tmp, "snapshot.json"), w.str() + "\n"));
        return rename_durable(tmp, dst);
    }();
    if (!s.is_ok()) {
        remove_tree(tmp);
        return s;
    }
    info.size_bytes = tree_bytes(dst);
    STRATA_LOG_INFO("snapshot {} of '{}': {} points, {} bytes", info.name, name, info.points,
                    info.size_bytes);
    return info;
}

Result<std::vector<SnapshotInfo>> Registry::snapshots(std::string_view name) const {
    STRATA_RETURN_IF_ERROR(get(name).status());
    std::vector<SnapshotInfo> out;
    std::error_code ec;
    const std::string root = snapshots_dir(name);
    if (!fs::exists(root, ec)) return out;
    for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::end(it); it.increment(ec)) {
        const fs::directory_entry& e = *it;
        const std::string n = e.path().filename().string();
        std::error_code dec;
        if (n.empty() || n[0] == '.' || !e.is_directory(dec)) continue;
        SnapshotInfo info;
        info.name = n;
        info.size_bytes = tree_bytes(e.path().string());
        struct stat st {};
        if (::stat(join(e.path().string(), "snapshot.json").c_str(), &st) == 0) {
            std::tm tm{};
            gmtime_r(&st.st_mtime, &tm);
            char buf[32];
            std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
            info.created = buf;
        }
        out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(),
              [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.name < b.name; });
    return out;
}

Status Registry::recover(std::string_view name, const std::string& snapshot) {
    STRATA_RETURN_IF_ERROR(validate_name(name));
    STRATA_RETURN_IF_ERROR(validate_name(snapshot, "snapshot name", 128));
    std::lock_guard<std::mutex> admin(admin_mu_);
    const std::string src = join(snapshots_dir(name), snapshot);
    STRATA_RETURN_IF_ERROR(check_snapshot(src));
    const std::string n(name);
    const std::string tmp = join(collections_dir(), ".tmp-" + n);
    const std::string dir = join(collections_dir(), n);
    STRATA_RETURN_IF_ERROR(stage_snapshot(src, tmp, options_.collection));
    std::shared_ptr<CollectionEntry> old;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = entries_.find(name);
        if (it != entries_.end()) old = it->second;
    }
    std::string gone;
    if (old) {
        std::unique_ptr<Collection> col;
        std::unique_ptr<PayloadStore> payloads;
        {
            std::unique_lock<std::shared_mutex> use(old->use);
            gone = join(collections_dir(), fmt::format(".drop-{}-{}", name, ++seq_));
            if (Status st = rename_durable(dir, gone); !st.is_ok()) {
                remove_tree(tmp);
                return st;
            }
            old->closed = true;
            col = std::move(old->col);
            payloads = std::move(old->payloads);
            std::lock_guard<std::mutex> lock(mu_);
            entries_.erase(n);
        }
        col.reset();
        payloads.reset();
    }
    Status st = rename_durable(tmp, dir);
    Result<std::shared_ptr<CollectionEntry>> e =
        st.is_ok() ? open_entry(n) : Result<std::shared_ptr<CollectionEntry>>(st);
    if (!e.is_ok()) {
        // Put the old collection back; the old data is only removed once the new one is open.
        remove_tree(st.is_ok() ? dir : tmp);
        if (!gone.empty() && rename_durable(gone, dir).is_ok()) {
            if (auto back = open_entry(n); back.is_ok()) {
                (*back)->ready = true;
                std::lock_guard<std::mutex> lock(mu_);
                entries_[n] = *back;
            }
        }
        return e.status();
    }
    if (!gone.empty()) remove_tree(gone);
    warm_up(**e);
    std::lock_guard<std::mutex> lock(mu_);
    entries_[n] = *e;
    STRATA_LOG_INFO("collection '{}' recovered from snapshot {}", name, snapshot);
    return Status::ok();
}

Status restore_snapshot(const std::string& snapshot, const std::string& data_dir,
                        std::string_view name, bool replace) {
    STRATA_RETURN_IF_ERROR(validate_name(name));
    STRATA_RETURN_IF_ERROR(check_snapshot(snapshot));
    const std::string root = join(data_dir, "collections");
    STRATA_RETURN_IF_ERROR(mkdir_p(root));
    const std::string dir = join(root, std::string(name));
    const std::string tmp = join(root, ".tmp-" + std::string(name));
    std::error_code ec;
    const bool exists = fs::exists(dir, ec);
    if (exists && !replace) {
        return Status::already_exists(fmt::format(
            "collection '{}' exists in {} (--replace to overwrite it)", name, data_dir));
    }
    STRATA_RETURN_IF_ERROR(stage_snapshot(snapshot, tmp, CollectionOptions{}));
    if (exists) {
        const std::string gone = join(root, fmt::format(".drop-{}-restore", name));
        remove_tree(gone);
        STRATA_RETURN_IF_ERROR(rename_durable(dir, gone));
        STRATA_RETURN_IF_ERROR(rename_durable(tmp, dir));
        remove_tree(gone);
        return Status::ok();
    }
    return rename_durable(tmp, dir);
}

void Registry::warm_up(CollectionEntry& e) {
    std::shared_lock<std::shared_mutex> use(e.use);
    if (e.closed || e.ready) return;
    const CollectionParams& p = e.col->params();
    const CollectionStats st = e.col->stats();
    // Queries: those served before the last shutdown, else stored vectors.
    std::vector<uint8_t> q;
    DType qt = DType::kF32;
    size_t row = size_t{p.dim} * 4;
    if (auto f = io::read_file(join(e.dir, "warmup.f32")); f.is_ok() && f->size() >= 8) {
        uint32_t dim = 0, n = 0;
        std::memcpy(&dim, f->data(), 4);
        std::memcpy(&n, f->data() + 4, 4);
        if (dim == p.dim && f->size() == 8 + size_t{n} * dim * 4) {
            q.assign(f->begin() + 8, f->end());
        }
    }
    if (q.empty() && st.live > 0) {
        qt = p.dtype;
        row = size_t{p.dim} * dtype_size(p.dtype);
        Rng rng(7);
        std::vector<uint8_t> v(row);
        const uint64_t want = std::min<uint64_t>(options_.warmup_queries, st.live);
        for (uint64_t tries = 0; q.size() < want * row && tries < 50 * want; ++tries) {
            if (e.col->get(rng.below(std::max<uint64_t>(st.next_id, 1)), v.data()).is_ok()) {
                q.insert(q.end(), v.begin(), v.end());
            }
        }
    }
    const size_t nq = q.size() / row;
    if (nq == 0 || st.live == 0) {
        e.ready = true;
        return;
    }
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    std::vector<uint64_t> ids(10);
    std::vector<float> dists(10);
    std::vector<double> times(nq);
    double first = 0, prev = 0;
    uint32_t rounds = 0;
    for (; rounds < options_.warmup_rounds; ++rounds) {
        for (size_t i = 0; i < nq; ++i) {
            const auto t0 = Clock::now();
            (void)e.col->search(q.data() + i * row, qt, p.dim, CollectionSearchParams{}, ids.data(),
                                dists.data());
            times[i] = std::chrono::duration<double>(Clock::now() - t0).count();
        }
        std::nth_element(times.begin(), times.begin() + static_cast<ptrdiff_t>(nq / 2),
                         times.end());
        const double median = times[nq / 2];
        if (rounds == 0) first = median;
        const bool settled = rounds > 0 && std::abs(median - prev) <= 0.1 * prev;
        prev = median;
        if (settled ||
            std::chrono::duration<double>(Clock::now() - start).count() > options_.warmup_seconds) {
            ++rounds;
            break;
        }
    }
    e.ready = true;
    STRATA_LOG_INFO(
        "collection '{}' warmed up: {} queries x {} rounds, median {:.0f} -> {:.0f} us, "
        "{:.1f} s",
        e.name, nq, rounds, first * 1e6, prev * 1e6,
        std::chrono::duration<double>(Clock::now() - start).count());
}

void Registry::warm_up_all() {
    for (const auto& e : list()) warm_up(*e);
}

bool Registry::ready() const {
    for (const auto& e : list()) {
        if (!e->ready) return false;
    }
    return true;
}

Status Registry::flush() {
    Status first;
    for (const auto& e : list()) {
        std::shared_lock<std::shared_mutex> use(e->use);
        if (e->closed) continue;
        Status s = e->col->sync();
        const std::vector<float> recent = e->recent_queries();
        const uint32_t dim = e->col->params().dim;
        if (s.is_ok() && !recent.empty()) {
            std::string out(8, '\0');
            const auto n = static_cast<uint32_t>(recent.size() / dim);
            std::memcpy(out.data(), &dim, 4);
            std::memcpy(out.data() + 4, &n, 4);
            out.append(reinterpret_cast<const char*>(recent.data()), recent.size() * 4);
            s = io::atomic_write_file(join(e->dir, "warmup.f32"), out);
        }
        if (!s.is_ok() && first.is_ok()) first = s;
    }
    return first;
}

}  // namespace strata::server
