#include "collection/merge.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <thread>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "collection/rows.hpp"
#include "core/dtype_util.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "core/sysinfo.hpp"
#include "disk/builder_graph.hpp"
#include "disk/index_reader.hpp"
#include "distance/exact_knn.hpp"
#include "graph/vamana.hpp"
#include "graph/vector_store.hpp"
#include "io/dataset.hpp"
#include "io/file_util.hpp"
#include "io/labels.hpp"

namespace strata::collection {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Removes the listed files when it goes out of scope.
struct TempFiles {
    std::vector<std::string> paths;
    ~TempFiles() {
        for (const auto& p : paths) ::unlink(p.c_str());
    }
};

const char* data_suffix(DType t) {
    return t == DType::kF32 ? ".fbin" : (t == DType::kU8 ? ".u8bin" : ".i8bin");
}

BuildOptions build_options(const MergeInputs& in, const std::string& ids_path) {
    BuildOptions o = index_build_options(in.params);
    o.memory_gb = in.memory_gb;
    o.threads = in.threads;
    o.ids_path = ids_path;
    o.seed = in.seed;
    return o;
}

/// Delete phase over the old graph `adj` (old node -> neighbours, old numbering). A kept node
/// that lost no neighbour keeps its list. One that lost some is repaired from the kept
/// neighbours of its deleted neighbours (FreshDiskANN's candidates): when it lost at most half,
/// its kept list stays and the closest candidates not occluded by it (the α-RNG rule of
/// RobustPrune) fill the lost places — about 1/10 of the distances of a full RobustPrune over
/// every candidate, which is what a node that lost more than half gets.
/// With `labels` (new numbering), both prunes are label-aware (FilteredRobustPrune's rule: a
/// neighbour occludes a candidate only when it carries every label the node and the candidate
/// share).
void repair_deletes(const graph::VectorStore& store, const CollectionParams& p,
                    const std::vector<uint32_t>& adj, const std::vector<uint32_t>& degree,
                    uint32_t old_r, const std::vector<uint32_t>& new_of,
                    const std::vector<uint32_t>& old_of_kept, graph::Graph& g, int threads,
                    const graph::LabelView* labels) {
    constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
    // Candidates taken from each deleted neighbour's list (each costs a random vector access).
    const uint32_t kSecondHop = std::max<uint32_t>(16, p.degree_max / 2);
    struct Scratch {
        std::vector<uint32_t> kept, extra, out;
        std::vector<float> dists, kept_d, nd, prune;
        std::vector<graph::Candidate> pool, order;
    };
    tbb::task_arena arena(threads > 0 ? threads : tbb::this_task_arena::max_concurrency());
    arena.execute([&] {
        tbb::enumerable_thread_specific<Scratch> scratch;
        tbb::parallel_for(
            tbb::blocked_range<size_t>(0, old_of_kept.size(), 256), [&](const auto& r) {
                Scratch& s = scratch.local();
                for (size_t i = r.begin(); i != r.end(); ++i) {
                    const uint32_t node = static_cast<uint32_t>(i);
                    const uint32_t old = old_of_kept[i];
                    const uint32_t* nb = adj.data() + size_t{old} * old_r;
                    s.kept.clear();
                    s.extra.clear();
                    uint32_t lost = 0;
                    for (uint32_t j = 0; j < degree[old]; ++j) {
                        const uint32_t m = new_of[nb[j]];
                        if (m != kNone) {
                            s.kept.push_back(m);
                            continue;
                        }
                        ++lost;
                        // Its closest neighbours (RobustPrune writes lists nearest first).
                        const uint32_t* nb2 = adj.data() + size_t{nb[j]} * old_r;
                        const uint32_t take = std::min(degree[nb[j]], kSecondHop);
                        for (uint32_t t = 0; t < take; ++t) {
                            const uint32_t m2 = new_of[nb2[t]];
                            if (m2 != kNone && m2 != node) s.extra.push_back(m2);
                        }
                    }
                    if (lost == 0) {
                        g.set_neighbors(node, s.kept);
                        continue;
                    }
                    std::sort(s.extra.begin(), s.extra.end());
                    s.extra.erase(std::unique(s.extra.begin(), s.extra.end()), s.extra.end());
                    const void* pv = store.vector(node);
                    if (2 * lost > degree[old]) {  // full RobustPrune over everything
                        s.extra.insert(s.extra.end(), s.kept.begin(), s.kept.end());
                        std::sort(s.extra.begin(), s.extra.end());
                        s.extra.erase(std::unique(s.extra.begin(), s.extra.end()), s.extra.end());
                        s.dists.resize(s.extra.size());
                        store.distances(pv, s.extra.data(), s.extra.size(), s.dists.data());
                        s.pool.clear();
                        for (size_t c = 0; c < s.extra.size(); ++c) {
                            s.pool.push_back({s.dists[c], s.extra[c]});
                        }
                        graph::robust_prune(store, node, s.pool, p.alpha, p.degree_max,
                                            8 * p.degree_max, s.out, s.prune, labels);
                        g.set_neighbors(node, s.out);
                        continue;
                    }
                    // Light repair: the closest unoccluded candidates take the lost places.
                    // The kept list is sorted by distance so that the occlusion test of a
                    // candidate only looks at the closer neighbours and stops at the first
                    // that occludes it.
                    s.kept_d.resize(s.kept.size());
                    store.distances(pv, s.kept.data(), s.kept.size(), s.kept_d.data());
                    s.order.clear();
                    for (size_t k = 0; k < s.kept.size(); ++k)
                        s.order.push_back({s.kept_d[k], s.kept[k]});
                    std::sort(s.order.begin(), s.order.end(),
                              [](const auto& a, const auto& b) { return a.dist < b.dist; });
                    s.dists.resize(s.extra.size());
                    store.distances(pv, s.extra.data(), s.extra.size(), s.dists.data());
                    s.pool.clear();
                    for (size_t c = 0; c < s.extra.size(); ++c) {
                        if (std::find(s.kept.begin(), s.kept.end(), s.extra[c]) == s.kept.end()) {
                            s.pool.push_back({s.dists[c], s.extra[c]});
                        }
                    }
                    std::sort(s.pool.begin(), s.pool.end(),
                              [](const auto& a, const auto& b) { return a.dist < b.dist; });
                    const size_t want = std::min<size_t>(p.degree_max, s.kept.size() + lost);
                    const size_t examine = std::min<size_t>(s.pool.size(), 4 * lost + 8);
                    size_t have = s.kept.size();
                    for (size_t c = 0; c < examine && have < want; ++c) {
                        const graph::Candidate cand = s.pool[c];
                        const void* cv = store.vector(cand.id);
                        bool occluded = false;
                        for (size_t k = 0; k < s.order.size() && s.order[k].dist < cand.dist; ++k) {
                            if (labels != nullptr &&
                                !graph::covers_shared(labels->of(node), labels->of(cand.id),
                                                      labels->of(s.order[k].id))) {
                                continue;  // it lacks a shared label: no stand-in
                            }
                            float d;
                            store.distances(cv, &s.order[k].id, 1, &d);
                            if (p.alpha * d <= cand.dist) {
                                occluded = true;
                                break;
                            }
                        }
                        if (!occluded) {
                            s.kept.push_back(cand.id);
                            // Keep order sorted: later candidates are farther, so append.
                            s.order.push_back(cand);
                            ++have;
                        }
                    }
                    g.set_neighbors(node, s.kept);
                }
            });
    });
}

}  // namespace

