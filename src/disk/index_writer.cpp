// IndexWriter: node sectors, block checksums, companions, header, and the atomic publish of the
// finished directory.
#include "disk/index_writer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/aligned_buffer.hpp"
#include "core/check.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "disk/checksum.hpp"
#include "disk/dir_util.hpp"
#include "io/file_util.hpp"

namespace strata::disk {
namespace {

namespace fs = std::filesystem;

/// A fresh random build id (never 0): random_device, clock and pid mixed by SplitMix64.
uint64_t new_index_uid() {
    std::random_device rd;
    uint64_t state =
        (uint64_t{rd()} << 32) ^ rd() ^
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (static_cast<uint64_t>(::getpid()) << 17);
    uint64_t uid = 0;
    while (uid == 0) uid = splitmix64(state);
    return uid;
}

/// OK when `dir` does not exist; otherwise AlreadyExists, or with force a check that `dir` is
/// something we may replace: an empty directory or one holding index.strata.
Status check_target(const std::string& dir, bool force) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT) return Status::ok();
        return Status::io_error(fmt::format("{}: stat failed", dir), errno);
    }
    if (!force) {
        return Status::already_exists(
            fmt::format("{}: already exists (pass force to replace it)", dir));
    }
    if (!S_ISDIR(st.st_mode)) {
        return Status::invalid_argument(
            fmt::format("{}: refusing to replace: not a directory", dir));
    }
    std::error_code ec;
    const bool empty = fs::is_empty(dir, ec);
    if (ec) return Status::io_error(fmt::format("{}: cannot list directory", dir), ec.value());
    if (!empty && !fs::exists(detail::join(dir, kIndexFileName), ec)) {
        return Status::invalid_argument(fmt::format(
            "{}: refusing to replace: it is not empty and holds no {}", dir, kIndexFileName));
    }
    return Status::ok();
}

/// Renames `from` to `to` without replacing anything: AlreadyExists when `to` exists.
Status rename_noreplace(const std::string& from, const std::string& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
        return Status::ok();
    }
    const int err = errno;
    if (err == EEXIST || err == ENOTEMPTY) {
        return Status::already_exists(fmt::format("{}: appeared while the index was built", to));
    }
    if (err != EINVAL && err != ENOSYS) {
        return Status::io_error(fmt::format("{}: rename from {} failed", to, from), err);
    }
    // The file system lacks RENAME_NOREPLACE: check, then rename (a small race remains).
    struct stat st {};
    if (::lstat(to.c_str(), &st) == 0) {
        return Status::already_exists(fmt::format("{}: appeared while the index was built", to));
    }
    if (::rename(from.c_str(), to.c_str()) != 0) {
        return Status::io_error(fmt::format("{}: rename from {} failed", to, from), errno);
    }
    return Status::ok();
}

/// Removes a replaced index directory. The new index is already in place, so a failure here
/// is reported in the log and does not fail the build.
void remove_replaced(const std::string& path) {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) STRATA_LOG_WARN("{}: cannot remove the replaced index: {}", path, ec.message());
}

}  // namespace

Status IndexLayoutParams::validate() const {
    STRATA_RETURN_IF_ERROR(NodeLayout::compute(dim, dtype, degree_max, node_count).status());
    if (static_cast<uint8_t>(metric) > static_cast<uint8_t>(Metric::kCosine)) {
        return Status::invalid_argument(
            fmt::format("unknown metric code {}", static_cast<unsigned>(metric)));
    }
    if (entry_point != kNoNode && entry_point >= node_count) {
        return Status::invalid_argument(
            fmt::format("entry point {} is not a node of {}", entry_point, node_count));
    }
    return Status::ok();
}

Status WriterOptions::validate() const {
    if (checksum_block_bytes == 0 || checksum_block_bytes % kSectorBytes != 0 ||
        checksum_block_bytes > (1u << 30)) {
        return Status::invalid_argument(
            fmt::format("checksum_block_bytes {} is not a multiple of {} in (0, 1 GiB]",
                        checksum_block_bytes, kSectorBytes));
    }
    return Status::ok();
}

