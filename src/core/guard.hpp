// Module-edge exception guard: runs a Status-returning body and turns std exceptions (from std,
// Boost or TBB) into a Status, so none crosses the library's API.
#pragma once

#include <exception>
#include <new>
#include <string>

#include <strata/status.hpp>

namespace strata {

/// Calls fn(); std::bad_alloc becomes ResourceExhausted and any other std::exception Internal,
/// both prefixed with `what`.
template <typename Fn>
Status guarded(const char* what, Fn&& fn) {
    try {
        return fn();
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(std::string(what) + ": out of memory");
    } catch (const std::exception& e) {
        return Status::internal(std::string(what) + ": " + e.what());
    }
}

}  // namespace strata
