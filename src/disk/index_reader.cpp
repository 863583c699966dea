// IndexReader: header, layout and file-set checks at open; companion and node reads.
#include "disk/index_reader.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <exception>
#include <vector>

#include <fmt/format.h>

#include "disk/checksum.hpp"

namespace strata::disk {
namespace {

/// Reads and decodes the header of the open index.strata (`size_bytes` long).
Result<IndexHeader> read_header(int fd, const std::string& path, uint64_t size_bytes) {
    std::vector<uint8_t> bytes(static_cast<size_t>(std::min<uint64_t>(size_bytes, kSectorBytes)));
    STRATA_RETURN_IF_ERROR(detail::pread_exact(fd, path, bytes.data(), bytes.size(), 0));
    STRATA_ASSIGN_OR_RETURN(const uint32_t header_bytes, check_index_preamble(path, bytes));
    if (header_bytes > size_bytes) {
        return Status::corruption(fmt::format("{}: truncated: {} bytes, the header alone needs {}",
                                              path, size_bytes, header_bytes));
    }
    if (header_bytes > bytes.size()) {
        bytes.resize(header_bytes);
        STRATA_RETURN_IF_ERROR(detail::pread_exact(fd, path, bytes.data(), bytes.size(), 0));
    }
    return decode_index_header(path, bytes);
}

}  // namespace

Result<IndexReader> IndexReader::open(const std::string& dir_in) try {
    IndexReader r;
    r.dir_ = detail::strip_trailing_slashes(dir_in);
    if (detail::is_temp_dir_name(detail::base_name(r.dir_))) {
        return Status::corruption(fmt::format(
            "{}: the temporary directory of an unfinished or interrupted build, not an index",
            r.dir_));
    }
    struct stat st {};
    if (::stat(r.dir_.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return Status::not_found(fmt::format("{}: no such index directory", r.dir_));
        }
        return Status::io_error(fmt::format("{}: stat failed", r.dir_), errno);
    }
    if (!S_ISDIR(st.st_mode)) {
        return Status::invalid_argument(fmt::format(
            "{}: not a directory (an index is a directory holding {})", r.dir_, kIndexFileName));
    }
    r.index_path_ = detail::join(r.dir_, kIndexFileName);
    uint64_t size_bytes = 0;
    auto fd = detail::open_regular(r.index_path_, &size_bytes);
    if (!fd.is_ok()) {
        if (fd.status().code() == StatusCode::kNotFound) {
            return Status::not_found(fmt::format("{}: no such file ({} is not an index directory)",
                                                 r.index_path_, r.dir_));
        }
        return fd.status();
    }
    r.fd_ = std::move(fd).value();
    STRATA_ASSIGN_OR_RETURN(r.header_, read_header(r.fd_.get(), r.index_path_, size_bytes));
    const uint64_t expected = r.header_.file_bytes();
    if (size_bytes != expected) {
        return Status::corruption(fmt::format(
            "{}: {}: the header describes {} bytes, the file has {}", r.index_path_,
            size_bytes < expected ? "truncated" : "trailing bytes", expected, size_bytes));
    }
    STRATA_RETURN_IF_ERROR(r.check_companions());
    return r;
} catch (const std::bad_alloc&) {
    return Status::resource_exhausted(fmt::format("{}: out of memory opening the index", dir_in));
}

Status IndexReader::check_companions() {
    for (const FileKind required : {FileKind::kMetaJson, FileKind::kIds}) {
        if (!has_file(required)) {
            return Status::corruption(fmt::format("{}: the files table lacks {}", index_path_,
                                                  default_file_name(required)));
        }
    }
    for (const FileEntry& e : header_.files) {
        const std::string path = detail::join(dir_, e.name);
        uint64_t size_bytes = 0;
        auto fd = detail::open_regular(path, &size_bytes);
        if (!fd.is_ok()) {
            if (fd.status().code() != StatusCode::kNotFound) return fd.status();
            return Status::corruption(fmt::format("{}: missing (listed in {})", path, index_path_));
        }
        if (size_bytes != e.file_bytes) {
            return Status::corruption(fmt::format("{}: {} bytes, {} records {}", path, size_bytes,
                                                  index_path_, e.file_bytes));
        }
        if (e.kind == FileKind::kMetaJson) continue;
        STRATA_ASSIGN_OR_RETURN(const CompanionHeader c,
                                detail::read_companion_header(fd->get(), path, size_bytes));
        STRATA_RETURN_IF_ERROR(detail::check_companion(path, c, e, header_));
    }
    return Status::ok();
}

Result<std::string> IndexReader::read_file(FileKind kind) const {
    const FileEntry* e = header_.find(kind);
    if (e == nullptr) {
        return Status::not_found(fmt::format("{}: the index has no file of kind {} ({})", dir_,
                                             static_cast<uint32_t>(kind), default_file_name(kind)));
    }
    const std::string path = detail::join(dir_, e->name);
    STRATA_ASSIGN_OR_RETURN(std::string bytes, io::read_file(path));
    if (bytes.size() != e->file_bytes) {
        return Status::corruption(fmt::format("{}: {} bytes, {} records {}", path, bytes.size(),
                                              index_path_, e->file_bytes));
    }
    size_t payload_offset = 0;
    if (kind != FileKind::kMetaJson) {
        const auto head = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                   std::min<size_t>(bytes.size(), kSectorBytes));
        STRATA_ASSIGN_OR_RETURN(const CompanionHeader c, decode_companion_header(path, head));
        STRATA_RETURN_IF_ERROR(detail::check_companion(path, c, *e, header_));
        payload_offset = c.header_bytes;
    }
    const uint64_t sum = xxh3_64(bytes.data() + payload_offset, bytes.size() - payload_offset);
    if (sum != e->content_xxh3) {
        return Status::corruption(
            fmt::format("{}: content checksum mismatch (computed {:016x}, {} records {:016x})",
                        path, sum, index_path_, e->content_xxh3));
    }
    bytes.erase(0, payload_offset);
    return bytes;
}

