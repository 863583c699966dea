// The parts of the strata Python module, each adding its classes and functions to it.
#pragma once

#include <pybind11/pybind11.h>

namespace strata::python {

/// strata.Collection.
void bind_collection(pybind11::module_& m);
/// strata.Index and strata.build().
void bind_index(pybind11::module_& m);

}  // namespace strata::python
