// strata.Collection: a directory that takes writes while it serves, over strata::Collection.
// Every call into the library runs with the GIL released (see Guarded).
#include <optional>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <strata/collection.hpp>

#include "arrays.hpp"
#include "bindings.hpp"
#include "guarded.hpp"
#include "options.hpp"

namespace py = pybind11;

namespace strata::python {
namespace {

using Path = std::filesystem::path;

/// k of a collection search, as Collection::search bounds it.
constexpr int64_t kMaxK = 1000;

class PyCollection : public Guarded<Collection> {
  public:
    PyCollection(std::unique_ptr<Collection> c, CollectionParams params, std::string dir)
        : Guarded(std::move(c), "collection " + dir), params_(params), dir_(std::move(dir)) {}
    /// Fixed at creation, so readable after close().
    const CollectionParams& params() const { return params_; }
    const std::string& dir() const { return dir_; }

  private:
    CollectionParams params_;
    std::string dir_;
};

std::unique_ptr<PyCollection> wrap(std::unique_ptr<Collection> c) {
    const CollectionParams params = c->params();
    std::string dir = c->dir();
    return std::make_unique<PyCollection>(std::move(c), params, std::move(dir));
}

py::dict params_dict(const CollectionParams& p) {
    py::dict d;
    d["dim"] = p.dim;
    d["metric"] = std::string(metric_name(p.metric));
    d["dtype"] = std::string(dtype_name(p.dtype));
    d["degree"] = p.degree_max;
    d["list_size"] = p.list_size;
    d["alpha"] = p.alpha;
    d["pq_bytes"] = p.pq_bytes;
    return d;
}

py::dict stats_dict(const CollectionStats& s) {
    py::dict d;
    d["dim"] = s.dim;
    d["metric"] = std::string(metric_name(s.metric));
    d["dtype"] = std::string(dtype_name(s.dtype));
    d["live"] = s.live;
    d["generation"] = s.generation;
    d["generation_nodes"] = s.generation_nodes;
    d["generation_deleted"] = s.generation_deleted;
    d["hot"] = s.hot;
    d["frozen"] = s.frozen;
    d["hot_bytes"] = s.hot_bytes;
    d["wal_bytes"] = s.wal_bytes;
    d["next_id"] = s.next_id;
    d["labels"] = s.labels;
    d["generation_recall"] = s.generation_recall;
    d["consolidating"] = s.consolidating;
    d["consolidations"] = s.consolidations;
    d["last_error"] = s.last_error;
    return d;
}

py::dict report_dict(const ConsolidationReport& r) {
    py::dict d;
    d["swapped"] = r.swapped;
    d["reason"] = r.reason;
    d["generation"] = r.generation;
    d["kept"] = r.kept;
    d["deleted"] = r.deleted;
    d["inserted"] = r.inserted;
    d["incremental"] = r.incremental;
    d["full_build_reason"] = r.full_build_reason;
    d["recall"] = r.recall;
    d["previous_recall"] = r.previous_recall;
    d["seconds_read"] = r.seconds_read;
    d["seconds_graph"] = r.seconds_graph;
    d["seconds_write"] = r.seconds_write;
    d["seconds_check"] = r.seconds_check;
    d["seconds_total"] = r.seconds_total;
    d["peak_rss_bytes"] = r.peak_rss_bytes;
    return d;
}

std::unique_ptr<PyCollection> create(const Path& dir, int64_t dim, const std::string& metric,
                                     const std::string& dtype, int64_t degree, int64_t list_size,
                                     double alpha, int64_t pq_bytes, const py::kwargs& kwargs) {
    CollectionParams p;
    p.dim = as_u32(dim, "dim");
    auto m = parse_metric(metric);
    check(m.status());
    p.metric = *m;
    auto t = parse_dtype(dtype);
    check(t.status());
    p.dtype = *t;
    p.degree_max = as_u32(degree, "degree");
    p.list_size = as_u32(list_size, "list_size");
    p.alpha = static_cast<float>(alpha);
    p.pq_bytes = as_u32(pq_bytes, "pq_bytes");
    Kwargs kw(kwargs, "Collection.create()");
    const CollectionOptions o = read_collection_options(kw);
    kw.finish();
    std::optional<Result<std::unique_ptr<Collection>>> made;
    {
        py::gil_scoped_release nogil;
        made.emplace(Collection::create(dir.string(), p, o));
    }
    check(made->status());
    return wrap(std::move(**made));
}

std::unique_ptr<PyCollection> open(const Path& dir, const py::kwargs& kwargs) {
    Kwargs kw(kwargs, "Collection.open()");
    const CollectionOptions o = read_collection_options(kw);
    kw.finish();
    std::optional<Result<std::unique_ptr<Collection>>> opened;
    {
        py::gil_scoped_release nogil;
        opened.emplace(Collection::open(dir.string(), o));
    }
    check(opened->status());
    return wrap(std::move(**opened));
}

void upsert(PyCollection& self, py::object ids_obj, py::object vectors, py::object labels_obj) {
    const CollectionParams& p = self.params();
    const Rows rows = as_rows(vectors, p.dtype, p.dim, true, "vectors", "collection");
    const std::vector<uint64_t> ids = as_ids(ids_obj, "ids");
    if (ids.size() != rows.n) {
        invalid_argument(fmt::format("{} ids for {} vectors", ids.size(), rows.n));
    }
    std::optional<std::vector<std::vector<std::string>>> labels;
    if (!labels_obj.is_none()) labels = as_labels(labels_obj, rows.n);
    self.run([&](Collection& c) {
        check(labels ? c.upsert(ids.data(), rows.n, rows.data, rows.dtype, *labels)
                     : c.upsert(ids.data(), rows.n, rows.data, rows.dtype));
    });
}

py::tuple search(PyCollection& self, py::object queries, int64_t k, int64_t list_size,
                 int64_t beam_width, py::object filter, int threads) {
    const CollectionParams& p = self.params();
    const Rows q = as_rows(queries, p.dtype, p.dim, true, "queries", "collection");
    if (k < 1 || k > kMaxK) invalid_argument(fmt::format("k = {} is not in [1, {}]", k, kMaxK));
    if (threads < 0) invalid_argument(fmt::format("threads = {} is negative", threads));
    CollectionSearchParams sp;
    sp.k = static_cast<uint32_t>(k);
    sp.list_size = as_u32(list_size, "list_size");
    sp.beam_width = as_u32(beam_width, "beam_width");
    const std::string filter_json = as_filter_json(filter);
    auto ids = new_result<uint64_t>(q.single, q.n, sp.k);
    auto dists = new_result<float>(q.single, q.n, sp.k);
    uint64_t* id_out = ids.mutable_data();
    float* dist_out = dists.mutable_data();
    self.run([&](Collection& c) {
        std::optional<LabelFilter> label_filter;
        if (!filter_json.empty()) {
            auto f = c.parse_filter(filter_json);
            check(f.status());
            label_filter = std::move(*f);
            sp.label_filter = &*label_filter;
        }
        if (q.n == 1) {
            check(c.search(q.data, q.dtype, q.dim, sp, id_out, dist_out));
        } else if (q.n > 1) {
            check(c.search_batch(q.data, q.dtype, q.dim, q.n, q.stride_bytes(), sp, threads, id_out,
                                 dist_out));
        }
    });
    return py::make_tuple(ids, dists);
}

py::tuple exact_search(PyCollection& self, py::object queries, int64_t k) {
    const CollectionParams& p = self.params();
    const Rows q = as_rows(queries, p.dtype, p.dim, true, "queries", "collection");
    if (k < 1 || k > kMaxK) invalid_argument(fmt::format("k = {} is not in [1, {}]", k, kMaxK));
    const auto kk = static_cast<uint32_t>(k);
    auto ids = new_result<uint64_t>(q.single, q.n, kk);
    auto dists = new_result<float>(q.single, q.n, kk);
    uint64_t* id_out = ids.mutable_data();
    float* dist_out = dists.mutable_data();
    if (q.n > 0) {
        self.run([&](Collection& c) {
            check(c.exact_search(q.data, q.dtype, q.dim, q.n, kk, id_out, dist_out));
        });
    }
    return py::make_tuple(ids, dists);
}

py::array get(PyCollection& self, py::object id_obj) {
    const std::vector<uint64_t> id = as_ids(id_obj, "id");
    if (id.size() != 1) invalid_argument(fmt::format("get() takes one id, got {}", id.size()));
    const CollectionParams& p = self.params();
    py::array out(numpy_dtype(p.dtype), std::vector<py::ssize_t>{static_cast<py::ssize_t>(p.dim)});
    void* data = out.mutable_data();
    self.run([&](Collection& c) { check(c.get(id[0], data)); });
    return out;
}

py::str repr(PyCollection& self) {
    const CollectionParams& p = self.params();
    return py::str(fmt::format("strata.Collection('{}', dim={}, metric='{}', dtype='{}'{})",
                               self.dir(), p.dim, metric_name(p.metric), dtype_name(p.dtype),
                               self.closed() ? ", closed" : ""));
}

}  // namespace

void bind_collection(py::module_& m) {
    py::class_<PyCollection> cls(m, "Collection", R"doc(
A collection directory that takes writes while it serves: upserts and deletes go to a
write-ahead log and an in-RAM HNSW hot tier, searches merge the hot tier with the current disk
generation, and a consolidation folds both into the next generation.

Create one with Collection.create() or open one with Collection.open(); close it with close()
or a `with` block. Thread-safe: any number of Python threads may search and write at once (the
GIL is released inside every call); close() waits for the calls in progress.

Keyword options of create() and open() (CollectionOptions, defaults in brackets):
  wal_sync ['always' | 'interval'], wal_interval_ms [100], consolidate_at [200000 vectors;
  0 = only on request], background [True], consolidation_threads [1],
  consolidation_memory_gb [0 = 3/4 of RAM], consolidation_read_mib_s [0 = unthrottled],
  recall_margin [0.02], validation_queries [200], hot_m [16], hot_ef_construction [100],
  and the disk index's cache_bytes [0], io ['auto' | 'uring' | 'pread'], use_nav_graph [True],
  max_list_size [1000], max_beam_width [16].
)doc");
    cls.def_static("create", &create, py::arg("dir"), py::arg("dim"), py::kw_only(),
                   py::arg("metric") = "l2", py::arg("dtype") = "f32", py::arg("degree") = 64,
                   py::arg("list_size") = 100, py::arg("alpha") = 1.2, py::arg("pq_bytes") = 0,
                   R"doc(
Creates an empty collection in `dir` (which must not exist) and opens it. metric: 'l2', 'ip'
or 'cosine' (normalized on ingest; f32 only); dtype: 'f32', 'u8' or 'i8'; degree, list_size,
alpha, pq_bytes (0 = auto): the disk index parameters of every generation. Further keyword
options as for open(). Raises strata.AlreadyExists when `dir` exists.)doc");
    cls.def_static("open", &open, py::arg("dir"),
                   "Opens the collection in `dir`, replaying its log. Raises strata.NotFound "
                   "when `dir` holds no collection, strata.Corruption when it is damaged.");
    cls.def_static(
        "exists", [](const Path& dir) { return Collection::exists(dir.string()); }, py::arg("dir"),
        "True when `dir` holds a collection.");
    cls.def("upsert", &upsert, py::arg("ids"), py::arg("vectors"), py::arg("labels") = py::none(),
            R"doc(
Writes vectors [n, dim] (float32, or the collection's uint8/int8; float64 is converted) under
ids [n] (unsigned integers); an existing id is replaced. All or nothing, durable on return
(wal_sync='always'). labels: optional, one entry per row: None, a label str, or a list of
label str (for filtered search). Raises strata.InvalidArgument (a ValueError) naming the row
for NaN/Inf, a wrong dimension, an out-of-range integer, a repeated id.)doc");
    cls.def(
        "delete",
        [](PyCollection& self, py::object ids_obj) {
            const std::vector<uint64_t> ids = as_ids(ids_obj, "ids");
            self.run([&](Collection& c) { check(c.remove(ids.data(), ids.size())); });
        },
        py::arg("ids"), "Deletes ids (absent ids are ignored). Durable on return.");
    cls.def("search", &search, py::arg("queries"), py::arg("k") = 10, py::arg("list_size") = 100,
            py::arg("beam_width") = 4, py::arg("filter") = py::none(), py::arg("threads") = 0,
            R"doc(
The k nearest live vectors of each query across both tiers. queries: one vector [dim] or a
batch [nq, dim]. Returns (ids, dists): uint64 and float32 arrays [k] for one vector, [nq, k]
for a batch, closest first (squared l2, -dot for ip, 1 - cos for cosine). When fewer than k
vectors match, the tail holds strata.NO_ID and inf. list_size: candidate list L of the disk
search and ef of the hot tier; beam_width: reads in flight per query; filter: a Qdrant-style
label filter (JSON str or dict), e.g. {"must": [{"key": "label", "match": {"value": "red"}}]};
threads: for a batch (0 = all cores).)doc");
    cls.def("exact_search", &exact_search, py::arg("queries"), py::arg("k") = 10,
            "The exact k nearest live vectors (one pass over every vector): the reference of "
            "recall checks. Returns (ids, dists) shaped as search().");
    cls.def("get", &get, py::arg("id"),
            "The stored vector of `id` (the collection's dtype; unit-length under cosine). "
            "Raises strata.NotFound when the id is not live.");
    cls.def(
        "consolidate",
        [](PyCollection& self) {
            const ConsolidationReport r = self.run([](Collection& c) {
                auto rep = c.consolidate();
                check(rep.status());
                return std::move(*rep);
            });
            return report_dict(r);
        },
        "Runs a consolidation now and returns its report (a dict; 'swapped' is False with a "
        "'reason' when there was nothing to do or the new generation was refused).");
    cls.def(
        "bulk_load",
        [](PyCollection& self, const Path& data, const std::optional<Path>& ids,
           const std::optional<Path>& labels, int threads, bool progress) {
            const std::string data_path = data.string();
            const std::string ids_path = ids ? ids->string() : "";
            const std::string labels_path = labels ? labels->string() : "";
            self.run([&](Collection& c) {
                check(c.bulk_load(data_path, ids_path, progress, threads, labels_path));
            });
        },
        py::arg("data_path"), py::arg("ids_path") = py::none(), py::arg("labels_path") = py::none(),
        py::arg("threads") = 0, py::arg("progress") = false,
        "Fills an empty collection from a data file (.fbin/.u8bin/.i8bin/.fvecs/.bvecs/.npy) "
        "with the offline builder. ids_path: optional ids file; labels_path: optional labels "
        "file (line i: the comma-separated labels of row i).");
    cls.def(
        "snapshot",
        [](PyCollection& self, const Path& dest) {
            const std::string d = dest.string();
            self.run([&](Collection& c) { check(c.snapshot(d)); });
        },
        py::arg("dest"),
        "Writes a consistent copy of the collection to `dest` (which must not exist).");
    cls.def(
        "sync", [](PyCollection& self) { self.run([](Collection& c) { check(c.sync()); }); },
        "Syncs the log (for wal_sync='interval').");
    cls.def(
        "stats",
        [](PyCollection& self) {
            return stats_dict(self.run([](Collection& c) { return c.stats(); }));
        },
        "Counts and state as a dict (live, generation, hot, wal_bytes, ...).");
    cls.def("__len__", [](PyCollection& self) {
        return self.run([](Collection& c) { return c.stats().live; });
    });
    cls.def_property_readonly(
        "params", [](PyCollection& self) { return params_dict(self.params()); },
        "The creation parameters (dim, metric, dtype, degree, list_size, alpha, pq_bytes).");
    cls.def_property_readonly("dim", [](PyCollection& self) { return self.params().dim; });
    cls.def_property_readonly("metric", [](PyCollection& self) {
        return std::string(metric_name(self.params().metric));
    });
    cls.def_property_readonly(
        "dtype", [](PyCollection& self) { return std::string(dtype_name(self.params().dtype)); });
    cls.def_property_readonly("dir", [](PyCollection& self) { return self.dir(); });
    cls.def_property_readonly("closed", [](PyCollection& self) { return self.closed(); });
    cls.def("close", &PyCollection::close,
            "Finishes any consolidation, syncs the log and closes. Idempotent; later calls "
            "raise strata.ClosedError.");
    cls.def("__enter__", [](py::object self) { return self; });
    cls.def("__exit__", [](PyCollection& self, py::args) { self.close(); });
    cls.def("__repr__", &repr);
}

}  // namespace strata::python
