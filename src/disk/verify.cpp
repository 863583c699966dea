// verify_index: streams index.strata and every companion once, hashing and checking structure.
#include "disk/verify.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>

#include <fmt/format.h>

#include "core/aligned_buffer.hpp"
#include "disk/checksum.hpp"
#include "disk/dir_util.hpp"
#include "disk/format.hpp"
#include "disk/labels_file.hpp"
#include "disk/nav_graph.hpp"

namespace strata::disk {
namespace {

constexpr size_t kChunkBytes = size_t{4} << 20;

bool all_zero(const uint8_t* p, size_t bytes) {
    return std::all_of(p, p + bytes, [](uint8_t b) { return b == 0; });
}

class Verifier {
  public:
    Verifier(std::string dir, const VerifyOptions& options)
        : dir_(std::move(dir)), options_(options) {}

    Result<VerifyReport> run();

  private:
    void problem(std::string message);
    /// Records a Corruption/NotSupported status as a problem (false); keeps other errors as
    /// the fatal result (false); true when OK.
    bool absorb(const Status& s);
    void progress(uint64_t bytes);
    /// Feeds [offset, offset + bytes) of `fd` to `hash` chunk by chunk, calling `each(data, n)`.
    template <typename Fn>
    bool stream(int fd, const std::string& path, uint64_t offset, uint64_t bytes, Xxh3Stream& hash,
                Fn&& each);

    void check_index_file();
    std::optional<std::vector<uint64_t>> read_block_sums();
    void check_nodes(const std::vector<uint64_t>* sums);
    void check_sector(uint64_t sector, const uint8_t* data);
    void check_node(uint64_t id, const uint8_t* node);
    void check_companion_file(const FileEntry& entry);
    void check_unreferenced_companions();
    void check_ids(std::vector<uint64_t>& ids, const std::string& path);

