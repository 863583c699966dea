// Python input of the strata module checked and converted at the edge: numpy vectors and ids,
// labels, filters and unsigned integer parameters. Every function here needs the GIL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <strata/types.hpp>

namespace strata::python {

/// Vectors ready for the C++ API: C-contiguous, aligned, float32 or the target's integer type.
struct Rows {
    pybind11::array array;  ///< owns the data (the caller's array or a converted copy)
    const void* data = nullptr;
    DType dtype = DType::kF32;
    uint64_t n = 0;
    uint32_t dim = 0;
    bool single = false;  ///< the input was one 1-D vector
    size_t stride_bytes() const { return size_t{dim} * dtype_size(dtype); }
};

/// The numpy dtype of a strata element type: float32, uint8, int8.
pybind11::dtype numpy_dtype(DType t);

/// Converts `obj` (a numpy array or anything np.asarray accepts) to rows of `dim` elements for a
/// `owner` (e.g. "collection") holding `target` vectors. float64/float16 and non-contiguous or
/// byte-swapped arrays are converted to C-contiguous float32; uint8/int8 must match `target`.
/// TypeError for another dtype; strata.InvalidArgument for a wrong shape or dimension.
/// `allow_single`: a 1-D array is one vector. `what` names the argument in messages.
Rows as_rows(pybind11::handle obj, DType target, uint32_t dim, bool allow_single, const char* what,
             const char* owner);

/// Ids from a 1-D integer array, a sequence of ints or one int. InvalidArgument for a negative
/// id or a 2-D array; TypeError for a non-integer dtype.
std::vector<uint64_t> as_ids(pybind11::handle obj, const char* what);

/// Labels of `n` rows: a sequence with, per row, None (no label), a str (one label) or a
/// sequence of str. TypeError for another type; InvalidArgument when the length is not n.
std::vector<std::vector<std::string>> as_labels(pybind11::handle obj, uint64_t n);

/// A filter as JSON text: "" for None, a str as is, a dict serialized with json.dumps.
std::string as_filter_json(pybind11::handle obj);

/// `value` as u32; InvalidArgument naming `name` when it is negative or too large.
uint32_t as_u32(int64_t value, const char* name);

/// A new array of the given shape (1-D [k] when `single`, else [n, k]).
template <typename T>
pybind11::array_t<T> new_result(bool single, uint64_t n, uint32_t k) {
    if (single) return pybind11::array_t<T>(static_cast<pybind11::ssize_t>(k));
    return pybind11::array_t<T>(
        {static_cast<pybind11::ssize_t>(n), static_cast<pybind11::ssize_t>(k)});
}

}  // namespace strata::python
