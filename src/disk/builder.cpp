// The index builder: prepare the input (validate, skip, normalize), plan memory, train and encode
// PQ, build the graph (one-shot or sharded within the budget) and stream the node sectors.
#include <strata/builder.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <optional>

#include <fmt/format.h>
#include <tbb/task_arena.h>

#include "core/dtype_util.hpp"
#include "core/progress.hpp"
#include "core/sysinfo.hpp"
#include "disk/build_input.hpp"
#include "disk/builder_graph.hpp"
#include "disk/builder_plan.hpp"
#include "disk/index_writer.hpp"
#include "disk/labels_file.hpp"
#include "disk/meta.hpp"
#include "disk/nav_graph.hpp"
#include "disk/sector_packing.hpp"
#include "graph/sharded_build.hpp"
#include "graph/vamana.hpp"
#include "io/dataset.hpp"
#include "io/file_util.hpp"
#include "io/labels.hpp"
#include "quant/pq.hpp"

namespace strata {
namespace {

/// Set by disk::build_index_with_graph for the duration of its build on this thread.
thread_local const disk::PrebuiltGraph* t_prebuilt = nullptr;

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

distance::MatrixView view_of(const io::Dataset& d) {
    return {d.size() > 0 ? d.row(0) : nullptr, d.size(), d.dim(), d.dtype(), d.row_stride_bytes()};
}

/// A file removed when the owner goes away (the prepared copy of the input).
class TempFile {
  public:
    TempFile() = default;
    explicit TempFile(std::string path) : path_(std::move(path)) {}
    TempFile(TempFile&& o) noexcept : path_(std::exchange(o.path_, {})) {}
    TempFile& operator=(TempFile&& o) noexcept {
        std::swap(path_, o.path_);
        return *this;
    }
    ~TempFile() {
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

/// The rows to index: the input itself, or a temp copy without bad rows and/or normalized.
struct Prepared {
    TempFile temp;
    std::optional<io::Dataset> data;
    std::vector<uint64_t> ids;  // external id per indexed row
    disk::InputScan scan;
    uint64_t rows_read = 0;
    bool normalized = false;
    /// Labels of the indexed rows in row order (labels_path given); start nodes unset.
    std::optional<disk::IndexLabels> labels;
};

/// The labels of the kept rows (bad rows dropped like their vectors).
Result<disk::IndexLabels> load_labels(const std::string& path, uint64_t rows,
                                      const std::vector<uint64_t>& bad,
                                      const std::vector<std::string>& names_first) {
    STRATA_ASSIGN_OR_RETURN(io::LabelSets sets, io::read_labels(path, rows, names_first));
    disk::IndexLabels r;
    r.names.reserve(sets.label_count());
    for (uint32_t l = 0; l < sets.label_count(); ++l) r.names.push_back(sets.name(l));
    r.offsets.reserve(rows - bad.size() + 1);
    r.offsets.push_back(0);
    size_t next_bad = 0;
    for (uint64_t i = 0; i < rows; ++i) {
        if (next_bad < bad.size() && bad[next_bad] == i) {
            ++next_bad;
            continue;
        }
        const auto l = sets.of(i);
        r.labels.insert(r.labels.end(), l.begin(), l.end());
        r.offsets.push_back(r.labels.size());
    }
    r.start.assign(sets.label_count(), UINT32_MAX);
    return r;
}

ProgressOptions bar(const BuildOptions& o) { return {.quiet = !o.progress}; }

/// Streams the kept rows of `in` (converted to f32 and normalized when `normalize`) to a temp
/// file beside the output.
Result<io::Dataset> write_prepared(const io::Dataset& in, const std::vector<uint64_t>& bad,
                                   bool normalize, const std::string& path, const BuildOptions& o) {
    const DType out_type = normalize ? DType::kF32 : in.dtype();
    STRATA_ASSIGN_OR_RETURN(auto writer, io::VectorWriter::create(path, out_type, in.dim()));
    Progress progress("prepare", in.size(), bar(o));
    std::vector<float> row(in.dim());
    const uint64_t chunk = disk::rows_per_chunk(in);
    size_t next_bad = 0;
    for (uint64_t i = 0; i < in.size(); ++i) {
        if (next_bad < bad.size() && bad[next_bad] == i) {
            ++next_bad;
            continue;
        }
        if (!normalize) {
            STRATA_RETURN_IF_ERROR(writer.append(in.row(i), 1));
        } else {
            to_float(in.dtype(), in.row(i), in.dim(), row.data());
            distance::normalize_f32(row.data(), in.dim());
            STRATA_RETURN_IF_ERROR(writer.append(row.data(), 1));
        }
        if ((i + 1) % chunk == 0) {
            progress.add(chunk);
            in.advise(io::AccessPattern::kDontNeed);
        }
    }
    progress.add(in.size() % chunk);
    STRATA_RETURN_IF_ERROR(writer.finish());
    in.advise(io::AccessPattern::kDontNeed);
    return io::Dataset::open(path);
}

Result<Prepared> prepare(const std::string& data_path, const std::string& out_dir,
                         const BuildOptions& o) {
    io::FileFormat format = io::FileFormat::kAuto;
    if (o.data_format != "auto") {
        STRATA_ASSIGN_OR_RETURN(format, io::parse_file_format(o.data_format));
    }
    STRATA_ASSIGN_OR_RETURN(auto input, io::Dataset::open(data_path, format));
    if (input.size() == 0) {
        return Status::invalid_argument(data_path + ": the data set holds no vectors");
    }
    if (input.size() >= disk::kMaxNodeCount) {
        return Status::invalid_argument(
            fmt::format("{}: {} rows exceed the index limit", data_path, input.size()));
    }
    Prepared p;
    p.rows_read = input.size();
    p.scan = disk::scan_input(input, o.metric);
    input.advise(io::AccessPattern::kDontNeed);
    const auto& bad = p.scan.bad_rows;
    if (!bad.empty() && !o.skip_bad) {
        return Status::invalid_argument(
            fmt::format("{}: {} ({} bad row(s) in all; --skip-bad skips them)", data_path,
                        p.scan.first_problem, bad.size()));
    }
    if (p.scan.good_rows == 0) {
        return Status::invalid_argument(data_path + ": no row can be indexed");
    }
    std::vector<uint64_t> all_ids;
    if (!o.ids_path.empty()) {
        STRATA_ASSIGN_OR_RETURN(all_ids, disk::load_ids(o.ids_path, input.size()));
    }
    p.ids.reserve(p.scan.good_rows);
    size_t next_bad = 0;
    for (uint64_t i = 0; i < input.size(); ++i) {
        if (next_bad < bad.size() && bad[next_bad] == i) {
            ++next_bad;
            continue;
        }
        p.ids.push_back(all_ids.empty() ? i : all_ids[i]);
    }
    if (!o.labels_path.empty()) {
        STRATA_ASSIGN_OR_RETURN(p.labels,
                                load_labels(o.labels_path, input.size(), bad, o.label_names));
    }
    p.normalized = o.metric == Metric::kCosine;
    if (bad.empty() && !p.normalized) {
        p.data.emplace(std::move(input));
        return p;
    }
    const char* ext = p.normalized || input.dtype() == DType::kF32 ? "fbin"
                      : input.dtype() == DType::kU8                ? "u8bin"
                                                                   : "i8bin";
    p.temp = TempFile(fmt::format("{}.prepared-{}.{}", out_dir, ::getpid(), ext));
    STRATA_ASSIGN_OR_RETURN(auto copy, write_prepared(input, bad, p.normalized, p.temp.path(), o));
    p.data.emplace(std::move(copy));
    return p;
}

Status check_output(const std::string& out_dir, bool force) {
    std::error_code ec;
    if (std::filesystem::exists(out_dir, ec) && !force) {
        return Status::already_exists(out_dir + " already exists (use --force to replace it)");
    }
    std::filesystem::path parent = std::filesystem::path(out_dir).parent_path();
    if (parent.empty()) parent = ".";
    if (!std::filesystem::is_directory(parent, ec)) {
        return Status::not_found(
            fmt::format("{}: parent directory {} does not exist", out_dir, parent.string()));
    }
    if (::access(parent.c_str(), W_OK) != 0) {
        return Status::io_error(fmt::format("{}: cannot write in {}", out_dir, parent.string()),
                                errno);
    }
    return Status::ok();
}

/// Reorders fixed-size rows in place so that row i becomes old row order[i]: follows each
/// cycle of the permutation with one row of temporary space and a bitmap.
void permute_rows(uint8_t* rows, size_t row_bytes, const std::vector<uint32_t>& order) {
    std::vector<bool> placed(order.size(), false);
    std::vector<uint8_t> held(row_bytes);
    for (size_t start = 0; start < order.size(); ++start) {
        if (placed[start]) continue;
        std::memcpy(held.data(), rows + start * row_bytes, row_bytes);
        size_t i = start;
        for (;;) {
            placed[i] = true;
            const size_t from = order[i];
            if (from == start) {
                std::memcpy(rows + i * row_bytes, held.data(), row_bytes);
                break;
            }
            std::memcpy(rows + i * row_bytes, rows + from * row_bytes, row_bytes);
            i = from;
        }
    }
}

/// Trains PQ, encodes every row in chunks (dropping input pages between them) and writes the
/// codebook and codes companions.
/// With `codes_out` the codes are handed back (to be written once the node order is known)
/// instead of written.
Status build_pq(const io::Dataset& data, const disk::BuildPlan& plan, const BuildOptions& o,
                disk::IndexWriter& writer, BuildReport& rep, std::vector<uint8_t>* codes_out) {
    auto t0 = Clock::now();
    quant::PqOptions po;
    po.bytes = plan.pq_bytes;
    po.train_sample = o.pq_train_sample;
    po.train_memory_bytes = plan.pq_train_memory_bytes;
    po.seed = o.seed;
    po.threads = o.threads;
    Progress train_bar("pq train", plan.pq_bytes, bar(o));
    po.progress = &train_bar;
    // Gather a stratified sample (every n/m-th row) into RAM ourselves, dropping the input's
    // pages every 16K rows: sampling straight from the mapping would touch most of its pages.
    const size_t row_bytes = data.row_bytes();
    const uint64_t sample_rows = std::max<uint64_t>(
        1, std::min({data.size(), o.pq_train_sample,
                     plan.pq_train_memory_bytes / std::max<size_t>(1, row_bytes)}));
    std::vector<uint8_t> sample(sample_rows * row_bytes);
    for (uint64_t i = 0; i < sample_rows; ++i) {
        std::memcpy(sample.data() + i * row_bytes, data.row(i * data.size() / sample_rows),
                    row_bytes);
        if ((i & 16383) == 16383) data.advise(io::AccessPattern::kDontNeed);
    }
    data.advise(io::AccessPattern::kDontNeed);
    po.train_sample = sample_rows;
    STRATA_ASSIGN_OR_RETURN(
        auto codebook,
        quant::PqCodebook::train({sample.data(), sample_rows, data.dim(), data.dtype(), 0}, po));
    std::vector<uint8_t>().swap(sample);
    train_bar.finish();
    data.advise(io::AccessPattern::kDontNeed);
    rep.seconds_pq_train = since(t0);
    t0 = Clock::now();
    std::vector<uint8_t> codes(data.size() * plan.pq_bytes);
    {
        Progress encode_bar("pq encode", data.size(), bar(o));
        const uint64_t chunk = std::max<uint64_t>(4096, (64u << 20) / data.row_stride_bytes());
        for (uint64_t b0 = 0; b0 < data.size(); b0 += chunk) {
            const uint64_t count = std::min(chunk, data.size() - b0);
            const distance::MatrixView part{data.row(b0), count, data.dim(), data.dtype(),
                                            data.row_stride_bytes()};
            STRATA_RETURN_IF_ERROR(codebook.encode_all(part, codes.data() + b0 * plan.pq_bytes,
                                                       o.threads, &encode_bar));
            data.advise(io::AccessPattern::kDontNeed);
        }
    }
    rep.seconds_pq_encode = since(t0);
    STRATA_RETURN_IF_ERROR(writer.add_file(disk::FileKind::kPqCodebook, codebook.serialize()));
    if (codes_out != nullptr) {
        *codes_out = std::move(codes);
        return Status::ok();
    }
    return writer.add_file(
        disk::FileKind::kPqCodes,
        std::string_view(reinterpret_cast<const char*>(codes.data()), codes.size()), plan.pq_bytes);
}

using disk::vamana_options;

/// Store over `count` rows of the prepared data (all rows, or the listed ones).
Result<std::unique_ptr<graph::FullPrecisionStore>> make_store(const io::Dataset& data,
                                                              Metric metric, double max_norm,
                                                              uint64_t count,
                                                              const uint32_t* rows) {
    if (metric == Metric::kInnerProduct) {
        return graph::FullPrecisionStore::create_mips(data.dtype(), data.dim(), count, data.row(0),
                                                      data.row_stride_bytes(), max_norm, rows);
    }
    return graph::FullPrecisionStore::create(
        data.dtype(), metric, data.dim(), count, data.row(0), data.row_stride_bytes(), rows,
        [&data] { data.advise(io::AccessPattern::kDontNeed); });
}

/// `order` receives the node order written (position -> row), empty for row order. With labels
/// the graph is filter-aware and p.labels is permuted to the written order with its start nodes.
Status build_graph_one_shot(const io::Dataset& data, Prepared& p, const BuildOptions& o,
                            uint32_t nodes_per_sector, disk::IndexWriter& writer, BuildReport& rep,
                            std::vector<uint32_t>& order) {
    auto t0 = Clock::now();
    graph::VamanaResult built;
    if (t_prebuilt == nullptr) {
        STRATA_ASSIGN_OR_RETURN(auto store,
                                make_store(data, o.metric, p.scan.norm_max, data.size(), nullptr));
        data.advise(io::AccessPattern::kDontNeed);
        graph::VamanaOptions vo = vamana_options(o);
        Progress graph_bar("graph", data.size(), bar(o));
        vo.progress = &graph_bar;
        graph::LabelView lv;
        if (p.labels) lv = p.labels->view();
        STRATA_ASSIGN_OR_RETURN(built, graph::build_vamana(*store, vo, p.labels ? &lv : nullptr));
        graph_bar.finish();
    } else {
        if (t_prebuilt->graph->size() != data.size() || t_prebuilt->medoid >= data.size()) {
            return Status::internal("prebuilt graph does not match the rows to index");
        }
        built.graph = std::move(*t_prebuilt->graph);
        built.medoid = t_prebuilt->medoid;
        if (p.labels) {
            const auto* st = t_prebuilt->label_start;
            if (st == nullptr || st->size() != p.labels->label_count()) {
                return Status::internal("prebuilt graph: one start node per label is needed");
            }
            for (uint32_t l = 0; l < st->size(); ++l) {
                const uint32_t s = (*st)[l];
                if (s != UINT32_MAX &&
                    (s >= data.size() ||
                     !std::binary_search(p.labels->of(s).begin(), p.labels->of(s).end(), l))) {
                    return Status::internal(fmt::format(
                        "prebuilt graph: start node {} of label {} does not carry it", s, l));
                }
            }
            built.label_start = *st;
        }
    }
    rep.seconds_graph = since(t0);
    rep.entry_point = built.medoid;
    rep.average_degree =
        static_cast<double>(built.graph.edge_count()) / static_cast<double>(data.size());
    rep.max_degree = built.graph.max_degree();
    t0 = Clock::now();
    Progress layout_bar("layout", data.size(), bar(o));
    const uint64_t chunk = disk::rows_per_chunk(data);
    uint32_t entry = built.medoid;
    if (o.pack_sectors && nodes_per_sector > 1) {
        order = disk::sector_packing_order(built.graph, built.medoid, nodes_per_sector);
        std::vector<uint32_t> position(order.size());
        for (uint32_t i = 0; i < order.size(); ++i) position[order[i]] = i;
        entry = position[built.medoid];
        if (p.labels) {
            disk::IndexLabels& lb = *p.labels;
            std::vector<uint64_t> offsets{0};
            std::vector<uint32_t> labels;
            offsets.reserve(lb.offsets.size());
            labels.reserve(lb.labels.size());
            for (uint32_t row : order) {
                const auto l = lb.of(row);
                labels.insert(labels.end(), l.begin(), l.end());
                offsets.push_back(labels.size());
            }
            lb.offsets = std::move(offsets);
            lb.labels = std::move(labels);
            for (uint32_t& st : built.label_start) {
                if (st != UINT32_MAX) st = position[st];
            }
        }
        std::vector<uint32_t> remapped;
        for (uint64_t i = 0; i < data.size(); ++i) {
            remapped.clear();
            for (uint32_t j : built.graph.neighbors(order[i])) remapped.push_back(position[j]);
            STRATA_RETURN_IF_ERROR(writer.append_node(data.row(order[i]), remapped));
            if ((i + 1) % chunk == 0) layout_bar.add(chunk);
        }
    } else {
        for (uint64_t i = 0; i < data.size(); ++i) {
            STRATA_RETURN_IF_ERROR(
                writer.append_node(data.row(i), built.graph.neighbors(static_cast<uint32_t>(i))));
            if ((i + 1) % chunk == 0) {
                layout_bar.add(chunk);
                data.advise(io::AccessPattern::kDontNeed);
            }
        }
    }
    data.advise(io::AccessPattern::kDontNeed);
    layout_bar.add(data.size() % chunk);
    if (p.labels) {
        p.labels->start = std::move(built.label_start);
        STRATA_RETURN_IF_ERROR(writer.add_file(disk::FileKind::kLabels, p.labels->encode()));
        rep.label_count = p.labels->label_count();
    }
    rep.entry_point = entry;
    rep.seconds_layout = since(t0);
    return writer.set_entry_point(entry);
}

Status build_graph_sharded(const io::Dataset& data, Prepared& p, const disk::BuildPlan& plan,
                           const BuildOptions& o, const std::string& out_dir,
                           disk::IndexWriter& writer, BuildReport& rep) {
    auto t0 = Clock::now();
    const auto release = [&data] { data.advise(io::AccessPattern::kDontNeed); };
    rep.entry_point = graph::find_medoid_streaming(view_of(data), release);
    graph::ShardedBuildOptions so;
    so.vamana = vamana_options(o);
    so.shards = plan.shards;
    so.overlap = plan.overlap;
    so.shard_budget_bytes = plan.shard_budget_bytes;
    so.bytes_per_vector = plan.shard_bytes_per_vector;
    so.temp_dir = fmt::format("{}.shards-{}", out_dir, ::getpid());
    so.release_input = release;
    Progress graph_bar("graph (shards, merge)", data.size() * (plan.overlap + 1), bar(o));
    so.progress = &graph_bar;
    graph::LabelView lv;
    if (p.labels) {
        lv = p.labels->view();
        so.labels = &lv;
    }
    const graph::StoreFactory factory =
        [&](std::span<const uint32_t> rows) -> Result<std::unique_ptr<graph::VectorStore>> {
        STRATA_ASSIGN_OR_RETURN(
            auto s, make_store(data, o.metric, p.scan.norm_max, rows.size(), rows.data()));
        return std::unique_ptr<graph::VectorStore>(std::move(s));
    };
    uint64_t edges = 0;
    const graph::NodeSink sink = [&](uint32_t node, std::span<const uint32_t> nbrs) -> Status {
        edges += nbrs.size();
        rep.max_degree = std::max<uint32_t>(rep.max_degree, static_cast<uint32_t>(nbrs.size()));
        return writer.append_node(data.row(node), nbrs);
    };
    STRATA_ASSIGN_OR_RETURN(auto sr, graph::build_vamana_sharded(view_of(data), factory, so, sink));
    graph_bar.finish();
    rep.shards = sr.shards;
    rep.largest_shard = sr.largest_shard;
    rep.average_degree = static_cast<double>(edges) / static_cast<double>(data.size());
    rep.seconds_graph = since(t0);
    if (p.labels) {
        // One load-balanced start per label over all rows: the shards' label subgraphs join
        // through the rows every vector shares with its second shard.
        p.labels->start = graph::choose_label_starts(lv, o.seed);
        STRATA_RETURN_IF_ERROR(writer.add_file(disk::FileKind::kLabels, p.labels->encode()));
        rep.label_count = p.labels->label_count();
    }
    return writer.set_entry_point(rep.entry_point);
}

/// Samples nav_fraction of the rows and stores their Vamana graph as nav.graph.
/// Node ids are positions in `order` (position -> row) when it is not empty.
Status build_nav(const io::Dataset& data, const Prepared& p, const BuildOptions& o,
                 const std::vector<uint32_t>& order, disk::IndexWriter& writer, BuildReport& rep) {
    const uint64_t count = disk::nav_sample_count(data.size(), o.nav_fraction);
    if (count == 0) return Status::ok();
    const auto t0 = Clock::now();
    std::vector<uint32_t> sample = disk::nav_sample(data.size(), count, o.seed);
    std::vector<uint32_t> rows = sample;
    if (!order.empty()) {
        for (uint32_t& r : rows) r = order[r];
    }
    STRATA_ASSIGN_OR_RETURN(auto store,
                            make_store(data, o.metric, p.scan.norm_max, count, rows.data()));
    data.advise(io::AccessPattern::kDontNeed);
    STRATA_ASSIGN_OR_RETURN(auto nav, disk::build_nav_graph(*store, std::move(sample), o.nav_degree,
                                                            o.threads, o.seed));
    STRATA_RETURN_IF_ERROR(writer.add_file(disk::FileKind::kNavGraph, nav.encode()));
    rep.nav_samples = count;
    rep.seconds_nav = since(t0);
    return Status::ok();
}

std::string meta_json(const disk::IndexLayoutParams& params, const Prepared& p,
                      const disk::BuildPlan& plan, const BuildOptions& o, const BuildReport& rep,
                      const std::string& data_path) {
    disk::BuildInfo info;
    info.search_list = o.list_size;
    info.alpha = std::round(static_cast<double>(o.alpha) * 1e6) / 1e6;  // 1.2, not 1.2000000476
    info.pq_bytes = plan.pq_bytes;
    info.normalized = p.normalized;
    info.norm_min = p.scan.norm_min;
    info.norm_mean = p.scan.norm_mean;
    info.norm_max = p.scan.norm_max;
    info.phase_seconds = {{"prepare", rep.seconds_prepare},     {"pq_train", rep.seconds_pq_train},
                          {"pq_encode", rep.seconds_pq_encode}, {"graph", rep.seconds_graph},
                          {"layout", rep.seconds_layout},       {"nav", rep.seconds_nav}};
    info.peak_memory_bytes = peak_rss_bytes();
    info.extra_strings = {
        {"source", data_path},
        {"ids", o.ids_path.empty() ? "row numbers" : o.ids_path},
        {"labels", o.labels_path.empty() ? "none" : o.labels_path},
        {"graph_build", rep.partitioned ? "sharded" : "one-shot"},
        {"node_order",
         rep.sector_packed ? "sector-packed (graph neighbours share sectors)" : "row order"},
        {"graph_transform", o.metric == Metric::kInnerProduct
                                ? "mips-to-l2 augmentation with the largest norm"
                                : "none"},
    };
    info.extra_numbers = {
        {"rows_read", static_cast<double>(p.rows_read)},
        {"rows_skipped", static_cast<double>(p.scan.bad_rows.size())},
        {"memory_budget_bytes", static_cast<double>(plan.budget_bytes)},
        {"estimated_one_shot_bytes", static_cast<double>(plan.one_shot_bytes)},
        {"shards", static_cast<double>(rep.shards)},
        {"average_degree", rep.average_degree},
        {"max_degree", static_cast<double>(rep.max_degree)},
        {"threads", static_cast<double>(o.threads)},
        {"nav_samples", static_cast<double>(rep.nav_samples)},
        {"label_count", static_cast<double>(rep.label_count)},
        {"nav_degree", static_cast<double>(rep.nav_samples ? o.nav_degree : 0)},
        {"seed", static_cast<double>(o.seed)},
    };
    return disk::render_meta_json(params, info);
}

Result<BuildReport> build(const std::string& data_path, const std::string& out_dir,
                          const BuildOptions& o) {
    const auto start = Clock::now();
    STRATA_RETURN_IF_ERROR(o.validate());
    STRATA_RETURN_IF_ERROR(check_output(out_dir, o.force));
    BuildReport rep;
    STRATA_ASSIGN_OR_RETURN(Prepared p, prepare(data_path, out_dir, o));
    const io::Dataset& data = *p.data;
    rep.seconds_prepare = since(start);
    rep.rows_read = p.rows_read;
    rep.rows_indexed = data.size();
    rep.rows_skipped = p.scan.bad_rows.size();
    rep.dim = data.dim();
    rep.dtype = data.dtype();
    STRATA_ASSIGN_OR_RETURN(auto plan, disk::plan_build(data.size(), data.dim(), data.dtype(), o));
    rep.pq_bytes = plan.pq_bytes;
    rep.partitioned = plan.partitioned;
    rep.memory_budget_bytes = plan.budget_bytes;
    rep.estimated_one_shot_bytes = plan.one_shot_bytes;
    disk::IndexLayoutParams params;
    params.metric = o.metric;
    params.dtype = data.dtype();
    params.dim = data.dim();
    params.degree_max = o.degree_max;
    params.node_count = data.size();
    disk::WriterOptions wo;
    wo.force = o.force;
    STRATA_ASSIGN_OR_RETURN(auto writer, disk::IndexWriter::create(out_dir, params, wo));
    // The one-shot path may reorder the nodes (sector packing): its PQ codes wait for the order.
    const bool may_pack =
        !plan.partitioned && o.pack_sectors && writer.layout().nodes_per_sector > 1;
    std::vector<uint8_t> codes;
    STRATA_RETURN_IF_ERROR(build_pq(data, plan, o, writer, rep, may_pack ? &codes : nullptr));
    std::vector<uint32_t> order;  // position -> row; empty = row order
    if (plan.partitioned) {
        STRATA_RETURN_IF_ERROR(build_graph_sharded(data, p, plan, o, out_dir, writer, rep));
    } else {
        STRATA_RETURN_IF_ERROR(
            build_graph_one_shot(data, p, o, writer.layout().nodes_per_sector, writer, rep, order));
    }
    rep.sector_packed = !order.empty();
    if (!codes.empty()) {
        if (!order.empty()) permute_rows(codes.data(), plan.pq_bytes, order);
        STRATA_RETURN_IF_ERROR(writer.add_file(
            disk::FileKind::kPqCodes,
            std::string_view(reinterpret_cast<const char*>(codes.data()), codes.size()),
            plan.pq_bytes));
        std::vector<uint8_t>().swap(codes);
    }
    STRATA_RETURN_IF_ERROR(build_nav(data, p, o, order, writer, rep));
    std::vector<uint64_t> ids = p.ids;
    if (!order.empty()) {
        for (size_t i = 0; i < order.size(); ++i) ids[i] = p.ids[order[i]];
    }
    STRATA_RETURN_IF_ERROR(writer.add_file(
        disk::FileKind::kIds,
        std::string_view(reinterpret_cast<const char*>(ids.data()), ids.size() * 8), 8));
    rep.seconds_total = since(start);
    rep.peak_rss_bytes = peak_rss_bytes();
    params.entry_point = rep.entry_point;
    STRATA_RETURN_IF_ERROR(writer.finish(meta_json(params, p, plan, o, rep, data_path)));
    return rep;
}

}  // namespace

Status BuildOptions::validate() const {
    STRATA_RETURN_IF_ERROR(vamana_options(*this).validate());
    if (!(memory_gb >= 0) || !std::isfinite(memory_gb)) {
        return Status::invalid_argument("memory budget must be a finite number of GiB >= 0");
    }
    if (pq_train_sample == 0) return Status::invalid_argument("PQ training sample must be >= 1");
    if (!(nav_fraction >= 0 && nav_fraction <= 0.1)) {
        return Status::invalid_argument("navigation graph fraction must be in [0, 0.1]");
    }
    if (nav_degree < 2 || nav_degree > 128) {
        return Status::invalid_argument("navigation graph degree must be in [2, 128]");
    }
    if (data_format != "auto") STRATA_RETURN_IF_ERROR(io::parse_file_format(data_format).status());
    return Status::ok();
}

Result<BuildReport> build_index(const std::string& data_path, const std::string& out_dir,
                                const BuildOptions& options) {
    try {
        const int threads =
            options.threads > 0 ? options.threads : tbb::this_task_arena::max_concurrency();
        tbb::task_arena arena(threads);
        std::optional<Result<BuildReport>> result;
        arena.execute([&] { result.emplace(build(data_path, out_dir, options)); });
        return std::move(*result);
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("build: out of memory (lower --memory-gb?)");
    } catch (const std::exception& e) {
        return Status::internal(std::string("build: ") + e.what());
    }
}

}  // namespace strata

namespace strata::disk {

graph::VamanaOptions vamana_options(const BuildOptions& o) {
    graph::VamanaOptions vo;
    vo.degree_max = o.degree_max;
    vo.list_size = o.list_size;
    vo.alpha = o.alpha;
    vo.threads = o.threads;
    vo.seed = o.seed;
    return vo;
}

Result<BuildReport> build_index_with_graph(const std::string& data_path, const std::string& out_dir,
                                           const BuildOptions& options, PrebuiltGraph prebuilt) {
    BuildOptions o = options;
    o.shards = 1;
    o.skip_bad = false;
    t_prebuilt = &prebuilt;
    auto result = build_index(data_path, out_dir, o);
    t_prebuilt = nullptr;
    return result;
}

}  // namespace strata::disk
