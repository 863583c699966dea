// Checks and conversions of numpy input at the edge of the strata module.
#include "arrays.hpp"

#include <limits>

#include <fmt/format.h>

#include "errors.hpp"

namespace py = pybind11;

namespace strata::python {
namespace {

std::string type_name(py::handle obj) { return py::str(py::type::handle_of(obj).attr("__name__")); }

std::string shape_text(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) {
        if (i > 0) s += ", ";
        s += std::to_string(a.shape(i));
    }
    return s + (a.ndim() == 1 ? ",)" : ")");
}

/// np.asarray(obj) as an aligned array; TypeError when numpy cannot make one.
py::array to_array(py::handle obj, const char* what) {
    constexpr int kAligned = py::detail::npy_api::NPY_ARRAY_ALIGNED_;
    py::array a = py::array::ensure(obj, kAligned);
    if (!a) {
        throw py::type_error(fmt::format(
            "{} must be a numpy array or a sequence of numbers, got {}", what, type_name(obj)));
    }
    return a;
}

}  // namespace

py::dtype numpy_dtype(DType t) {
    if (t == DType::kU8) return py::dtype::of<uint8_t>();
    if (t == DType::kI8) return py::dtype::of<int8_t>();
    return py::dtype::of<float>();
}

Rows as_rows(py::handle obj, DType target, uint32_t dim, bool allow_single, const char* what,
             const char* owner) {
    py::array a = to_array(obj, what);
    Rows r;
    const char kind = a.dtype().kind();
    const auto item = a.itemsize();
    if (kind == 'f' || a.size() == 0) {
        r.dtype = DType::kF32;  // float64/float16, other byte orders and copies become float32
        a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
        if (!a) throw py::error_already_set();
    } else if ((kind == 'u' || kind == 'i') && item == 1) {
        r.dtype = kind == 'u' ? DType::kU8 : DType::kI8;
        if (r.dtype != target) {
            throw py::type_error(
                fmt::format("{} has dtype {}, but the {} holds {} vectors: pass {} or float32",
                            what, std::string(py::str(a.dtype())), owner, dtype_name(target),
                            std::string(py::str(numpy_dtype(target)))));
        }
        if (!(a.flags() & py::array::c_style)) {
            a = py::array::ensure(a, py::array::c_style);
            if (!a) throw py::error_already_set();
        }
    } else {
        throw py::type_error(fmt::format(
            "{} has dtype {}: expected float32 (float64 and float16 are converted){}", what,
            std::string(py::str(a.dtype())),
            target == DType::kF32 ? std::string()
                                  : fmt::format(" or {} (the {}'s element type)",
                                                std::string(py::str(numpy_dtype(target))), owner)));
    }
    if (a.ndim() == 1 && allow_single) {
        r.single = true;
        r.n = 1;
    } else if (a.ndim() == 2) {
        r.n = static_cast<uint64_t>(a.shape(0));
    } else {
        invalid_argument(fmt::format("{} must be a 2-D array [n, {}]{}, got shape {}", what, dim,
                                     allow_single ? fmt::format(" or one vector [{}]", dim) : "",
                                     shape_text(a)));
    }
    const auto got_dim = static_cast<uint64_t>(a.shape(a.ndim() - 1));
    if (got_dim != dim) {
        invalid_argument(fmt::format("{}: dimension {}, but the {} has dimension {}", what, got_dim,
                                     owner, dim));
    }
    r.dim = dim;
    r.data = a.data();
    r.array = std::move(a);
    return r;
}

std::vector<uint64_t> as_ids(py::handle obj, const char* what) {
    py::array a = to_array(obj, what);
    if (a.ndim() > 1) {
        invalid_argument(
            fmt::format("{} must be a 1-D array of ids, got shape {}", what, shape_text(a)));
    }
    std::vector<uint64_t> out(static_cast<size_t>(a.size()));
    if (out.empty()) return out;
    const char kind = a.dtype().kind();
    if (kind == 'u') {
        auto u = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>::ensure(a);
        if (!u) throw py::error_already_set();
        const uint64_t* p = u.data();
        for (size_t i = 0; i < out.size(); ++i) out[i] = p[i];
    } else if (kind == 'i') {
        auto s = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
        if (!s) throw py::error_already_set();
        const int64_t* p = s.data();
        for (size_t i = 0; i < out.size(); ++i) {
            if (p[i] < 0) {
                invalid_argument(
                    fmt::format("{}[{}] = {} is negative: ids are unsigned 64-bit", what, i, p[i]));
            }
            out[i] = static_cast<uint64_t>(p[i]);
        }
    } else {
        throw py::type_error(fmt::format("{} has dtype {}: ids must be integers (uint64)", what,
                                         std::string(py::str(a.dtype()))));
    }
    return out;
}

std::vector<std::vector<std::string>> as_labels(py::handle obj, uint64_t n) {
    if (PyUnicode_Check(obj.ptr()) || !PySequence_Check(obj.ptr())) {
        throw py::type_error(fmt::format(
            "labels must be a sequence with one entry per row (None, a str or a list of str), "
            "got {}",
            type_name(obj)));
    }
    py::sequence rows = py::reinterpret_borrow<py::sequence>(obj);
    if (rows.size() != n) {
        invalid_argument(fmt::format("labels has {} rows, the vectors {}", rows.size(), n));
    }
    std::vector<std::vector<std::string>> out(n);
    for (size_t i = 0; i < n; ++i) {
        py::object row = rows[i];
        if (row.is_none()) continue;
        if (PyUnicode_Check(row.ptr())) {
            out[i].push_back(row.cast<std::string>());
            continue;
        }
        if (!py::isinstance<py::iterable>(row)) {
            throw py::type_error(fmt::format(
                "labels[{}] must be None, a str or a sequence of str, got {}", i, type_name(row)));
        }
        for (py::handle name : row) {
            if (!PyUnicode_Check(name.ptr())) {
                throw py::type_error(
                    fmt::format("labels[{}] holds a {}, not a str", i, type_name(name)));
            }
            out[i].push_back(name.cast<std::string>());
        }
    }
    return out;
}

std::string as_filter_json(py::handle obj) {
    if (obj.is_none()) return {};
    if (PyUnicode_Check(obj.ptr())) return obj.cast<std::string>();
    if (PyDict_Check(obj.ptr())) {
        return py::module_::import("json").attr("dumps")(obj).cast<std::string>();
    }
    throw py::type_error(
        fmt::format("filter must be None, a JSON str or a dict, got {}", type_name(obj)));
}

uint32_t as_u32(int64_t value, const char* name) {
    if (value < 0 || value > std::numeric_limits<uint32_t>::max()) {
        invalid_argument(fmt::format("{} = {} is out of range [0, {}]", name, value,
                                     std::numeric_limits<uint32_t>::max()));
    }
    return static_cast<uint32_t>(value);
}

}  // namespace strata::python