Status write_ids(const std::string& path, const std::vector<uint64_t>& ids) {
    return io::atomic_write_file(
        path, std::string_view(reinterpret_cast<const char*>(ids.data()), ids.size() * 8));
}

Result<double> measure_recall(const std::string& index_dir, const std::string& data_path,
                              const std::vector<uint64_t>& ids, Metric metric, uint32_t queries,
                              int threads) {
    STRATA_ASSIGN_OR_RETURN(auto data, io::Dataset::open(data_path));
    const uint64_t n = data.size();
    constexpr uint32_t k = 10;
    if (n < 2 * k) return 1.0;  // too few rows to sample from; search is exhaustive then
    const uint32_t dim = data.dim();
    const DType dt = data.dtype();
    const size_t row_bytes = size_t{dim} * dtype_size(dt);
    std::vector<uint8_t> qbuf(size_t{queries} * row_bytes);
    Rng rng(1);  // the same sample positions for every generation: checks compare alike
    std::vector<float> a(dim), b(dim);
    for (uint32_t q = 0; q < queries; ++q) {
        to_float(dt, data.row(rng.below(n)), dim, a.data());
        to_float(dt, data.row(rng.below(n)), dim, b.data());
        uint8_t* dst = qbuf.data() + q * row_bytes;
        for (uint32_t j = 0; j < dim; ++j) {
            const float m = 0.9f * a[j] + 0.1f * b[j];
            if (dt == DType::kF32) {
                std::memcpy(dst + 4 * j, &m, 4);
            } else if (dt == DType::kU8) {
                dst[j] = static_cast<uint8_t>(std::lround(m));
            } else {
                dst[j] = static_cast<uint8_t>(static_cast<int8_t>(std::lround(m)));
            }
        }
        if (metric == Metric::kCosine) {  // renormalize
            auto* f = reinterpret_cast<float*>(dst);
            double s = 0;
            for (uint32_t j = 0; j < dim; ++j) s += double{f[j]} * f[j];
            if (s == 0) f[0] = 1, s = 1;
            for (uint32_t j = 0; j < dim; ++j) f[j] = static_cast<float>(f[j] / std::sqrt(s));
        }
    }
    distance::MatrixView base{data.row(0), n, dim, dt, data.row_stride_bytes()};
    distance::MatrixView qv{qbuf.data(), queries, dim, dt, row_bytes};
    distance::ExactKnnOptions eo;
    eo.k = k;
    eo.metric = metric;
    eo.threads = threads;
    std::vector<uint32_t> truth(size_t{queries} * k);
    STRATA_RETURN_IF_ERROR(distance::exact_knn(base, qv, eo, truth.data(), nullptr));
    DiskIndexOptions io;
    STRATA_ASSIGN_OR_RETURN(auto index, DiskIndex::open(index_dir, io));
    SearchParams sp;
    sp.k = k;
    sp.list_size = 100;
    std::vector<uint64_t> got(size_t{queries} * k);
    STRATA_RETURN_IF_ERROR(index->search_batch(qbuf.data(), dt, dim, queries, row_bytes, sp,
                                               std::max(threads, 1), got.data(), nullptr));
    uint64_t hits = 0;
    for (uint32_t q = 0; q < queries; ++q) {
        for (uint32_t i = 0; i < k; ++i) {
            const uint64_t want = ids[truth[size_t{q} * k + i]];
            const uint64_t* row = got.data() + size_t{q} * k;
            if (std::find(row, row + k, want) != row + k) ++hits;
        }
    }
    return static_cast<double>(hits) / (static_cast<double>(k) * queries);
}

