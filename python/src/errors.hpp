// Status -> Python exception mapping of the strata module: strata.Error and one subclass per
// StatusCode, each also deriving from the built-in exception a Python caller would expect.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include <pybind11/pybind11.h>

#include <strata/status.hpp>

namespace strata::python {

/// A failed Status on its way to Python. May be thrown with the GIL released: it holds no
/// Python object, and the translator registered by register_errors() builds the exception.
class StatusError : public std::exception {
  public:
    explicit StatusError(Status status) : status_(std::move(status)) {}
    const Status& status() const { return status_; }
    const char* what() const noexcept override { return status_.message().c_str(); }

  private:
    Status status_;
};

/// An operation on a closed Collection or Index (raised as strata.ClosedError, a ValueError
/// like the error of a closed file). May be thrown with the GIL released.
class ClosedError : public std::exception {
  public:
    explicit ClosedError(std::string what) : what_(std::move(what)) {}
    const char* what() const noexcept override { return what_.c_str(); }

  private:
    std::string what_;
};

/// Throws StatusError when `s` is not OK.
inline void check(const Status& s) {
    if (!s.is_ok()) throw StatusError(s);
}

/// Throws StatusError(InvalidArgument(message)).
[[noreturn]] inline void invalid_argument(std::string message) {
    throw StatusError(Status::invalid_argument(std::move(message)));
}

/// Creates strata.Error and its subclasses in `m` and registers the translator.
void register_errors(pybind11::module_& m);

}  // namespace strata::python
