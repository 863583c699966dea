// Internal to disk: path helpers, exact preads and companion checks.
#include "disk/dir_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace strata::disk::detail {

std::string strip_trailing_slashes(std::string dir) {
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir;
}

std::string base_name(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string parent_dir(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string join(const std::string& dir, std::string_view name) {
    std::string out = dir;
    if (out.empty() || out.back() != '/') out += '/';
    out += name;
    return out;
}

bool is_temp_dir_name(std::string_view name) {
    const size_t tag = name.rfind(".tmp-");
    if (tag == std::string_view::npos || tag == 0) return false;
    std::string_view rest = name.substr(tag + 5);
    if (rest.size() > 4 && rest.substr(rest.size() - 4) == "-old") {
        rest.remove_suffix(4);
    }
    const size_t dash = rest.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == rest.size()) return false;
    for (size_t i = 0; i < rest.size(); ++i) {
        const char c = rest[i];
        const bool ok = i < dash    ? (c >= '0' && c <= '9')
                        : i == dash ? true
                                    : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        if (!ok) return false;
    }
    return true;
}

Fd::Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

Result<Fd> open_regular(const std::string& path, uint64_t* size_bytes) {
    int raw;
    do {
        raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    } while (raw < 0 && errno == EINTR);
    if (raw < 0) {
        if (errno == ENOENT) return Status::not_found(fmt::format("{}: no such file", path));
        return Status::io_error(fmt::format("{}: open failed", path), errno);
    }
    Fd fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return Status::io_error(fmt::format("{}: fstat failed", path), errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return Status::invalid_argument(fmt::format("{}: not a regular file", path));
    }
    *size_bytes = static_cast<uint64_t>(st.st_size);
    return fd;
}

Status pread_exact(int fd, const std::string& path, void* out, size_t bytes, uint64_t offset) {
    auto* p = static_cast<uint8_t*>(out);
    while (bytes > 0) {
        const ssize_t n = ::pread(fd, p, bytes, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return Status::io_error(
                fmt::format("{}: read of {} bytes at offset {} failed", path, bytes, offset),
                errno);
        }
        if (n == 0) {
            return Status::corruption(
                fmt::format("{}: unexpected end of file at offset {} ({} more bytes expected)",
                            path, offset, bytes));
        }
        p += n;
        bytes -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return Status::ok();
}

Result<CompanionHeader> read_companion_header(int fd, const std::string& path,
                                              uint64_t file_bytes) {
    std::vector<uint8_t> bytes(static_cast<size_t>(std::min<uint64_t>(file_bytes, kSectorBytes)));
    STRATA_RETURN_IF_ERROR(pread_exact(fd, path, bytes.data(), bytes.size(), 0));
    STRATA_ASSIGN_OR_RETURN(CompanionHeader h, decode_companion_header(path, bytes));
    if (h.payload_bytes != file_bytes - h.header_bytes) {
        return Status::corruption(fmt::format(
            "{}: header records a {}-byte payload but the file holds {} bytes after the {}-byte "
            "header",
            path, h.payload_bytes, file_bytes - h.header_bytes, h.header_bytes));
    }
    return h;
}

Status check_companion(const std::string& path, const CompanionHeader& c, const FileEntry& entry,
                       const IndexHeader& index) {
    if (c.kind != entry.kind) {
        return Status::corruption(fmt::format("{}: holds kind {}, index.strata lists kind {}", path,
                                              static_cast<uint32_t>(c.kind),
                                              static_cast<uint32_t>(entry.kind)));
    }
    if (c.index_uid != index.index_uid) {
        return Status::corruption(
            fmt::format("{}: belongs to another index build (uid {:016x}, index.strata has "
                        "{:016x})",
                        path, c.index_uid, index.index_uid));
    }
    if (c.payload_xxh3 != entry.content_xxh3) {
        return Status::corruption(fmt::format(
            "{}: payload checksum {:016x} differs from the {:016x} index.strata records", path,
            c.payload_xxh3, entry.content_xxh3));
    }
    if (c.kind == FileKind::kIds && c.record_bytes != 8) {
        return Status::corruption(
            fmt::format("{}: external ids are {}-byte records, expected 8", path, c.record_bytes));
    }
    if (is_per_node_kind(c.kind)) {
        const uint64_t n = index.layout.node_count;
        if (c.record_bytes == 0 || c.payload_bytes / c.record_bytes != n) {
            return Status::corruption(fmt::format(
                "{}: holds {} bytes of {}-byte records, expected one record per node ({} nodes)",
                path, c.payload_bytes, c.record_bytes, n));
        }
    }
    return Status::ok();
}

}  // namespace strata::disk::detail
