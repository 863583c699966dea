// The C API's shared helpers (see common.hpp).
#include "capi/common.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

#include <fmt/format.h>

namespace strata::capi {

strata_status code_of(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return STRATA_OK;
        case StatusCode::kInvalidArgument:
            return STRATA_ERR_INVALID_ARGUMENT;
        case StatusCode::kNotFound:
            return STRATA_ERR_NOT_FOUND;
        case StatusCode::kCorruption:
            return STRATA_ERR_CORRUPTION;
        case StatusCode::kIOError:
            return STRATA_ERR_IO;
        case StatusCode::kNotSupported:
            return STRATA_ERR_NOT_SUPPORTED;
        case StatusCode::kAlreadyExists:
            return STRATA_ERR_ALREADY_EXISTS;
        case StatusCode::kOutOfRange:
            return STRATA_ERR_OUT_OF_RANGE;
        case StatusCode::kResourceExhausted:
            return STRATA_ERR_RESOURCE_EXHAUSTED;
        case StatusCode::kInternal:
            return STRATA_ERR_INTERNAL;
        case StatusCode::kCancelled:
            return STRATA_ERR_CANCELLED;
        case StatusCode::kBusy:
            return STRATA_ERR_BUSY;
    }
    return STRATA_ERR_INTERNAL;
}

strata_status set_error(char** errmsg, strata_status code, std::string_view message) noexcept {
    if (errmsg == nullptr) return code;
    auto* m = static_cast<char*>(std::malloc(message.size() + 1));
    if (m != nullptr) {
        std::memcpy(m, message.data(), message.size());
        m[message.size()] = '\0';
    }
    *errmsg = m;
    return code;
}

strata_status report(char** errmsg, const Status& status) noexcept {
    if (status.is_ok()) return STRATA_OK;
    const strata_status code = code_of(status.code());
    try {
        return set_error(errmsg, code, status.to_string());
    } catch (...) {  // to_string could not allocate: the bare message still tells
        return set_error(errmsg, code, status.message());
    }
}

bool to_dtype(int32_t value, DType& out) {
    switch (value) {
        case STRATA_DTYPE_F32:
            out = DType::kF32;
            return true;
        case STRATA_DTYPE_U8:
            out = DType::kU8;
            return true;
        case STRATA_DTYPE_I8:
            out = DType::kI8;
            return true;
        default:
            return false;
    }
}

BlockSignals::BlockSignals() noexcept {
    sigset_t all;
    sigfillset(&all);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&all, s);
    pthread_sigmask(SIG_BLOCK, &all, &old_);
}

BlockSignals::~BlockSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

strata_status prepare_search(const void* handle, uint32_t handle_dim,
                             const strata_search_params* params, const void* queries, int32_t dtype,
                             uint32_t dim, uint64_t nq, const uint64_t* ids,
                             strata_search_params& p, DType& dt, char** errmsg) {
    strata_search_params_init(&p);
    if (strata_status s = read_struct(params, p, "params", errmsg); s != STRATA_OK) return s;
    if (handle == nullptr) return invalid(errmsg, "handle is NULL");
    if (!to_dtype(dtype, dt)) {
        return invalid(
            errmsg, fmt::format("dtype {} is not a strata_dtype (0 = f32, 1 = u8, 2 = i8)", dtype));
    }
    if (dim != handle_dim) {
        return invalid(errmsg, fmt::format("query dimension {} does not match the {} of the handle",
                                           dim, handle_dim));
    }
    if (p.k == 0 || p.k > 1000) {
        return invalid(errmsg, fmt::format("k is {}, must be in [1, 1000]", p.k));
    }
    if (p.threads < 0) return invalid(errmsg, "threads must be >= 0 (0 = all cores)");
    if (p.allow_ids == nullptr && p.allow_count > 0) {
        return invalid(errmsg, "allow_ids is NULL but allow_count is not 0");
    }
    if (nq == 0) return STRATA_OK;
    if (queries == nullptr) return invalid(errmsg, "queries is NULL");
    if (ids == nullptr) return invalid(errmsg, "ids is NULL");
    if (nq > UINT64_MAX / 1000 / (uint64_t{dim} * 4)) {
        return invalid(errmsg, fmt::format("{} queries are too many for one call", nq));
    }
    return STRATA_OK;
}

AllowList::AllowList(const strata_search_params& p) {
    if (p.allow_ids == nullptr) return;
    active = true;
    ids = {p.allow_ids, p.allow_count};
    if (std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<uint64_t>()) == ids.end()) {
        return;
    }
    copy.assign(ids.begin(), ids.end());
    std::sort(copy.begin(), copy.end());
    copy.erase(std::unique(copy.begin(), copy.end()), copy.end());
    ids = copy;
}

}  // namespace strata::capi
