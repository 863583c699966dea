#include "collection/manifest.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "disk/checksum.hpp"
#include "disk/dir_util.hpp"
#include "io/file_util.hpp"

namespace strata::collection {
namespace {

constexpr const char* kMagic = "strata-collection 1";

Status bad(const std::string& path, const std::string& what) {
    return Status::corruption(fmt::format("{}: {}", path, what));
}

template <typename T>
bool parse_uint(const std::string& s, T* out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_double(const std::string& s, double* out) {
    char* end = nullptr;
    errno = 0;
    *out = std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size() && errno == 0 && std::isfinite(*out);
}

}  // namespace

std::string generation_dir_name(uint64_t generation) {
    return fmt::format("gen-{:06d}", generation);
}

std::string generation_path(const std::string& dir, uint64_t generation) {
    return disk::detail::join(dir, generation_dir_name(generation));
}

std::string Manifest::encode() const {
    std::string body = fmt::format(
        "{}\ndim {}\nmetric {}\ndtype {}\ndegree_max {}\nlist_size {}\nalpha {}\npq_bytes {}\n"
        "generation {}\nwal_from_lsn {}\nnext_id {}\nrecall {:.6f}\n",
        kMagic, params.dim, metric_name(params.metric), dtype_name(params.dtype), params.degree_max,
        params.list_size, params.alpha, params.pq_bytes, generation, wal_from_lsn, next_id, recall);
    body += fmt::format("checksum {:016x}\n", disk::xxh3_64(body.data(), body.size()));
    return body;
}

Result<Manifest> Manifest::decode(const std::string& text, const std::string& path) {
    const size_t cpos = text.rfind("checksum ");
    if (text.rfind(kMagic, 0) != 0) return bad(path, "not a strata collection MANIFEST");
    if (cpos == std::string::npos || text.empty() || text.back() != '\n') {
        return bad(path, "MANIFEST is truncated (no checksum line)");
    }
    uint64_t want = 0;
    const std::string hex = text.substr(cpos + 9, text.size() - cpos - 10);
    const auto r = std::from_chars(hex.data(), hex.data() + hex.size(), want, 16);
    if (r.ec != std::errc() || r.ptr != hex.data() + hex.size() ||
        disk::xxh3_64(text.data(), cpos) != want) {
        return bad(path, "MANIFEST checksum mismatch (the file is damaged)");
    }
    std::map<std::string, std::string> kv;
    std::istringstream in(text.substr(0, cpos));
    std::string line;
    std::getline(in, line);  // magic
    while (std::getline(in, line)) {
        const size_t sp = line.find(' ');
        if (sp == std::string::npos) return bad(path, fmt::format("bad line '{}'", line));
        kv[line.substr(0, sp)] = line.substr(sp + 1);
    }
    Manifest m;
    auto need = [&](const char* key) -> Result<std::string> {
        auto it = kv.find(key);
        if (it == kv.end()) return bad(path, fmt::format("MANIFEST lacks '{}'", key));
        return it->second;
    };
    auto get_uint = [&](const char* key, auto* out) -> Status {
        STRATA_ASSIGN_OR_RETURN(std::string v, need(key));
        if (!parse_uint(v, out)) return bad(path, fmt::format("bad {} '{}'", key, v));
        return Status::ok();
    };
    STRATA_RETURN_IF_ERROR(get_uint("dim", &m.params.dim));
    STRATA_RETURN_IF_ERROR(get_uint("degree_max", &m.params.degree_max));
    STRATA_RETURN_IF_ERROR(get_uint("list_size", &m.params.list_size));
    STRATA_RETURN_IF_ERROR(get_uint("pq_bytes", &m.params.pq_bytes));
    STRATA_RETURN_IF_ERROR(get_uint("generation", &m.generation));
    STRATA_RETURN_IF_ERROR(get_uint("wal_from_lsn", &m.wal_from_lsn));
    STRATA_RETURN_IF_ERROR(get_uint("next_id", &m.next_id));
    STRATA_ASSIGN_OR_RETURN(std::string metric, need("metric"));
    auto mt = parse_metric(metric);
    if (!mt.is_ok()) return bad(path, fmt::format("bad metric '{}'", metric));
    m.params.metric = *mt;
    STRATA_ASSIGN_OR_RETURN(std::string dtype, need("dtype"));
    auto dt = parse_dtype(dtype);
    if (!dt.is_ok()) return bad(path, fmt::format("bad dtype '{}'", dtype));
    m.params.dtype = *dt;
    double d = 0;
    STRATA_ASSIGN_OR_RETURN(std::string alpha, need("alpha"));
    if (!parse_double(alpha, &d)) return bad(path, fmt::format("bad alpha '{}'", alpha));
    m.params.alpha = static_cast<float>(d);
    STRATA_ASSIGN_OR_RETURN(std::string recall, need("recall"));
    if (!parse_double(recall, &m.recall)) return bad(path, fmt::format("bad recall '{}'", recall));
    if (Status s = m.params.validate(); !s.is_ok()) return bad(path, s.message());
    if (m.wal_from_lsn == 0) return bad(path, "wal_from_lsn must be >= 1");
    return m;
}

Result<Manifest> read_manifest(const std::string& dir) {
    const std::string path = disk::detail::join(dir, kManifestName);
    STRATA_ASSIGN_OR_RETURN(std::string text, io::read_file(path));
    return Manifest::decode(text, path);
}

Status write_manifest(const std::string& dir, const Manifest& manifest) {
    return io::atomic_write_file(disk::detail::join(dir, kManifestName), manifest.encode());
}

}  // namespace strata::collection
