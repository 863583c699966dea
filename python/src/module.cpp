// The strata Python module: Collection, Index, build(), the exception classes, __version__.
#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <pybind11/pybind11.h>

#include <strata/log.hpp>

#include "bindings.hpp"
#include "errors.hpp"

namespace py = pybind11;

namespace {

strata::LogLevel parse_log_level(const std::string& name) {
    using strata::LogLevel;
    if (name == "trace") return LogLevel::kTrace;
    if (name == "debug") return LogLevel::kDebug;
    if (name == "info") return LogLevel::kInfo;
    if (name == "warn" || name == "warning") return LogLevel::kWarn;
    if (name == "error") return LogLevel::kError;
    if (name == "off") return LogLevel::kOff;
    strata::python::invalid_argument(
        fmt::format("log level '{}': expected trace, debug, info, warn, error or off", name));
}

}  // namespace

PYBIND11_MODULE(strata, m) {
    m.doc() = R"doc(strata: disk-resident approximate nearest-neighbour search.

Collection: a directory that takes upserts and deletes while it serves searches.
Index: a disk index built offline (strata.build() or `strata build`), searched on the SSD.
Vectors go in and results come out as numpy arrays; the GIL is released during searches,
writes, consolidations and builds. Errors raise strata.Error subclasses carrying the library's
message (strata.InvalidArgument is also a ValueError, strata.NotFound a LookupError, ...).)doc";
    m.attr("__version__") = STRATA_VERSION;
    m.attr("NO_ID") = py::int_(std::numeric_limits<uint64_t>::max());
    strata::python::register_errors(m);
    strata::python::bind_collection(m);
    strata::python::bind_index(m);
    m.def(
        "set_log_level",
        [](const std::string& level) { strata::set_log_level(parse_log_level(level)); },
        py::arg("level"),
        "Minimum level of the library's log lines on stderr: 'trace', 'debug', 'info' "
        "(default), 'warn', 'error' or 'off'.");
}