Result<ConsolidationReport> merge_generation(const MergeInputs& in) {
    const auto start = Clock::now();
    ConsolidationReport rep;
    const CollectionParams& p = in.params;
    const DType dt = stored_dtype(p);
    const size_t row_bytes = stored_row_bytes(p);
    TempFiles temps;
    const std::string data_path = in.temp_prefix + data_suffix(dt);
    const std::string ids_path = in.temp_prefix + ".ids";
    const std::string labels_path = in.temp_prefix + ".labels";
    temps.paths = {data_path, ids_path, labels_path};
    const bool labelled = !in.label_names.empty();
    io::LabelSets row_labels;  // per written row, when labelled
    // The same labels by dictionary id as CSR in row order (the filter-aware merge).
    std::vector<uint64_t> label_offsets{0};
    std::vector<uint32_t> label_ids;
    std::vector<std::string_view> names;
    const auto add_label_row = [&](std::span<const uint32_t> ls) {
        label_ids.insert(label_ids.end(), ls.begin(), ls.end());
        label_offsets.push_back(label_ids.size());
        names.clear();
        for (uint32_t l : ls) names.push_back(in.label_names.at(l));
        return row_labels.add_row(names);
    };
    ::unlink(data_path.c_str());

    // Read: the kept old vectors (streamed to the data file) and the old graph.
    constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
    std::vector<uint64_t> ids;
    std::vector<uint32_t> adj, degree, new_of, old_of_kept;
    uint32_t old_r = 0, old_entry = 0;
    bool keep_graph = false;  // the incremental merge (else a full build of the rows)
    STRATA_ASSIGN_OR_RETURN(auto writer, io::VectorWriter::create(data_path, dt, p.dim));
    if (in.old != nullptr) {
        STRATA_ASSIGN_OR_RETURN(auto reader, disk::IndexReader::open(in.old->dir()));
        const auto& layout = reader.layout();
        const uint64_t n_old = reader.node_count();
        old_r = reader.degree_max();
        old_entry = reader.entry_point();
        // The in-RAM merge: kept vectors twice (file pages and the store), the old graph and
        // the new one with its slack. Over the budget, the builder does it within the budget.
        const uint64_t total_rows = n_old + in.inserts.size();
        const double need =
            static_cast<double>(total_rows) * (2.0 * static_cast<double>(row_bytes) + 4.0 * old_r +
                                               4.0 * std::ceil(1.3 * p.degree_max) + 16.0);
        const double budget = in.memory_gb > 0 ? in.memory_gb * 1073741824.0
                                               : 0.75 * static_cast<double>(mem_available_bytes());
        if (need > budget) {
            rep.full_build_reason =
                fmt::format("the in-RAM merge needs about {:.2f} GiB, over the {:.2f} GiB budget",
                            need / 1073741824.0, budget / 1073741824.0);
        } else if (p.metric == Metric::kInnerProduct) {
            rep.full_build_reason = "inner product graphs live in an augmented space";
        }
        keep_graph = rep.full_build_reason.empty();
        if (keep_graph) {
            adj.assign(n_old * old_r, 0);
            degree.assign(n_old, 0);
            new_of.assign(n_old, kNone);
        }
        const auto read_start = Clock::now();
        uint64_t bytes_read = 0;
        std::vector<uint8_t> buf(layout.node_bytes + 64);
        std::vector<uint8_t> rows;
        rows.reserve(1024 * row_bytes);
        for (uint64_t i = 0; i < n_old; ++i) {
            STRATA_RETURN_IF_ERROR(reader.read_node(i, buf));
            bytes_read += layout.node_bytes;
            if (in.read_mib_s > 0 && (i & 255) == 0) {  // token bucket: sleep off any excess
                const double ahead = static_cast<double>(bytes_read) / (in.read_mib_s * 1048576.0) -
                                     since(read_start);
                if (ahead > 0) std::this_thread::sleep_for(std::chrono::duration<double>(ahead));
            }
            const disk::NodeView v = layout.view_node(buf.data());
            if (!v.valid(old_r)) {
                return Status::corruption(fmt::format("{}: node {} has degree {} > {}",
                                                      in.old->dir(), i, v.degree, old_r));
            }
            if (keep_graph) {
                degree[i] = static_cast<uint32_t>(v.neighbors.size());
                std::copy(v.neighbors.begin(), v.neighbors.end(), adj.begin() + i * old_r);
            }
            if (in.old_dead[i]) {
                ++rep.deleted;
                continue;
            }
            if (keep_graph) {
                new_of[i] = static_cast<uint32_t>(old_of_kept.size());
                old_of_kept.push_back(static_cast<uint32_t>(i));
            }
            ids.push_back(in.old->index().external_id(i));
            if (labelled) STRATA_RETURN_IF_ERROR(add_label_row(in.old->index().node_labels(i)));
            rows.insert(rows.end(), v.vector, v.vector + row_bytes);
            if (rows.size() >= 1024 * row_bytes) {
                STRATA_RETURN_IF_ERROR(writer.append(rows.data(), rows.size() / row_bytes));
                rows.clear();
            }
        }
        if (!rows.empty())
            STRATA_RETURN_IF_ERROR(writer.append(rows.data(), rows.size() / row_bytes));
    }
    rep.kept = ids.size();
    for (size_t i = 0; i < in.inserts.size(); ++i) {
        STRATA_RETURN_IF_ERROR(writer.append(in.inserts[i].second, 1));
        ids.push_back(in.inserts[i].first);
        if (labelled) {
            STRATA_RETURN_IF_ERROR(add_label_row(
                i < in.insert_labels.size() ? std::span<const uint32_t>(in.insert_labels[i])
                                            : std::span<const uint32_t>()));
        }
    }
    rep.inserted = in.inserts.size();
    STRATA_RETURN_IF_ERROR(writer.finish());
    STRATA_RETURN_IF_ERROR(write_ids(ids_path, ids));
    rep.seconds_read = since(start);
    if (ids.empty()) return Status::invalid_argument("nothing live to write a generation of");

    BuildOptions bo = build_options(in, ids_path);
    if (labelled) {
        STRATA_RETURN_IF_ERROR(io::write_labels(labels_path, row_labels));
        bo.labels_path = labels_path;
        bo.label_names = in.label_names;  // the collection's ids
    }
    rep.incremental = keep_graph && rep.kept > 0;
    if (in.old == nullptr) rep.full_build_reason = "first generation";
    if (in.old != nullptr && rep.kept == 0)
        rep.full_build_reason = "no node of the old generation is kept";
    if (!rep.incremental) {
        auto t0 = Clock::now();
        STRATA_RETURN_IF_ERROR(build_index(data_path, in.out_dir, bo).status());
        rep.seconds_write = since(t0);
    } else {
        auto t0 = Clock::now();
        const uint32_t n = static_cast<uint32_t>(ids.size());
        STRATA_ASSIGN_OR_RETURN(auto data, io::Dataset::open(data_path));
        STRATA_ASSIGN_OR_RETURN(
            auto store, graph::FullPrecisionStore::create(dt, p.metric, p.dim, n, data.row(0),
                                                          data.row_stride_bytes()));
        data.advise(io::AccessPattern::kDontNeed);
        const graph::VamanaOptions vo = disk::vamana_options(bo);
        const auto capacity =
            static_cast<uint32_t>(std::ceil(vo.slack * static_cast<float>(vo.degree_max)));
        graph::Graph g(n, std::max(capacity, old_r));
        // Filter-aware: the labels in the new numbering, per-label counts and start nodes.
        graph::LabelView lv;
        std::vector<uint32_t> counts, starts;
        if (labelled) {
            lv = {label_offsets, label_ids, static_cast<uint32_t>(in.label_names.size()), {}};
            STRATA_RETURN_IF_ERROR(graph::check_labels(lv, n));
            counts = graph::label_counts(lv);
            lv.counts = counts;
            starts = graph::choose_label_starts(lv, in.seed);
        }
        const graph::LabelView* labels = labelled ? &lv : nullptr;
        const auto t_repair = Clock::now();
        repair_deletes(*store, p, adj, degree, old_r, new_of, old_of_kept, g, in.threads, labels);
        std::vector<uint32_t>().swap(adj);
        const double repair_s = since(t_repair);
        const uint32_t entry =
            new_of[old_entry] != kNone ? new_of[old_entry] : graph::find_medoid(*store);
        std::vector<uint32_t> fresh(n - rep.kept);
        for (uint32_t i = 0; i < fresh.size(); ++i) fresh[i] = static_cast<uint32_t>(rep.kept) + i;
        const auto t_insert = Clock::now();
        STRATA_RETURN_IF_ERROR(
            graph::insert_nodes(*store, g, entry, fresh, vo, labels, labelled ? &starts : nullptr));
        store.reset();
        rep.seconds_graph = since(t0);
        detail::log(
            LogLevel::kInfo,
            "consolidation graph: store {:.1f} s, delete repair {:.1f} s, {} inserts {:.1f} s",
            since(t0) - repair_s - since(t_insert), repair_s, fresh.size(), since(t_insert));
        t0 = Clock::now();
        STRATA_RETURN_IF_ERROR(
            disk::build_index_with_graph(data_path, in.out_dir, bo,
                                         {&g, entry, labelled ? &starts : nullptr})
                .status());
        rep.seconds_write = since(t0);
    }
    auto t0 = Clock::now();
    auto recall =
        measure_recall(in.out_dir, data_path, ids, p.metric, in.validation_queries, in.threads);
    if (!recall.is_ok()) {
        std::error_code ec;
        std::filesystem::remove_all(in.out_dir, ec);
        return recall.status();
    }
    rep.recall = *recall;
    rep.seconds_check = since(t0);
    rep.seconds_total = since(start);
    rep.peak_rss_bytes = peak_rss_bytes();
    return rep;
}

}  // namespace strata::collection