struct IndexWriter::Impl {
    std::string dir;
    std::string temp_dir;
    IndexLayoutParams params;
    WriterOptions options;
    IndexHeader header;
    Status error;  ///< first I/O error; sticky
    bool finished = false;

    // index.strata and its node sectors.
    std::optional<io::AtomicFile> index_file;
    AlignedBuffer<uint8_t> sectors;  ///< the sector(s) being filled, zeroed after each flush
    uint64_t appended = 0;
    Xxh3Stream block_hash;
    uint64_t block_fill_bytes = 0;
    std::vector<uint64_t> block_sums;
    std::vector<uint32_t> sorted;  ///< scratch for the duplicate-neighbour check

    // The companion being streamed.
    std::optional<io::AtomicFile> companion;
    CompanionHeader companion_header;
    Xxh3Stream companion_hash;

    const NodeLayout& layout() const { return header.layout; }
    Status fail(Status s) {
        if (error.is_ok()) error = s;
        return s;
    }
    Status usable() const {
        if (!error.is_ok()) return error;
        if (finished) return Status::invalid_argument(fmt::format("{}: already finished", dir));
        return Status::ok();
    }
    Status flush_sectors(uint32_t count);
    Status check_neighbors(std::span<const uint32_t> neighbors);
    Status write_checksum_section();
    Status write_meta(std::string_view meta_json);
    Status write_default_ids();
    Status publish();
};

Status IndexWriter::Impl::flush_sectors(uint32_t count) {
    for (uint32_t s = 0; s < count; ++s) {
        block_hash.update(sectors.data() + size_t{s} * kSectorBytes, kSectorBytes);
        block_fill_bytes += kSectorBytes;
        if (block_fill_bytes == options.checksum_block_bytes) {
            block_sums.push_back(block_hash.digest());
            block_hash.reset();
            block_fill_bytes = 0;
        }
    }
    const size_t bytes = size_t{count} * kSectorBytes;
    Status s = index_file->append(sectors.data(), bytes);
    std::memset(sectors.data(), 0, bytes);
    return s.is_ok() ? s : fail(std::move(s));
}

Status IndexWriter::Impl::check_neighbors(std::span<const uint32_t> neighbors) {
    const uint64_t id = appended;
    sorted.assign(neighbors.begin(), neighbors.end());
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) {
        const uint32_t v = sorted[i];
        if (v >= params.node_count || v == id || (i > 0 && sorted[i - 1] == v)) {
            const char* what = v >= params.node_count ? "is not a node"
                               : v == id              ? "is the node itself"
                                                      : "is listed twice";
            return Status::invalid_argument(
                fmt::format("{}: node {}: neighbour {} {} (node count {})", dir, id, v, what,
                            params.node_count));
        }
    }
    return Status::ok();
}

Status IndexWriter::Impl::write_checksum_section() {
    if (layout().sectors_per_node == 1 && appended % layout().nodes_per_sector != 0) {
        STRATA_RETURN_IF_ERROR(flush_sectors(1));
    }
    if (block_fill_bytes > 0) {
        block_sums.push_back(block_hash.digest());
        block_fill_bytes = 0;
    }
    STRATA_CHECK(block_sums.size() == header.checksum_block_count());
    STRATA_CHECK(index_file->size_bytes() == header.checksum_section_offset);
    const size_t bytes = block_sums.size() * sizeof(uint64_t);
    header.checksum_section_xxh3 = xxh3_64(block_sums.data(), bytes);
    Status s = index_file->append(block_sums.data(), bytes);
    return s.is_ok() ? s : fail(std::move(s));
}

