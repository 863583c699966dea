// The C API's library-wide functions: versions, status names, error messages, the log sink.
#include <strata/strata.h>
#include <strata/log.hpp>

#include <cstdlib>
#include <string>

#include "capi/common.hpp"

extern "C" {

const char* strata_version(void) { return STRATA_VERSION; }

uint32_t strata_version_number(void) { return STRATA_VERSION_NUMBER; }

bool strata_version_compatible(uint32_t header_version) {
    const uint32_t major = header_version / 10000, minor = header_version / 100 % 100;
    return major == STRATA_VERSION_MAJOR && minor <= STRATA_VERSION_MINOR;
}

const char* strata_status_name(strata_status code) {
    switch (code) {
        case STRATA_OK:
            return "OK";
        case STRATA_ERR_INVALID_ARGUMENT:
            return "InvalidArgument";
        case STRATA_ERR_NOT_FOUND:
            return "NotFound";
        case STRATA_ERR_CORRUPTION:
            return "Corruption";
        case STRATA_ERR_IO:
            return "IOError";
        case STRATA_ERR_NOT_SUPPORTED:
            return "NotSupported";
        case STRATA_ERR_ALREADY_EXISTS:
            return "AlreadyExists";
        case STRATA_ERR_OUT_OF_RANGE:
            return "OutOfRange";
        case STRATA_ERR_RESOURCE_EXHAUSTED:
            return "ResourceExhausted";
        case STRATA_ERR_INTERNAL:
            return "Internal";
        case STRATA_ERR_CANCELLED:
            return "Cancelled";
        case STRATA_ERR_NO_MEMORY:
            return "NoMemory";
        case STRATA_ERR_BUSY:
            return "Busy";
    }
    return "Unknown";
}

void strata_free_error(char* errmsg) { std::free(errmsg); }

void strata_set_log_callback(strata_log_fn fn, void* context) {
    try {
        if (fn == nullptr) {
            strata::set_log_sink({});
            return;
        }
        strata::set_log_sink([fn, context](strata::LogLevel level, std::string_view message) {
            try {
                const std::string line(message);
                fn(static_cast<int32_t>(level), line.c_str(), context);
            } catch (...) {  // a line that cannot be copied is dropped, never thrown into strata
            }
        });
    } catch (...) {  // out of memory: the previous sink stays
    }
}

strata_status strata_set_log_level(int32_t level, char** errmsg) {
    return strata::capi::guarded(errmsg, [&] {
        if (level < STRATA_LOG_TRACE || level > STRATA_LOG_OFF) {
            return strata::capi::invalid(
                errmsg, "log level " + std::to_string(level) + " is not a strata_log_level (0-5)");
        }
        strata::set_log_level(static_cast<strata::LogLevel>(level));
        return STRATA_OK;
    });
}

}  // extern "C"
