// An open Collection or DiskIndex owned by a Python object: calls run with the GIL released
// while close() waits for them, so close() from one thread cannot free what another searches.
#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

#include <pybind11/pybind11.h>

#include "errors.hpp"

namespace strata::python {

template <typename T>
class Guarded {
  public:
    /// `name` (e.g. "collection /data/c") names the object in the ClosedError message.
    Guarded(std::unique_ptr<T> object, std::string name)
        : object_(std::move(object)), name_(std::move(name)) {}
    /// Destroying an open object closes it. This runs from the Python object's deallocation,
    /// with the GIL held; closing can wait for a consolidation, so the GIL is let go meanwhile
    /// (not while the interpreter shuts down, when no other thread may take it).
    ~Guarded() {
        if (!object_) return;
        if (PyGILState_Check() == 1 && !is_finalizing()) {
            pybind11::gil_scoped_release nogil;
            object_.reset();
        } else {
            object_.reset();
        }
    }
    Guarded(const Guarded&) = delete;
    Guarded& operator=(const Guarded&) = delete;

    /// Calls f(T&) with the GIL released; ClosedError when closed. `f` must not touch Python
    /// objects; it may throw StatusError.
    template <typename F>
    auto run(F&& f) {
        pybind11::gil_scoped_release nogil;
        std::shared_lock lock(mu_);
        return f(get());
    }

    /// Closes the object (waiting, without the GIL, for the calls in progress). Idempotent.
    void close() {
        pybind11::gil_scoped_release nogil;
        std::unique_lock lock(mu_);
        object_.reset();
    }

    bool closed() const {
        std::shared_lock lock(mu_);
        return object_ == nullptr;
    }

  private:
    static bool is_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
        return Py_IsFinalizing() != 0;
#else
        return _Py_IsFinalizing() != 0;
#endif
    }

    T& get() {
        if (!object_) throw ClosedError(name_ + " is closed");
        return *object_;
    }

    std::unique_ptr<T> object_;
    const std::string name_;
    mutable std::shared_mutex mu_;
};

}  // namespace strata::python
