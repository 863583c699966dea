// Keyword options of the strata module, read into the C++ options structs.
#include "options.hpp"

#include <limits>

#include <fmt/format.h>
#include <pybind11/stl/filesystem.h>

#include "errors.hpp"

namespace py = pybind11;

namespace strata::python {
namespace {

std::string type_name(py::handle obj) { return py::str(py::type::handle_of(obj).attr("__name__")); }

}  // namespace

Kwargs::Kwargs(const py::kwargs& kwargs, std::string function)
    : kwargs_(py::reinterpret_steal<py::dict>(PyDict_Copy(kwargs.ptr()))),
      function_(std::move(function)) {
    if (!kwargs_) throw py::error_already_set();
}

py::object Kwargs::pop(const char* name) {
    if (!kwargs_.contains(name)) return {};
    py::object v = kwargs_[name];
    if (PyDict_DelItemString(kwargs_.ptr(), name) != 0) throw py::error_already_set();
    return v;
}

int64_t Kwargs::integer(const char* name, const py::object& v, int64_t lo, int64_t hi) const {
    // bool is an int in Python, but degree=True is a mistake; numpy integers are accepted.
    if (PyBool_Check(v.ptr()) || !PyIndex_Check(v.ptr())) {
        throw py::type_error(
            fmt::format("{}: {} must be an int, got {}", function_, name, type_name(v)));
    }
    py::int_ i = py::reinterpret_steal<py::int_>(PyNumber_Index(v.ptr()));
    if (!i) throw py::error_already_set();
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
    if (overflow != 0 || x < lo || x > hi) {
        invalid_argument(fmt::format("{}: {} = {} is out of range [{}, {}]", function_, name,
                                     std::string(py::str(i)), lo, hi));
    }
    return x;
}

void Kwargs::take(const char* name, uint32_t& out) {
    if (py::object v = pop(name)) {
        out = static_cast<uint32_t>(integer(name, v, 0, std::numeric_limits<uint32_t>::max()));
    }
}

void Kwargs::take(const char* name, uint64_t& out) {
    if (py::object v = pop(name)) {
        out = static_cast<uint64_t>(integer(name, v, 0, std::numeric_limits<int64_t>::max()));
    }
}

void Kwargs::take(const char* name, int& out) {
    if (py::object v = pop(name)) {
        out = static_cast<int>(
            integer(name, v, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
    }
}

void Kwargs::take(const char* name, double& out) {
    py::object v = pop(name);
    if (!v) return;
    if (PyBool_Check(v.ptr()) ||
        !(PyFloat_Check(v.ptr()) || PyIndex_Check(v.ptr()) || py::hasattr(v, "__float__"))) {
        throw py::type_error(
            fmt::format("{}: {} must be a number, got {}", function_, name, type_name(v)));
    }
    out = PyFloat_AsDouble(v.ptr());
    if (PyErr_Occurred()) throw py::error_already_set();
}

void Kwargs::take(const char* name, float& out) {
    double d = out;
    take(name, d);
    out = static_cast<float>(d);
}

void Kwargs::take(const char* name, bool& out) {
    py::object v = pop(name);
    if (!v) return;
    if (!PyBool_Check(v.ptr())) {
        throw py::type_error(
            fmt::format("{}: {} must be True or False, got {}", function_, name, type_name(v)));
    }
    out = v.ptr() == Py_True;
}

void Kwargs::take(const char* name, std::string& out) {
    py::object v = pop(name);
    if (!v) return;
    if (PyUnicode_Check(v.ptr())) {
        out = v.cast<std::string>();
    } else if (py::hasattr(v, "__fspath__")) {
        out = v.cast<std::filesystem::path>().string();
    } else {
        throw py::type_error(
            fmt::format("{}: {} must be a str, got {}", function_, name, type_name(v)));
    }
}

void Kwargs::take(const char* name, std::vector<std::string>& out) {
    py::object v = pop(name);
    if (!v) return;
    if (PyUnicode_Check(v.ptr()) || !py::isinstance<py::iterable>(v)) {
        throw py::type_error(
            fmt::format("{}: {} must be a list of str, got {}", function_, name, type_name(v)));
    }
    out.clear();
    for (py::handle item : v) {
        if (!PyUnicode_Check(item.ptr())) {
            throw py::type_error(
                fmt::format("{}: {} holds a {}, not a str", function_, name, type_name(item)));
        }
        out.push_back(item.cast<std::string>());
    }
}

void Kwargs::take(const char* name, Metric& out) {
    std::string text;
    if (!kwargs_.contains(name)) return;
    take(name, text);
    auto m = parse_metric(text);
    check(m.status());
    out = *m;
}

void Kwargs::take(const char* name, CollectionOptions::Sync& out) {
    std::string text;
    if (!kwargs_.contains(name)) return;
    take(name, text);
    if (text == "always") {
        out = CollectionOptions::Sync::kAlways;
    } else if (text == "interval") {
        out = CollectionOptions::Sync::kInterval;
    } else {
        invalid_argument(
            fmt::format("{}: {} = '{}': expected 'always' or 'interval'", function_, name, text));
    }
}

void Kwargs::finish() const {
    for (auto item : kwargs_) {
        throw py::type_error(fmt::format("{} got an unexpected keyword argument '{}'", function_,
                                         std::string(py::str(item.first))));
    }
}

void read_disk_options(Kwargs& kw, DiskIndexOptions& o) {
    kw.take("cache_bytes", o.cache_bytes);
    kw.take("io", o.io);
    kw.take("use_nav_graph", o.use_nav_graph);
    kw.take("max_list_size", o.max_list_size);
    kw.take("max_beam_width", o.max_beam_width);
}

CollectionOptions read_collection_options(Kwargs& kw) {
    CollectionOptions o;
    kw.take("wal_sync", o.wal_sync);
    kw.take("wal_interval_ms", o.wal_interval_ms);
    kw.take("consolidate_at", o.consolidate_at);
    kw.take("background", o.background);
    kw.take("consolidation_threads", o.consolidation_threads);
    kw.take("consolidation_memory_gb", o.consolidation_memory_gb);
    kw.take("consolidation_read_mib_s", o.consolidation_read_mib_s);
    kw.take("recall_margin", o.recall_margin);
    kw.take("validation_queries", o.validation_queries);
    kw.take("hot_m", o.hot_m);
    kw.take("hot_ef_construction", o.hot_ef_construction);
    read_disk_options(kw, o.disk);
    return o;
}

BuildOptions read_build_options(Kwargs& kw) {
    BuildOptions o;
    kw.take("metric", o.metric);
    kw.take("degree", o.degree_max);
    kw.take("list_size", o.list_size);
    kw.take("alpha", o.alpha);
    kw.take("pq_bytes", o.pq_bytes);
    kw.take("memory_gb", o.memory_gb);
    kw.take("threads", o.threads);
    kw.take("data_format", o.data_format);
    kw.take("ids_path", o.ids_path);
    kw.take("labels_path", o.labels_path);
    kw.take("label_names", o.label_names);
    kw.take("skip_bad", o.skip_bad);
    kw.take("force", o.force);
    kw.take("progress", o.progress);
    kw.take("seed", o.seed);
    kw.take("pq_train_sample", o.pq_train_sample);
    kw.take("shards", o.shards);
    kw.take("nav_fraction", o.nav_fraction);
    kw.take("nav_degree", o.nav_degree);
    kw.take("pack_sectors", o.pack_sectors);
    return o;
}

}  // namespace strata::python