Status IndexWriter::Impl::write_meta(std::string_view meta_json) {
    const std::string path = detail::join(temp_dir, default_file_name(FileKind::kMetaJson));
    auto file = io::AtomicFile::create(path);
    if (!file.is_ok()) return fail(file.status());
    Status s = file->append(meta_json.data(), meta_json.size());
    if (s.is_ok()) s = file->commit();
    if (!s.is_ok()) return fail(std::move(s));
    header.files.push_back(
        FileEntry{FileKind::kMetaJson, std::string(default_file_name(FileKind::kMetaJson)),
                  meta_json.size(), xxh3_64(meta_json.data(), meta_json.size())});
    return Status::ok();
}

Status IndexWriter::Impl::publish() {
    if (options.force) {
        struct stat st {};
        if (::lstat(dir.c_str(), &st) == 0) {
            // Atomic swap: `dir` switches from the old index to the new one in one step.
            if (::renameat2(AT_FDCWD, temp_dir.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) ==
                0) {
                STRATA_RETURN_IF_ERROR(io::fsync_parent_dir(dir));
                remove_replaced(temp_dir);
                return Status::ok();
            }
            if (errno != EINVAL && errno != ENOSYS) {
                return Status::io_error(fmt::format("{}: exchange with {} failed", dir, temp_dir),
                                        errno);
            }
            // No RENAME_EXCHANGE here: move the old index aside under a temporary name, then
            // rename. A crash in between leaves `dir` absent, never half-written.
            const std::string old = temp_dir + "-old";
            if (::rename(dir.c_str(), old.c_str()) != 0) {
                return Status::io_error(fmt::format("{}: rename to {} failed", dir, old), errno);
            }
            STRATA_RETURN_IF_ERROR(rename_noreplace(temp_dir, dir));
            STRATA_RETURN_IF_ERROR(io::fsync_parent_dir(dir));
            remove_replaced(old);
            return Status::ok();
        }
    }
    STRATA_RETURN_IF_ERROR(rename_noreplace(temp_dir, dir));
    return io::fsync_parent_dir(dir);
}

Status IndexWriter::Impl::write_default_ids() {
    constexpr uint64_t kChunk = 1 << 16;
    std::vector<uint64_t> ids(static_cast<size_t>(std::min(kChunk, params.node_count)));
    for (uint64_t begin = 0; begin < params.node_count; begin += kChunk) {
        const uint64_t end = std::min(params.node_count, begin + kChunk);
        for (uint64_t i = begin; i < end; ++i) ids[i - begin] = i;
        const size_t bytes = static_cast<size_t>(end - begin) * sizeof(uint64_t);
        companion_hash.update(ids.data(), bytes);
        companion_header.payload_bytes += bytes;
        Status s = companion->append(ids.data(), bytes);
        if (!s.is_ok()) return fail(std::move(s));
    }
    return Status::ok();
}

// ---- IndexWriter ---------------------------------------------------------------------------

IndexWriter::IndexWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IndexWriter::IndexWriter(IndexWriter&& other) noexcept = default;

IndexWriter& IndexWriter::operator=(IndexWriter&& other) noexcept {
    if (this != &other) {
        IndexWriter doomed(std::move(*this));  // cleans up what this writer had
        impl_ = std::move(other.impl_);
    }
    return *this;
}

IndexWriter::~IndexWriter() {
    if (impl_ == nullptr || impl_->finished) return;
    impl_->companion.reset();  // AtomicFile unlinks its temp file
    impl_->index_file.reset();
    std::error_code ec;
    fs::remove_all(impl_->temp_dir, ec);
    if (ec) {
        STRATA_LOG_WARN("{}: cannot remove the unfinished index: {}", impl_->temp_dir,
                        ec.message());
    }
}

