// Status and Result<T>: how every expected failure leaves the strata API (no exceptions cross it).
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace strata {

/// Error classes. Stable: codes are only added, never renumbered (the C API exposes them).
enum class StatusCode : int32_t {
    kOk = 0,
    kInvalidArgument = 1,    ///< The caller passed something malformed (bad flag, wrong dimension).
    kNotFound = 2,           ///< A file, id or collection does not exist.
    kCorruption = 3,         ///< A file exists but its content is damaged, truncated or foreign.
    kIOError = 4,            ///< The OS refused an operation; errno, file and offset are recorded.
    kNotSupported = 5,       ///< Valid input this build cannot handle (dtype, format version).
    kAlreadyExists = 6,      ///< Refusing to overwrite something.
    kOutOfRange = 7,         ///< A value outside the accepted bounds.
    kResourceExhausted = 8,  ///< A memory or queue budget would be exceeded.
    kInternal = 9,           ///< A bug or an unexpected exception caught at a module edge.
    kCancelled = 10,         ///< The operation was stopped on request.
    kBusy = 11,              ///< Held by another handle or process (a collection's lock).
};

/// Name of a code, e.g. "Corruption".
std::string_view status_code_name(StatusCode code);

/// The outcome of an operation: OK, or a code with a message (and for I/O errors the errno).
/// Cheap to copy when OK. Thread-compatible: a Status is a value.
class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(StatusCode code, std::string message, int sys_errno = 0)
        : code_(code), errno_(sys_errno), message_(std::move(message)) {}

    static Status ok() { return {}; }
    static Status invalid_argument(std::string msg) {
        return {StatusCode::kInvalidArgument, std::move(msg)};
    }
    static Status not_found(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
    static Status corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
    /// An OS-level failure; the message should name the file and, where it applies, the offset.
    static Status io_error(std::string msg, int sys_errno) {
        return {StatusCode::kIOError, std::move(msg), sys_errno};
    }
    static Status not_supported(std::string msg) {
        return {StatusCode::kNotSupported, std::move(msg)};
    }
    static Status already_exists(std::string msg) {
        return {StatusCode::kAlreadyExists, std::move(msg)};
    }
    static Status out_of_range(std::string msg) {
        return {StatusCode::kOutOfRange, std::move(msg)};
    }
    static Status resource_exhausted(std::string msg) {
        return {StatusCode::kResourceExhausted, std::move(msg)};
    }
    static Status internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
    static Status cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
    static Status busy(std::string msg) { return {StatusCode::kBusy, std::move(msg)}; }

    bool is_ok() const { return code_ == StatusCode::kOk; }
    explicit operator bool() const { return is_ok(); }
    StatusCode code() const { return code_; }
    /// errno of the failed system call, 0 when not an OS error.
    int sys_errno() const { return errno_; }
    const std::string& message() const { return message_; }
    /// "Corruption: <message>" (with ": <strerror>" appended for OS errors), or "OK".
    std::string to_string() const;

    /// Returns a copy whose message is prefixed with `context + ": "`.
    Status with_context(std::string_view context) const;

  private:
    StatusCode code_ = StatusCode::kOk;
    int errno_ = 0;
    std::string message_;
};

/// A value or the Status explaining why there is none. Accessing value() of an error asserts.
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
    Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
        assert(!status_.is_ok() && "Result built from an OK status carries no value");
        if (status_.is_ok()) status_ = Status::internal("Result built from an OK status");
    }

    bool is_ok() const { return value_.has_value(); }
    explicit operator bool() const { return is_ok(); }
    const Status& status() const { return status_; }

    T& value() & {
        assert(value_.has_value());
        return *value_;
    }
    const T& value() const& {
        assert(value_.has_value());
        return *value_;
    }
    T&& value() && {
        assert(value_.has_value());
        return std::move(*value_);
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

  private:
    Status status_;
    std::optional<T> value_;
};

}  // namespace strata

#define STRATA_CONCAT_INNER_(a, b) a##b
#define STRATA_CONCAT_(a, b) STRATA_CONCAT_INNER_(a, b)

/// Returns the Status of `expr` from the enclosing function when it is not OK.
#define STRATA_RETURN_IF_ERROR(expr)                        \
    do {                                                    \
        ::strata::Status strata_status_ = (expr);           \
        if (!strata_status_.is_ok()) return strata_status_; \
    } while (0)

/// `STRATA_ASSIGN_OR_RETURN(auto x, make_x());` — declares x from a Result or returns its Status.
#define STRATA_ASSIGN_OR_RETURN(lhs, expr) \
    STRATA_ASSIGN_OR_RETURN_IMPL_(STRATA_CONCAT_(strata_result_, __LINE__), lhs, expr)
#define STRATA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
    auto tmp = (expr);                                \
    if (!tmp.is_ok()) return tmp.status();            \
    lhs = std::move(tmp).value()
