// Status formatting.
#include <strata/status.hpp>

#include <cstring>

namespace strata {

std::string_view status_code_name(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return "OK";
        case StatusCode::kInvalidArgument:
            return "InvalidArgument";
        case StatusCode::kNotFound:
            return "NotFound";
        case StatusCode::kCorruption:
            return "Corruption";
        case StatusCode::kIOError:
            return "IOError";
        case StatusCode::kNotSupported:
            return "NotSupported";
        case StatusCode::kAlreadyExists:
            return "AlreadyExists";
        case StatusCode::kOutOfRange:
            return "OutOfRange";
        case StatusCode::kResourceExhausted:
            return "ResourceExhausted";
        case StatusCode::kInternal:
            return "Internal";
        case StatusCode::kCancelled:
            return "Cancelled";
        case StatusCode::kBusy:
            return "Busy";
    }
    return "Unknown";
}

std::string Status::to_string() const {
    if (is_ok()) return "OK";
    std::string out(status_code_name(code_));
    out += ": ";
    out += message_;
    if (errno_ != 0) {
        char buf[128];
        // GNU strerror_r returns the message pointer (possibly not buf).
        const char* text = strerror_r(errno_, buf, sizeof(buf));
        out += ": ";
        out += text;
    }
    return out;
}

Status Status::with_context(std::string_view context) const {
    if (is_ok()) return *this;
    std::string msg(context);
    msg += ": ";
    msg += message_;
    return Status(code_, std::move(msg), errno_);
}

}  // namespace strata