Result<IndexWriter> IndexWriter::create(const std::string& dir_in, const IndexLayoutParams& params,
                                        const WriterOptions& options) try {
    STRATA_RETURN_IF_ERROR(params.validate());
    STRATA_RETURN_IF_ERROR(options.validate());
    const std::string dir = detail::strip_trailing_slashes(dir_in);
    if (dir.empty() || dir == "/" || detail::base_name(dir) == "." ||
        detail::base_name(dir) == "..") {
        return Status::invalid_argument(
            fmt::format("'{}' is not usable as an index directory", dir_in));
    }
    STRATA_RETURN_IF_ERROR(check_target(dir, options.force));

    auto impl = std::make_unique<Impl>();
    impl->dir = dir;
    impl->params = params;
    impl->options = options;
    IndexHeader& h = impl->header;
    h.index_uid = new_index_uid();
    h.metric = params.metric;
    h.layout =
        NodeLayout::compute(params.dim, params.dtype, params.degree_max, params.node_count).value();
    h.entry_point = params.entry_point;
    h.checksum_block_bytes = options.checksum_block_bytes;
    h.checksum_section_offset = h.layout.node_section_offset_bytes + h.layout.node_section_bytes();
    h.checksum_section_bytes = h.checksum_block_count() * sizeof(uint64_t);

    impl->temp_dir = fmt::format("{}.tmp-{}-{:016x}", dir, ::getpid(), h.index_uid);
    if (::mkdir(impl->temp_dir.c_str(), 0755) != 0) {
        const int err = errno;
        if (err == ENOENT) {
            return Status::not_found(fmt::format("{}: parent directory {} does not exist", dir,
                                                 detail::parent_dir(dir)));
        }
        return Status::io_error(
            fmt::format("{}: cannot create the build directory {}", dir, impl->temp_dir), err);
    }
    IndexWriter writer(std::move(impl));  // from here on the destructor cleans up
    Impl& w = *writer.impl_;
    STRATA_ASSIGN_OR_RETURN(auto file,
                            io::AtomicFile::create(detail::join(w.temp_dir, kIndexFileName)));
    w.index_file.emplace(std::move(file));
    const std::vector<uint8_t> zeros(h.header_bytes, 0);  // the header is written last
    STRATA_RETURN_IF_ERROR(w.index_file->append(zeros.data(), zeros.size()));
    w.sectors.reset(size_t{w.layout().sectors_per_node} * kSectorBytes, kSectorBytes);
    w.sectors.fill_zero();
    w.sorted.reserve(params.degree_max);
    return writer;
} catch (const std::bad_alloc&) {
    return Status::resource_exhausted(fmt::format("{}: out of memory creating the index", dir_in));
}

Status IndexWriter::append_node(const void* vector, std::span<const uint32_t> neighbors) {
    Impl& w = *impl_;
    STRATA_RETURN_IF_ERROR(w.usable());
    const NodeLayout& l = w.layout();
    STRATA_CHECK(neighbors.size() <= l.degree_max);
    if (w.appended >= l.node_count) {
        return Status::invalid_argument(fmt::format(
            "{}: node {} is past the declared node count {}", w.dir, w.appended, l.node_count));
    }
    STRATA_RETURN_IF_ERROR(w.check_neighbors(neighbors));
    l.encode_node(vector, neighbors, w.sectors.data() + l.offset_in_sector(w.appended));
    ++w.appended;
    if (l.sectors_per_node > 1) return w.flush_sectors(l.sectors_per_node);
    if (w.appended % l.nodes_per_sector == 0) return w.flush_sectors(1);
    return Status::ok();
}

uint64_t IndexWriter::nodes_appended() const { return impl_->appended; }

Status IndexWriter::set_entry_point(uint32_t id) {
    STRATA_RETURN_IF_ERROR(impl_->usable());
    if (id >= impl_->params.node_count) {
        return Status::invalid_argument(fmt::format("{}: entry point {} is not a node of {}",
                                                    impl_->dir, id, impl_->params.node_count));
    }
    impl_->header.entry_point = id;
    return Status::ok();
}

Status IndexWriter::add_file(FileKind kind, std::string_view payload, uint32_t record_bytes) {
    STRATA_RETURN_IF_ERROR(begin_file(kind, record_bytes));
    STRATA_RETURN_IF_ERROR(append_file(payload.data(), payload.size()));
    return end_file();
}

