// Collection: exact search over both tiers (the recall reference) and consistent snapshots.
#include <strata/collection.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "collection/collection_impl.hpp"
#include "collection/manifest.hpp"
#include "collection/rows.hpp"
#include "disk/dir_util.hpp"
#include "disk/index_reader.hpp"
#include "distance/distance.hpp"
#include "distance/exact_knn.hpp"
#include "io/file_util.hpp"

namespace strata {

using collection::Generation;
using collection::HotTier;
using collection::Manifest;

Status Collection::exact_search(const void* queries, DType dtype, uint32_t dim, uint64_t nq,
                                uint32_t k, uint64_t* ids, float* dists) const {
    const Impl& m = *impl_;
    const CollectionParams& p = m.params;
    if (dim != p.dim) {
        return Status::invalid_argument(
            fmt::format("query dimension {} does not match the collection's {}", dim, p.dim));
    }
    if (k == 0 || k > 1000) return Status::invalid_argument("k must be in [1, 1000]");
    if (nq == 0) return Status::ok();
    std::vector<uint8_t> q;
    STRATA_RETURN_IF_ERROR(collection::to_stored(p, queries, dtype, nq, q, "query"));
    return m.exact_scan(q.data(), nq, k, {}, ids, dists);
}

Status Collection::Impl::exact_allowed(const uint8_t* query, uint32_t k,
                                       const collection::IdMatch& match,
                                       const LabelFilter* label_filter, uint64_t* ids,
                                       float* dists) const {
    // The caller's predicate runs first and never under a collection lock (it may call back).
    std::vector<uint64_t> wanted;
    for (uint64_t i = 0; i < match.allow_count; ++i) {
        const uint64_t id = match.allow[i];
        if (match.fn == nullptr || match.fn(id, match.context)) wanted.push_back(id);
    }
    // Where each live one is: a hot slot (its tier kept alive by the view taken with it) or a
    // generation node.
    struct Hot {
        const HotTier* tier;
        uint32_t slot;
    };
    std::vector<Hot> hot;
    std::vector<uint64_t> nodes;
    std::shared_ptr<Generation> g;
    std::vector<std::shared_ptr<HotTier>> view;
    {
        std::lock_guard<std::mutex> lock(apply_mu);
        std::lock_guard<std::mutex> vlock(view_mu);
        g = gen;
        view.assign(frozen.begin(), frozen.end());
        view.push_back(active);
        for (uint64_t id : wanted) {
            const auto it = hot_loc.find(id);
            if (it != hot_loc.end()) {
                hot.push_back({it->second.tier, it->second.slot});
                continue;
            }
            const int64_t node = g ? g->node_of(id) : -1;
            if (node >= 0 && !g->dead(static_cast<uint64_t>(node))) {
                nodes.push_back(static_cast<uint64_t>(node));
            }
        }
    }
    const distance::DistanceFn dist =
        distance::distance_fn(collection::stored_dtype(params), params.metric);
    std::vector<std::pair<float, uint64_t>> best;
    for (const Hot& h : hot) {
        if (label_filter != nullptr && !label_filter->matches(h.tier->labels(h.slot))) continue;
        best.emplace_back(dist(query, h.tier->vector(h.slot), params.dim), h.tier->id(h.slot));
    }
    std::sort(nodes.begin(), nodes.end());  // file order
    std::vector<uint8_t> row(row_bytes);
    for (uint64_t node : nodes) {
        if (label_filter != nullptr && !label_filter->matches(g->index().node_labels(node)))
            continue;
        STRATA_RETURN_IF_ERROR(g->index().read_vector(node, row.data()));
        best.emplace_back(dist(query, row.data(), params.dim), g->index().external_id(node));
    }
    const size_t got = std::min<size_t>(k, best.size());
    std::partial_sort(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(got), best.end());
    for (size_t i = 0; i < k; ++i) {
        ids[i] = i < got ? best[i].second : std::numeric_limits<uint64_t>::max();
        if (dists) dists[i] = i < got ? best[i].first : std::numeric_limits<float>::infinity();
    }
    return Status::ok();
}

Status Collection::Impl::exact_scan(const uint8_t* q, uint64_t nq, uint32_t k,
                                    const ExactFilter& filter, uint64_t* ids, float* dists) const {
    const Impl& m = *this;
    const CollectionParams& p = m.params;
    std::shared_ptr<Generation> g;
    std::vector<std::shared_ptr<HotTier>> tiers;
    {
        std::lock_guard<std::mutex> lock(m.view_mu);
        g = m.gen;
        tiers.assign(m.frozen.begin(), m.frozen.end());
        tiers.push_back(m.active);
    }
    const auto keep = [&](uint64_t id, std::span<const uint32_t> row_labels) {
        return (filter.labels == nullptr || filter.labels->matches(row_labels)) &&
               (filter.ids == nullptr || (*filter.ids)(id));
    };
    // Running top k per query (max-heaps on distance), fed block by block.
    using Hit = std::pair<float, uint64_t>;
    std::vector<std::vector<Hit>> best(nq);
    constexpr uint64_t kBlock = 4096;
    std::vector<uint8_t> rows;
    rows.reserve(kBlock * m.row_bytes);
    std::vector<uint64_t> row_ids;
    std::vector<uint32_t> bi;
    std::vector<float> bd;
    const distance::MatrixView qv{q, nq, p.dim, p.dtype, m.row_bytes};
    auto flush = [&]() -> Status {
        if (row_ids.empty()) return Status::ok();
        const auto kk = static_cast<uint32_t>(std::min<uint64_t>(k, row_ids.size()));
        const distance::MatrixView base{rows.data(), row_ids.size(), p.dim, p.dtype, m.row_bytes};
        distance::ExactKnnOptions eo;
        eo.k = kk;
        eo.metric = p.metric;
        eo.threads = 1;
        bi.resize(nq * kk);
        bd.resize(nq * kk);
        STRATA_RETURN_IF_ERROR(distance::exact_knn(base, qv, eo, bi.data(), bd.data()));
        for (uint64_t i = 0; i < nq; ++i) {
            auto& h = best[i];
            for (uint32_t j = 0; j < kk; ++j) {
                const Hit hit{bd[i * kk + j], row_ids[bi[i * kk + j]]};
                if (h.size() < k) {
                    h.push_back(hit);
                    std::push_heap(h.begin(), h.end());
                } else if (hit < h.front()) {
                    std::pop_heap(h.begin(), h.end());
                    h.back() = hit;
                    std::push_heap(h.begin(), h.end());
                }
            }
        }
        rows.clear();
        row_ids.clear();
        return Status::ok();
    };
    auto add = [&](uint64_t id, const void* v) -> Status {
        const auto* b = static_cast<const uint8_t*>(v);
        rows.insert(rows.end(), b, b + m.row_bytes);
        row_ids.push_back(id);
        return row_ids.size() == kBlock ? flush() : Status::ok();
    };
    if (g && g->live_count() > 0) {
        // The node section in 1 MiB reads (whole sectors, so no node is cut).
        STRATA_ASSIGN_OR_RETURN(auto reader, disk::IndexReader::open(g->dir()));
        const auto& layout = reader.layout();
        const uint64_t stride = uint64_t{layout.sectors_per_node} * disk::kSectorBytes;
        const uint64_t chunk = std::max<uint64_t>(1, (1u << 20) / stride) * stride;
        const uint64_t section = layout.node_section_bytes();
        std::vector<uint32_t> buf(chunk / 4);
        for (uint64_t b = 0; b < section; b += chunk) {
            const uint64_t len = std::min(chunk, section - b);
            const uint64_t file_off = layout.node_section_offset_bytes + b;
            STRATA_RETURN_IF_ERROR(
                disk::detail::pread_exact(reader.index_fd(), g->dir(), buf.data(), len, file_off));
            const auto [first, last] = layout.nodes_in_range(b, b + len);
            for (uint64_t i = first; i < last && i < g->nodes(); ++i) {
                if (g->dead(i)) continue;
                const uint64_t id = g->index().external_id(i);
                if (!keep(id, g->index().node_labels(i))) continue;
                const auto* node =
                    reinterpret_cast<const uint8_t*>(buf.data()) + (layout.offset_of(i) - file_off);
                STRATA_RETURN_IF_ERROR(add(id, layout.view_node(node).vector));
            }
        }
    }
    for (const auto& t : tiers) {
        const uint32_t n = t->size();
        for (uint32_t slot = 0; slot < n; ++slot) {
            if (t->live(slot) && keep(t->id(slot), t->labels(slot))) {
                STRATA_RETURN_IF_ERROR(add(t->id(slot), t->vector(slot)));
            }
        }
    }
    STRATA_RETURN_IF_ERROR(flush());
    for (uint64_t i = 0; i < nq; ++i) {
        auto& h = best[i];
        std::sort(h.begin(), h.end());
        uint32_t out = 0;
        for (const auto& [d, id] : h) {
            // An id caught mid-replacement can be seen in two tiers: keep its closer copy.
            if (std::find(ids + i * k, ids + i * k + out, id) != ids + i * k + out) continue;
            ids[i * k + out] = id;
            if (dists) dists[i * k + out] = d;
            ++out;
        }
        for (; out < k; ++out) {
            ids[i * k + out] = std::numeric_limits<uint64_t>::max();
            if (dists) dists[i * k + out] = std::numeric_limits<float>::infinity();
        }
    }
    return Status::ok();
}

Status Collection::snapshot(const std::string& dest) const {
    const Impl& m = *impl_;
    std::lock_guard<std::mutex> commit_lock(m.commit_mu);  // the generation stays as it is
    STRATA_RETURN_IF_ERROR(m.wal->sync());
    Manifest man;
    {
        std::lock_guard<std::mutex> lock(m.apply_mu);
        man = m.manifest;
    }
    if (::mkdir(dest.c_str(), 0755) != 0) {
        if (errno == EEXIST) return Status::already_exists(fmt::format("{} already exists", dest));
        return Status::io_error(fmt::format("cannot create {}", dest), errno);
    }
    auto fail = [&](Status s) {
        std::error_code ec;
        std::filesystem::remove_all(dest, ec);
        return s;
    };
    namespace fs = std::filesystem;
    std::error_code ec;
    if (man.generation != 0) {
        const std::string name = collection::generation_dir_name(man.generation);
        const std::string src = disk::detail::join(m.dir, name);
        const std::string dst = disk::detail::join(dest, name);
        if (::mkdir(dst.c_str(), 0755) != 0) {
            return fail(Status::io_error(fmt::format("cannot create {}", dst), errno));
        }
        for (auto it = fs::directory_iterator(src, ec); !ec && it != fs::end(it);
             it.increment(ec)) {
            const fs::directory_entry& e = *it;
            std::error_code fec;
            if (!e.is_regular_file(fec)) {
                return fail(Status::corruption(
                    fmt::format("{}: unexpected entry {}", src, e.path().filename().string())));
            }
            const std::string to = disk::detail::join(dst, e.path().filename().string());
            // Generation files are never modified: a hard link is a consistent copy.
            if (::link(e.path().c_str(), to.c_str()) != 0) {
                if (Status s = io::copy_file_durable(e.path().string(), to); !s.is_ok())
                    return fail(s);
            }
        }
        if (ec) return fail(Status::io_error(fmt::format("cannot list {}", src), ec.value()));
        if (Status s = io::fsync_parent_dir(disk::detail::join(dst, "x")); !s.is_ok()) {
            return fail(s);
        }
    }
    const std::string wal_dst = disk::detail::join(dest, "wal");
    if (::mkdir(wal_dst.c_str(), 0755) != 0) {
        return fail(Status::io_error(fmt::format("cannot create {}", wal_dst), errno));
    }
    std::vector<std::string> segments;
    for (auto it = fs::directory_iterator(disk::detail::join(m.dir, "wal"), ec);
         !ec && it != fs::end(it); it.increment(ec)) {
        segments.push_back(it->path().filename().string());
    }
    if (ec) return fail(Status::io_error(fmt::format("cannot list {}/wal", m.dir), ec.value()));
    std::sort(segments.begin(), segments.end());
    // Segments are copied oldest first while writes go on: the copy holds every record synced
    // above and possibly a torn tail, which open() drops.
    for (const auto& name : segments) {
        Status s = io::copy_file_durable(disk::detail::join(disk::detail::join(m.dir, "wal"), name),
                                         disk::detail::join(wal_dst, name));
        if (!s.is_ok()) {
            // A segment removed meanwhile can only be one already folded into the generation.
            if (!fs::exists(disk::detail::join(disk::detail::join(m.dir, "wal"), name))) continue;
            return fail(s);
        }
    }
    if (Status s = io::fsync_parent_dir(disk::detail::join(wal_dst, "x")); !s.is_ok())
        return fail(s);
    if (Status s = collection::write_manifest(dest, man); !s.is_ok()) return fail(s);
    return io::fsync_parent_dir(dest);
}

}  // namespace strata