Result<CompanionMapping> IndexReader::map_file(FileKind kind) const {
    const FileEntry* e = header_.find(kind);
    if (e == nullptr || kind == FileKind::kMetaJson) {
        return Status::not_found(fmt::format("{}: the index has no companion of kind {} ({})", dir_,
                                             static_cast<uint32_t>(kind), default_file_name(kind)));
    }
    CompanionMapping m;
    STRATA_ASSIGN_OR_RETURN(m.file_, io::MappedFile::open(detail::join(dir_, e->name)));
    if (m.file_.size() != e->file_bytes) {
        return Status::corruption(fmt::format("{}: {} bytes, {} records {}", m.file_.path(),
                                              m.file_.size(), index_path_, e->file_bytes));
    }
    const auto head =
        std::span<const uint8_t>(m.file_.data(), std::min<size_t>(m.file_.size(), kSectorBytes));
    STRATA_ASSIGN_OR_RETURN(m.header_, decode_companion_header(m.file_.path(), head));
    STRATA_RETURN_IF_ERROR(detail::check_companion(m.file_.path(), m.header_, *e, header_));
    if (m.header_.header_bytes + m.header_.payload_bytes != m.file_.size()) {
        return Status::corruption(fmt::format("{}: header and payload sizes do not add up to {}",
                                              m.file_.path(), m.file_.size()));
    }
    return m;
}

Status IndexReader::read_node(uint64_t id, std::span<uint8_t> out) const {
    const NodeLayout& l = header_.layout;
    if (id >= l.node_count) {
        return Status::out_of_range(fmt::format("{}: node {} is not below the node count {}",
                                                index_path_, id, l.node_count));
    }
    if (out.size() < l.node_bytes) {
        return Status::invalid_argument(fmt::format("{}: buffer of {} bytes for a {}-byte node",
                                                    index_path_, out.size(), l.node_bytes));
    }
    return detail::pread_exact(fd_.get(), index_path_, out.data(), l.node_bytes, l.offset_of(id));
}

}  // namespace strata::disk