Status IndexWriter::begin_file(FileKind kind, uint32_t record_bytes) try {
    Impl& w = *impl_;
    STRATA_RETURN_IF_ERROR(w.usable());
    const auto code = static_cast<uint32_t>(kind);
    if (w.companion.has_value()) {
        return Status::invalid_argument(
            fmt::format("{}: {} is still open", w.dir, default_file_name(w.companion_header.kind)));
    }
    if (!is_known_kind(kind) || kind == FileKind::kMetaJson) {
        return Status::invalid_argument(fmt::format(
            "{}: file kind {} cannot be added (meta.json is written by finish)", w.dir, code));
    }
    const std::string_view name = default_file_name(kind);
    if (w.header.find(kind) != nullptr) {
        return Status::invalid_argument(fmt::format("{}: {} added twice", w.dir, name));
    }
    if ((kind == FileKind::kIds && record_bytes != 8) ||
        (is_per_node_kind(kind) && record_bytes == 0)) {
        return Status::invalid_argument(fmt::format("{}: {} needs record_bytes {} (got {})", w.dir,
                                                    name, kind == FileKind::kIds ? "8" : "> 0",
                                                    record_bytes));
    }
    auto file = io::AtomicFile::create(detail::join(w.temp_dir, name));
    if (!file.is_ok()) return w.fail(file.status());
    w.companion.emplace(std::move(file).value());
    w.companion_header = CompanionHeader{};
    w.companion_header.kind = kind;
    w.companion_header.record_bytes = record_bytes;
    w.companion_header.index_uid = w.header.index_uid;
    w.companion_hash.reset();
    const std::vector<uint8_t> zeros(w.companion_header.header_bytes, 0);
    Status s = w.companion->append(zeros.data(), zeros.size());
    return s.is_ok() ? s : w.fail(std::move(s));
} catch (const std::bad_alloc&) {
    return impl_->fail(Status::resource_exhausted(fmt::format("{}: out of memory", impl_->dir)));
}

Status IndexWriter::append_file(const void* data, size_t bytes) {
    Impl& w = *impl_;
    STRATA_RETURN_IF_ERROR(w.usable());
    if (!w.companion.has_value()) {
        return Status::invalid_argument(fmt::format("{}: append_file without begin_file", w.dir));
    }
    w.companion_hash.update(data, bytes);
    w.companion_header.payload_bytes += bytes;
    Status s = w.companion->append(data, bytes);
    return s.is_ok() ? s : w.fail(std::move(s));
}

Status IndexWriter::end_file() try {
    Impl& w = *impl_;
    STRATA_RETURN_IF_ERROR(w.usable());
    if (!w.companion.has_value()) {
        return Status::invalid_argument(fmt::format("{}: end_file without begin_file", w.dir));
    }
    CompanionHeader& c = w.companion_header;
    const std::string name(default_file_name(c.kind));
    const uint64_t n = w.params.node_count;
    const bool bad_records = c.record_bytes != 0 && c.payload_bytes % c.record_bytes != 0;
    const bool bad_count =
        is_per_node_kind(c.kind) && c.payload_bytes != n * uint64_t{c.record_bytes};
    if (bad_records || bad_count) {
        w.companion.reset();  // dropped; the caller may add the kind again
        return Status::invalid_argument(fmt::format(
            "{}: {} has {} bytes, expected {} records of {} bytes", w.dir, name, c.payload_bytes,
            bad_count ? fmt::format("{}", n) : std::string("whole"), c.record_bytes));
    }
    c.payload_xxh3 = w.companion_hash.digest();
    std::vector<uint8_t> bytes(c.header_bytes);
    encode_companion_header(c, bytes);
    Status s = w.companion->write_at(0, bytes.data(), bytes.size());
    if (s.is_ok()) s = w.companion->commit();
    w.companion.reset();
    if (!s.is_ok()) return w.fail(std::move(s));
    w.header.files.push_back(
        FileEntry{c.kind, name, c.header_bytes + c.payload_bytes, c.payload_xxh3});
    return Status::ok();
} catch (const std::bad_alloc&) {
    return impl_->fail(Status::resource_exhausted(fmt::format("{}: out of memory", impl_->dir)));
}

