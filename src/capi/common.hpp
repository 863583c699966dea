// Shared helpers of the C API: status conversion, malloc'd error messages, the exception
// barrier, versioned option structs, the directory lock and the signal mask of library threads.
#pragma once

#include <strata/strata.h>
#include <strata/filter.hpp>
#include <strata/status.hpp>
#include <strata/types.hpp>

#include <signal.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace strata::capi {

/// The C code of a Status.
strata_status code_of(StatusCode code);

/// Stores `message` (malloc'd) into *errmsg when errmsg is not null; returns `code`.
strata_status set_error(char** errmsg, strata_status code, std::string_view message) noexcept;
/// OK for an OK status, else its code and "<Code>: <message>".
strata_status report(char** errmsg, const Status& status) noexcept;
inline strata_status invalid(char** errmsg, std::string_view message) {
    return set_error(errmsg, STRATA_ERR_INVALID_ARGUMENT,
                     std::string("InvalidArgument: ").append(message));
}

/// Runs `fn` (returning strata_status) with *errmsg cleared first; no exception leaves it.
template <typename Fn>
strata_status guarded(char** errmsg, Fn&& fn) noexcept {
    if (errmsg != nullptr) *errmsg = nullptr;
    try {
        return fn();
    } catch (const std::bad_alloc&) {
        return set_error(errmsg, STRATA_ERR_NO_MEMORY, "NoMemory: out of memory");
    } catch (const std::exception& e) {
        return set_error(errmsg, STRATA_ERR_INTERNAL,
                         std::string("Internal: unexpected exception: ").append(e.what()));
    } catch (...) {
        return set_error(errmsg, STRATA_ERR_INTERNAL, "Internal: unexpected exception");
    }
}

/// Copies a caller's versioned struct over `out` (holding the defaults): NULL keeps the
/// defaults; a struct_size below the first release's size or above this library's is refused.
template <typename T>
strata_status read_struct(const T* in, T& out, const char* what, char** errmsg) {
    if (in == nullptr) return STRATA_OK;
    if (in->struct_size != sizeof(T)) {
        // Only one release exists: every valid struct_size is sizeof(T). Later releases accept
        // the sizes of earlier ones here and keep their defaults for the fields past them.
        return invalid(errmsg, std::string(what) + ".struct_size is " +
                                   std::to_string(in->struct_size) + ", expected " +
                                   std::to_string(sizeof(T)) + " (call the matching _init())");
    }
    std::memcpy(&out, in, sizeof(T));
    return STRATA_OK;
}

/// Checks the struct_size of a caller's output struct (see read_struct).
template <typename T>
strata_status check_out_struct(const T* out, const char* what, char** errmsg) {
    if (out == nullptr) return invalid(errmsg, std::string(what) + " is NULL");
    return out->struct_size == sizeof(T)
               ? STRATA_OK
               : invalid(errmsg, std::string(what) + ".struct_size is " +
                                     std::to_string(out->struct_size) + ", expected " +
                                     std::to_string(sizeof(T)) + " (call the matching _init())");
}

/// Copies `text` into a fixed NUL-terminated field, truncating.
template <size_t N>
void copy_text(char (&field)[N], std::string_view text) {
    const size_t n = text.size() < N - 1 ? text.size() : N - 1;
    std::memcpy(field, text.data(), n);
    field[n] = '\0';
}

/// A strata_dtype argument as a DType; false when out of range.
bool to_dtype(int32_t value, DType& out);

/// Blocks asynchronous signals on the calling thread for its lifetime, so that threads the
/// library starts meanwhile inherit a mask that leaves the host's signals to the host's
/// threads (a PostgreSQL backend's SIGINT/SIGTERM handlers, for instance). Synchronous faults
/// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT) stay unblocked.
class BlockSignals {
  public:
    BlockSignals() noexcept;
    ~BlockSignals();
    BlockSignals(const BlockSignals&) = delete;
    BlockSignals& operator=(const BlockSignals&) = delete;

  private:
    sigset_t old_{};
};

/// Reads a search's params (NULL: defaults) into `p` and checks the arguments common to every
/// search: handle, buffers, dtype (into `dt`), dimension against the handle's, k, threads.
strata_status prepare_search(const void* handle, uint32_t handle_dim,
                             const strata_search_params* params, const void* queries, int32_t dtype,
                             uint32_t dim, uint64_t nq, const uint64_t* ids,
                             strata_search_params& p, DType& dt, char** errmsg);

/// Parses `json` (a search's label_filter_json; NULL: no filter) against `handle`, a Collection
/// or a DiskIndex, into `out`.
template <typename Handle>
Status parse_label_filter(const Handle& handle, const char* json, std::optional<LabelFilter>& out) {
    if (json == nullptr) return Status::ok();
    auto f = handle.parse_filter(json);
    if (!f.is_ok()) return f.status().with_context("label_filter_json");
    out = std::move(*f);
    return Status::ok();
}

/// Runs one(i) -> Status for each query i < nq: on the calling thread when threads == 1, else
/// on a task arena of `threads` (0 = all cores) whose threads start with signals blocked.
/// Returns the first error.
template <typename Fn>
Status for_each_query(uint64_t nq, int32_t threads, Fn&& one) {
    if (threads == 1) {
        for (uint64_t i = 0; i < nq; ++i) STRATA_RETURN_IF_ERROR(one(i));
        return Status::ok();
    }
    const BlockSignals block;  // the search threads may start here
    std::mutex mu;
    Status first;
    tbb::task_arena arena(threads > 0 ? threads : tbb::this_task_arena::max_concurrency());
    arena.execute([&] {
        tbb::parallel_for(uint64_t{0}, nq, [&](uint64_t i) {
            Status s = one(i);
            if (s.is_ok()) return;
            std::lock_guard<std::mutex> lock(mu);
            if (first.is_ok()) first = std::move(s);
        });
    });
    return first;
}

/// The allow-list of a search, ascending without repeats: the caller's array when it already is,
/// else a sorted copy. Active when the caller passed allow_ids.
struct AllowList {
    bool active = false;
    std::span<const uint64_t> ids;
    std::vector<uint64_t> copy;
    explicit AllowList(const strata_search_params& p);
    bool contains(uint64_t id) const { return std::binary_search(ids.begin(), ids.end(), id); }
};

}  // namespace strata::capi
