// strata.Index (a built disk index, searched on the SSD) and strata.build() (the offline
// builder), over strata::DiskIndex and strata::build_index. Library calls release the GIL.
#include <optional>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl/filesystem.h>

#include <strata/builder.hpp>
#include <strata/disk_index.hpp>

#include "arrays.hpp"
#include "bindings.hpp"
#include "guarded.hpp"
#include "options.hpp"

namespace py = pybind11;

namespace strata::python {
namespace {

using Path = std::filesystem::path;

class PyIndex : public Guarded<DiskIndex> {
  public:
    PyIndex(std::unique_ptr<DiskIndex> index, DiskIndexInfo info, const DiskIndexOptions& options)
        : Guarded(std::move(index), "index " + info.dir),
          info_(std::move(info)),
          options_(options) {}
    /// Copied at open, so readable after close().
    const DiskIndexInfo& info() const { return info_; }
    const DiskIndexOptions& options() const { return options_; }

  private:
    DiskIndexInfo info_;
    DiskIndexOptions options_;
};

py::dict info_dict(const DiskIndexInfo& i) {
    py::dict d;
    d["dir"] = i.dir;
    d["metric"] = std::string(metric_name(i.metric));
    d["dtype"] = std::string(dtype_name(i.dtype));
    d["dim"] = i.dim;
    d["node_count"] = i.node_count;
    d["degree"] = i.degree_max;
    d["pq_bytes"] = i.pq_bytes;
    d["nodes_per_sector"] = i.nodes_per_sector;
    d["entry_point"] = i.entry_point;
    d["nav_nodes"] = i.nav_nodes;
    d["cache_nodes"] = i.cache_nodes;
    d["io_backend"] = i.io_backend;
    d["direct_io"] = i.direct_io;
    d["pq_ram_bytes"] = i.pq_ram_bytes;
    d["ids_ram_bytes"] = i.ids_ram_bytes;
    d["nav_ram_bytes"] = i.nav_ram_bytes;
    d["cache_ram_bytes"] = i.cache_ram_bytes;
    d["open_seconds"] = i.open_seconds;
    d["label_count"] = i.label_count;
    d["labels_ram_bytes"] = i.labels_ram_bytes;
    return d;
}

py::dict report_dict(const BuildReport& r) {
    py::dict d;
    d["rows_read"] = r.rows_read;
    d["rows_indexed"] = r.rows_indexed;
    d["rows_skipped"] = r.rows_skipped;
    d["dim"] = r.dim;
    d["dtype"] = std::string(dtype_name(r.dtype));
    d["pq_bytes"] = r.pq_bytes;
    d["partitioned"] = r.partitioned;
    d["shards"] = r.shards;
    d["largest_shard"] = r.largest_shard;
    d["entry_point"] = r.entry_point;
    d["average_degree"] = r.average_degree;
    d["max_degree"] = r.max_degree;
    d["memory_budget_bytes"] = r.memory_budget_bytes;
    d["estimated_one_shot_bytes"] = r.estimated_one_shot_bytes;
    d["peak_rss_bytes"] = r.peak_rss_bytes;
    d["seconds_prepare"] = r.seconds_prepare;
    d["seconds_pq_train"] = r.seconds_pq_train;
    d["seconds_pq_encode"] = r.seconds_pq_encode;
    d["seconds_graph"] = r.seconds_graph;
    d["seconds_layout"] = r.seconds_layout;
    d["seconds_nav"] = r.seconds_nav;
    d["nav_samples"] = r.nav_samples;
    d["sector_packed"] = r.sector_packed;
    d["label_count"] = r.label_count;
    d["seconds_total"] = r.seconds_total;
    return d;
}

FilterPlan parse_filter_plan(const std::string& name) {
    if (name == "auto") return FilterPlan::kAuto;
    if (name == "graph") return FilterPlan::kGraph;
    if (name == "scan") return FilterPlan::kScan;
    invalid_argument(fmt::format("filter_plan '{}': expected 'auto', 'graph' or 'scan'", name));
}

std::unique_ptr<PyIndex> open(const Path& dir, const py::kwargs& kwargs) {
    Kwargs kw(kwargs, "Index.open()");
    DiskIndexOptions o;
    read_disk_options(kw, o);
    kw.finish();
    std::optional<Result<std::unique_ptr<DiskIndex>>> opened;
    {
        py::gil_scoped_release nogil;
        opened.emplace(DiskIndex::open(dir.string(), o));
    }
    check(opened->status());
    DiskIndexInfo info = (**opened)->info();
    return std::make_unique<PyIndex>(std::move(**opened), std::move(info), o);
}

/// Index.search(): (ids, dists) or (ids, dists, stats).
py::tuple search(PyIndex& self, py::object queries, int64_t k, int64_t list_size,
                 int64_t beam_width, py::object filter, const std::string& mode,
                 const std::string& filter_plan, int64_t scan_limit, int threads,
                 bool return_stats) {
    const DiskIndexInfo& info = self.info();
    const Rows q = as_rows(queries, info.dtype, info.dim, true, "queries", "index");
    SearchParams sp;
    sp.list_size = as_u32(list_size, "list_size");
    const uint32_t max_k = std::min(sp.list_size, self.options().max_list_size);
    if (k < 1 || k > max_k) {
        invalid_argument(
            fmt::format("k = {} is not in [1, {}] (k <= list_size <= max_list_size)", k, max_k));
    }
    if (threads < 0) invalid_argument(fmt::format("threads = {} is negative", threads));
    if (scan_limit < 0) invalid_argument(fmt::format("scan_limit = {} is negative", scan_limit));
    sp.k = static_cast<uint32_t>(k);
    sp.beam_width = as_u32(beam_width, "beam_width");
    auto m = parse_search_mode(mode);
    check(m.status());
    sp.mode = *m;
    sp.filter_plan = parse_filter_plan(filter_plan);
    sp.scan_limit = static_cast<uint64_t>(scan_limit);
    const std::string filter_json = as_filter_json(filter);
    auto ids = new_result<uint64_t>(q.single, q.n, sp.k);
    auto dists = new_result<float>(q.single, q.n, sp.k);
    std::optional<py::array_t<QueryStats>> stats;
    if (return_stats) {
        stats = q.single ? py::array_t<QueryStats>(std::vector<py::ssize_t>{})
                         : py::array_t<QueryStats>(static_cast<py::ssize_t>(q.n));
    }
    uint64_t* id_out = ids.mutable_data();
    float* dist_out = dists.mutable_data();
    QueryStats* stats_out = stats ? stats->mutable_data() : nullptr;
    self.run([&](DiskIndex& index) {
        std::optional<LabelFilter> label_filter;
        if (!filter_json.empty()) {
            auto f = index.parse_filter(filter_json);
            check(f.status());
            label_filter = std::move(*f);
            sp.label_filter = &*label_filter;
        }
        if (q.n == 1) {
            check(index.search(q.data, q.dtype, q.dim, sp, id_out, dist_out, stats_out));
        } else if (q.n > 1) {
            check(index.search_batch(q.data, q.dtype, q.dim, q.n, q.stride_bytes(), sp, threads,
                                     id_out, dist_out, stats_out));
        }
    });
    if (stats) return py::make_tuple(ids, dists, *stats);
    return py::make_tuple(ids, dists);
}

py::dict build(const Path& data, const Path& out, const py::kwargs& kwargs) {
    Kwargs kw(kwargs, "strata.build()");
    const BuildOptions o = read_build_options(kw);
    kw.finish();
    const std::string data_path = data.string(), out_dir = out.string();
    std::optional<Result<BuildReport>> report;
    {
        py::gil_scoped_release nogil;
        report.emplace(build_index(data_path, out_dir, o));
    }
    check(report->status());
    return report_dict(**report);
}

}  // namespace

void bind_index(py::module_& m) {
    PYBIND11_NUMPY_DTYPE(QueryStats, reads, bytes_read, hops, mate_expansions, cache_hits, nav_hops,
                         io_us, cpu_us, total_us, scanned);

    py::class_<PyIndex> cls(m, "Index", R"doc(
A built disk index (from strata.build() or `strata build`), searched on the SSD: only the PQ
codes, the navigation graph and an optional node cache live in RAM. Thread-safe: any number of
Python threads may search at once (the GIL is released during a search). Close it with close()
or a `with` block.

Keyword options of open() (DiskIndexOptions, defaults in brackets): cache_bytes [0],
io ['auto' | 'uring' | 'pread'], use_nav_graph [True], max_list_size [1000],
max_beam_width [16].
)doc");
    cls.def_static("open", &open, py::arg("dir"),
                   "Opens the index directory `dir`. Raises strata.NotFound, strata.Corruption or "
                   "strata.NotSupported for a missing, damaged or foreign index.");
    cls.def("search", &search, py::arg("queries"), py::arg("k") = 10, py::arg("list_size") = 100,
            py::arg("beam_width") = 4, py::arg("filter") = py::none(),
            py::arg("mode") = "pipelined", py::arg("filter_plan") = "auto",
            py::arg("scan_limit") = 0, py::arg("threads") = 0, py::arg("return_stats") = false,
            R"doc(
The k nearest neighbours of each query. queries: one vector [dim] or a batch [nq, dim]
(float32, or the index's uint8/int8). Returns (ids, dists) as uint64 and float32 arrays, [k]
for one vector and [nq, k] for a batch, closest first; the tail holds strata.NO_ID and inf when
fewer than k nodes are reachable or match. With return_stats=True a third item holds the cost
of each query: a structured array (reads, bytes_read, hops, mate_expansions, cache_hits,
nav_hops, io_us, cpu_us, total_us, scanned), shape () for one vector, [nq] for a batch.
list_size: candidate list L (k <= L); beam_width: reads in flight W; mode: 'pipelined' or
'rounds'; filter: Qdrant-style label filter (JSON str or dict; the index must be built with
labels); filter_plan: 'auto', 'graph' or 'scan'; scan_limit: 0 = 50 * list_size;
threads: for a batch (0 = all cores). Same parameters, same ids as `strata search`.)doc");
    cls.def_property_readonly(
        "info", [](PyIndex& self) { return info_dict(self.info()); },
        "What the index holds and what it costs in RAM (a dict).");
    cls.def_property_readonly("dim", [](PyIndex& self) { return self.info().dim; });
    cls.def_property_readonly(
        "metric", [](PyIndex& self) { return std::string(metric_name(self.info().metric)); });
    cls.def_property_readonly(
        "dtype", [](PyIndex& self) { return std::string(dtype_name(self.info().dtype)); });
    cls.def("__len__", [](PyIndex& self) { return self.info().node_count; });
    cls.def_property_readonly("closed", [](PyIndex& self) { return self.closed(); });
    cls.def("close", &PyIndex::close,
            "Closes the index, waiting for searches in progress. Idempotent.");
    cls.def("__enter__", [](py::object self) { return self; });
    cls.def("__exit__", [](PyIndex& self, py::args) { self.close(); });
    cls.def("__repr__", [](PyIndex& self) {
        const DiskIndexInfo& i = self.info();
        return fmt::format("strata.Index('{}', {} x {} {}, metric='{}'{})", i.dir, i.node_count,
                           i.dim, dtype_name(i.dtype), metric_name(i.metric),
                           self.closed() ? ", closed" : "");
    });

    m.def("build", &build, py::arg("data_path"), py::arg("out_dir"), R"doc(
Builds an index directory at `out_dir` from the vectors in `data_path` (.fbin/.u8bin/.i8bin/
.fvecs/.bvecs/.npy) with the offline builder, and returns its report (a dict). Keyword options
(BuildOptions, defaults in brackets): metric ['l2' | 'ip' | 'cosine'], degree [64],
list_size [100], alpha [1.2], pq_bytes [0 = auto], memory_gb [0 = 3/4 of RAM], threads [0 =
all cores], data_format ['auto'], ids_path, labels_path, label_names, skip_bad [False],
force [False], progress [False], seed [1], pq_train_sample [256000], shards [0 = by budget],
nav_fraction [0.01], nav_degree [32], pack_sectors [True]. The same options give the same
index as `strata build`. Raises strata.AlreadyExists when out_dir exists (unless force),
strata.InvalidArgument for bad options or rows.)doc");
}

}  // namespace strata::python