    std::string dir_;
    std::string index_path_;
    const VerifyOptions& options_;
    VerifyReport report_;
    Status fatal_;
    detail::Fd fd_;
    uint64_t index_bytes_ = 0;
    std::optional<IndexHeader> header_;
    uint64_t total_bytes_ = 0;
    AlignedBuffer<uint8_t> chunk_;  ///< read buffer, sector multiple, grown on demand
    AlignedBuffer<uint8_t> node_buf_;
    std::vector<uint32_t> sorted_;
};

void Verifier::problem(std::string message) {
    ++report_.problem_count;
    if (report_.problems.size() < options_.max_problems) {
        report_.problems.push_back(std::move(message));
    }
}

bool Verifier::absorb(const Status& s) {
    if (s.is_ok()) return true;
    if (s.code() == StatusCode::kCorruption || s.code() == StatusCode::kNotSupported) {
        problem(s.message());
    } else if (fatal_.is_ok()) {
        fatal_ = s;
    }
    return false;
}

void Verifier::progress(uint64_t bytes) {
    report_.bytes_read += bytes;
    if (options_.progress) options_.progress(report_.bytes_read, total_bytes_);
}

template <typename Fn>
bool Verifier::stream(int fd, const std::string& path, uint64_t offset, uint64_t bytes,
                      Xxh3Stream& hash, Fn&& each) {
    // The buffer grows to the largest read needed, at most kChunkBytes: small indexes stay
    // cheap to verify.
    const uint64_t want = std::min<uint64_t>(bytes, kChunkBytes);
    if (chunk_.size() < want) {
        chunk_.reset(static_cast<size_t>((want + kSectorBytes - 1) / kSectorBytes * kSectorBytes),
                     kSectorBytes);
    }
    while (bytes > 0) {
        const auto n = static_cast<size_t>(std::min<uint64_t>(bytes, chunk_.size()));
        if (!absorb(detail::pread_exact(fd, path, chunk_.data(), n, offset))) return false;
        hash.update(chunk_.data(), n);
        each(chunk_.data(), n);
        progress(n);
        offset += n;
        bytes -= n;
    }
    return true;
}

Result<VerifyReport> Verifier::run() {
    if (detail::is_temp_dir_name(detail::base_name(dir_))) {
        problem(
            fmt::format("{}: the temporary directory of an unfinished or interrupted build", dir_));
    }
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) {
        if (errno == ENOENT) return Status::not_found(fmt::format("{}: no such directory", dir_));
        return Status::io_error(fmt::format("{}: stat failed", dir_), errno);
    }
    if (!S_ISDIR(st.st_mode)) {
        return Status::invalid_argument(fmt::format("{}: not a directory", dir_));
    }
    index_path_ = detail::join(dir_, kIndexFileName);
    check_index_file();
    if (!fatal_.is_ok()) return fatal_;
    if (header_.has_value()) {
        for (const FileKind required : {FileKind::kMetaJson, FileKind::kIds}) {
            if (header_->find(required) == nullptr) {
                problem(fmt::format("{}: the files table lacks {}", index_path_,
                                    default_file_name(required)));
            }
        }
        for (const FileEntry& e : header_->files) {
            check_companion_file(e);
            if (!fatal_.is_ok()) return fatal_;
        }
    } else {
        check_unreferenced_companions();
        if (!fatal_.is_ok()) return fatal_;
    }
    return std::move(report_);
}

void Verifier::check_index_file() {
    auto fd = detail::open_regular(index_path_, &index_bytes_);
    if (!fd.is_ok()) {
        if (fd.status().code() == StatusCode::kNotFound) {
            problem(fmt::format("{}: missing", index_path_));
        } else if (fd.status().code() == StatusCode::kInvalidArgument) {
            problem(fd.status().message());
        } else {
            fatal_ = fd.status();
        }
        return;
    }
    fd_ = std::move(fd).value();
    std::vector<uint8_t> head(
        static_cast<size_t>(std::min<uint64_t>(index_bytes_, kMaxIndexHeaderBytes)));
    if (!absorb(detail::pread_exact(fd_.get(), index_path_, head.data(), head.size(), 0))) return;
    auto header = decode_index_header(index_path_, head);
    if (!absorb(header.status())) return;
    header_ = std::move(header).value();
    total_bytes_ = index_bytes_;
    for (const FileEntry& e : header_->files) total_bytes_ += e.file_bytes;
    progress(header_->header_bytes);
    if (index_bytes_ != header_->file_bytes()) {
        problem(fmt::format("{}: {}: the header describes {} bytes, the file has {}", index_path_,
                            index_bytes_ < header_->file_bytes() ? "truncated" : "trailing bytes",
                            header_->file_bytes(), index_bytes_));
    }
    const std::optional<std::vector<uint64_t>> sums = read_block_sums();
    if (!fatal_.is_ok()) return;
    check_nodes(sums.has_value() ? &*sums : nullptr);
}

std::optional<std::vector<uint64_t>> Verifier::read_block_sums() {
    const IndexHeader& h = *header_;
    if (h.checksum_section_offset + h.checksum_section_bytes > index_bytes_) {
        problem(fmt::format("{}: the block checksum table at offset {} is past the end of the file",
                            index_path_, h.checksum_section_offset));
        return std::nullopt;
    }
    std::vector<uint64_t> sums(static_cast<size_t>(h.checksum_block_count()));
    if (!absorb(detail::pread_exact(fd_.get(), index_path_, sums.data(), h.checksum_section_bytes,
                                    h.checksum_section_offset))) {
        return std::nullopt;
    }
    const uint64_t computed = xxh3_64(sums.data(), h.checksum_section_bytes);
    if (computed != h.checksum_section_xxh3) {
        problem(
            fmt::format("{}: block checksum table (offset {}, {} bytes) checksum mismatch "
                        "(stored {:016x}, computed {:016x})",
                        index_path_, h.checksum_section_offset, h.checksum_section_bytes,
                        h.checksum_section_xxh3, computed));
    }
    return sums;
}

void Verifier::check_nodes(const std::vector<uint64_t>* sums) {
    const IndexHeader& h = *header_;
    const NodeLayout& l = h.layout;
    node_buf_.reset(size_t{l.sectors_per_node} * kSectorBytes, kSectorBytes);
    sorted_.reserve(l.degree_max);
    const uint64_t section = l.node_section_bytes();
    uint64_t sector = 0;
    Xxh3Stream hash;
    for (uint64_t b = 0; b < h.checksum_block_count(); ++b) {
        const uint64_t begin = b * h.checksum_block_bytes;
        const uint64_t bytes = std::min<uint64_t>(h.checksum_block_bytes, section - begin);
        hash.reset();
        const bool read = stream(fd_.get(), index_path_, l.node_section_offset_bytes + begin, bytes,
                                 hash, [&](const uint8_t* data, size_t n) {
                                     for (size_t off = 0; off < n; off += kSectorBytes) {
                                         check_sector(sector++, data + off);
                                     }
                                 });
        if (!read) return;  // truncated (already reported) or an I/O error
        ++report_.blocks_checked;
        const uint64_t computed = hash.digest();
        if (sums != nullptr && computed != (*sums)[b]) {
            const auto [first, last] = l.nodes_in_range(begin, begin + bytes);
            problem(fmt::format(
                "{}: node block {} (node-section bytes {}..{}, nodes {}..{}) checksum mismatch "
                "(stored {:016x}, computed {:016x})",
                index_path_, b, begin, begin + bytes - 1, first, last == first ? first : last - 1,
                (*sums)[b], computed));
        }
    }
}

void Verifier::check_sector(uint64_t sector, const uint8_t* data) {
    const NodeLayout& l = header_->layout;
    if (l.sectors_per_node == 1) {
        const uint64_t first = sector * l.nodes_per_sector;
        const auto count =
            static_cast<uint32_t>(std::min<uint64_t>(l.nodes_per_sector, l.node_count - first));
        for (uint32_t k = 0; k < count; ++k) check_node(first + k, data + size_t{k} * l.node_bytes);
        const size_t used = size_t{count} * l.node_bytes;
        if (!all_zero(data + used, kSectorBytes - used)) {
            problem(fmt::format("{}: node sector {} has non-zero padding after its {} nodes",
                                index_path_, l.sector_of(first), count));
        }
        return;
    }
    const uint64_t id = sector / l.sectors_per_node;
    const uint64_t part = sector % l.sectors_per_node;
    std::memcpy(node_buf_.data() + part * kSectorBytes, data, kSectorBytes);
    if (part + 1 < l.sectors_per_node) return;
    check_node(id, node_buf_.data());
    const size_t span = size_t{l.sectors_per_node} * kSectorBytes;
    if (!all_zero(node_buf_.data() + l.node_bytes, span - l.node_bytes)) {
        problem(fmt::format("{}: node {}: non-zero padding after the node in its last sector",
                            index_path_, id));
    }
}

void Verifier::check_node(uint64_t id, const uint8_t* node) {
    const NodeLayout& l = header_->layout;
    ++report_.nodes_checked;
    const size_t raw_vector = size_t{l.dim} * dtype_size(l.dtype);
    if (!all_zero(node + raw_vector, l.vector_bytes - raw_vector)) {
        problem(fmt::format("{}: node {}: non-zero padding after the vector", index_path_, id));
    }
    const NodeView v = l.view_node(node);
    if (!v.valid(l.degree_max)) {
        problem(fmt::format("{}: node {}: degree {} exceeds R = {}", index_path_, id, v.degree,
                            l.degree_max));
    }
    sorted_.assign(v.neighbors.begin(), v.neighbors.end());
    std::sort(sorted_.begin(), sorted_.end());
    for (size_t i = 0; i < sorted_.size(); ++i) {
        const uint32_t n = sorted_[i];
        if (n >= l.node_count) {
            problem(fmt::format("{}: node {}: neighbour id {} is not below the node count {}",
                                index_path_, id, n, l.node_count));
        } else if (n == id) {
            problem(fmt::format("{}: node {}: lists itself as a neighbour", index_path_, id));
        } else if (i > 0 && sorted_[i - 1] == n) {
            problem(fmt::format("{}: node {}: neighbour {} listed twice", index_path_, id, n));
        }
    }
    const size_t used = l.neighbors_offset() + v.neighbors.size() * sizeof(uint32_t);
    if (!all_zero(node + used, l.node_bytes - used)) {
        problem(fmt::format("{}: node {}: unused neighbour slots after degree {} are not zero",
                            index_path_, id, v.degree));
    }
}

void Verifier::check_companion_file(const FileEntry& e) {
    const std::string path = detail::join(dir_, e.name);
    uint64_t size_bytes = 0;
    auto fd = detail::open_regular(path, &size_bytes);
    if (!fd.is_ok()) {
        if (fd.status().code() == StatusCode::kNotFound) {
            problem(fmt::format("{}: missing (listed in {})", path, index_path_));
        } else if (fd.status().code() == StatusCode::kInvalidArgument) {
            problem(fd.status().message());
        } else {
            fatal_ = fd.status();
        }
        return;
    }
    if (size_bytes != e.file_bytes) {
        problem(fmt::format("{}: {} bytes, {} records {}", path, size_bytes, index_path_,
                            e.file_bytes));
        return;
    }
    uint64_t offset = 0;
    uint64_t expected = e.content_xxh3;
    const char* what = "content";
    if (e.kind != FileKind::kMetaJson) {
        auto c = detail::read_companion_header(fd->get(), path, size_bytes);
        if (!absorb(c.status())) return;
        absorb(detail::check_companion(path, *c, e, *header_));
        offset = c->header_bytes;
        expected = c->payload_xxh3;
        what = "payload";
    }
    const uint64_t payload = size_bytes - offset;
    const bool collect_ids =
        e.kind == FileKind::kIds && payload % 8 == 0 && payload <= options_.id_check_memory_bytes;
    std::vector<uint64_t> ids;
    if (collect_ids) ids.reserve(static_cast<size_t>(payload / 8));
    // The navigation graph is small (about 1% of the nodes): its structure is checked whole.
    // So are the labels (their structure: ranges, order, start nodes), within the same limit.
    const bool collect_nav = (e.kind == FileKind::kNavGraph || e.kind == FileKind::kLabels) &&
                             payload <= options_.id_check_memory_bytes;
    std::string nav;
    Xxh3Stream hash;
    const bool read =
        stream(fd->get(), path, offset, payload, hash, [&](const uint8_t* data, size_t n) {
            if (collect_nav) nav.append(reinterpret_cast<const char*>(data), n);
            if (!collect_ids) return;
            const size_t old = ids.size();
            ids.resize(old + n / 8);
            std::memcpy(ids.data() + old, data, n);
        });
    if (!read) return;
    const uint64_t computed = hash.digest();
    if (computed != expected) {
        problem(fmt::format("{}: {} checksum mismatch (stored {:016x}, computed {:016x})", path,
                            what, expected, computed));
    }
    if (e.kind == FileKind::kIds && !collect_ids) {
        report_.notes.push_back(
            fmt::format("{}: duplicate external id check skipped ({} bytes over the memory limit)",
                        path, payload));
    }
    if (collect_ids) check_ids(ids, path);
    if (collect_nav && computed == expected && e.kind == FileKind::kNavGraph) {
        auto decoded = NavGraph::decode(nav, header_->layout.node_count, path);
        if (!decoded.is_ok()) problem(decoded.status().message());
    }
    if (collect_nav && computed == expected && e.kind == FileKind::kLabels) {
        auto decoded = IndexLabels::decode(nav, header_->layout.node_count, path);
        if (!decoded.is_ok()) problem(decoded.status().message());
    }
}

void Verifier::check_ids(std::vector<uint64_t>& ids, const std::string& path) {
    std::sort(ids.begin(), ids.end());
    const auto dup = std::adjacent_find(ids.begin(), ids.end());
    if (dup != ids.end()) {
        problem(fmt::format("{}: external id {} appears more than once", path, *dup));
    }
}

void Verifier::check_unreferenced_companions() {
    report_.notes.push_back(fmt::format(
        "{}: without a valid header, companions are checked only against their own headers and "
        "meta.json cannot be checked",
        index_path_));
    for (const FileKind kind : {FileKind::kPqCodebook, FileKind::kPqCodes, FileKind::kIds,
                                FileKind::kNavGraph, FileKind::kLabels}) {
        const std::string path = detail::join(dir_, default_file_name(kind));
        uint64_t size_bytes = 0;
        auto fd = detail::open_regular(path, &size_bytes);
        if (!fd.is_ok()) continue;
        auto c = detail::read_companion_header(fd->get(), path, size_bytes);
        if (!absorb(c.status())) continue;
        Xxh3Stream hash;
        if (!stream(fd->get(), path, c->header_bytes, c->payload_bytes, hash,
                    [](const uint8_t*, size_t) {})) {
            continue;
        }
        if (hash.digest() != c->payload_xxh3) {
            problem(fmt::format("{}: payload checksum mismatch (stored {:016x}, computed {:016x})",
                                path, c->payload_xxh3, hash.digest()));
        }
    }
}

}  // namespace

Status VerifyOptions::validate() const {
    if (max_problems == 0) return Status::invalid_argument("max_problems must be at least 1");
    return Status::ok();
}

Result<VerifyReport> verify_index(const std::string& dir, const VerifyOptions& options) try {
    STRATA_RETURN_IF_ERROR(options.validate());
    Verifier verifier(detail::strip_trailing_slashes(dir), options);
    return verifier.run();
} catch (const std::bad_alloc&) {
    return Status::resource_exhausted(fmt::format("{}: out of memory verifying the index", dir));
}

}  // namespace strata::disk