Status IndexWriter::finish(std::string_view meta_json) try {
    Impl& w = *impl_;
    STRATA_RETURN_IF_ERROR(w.usable());
    if (w.companion.has_value()) {
        return Status::invalid_argument(fmt::format("{}: finish with {} still open", w.dir,
                                                    default_file_name(w.companion_header.kind)));
    }
    if (w.appended != w.params.node_count) {
        return Status::invalid_argument(
            fmt::format("{}: finish after {} of {} nodes", w.dir, w.appended, w.params.node_count));
    }
    if (w.params.node_count > 0 && w.header.entry_point == kNoNode) {
        return Status::invalid_argument(fmt::format("{}: no entry point set", w.dir));
    }
    const size_t first = meta_json.find_first_not_of(" \t\r\n");
    const size_t last = meta_json.find_last_not_of(" \t\r\n");
    if (first == std::string_view::npos || meta_json[first] != '{' || meta_json[last] != '}') {
        return Status::invalid_argument(fmt::format("{}: meta.json must be a JSON object", w.dir));
    }
    STRATA_RETURN_IF_ERROR(w.write_checksum_section());
    if (w.header.find(FileKind::kIds) == nullptr) {
        STRATA_RETURN_IF_ERROR(begin_file(FileKind::kIds, sizeof(uint64_t)));
        STRATA_RETURN_IF_ERROR(w.write_default_ids());
        STRATA_RETURN_IF_ERROR(end_file());
    }
    STRATA_RETURN_IF_ERROR(w.write_meta(meta_json));
    std::sort(w.header.files.begin(), w.header.files.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.kind < b.kind; });
    std::vector<uint8_t> header(w.header.header_bytes);
    encode_index_header(w.header, header);
    Status s = w.index_file->write_at(0, header.data(), header.size());
    if (s.is_ok()) s = w.index_file->commit();  // fsync, rename, fsync the temp directory
    w.index_file.reset();
    if (!s.is_ok()) return w.fail(std::move(s));
    s = w.publish();
    if (!s.is_ok()) {
        // Before the rename the temp directory is removed by the destructor; after it (only the
        // final fsync of the parent can fail then) the index is in place and must stay.
        struct stat st {};
        if (::lstat(w.temp_dir.c_str(), &st) != 0) w.finished = true;
        return w.fail(std::move(s));
    }
    w.finished = true;
    return Status::ok();
} catch (const std::bad_alloc&) {
    return impl_->fail(Status::resource_exhausted(fmt::format("{}: out of memory", impl_->dir)));
}

const std::string& IndexWriter::dir() const { return impl_->dir; }
const std::string& IndexWriter::temp_dir() const { return impl_->temp_dir; }
const NodeLayout& IndexWriter::layout() const { return impl_->layout(); }

Result<uint64_t> remove_stale_temp_dirs(const std::string& dir_in) {
    const std::string dir = detail::strip_trailing_slashes(dir_in);
    const std::string parent = detail::parent_dir(dir);
    const std::string prefix = detail::base_name(dir) + ".tmp-";
    uint64_t removed = 0;
    std::error_code ec;
    fs::directory_iterator it(parent, ec);
    if (ec) return Status::io_error(fmt::format("{}: cannot list directory", parent), ec.value());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.rfind(prefix, 0) != 0 || !detail::is_temp_dir_name(name)) continue;
        const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
        if (pid <= 0 || pid == ::getpid()) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // may be alive
        fs::remove_all(it->path(), ec);
        if (ec) {
            return Status::io_error(fmt::format("{}: cannot remove", it->path().string()),
                                    ec.value());
        }
        ++removed;
    }
    if (ec) return Status::io_error(fmt::format("{}: cannot list directory", parent), ec.value());
    return removed;
}

}  // namespace strata::disk
