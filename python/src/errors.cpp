// Exception classes of the strata module and the translator from StatusError to them.
#include "errors.hpp"

#include <array>
#include <cstring>

namespace py = pybind11;

namespace strata::python {
namespace {

constexpr size_t kCodes = static_cast<size_t>(StatusCode::kBusy) + 1;

// Borrowed for the life of the interpreter: the module owns the classes, and these references
// are deliberately never released (no Python call may run from a static destructor).
std::array<PyObject*, kCodes> g_classes{};
PyObject* g_closed = nullptr;

struct ClassSpec {
    StatusCode code;
    const char* name;
    PyObject* builtin;  // the built-in exception it also derives from, or null
    const char* doc;
};

py::object make_class(py::module_& m, const char* name, py::tuple bases, const char* doc) {
    py::dict ns;
    ns["__doc__"] = doc;
    ns["__module__"] = "strata";
    py::object cls = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&PyType_Type))(
        name, bases, ns);
    m.attr(name) = cls;
    return cls;
}

/// The message of `s` as Python shows it: the library's message, plus the OS's text for errno.
std::string message_of(const Status& s) {
    std::string out = s.message();
    if (s.sys_errno() != 0) {
        char buf[128];
        out += ": ";
        out += strerror_r(s.sys_errno(), buf, sizeof(buf));  // GNU: returns the text
    }
    return out;
}

void raise(const Status& s) {
    const auto i = static_cast<size_t>(s.code());
    PyObject* cls = i < kCodes && g_classes[i] != nullptr
                        ? g_classes[i]
                        : g_classes[static_cast<size_t>(StatusCode::kInternal)];
    const std::string msg = message_of(s);
    py::object type = py::reinterpret_borrow<py::object>(cls);
    // OSError subclasses take (errno, text) so that .errno and .strerror are set.
    py::object exc = s.sys_errno() != 0 && PyObject_IsSubclass(cls, PyExc_OSError) == 1
                         ? type(s.sys_errno(), msg)
                         : type(msg);
    exc.attr("code") = std::string(status_code_name(s.code()));
    PyErr_SetObject(cls, exc.ptr());
}

}  // namespace

void register_errors(py::module_& m) {
    py::object error = make_class(m, "Error", py::make_tuple(py::handle(PyExc_Exception)),
                                  "Base class of every error strata raises. `code` names the "
                                  "status code (e.g. 'InvalidArgument').");
    error.attr("code") = py::none();
    const ClassSpec specs[] = {
        {StatusCode::kInvalidArgument, "InvalidArgument", PyExc_ValueError,
         "Malformed input: wrong dimension, NaN, bad parameter or filter. Also a ValueError."},
        {StatusCode::kNotFound, "NotFound", PyExc_LookupError,
         "A file, id or collection does not exist. Also a LookupError."},
        {StatusCode::kCorruption, "Corruption", nullptr,
         "A file exists but is damaged, truncated or foreign."},
        {StatusCode::kIOError, "IOError", PyExc_OSError,
         "The OS refused an operation (errno is set). Also an OSError."},
        {StatusCode::kNotSupported, "NotSupported", nullptr,
         "Valid input this build cannot handle (dtype, format version)."},
        {StatusCode::kAlreadyExists, "AlreadyExists", PyExc_FileExistsError,
         "Refusing to overwrite something. Also a FileExistsError."},
        {StatusCode::kOutOfRange, "OutOfRange", PyExc_ValueError,
         "A value outside the accepted bounds. Also a ValueError."},
        {StatusCode::kResourceExhausted, "ResourceExhausted", nullptr,
         "A memory or queue budget would be exceeded."},
        {StatusCode::kInternal, "InternalError", nullptr,
         "A bug or an unexpected exception inside strata."},
        {StatusCode::kCancelled, "Cancelled", nullptr, "The operation was stopped on request."},
        {StatusCode::kBusy, "Busy", nullptr,
         "Held by another handle or process: a collection is open through one handle at a "
         "time."},
    };
    for (const ClassSpec& spec : specs) {
        py::tuple bases = spec.builtin != nullptr ? py::make_tuple(error, py::handle(spec.builtin))
                                                  : py::make_tuple(error);
        py::object cls = make_class(m, spec.name, bases, spec.doc);
        g_classes[static_cast<size_t>(spec.code)] = cls.release().ptr();
    }
    py::object closed = make_class(
        m, "ClosedError",
        py::make_tuple(py::handle(g_classes[static_cast<size_t>(StatusCode::kInvalidArgument)])),
        "An operation on a closed Collection or Index. Also a ValueError.");
    g_closed = closed.release().ptr();

    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const StatusError& e) {
            raise(e.status());
        } catch (const ClosedError& e) {
            py::object exc = py::reinterpret_borrow<py::object>(g_closed)(e.what());
            exc.attr("code") = "InvalidArgument";
            PyErr_SetObject(g_closed, exc.ptr());
        }
    });
}

}  // namespace strata::python
