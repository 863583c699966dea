// NumPy .npy: a small parser for the Python-literal header dict, validation, and the writer header.
#include <algorithm>
#include <cctype>
#include <vector>

#include <fmt/format.h>

#include "core/check.hpp"
#include "io/formats.hpp"

namespace strata::io::detail {
namespace {

/// A Python literal as found in npy headers (strings, ints, bools, None, tuples/lists, dicts).
struct PyValue {
    enum class Kind : uint8_t { kNone, kString, kInt, kBool, kSequence, kDict };
    Kind kind = Kind::kNone;
    std::string text;               ///< kString
    int64_t number = 0;             ///< kInt
    bool flag = false;              ///< kBool
    std::vector<PyValue> items;     ///< kSequence elements, kDict values
    std::vector<std::string> keys;  ///< kDict keys, parallel to items

    const PyValue* find(std::string_view key) const {
        for (size_t i = 0; i < keys.size(); ++i) {
            if (keys[i] == key) return &items[i];
        }
        return nullptr;
    }
};

/// Recursive descent over the header text. Accepts either quote style, any whitespace, trailing
/// commas, Python 2 long suffixes ("3L") and trailing space/NUL padding; nesting is bounded.
class PyLiteralParser {
  public:
    explicit PyLiteralParser(std::string_view text) : text_(text) {}

    /// Parses the whole text as one dict. On failure error() says what and where.
    bool parse_document(PyValue* out) {
        skip_space();
        if (!at('{')) return fail("expected '{' at the start of the header dict");
        if (!value(out, 0)) return false;
        while (pos_ < text_.size() && (is_space(text_[pos_]) || text_[pos_] == '\0')) ++pos_;
        if (pos_ != text_.size()) return fail("unexpected characters after the header dict");
        return true;
    }
    const std::string& error() const { return error_; }

  private:
    static constexpr int kMaxDepth = 16;

    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    void skip_space() {
        while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    }
    bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
    bool consume(char c) {
        skip_space();
        if (!at(c)) return false;
        ++pos_;
        return true;
    }
    bool fail(std::string_view message) {
        if (error_.empty()) error_ = fmt::format("{} at offset {}", message, pos_);
        return false;
    }

    bool value(PyValue* out, int depth) {
        if (depth > kMaxDepth) return fail("literal nested too deeply");
        skip_space();
        if (pos_ >= text_.size()) return fail("unexpected end of header");
        const char c = text_[pos_];
        if (c == '\'' || c == '"') {
            out->kind = PyValue::Kind::kString;
            return string(&out->text);
        }
        if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
            out->kind = PyValue::Kind::kInt;
            return integer(&out->number);
        }
        if (c == '(') return sequence(')', out, depth);
        if (c == '[') return sequence(']', out, depth);
        if (c == '{') return dict(out, depth);
        if (std::isalpha(static_cast<unsigned char>(c))) return identifier(out);
        return fail(fmt::format("unexpected character 0x{:02x}", static_cast<unsigned char>(c)));
    }

    bool string(std::string* out) {
        const char quote = text_[pos_++];
        while (pos_ < text_.size() && text_[pos_] != quote) {
            if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;  // keep escaped char
            out->push_back(text_[pos_++]);
        }
        if (pos_ >= text_.size()) return fail("unterminated string");
        ++pos_;
        return true;
    }

    bool integer(int64_t* out) {
        const bool negative = text_[pos_] == '-';
        if (negative) ++pos_;
        const size_t digits_begin = pos_;
        uint64_t v = 0;
        while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
            const auto digit = static_cast<uint64_t>(text_[pos_++] - '0');
            if (v > (uint64_t{INT64_MAX} - digit) / 10) return fail("integer out of range");
            v = v * 10 + digit;
        }
        if (pos_ == digits_begin) return fail("expected digits");
        if (at('L') || at('l')) ++pos_;  // Python 2 long
        *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
        return true;
    }

    bool identifier(PyValue* out) {
        const size_t begin = pos_;
        while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) {
            ++pos_;
        }
        const std::string_view word = text_.substr(begin, pos_ - begin);
        if (word == "True" || word == "False") {
            out->kind = PyValue::Kind::kBool;
            out->flag = word == "True";
            return true;
        }
        if (word == "None") {
            out->kind = PyValue::Kind::kNone;
            return true;
        }
        pos_ = begin;
        return fail(fmt::format("unknown name '{}'", word));
    }

    bool sequence(char close, PyValue* out, int depth) {
        ++pos_;
        out->kind = PyValue::Kind::kSequence;
        while (!consume(close)) {
            out->items.emplace_back();
            if (!value(&out->items.back(), depth + 1)) return false;
            if (consume(close)) break;
            if (!consume(',')) return fail(fmt::format("expected ',' or '{}'", close));
        }
        return true;
    }

    bool dict(PyValue* out, int depth) {
        ++pos_;
        out->kind = PyValue::Kind::kDict;
        while (!consume('}')) {
            skip_space();
            if (!at('\'') && !at('"')) return fail("expected a quoted key");
            std::string key;
            if (!string(&key)) return false;
            if (out->find(key) != nullptr) return fail(fmt::format("duplicate key '{}'", key));
            if (!consume(':')) return fail("expected ':'");
            out->keys.push_back(std::move(key));
            out->items.emplace_back();
            if (!value(&out->items.back(), depth + 1)) return false;
            if (consume('}')) break;
            if (!consume(',')) return fail("expected ',' or '}'");
        }
        return true;
    }

    std::string_view text_;
    size_t pos_ = 0;
    std::string error_;
};

/// The header text with non-printable bytes replaced, cut to a readable length.
std::string printable(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 160)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    if (text.size() > 160) out += "...";
    return out;
}

Result<DType> npy_dtype(const std::string& path, const PyValue& descr) {
    if (descr.kind != PyValue::Kind::kString) {
        return Status::not_supported(fmt::format(
            "{}: structured or non-string npy dtype (descr) is not supported; expected <f4, |u1 "
            "or |i1",
            path));
    }
    const std::string& s = descr.text;
    char order = '=';
    std::string_view code = s;
    if (s.size() == 3 && std::string_view("<>|=").find(s[0]) != std::string_view::npos) {
        order = s[0];
        code = std::string_view(s).substr(1);
    }
    // Byte order is meaningless for one-byte types: numpy writes '|' but accept any.
    if (code == "u1") return DType::kU8;
    if (code == "i1") return DType::kI8;
    if (code == "f4" && (order == '<' || order == '=')) return DType::kF32;
    if (code == "f4" && order == '>') {
        return Status::not_supported(
            fmt::format("{}: big-endian npy dtype '{}' is not supported; convert with "
                        "arr.astype('<f4')",
                        path, s));
    }
    return Status::not_supported(
        fmt::format("{}: unsupported npy dtype '{}' (supported: '<f4', '|u1', '|i1')", path, s));
}

std::string shape_string(const PyValue& shape) {
    std::string out = "(";
    for (size_t i = 0; i < shape.items.size(); ++i) {
        if (i > 0) out += ", ";
        out += shape.items[i].kind == PyValue::Kind::kInt ? std::to_string(shape.items[i].number)
                                                          : std::string("?");
    }
    return out + (shape.items.size() == 1 ? ",)" : ")");
}

/// Reads descr / fortran_order / shape from the parsed dict into `layout` (dtype, rows, dim).
Status npy_fields(const std::string& path, const PyValue& dict, Layout* layout) {
    for (std::string_view key : {"descr", "fortran_order", "shape"}) {
        if (dict.find(key) == nullptr) {
            return Status::corruption(fmt::format("{}: npy header has no '{}' key", path, key));
        }
    }
    STRATA_ASSIGN_OR_RETURN(layout->dtype, npy_dtype(path, *dict.find("descr")));
    const PyValue& fortran = *dict.find("fortran_order");
    if (fortran.kind != PyValue::Kind::kBool) {
        return Status::corruption(fmt::format("{}: npy 'fortran_order' is not True/False", path));
    }
    if (fortran.flag) {
        return Status::not_supported(fmt::format(
            "{}: Fortran-order (column-major) npy arrays are not supported; save a C-order array "
            "(np.ascontiguousarray)",
            path));
    }
    const PyValue& shape = *dict.find("shape");
    if (shape.kind != PyValue::Kind::kSequence) {
        return Status::corruption(fmt::format("{}: npy 'shape' is not a tuple", path));
    }
    for (const PyValue& v : shape.items) {
        if (v.kind != PyValue::Kind::kInt || v.number < 0) {
            return Status::corruption(
                fmt::format("{}: npy shape {} holds a value that is not a non-negative integer",
                            path, shape_string(shape)));
        }
    }
    if (shape.items.size() != 2) {
        return Status::not_supported(
            fmt::format("{}: npy shape {} is {}-D; only 2-D (n, d) arrays are supported", path,
                        shape_string(shape), shape.items.size()));
    }
    STRATA_RETURN_IF_ERROR(check_dim(path, shape.items[1].number, "npy shape"));
    layout->rows = static_cast<uint64_t>(shape.items[0].number);
    layout->dim = static_cast<uint32_t>(shape.items[1].number);
    return Status::ok();
}

}  // namespace

Result<Layout> parse_npy(const MappedFile& file) {
    const std::string& path = file.path();
    const size_t size = file.size();
    const uint8_t* p = file.data();
    constexpr size_t kV1Prefix = 10;  // magic(6) major minor u16 header_len
    constexpr size_t kV2Prefix = 12;  // magic(6) major minor u32 header_len
    if (size < kV1Prefix) return too_small(path, size, kV1Prefix, "npy preamble");
    if (std::memcmp(p, "\x93NUMPY", 6) != 0) {
        std::string found;
        for (size_t i = 0; i < 6; ++i) found += fmt::format("{}{:02x}", i > 0 ? " " : "", p[i]);
        return Status::corruption(fmt::format(
            "{}: bad npy magic: expected \\x93NUMPY, found bytes {} (not a NumPy .npy file)", path,
            found));
    }
    const uint8_t major = p[6];
    const uint8_t minor = p[7];
    size_t prefix = kV1Prefix;
    uint64_t header_len = 0;
    if (major == 1) {
        header_len = load_le<uint16_t>(p + 8);
    } else if (major == 2 || major == 3) {
        if (size < kV2Prefix) return too_small(path, size, kV2Prefix, "npy v2/v3 preamble");
        prefix = kV2Prefix;
        header_len = load_le<uint32_t>(p + 8);
    } else {
        return Status::not_supported(
            fmt::format("{}: npy format version {}.{} is not supported (1.0, 2.0 and 3.0 are)",
                        path, major, minor));
    }
    if (header_len > size - prefix) {
        return Status::corruption(fmt::format(
            "{}: truncated: npy header length {} reaches past the end of the {}-byte file", path,
            header_len, size));
    }
    const std::string_view text(reinterpret_cast<const char*>(p + prefix), header_len);
    PyValue dict;
    PyLiteralParser parser(text);
    if (!parser.parse_document(&dict)) {
        return Status::corruption(fmt::format("{}: malformed npy header: {} in \"{}\"", path,
                                              parser.error(), printable(text)));
    }
    Layout layout;
    STRATA_RETURN_IF_ERROR(npy_fields(path, dict, &layout));
    layout.data_offset_bytes = prefix + header_len;
    layout.row_stride_bytes = size_t{layout.dim} * dtype_size(layout.dtype);
    if (layout.data_offset_bytes % dtype_size(layout.dtype) != 0) {
        return Status::not_supported(fmt::format(
            "{}: npy data starts at byte {}, not aligned for {}; NumPy pads headers to 64 bytes",
            path, layout.data_offset_bytes, dtype_name(layout.dtype)));
    }
    uint64_t expected = 0;
    if (mul_overflows(layout.rows, layout.row_stride_bytes, &expected) ||
        add_overflows(expected, layout.data_offset_bytes, &expected)) {
        return size_overflow(path, fmt::format("npy shape ({}, {})", layout.rows, layout.dim));
    }
    STRATA_RETURN_IF_ERROR(
        check_size(path, expected, size,
                   fmt::format("{}-byte header + {} rows x {} bytes", layout.data_offset_bytes,
                               layout.rows, layout.row_stride_bytes)));
    return layout;
}

std::string npy_header(DType dtype, uint64_t rows, uint32_t dim) {
    const char* descr = dtype == DType::kF32 ? "<f4" : dtype == DType::kU8 ? "|u1" : "|i1";
    const std::string dict = fmt::format(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({}, {}), }}", descr, rows, dim);
    constexpr size_t kHeaderLen = kNpyHeaderBytes - 10;
    static_assert(kNpyHeaderBytes % 64 == 0 && kHeaderLen <= 0xFFFF);
    STRATA_CHECK(dict.size() + 1 <= kHeaderLen);  // at most ~80 chars even for 2^64 rows
    std::string out("\x93NUMPY\x01\x00", 8);
    out.push_back(static_cast<char>(kHeaderLen & 0xFF));
    out.push_back(static_cast<char>(kHeaderLen >> 8));
    out += dict;
    out.append(kHeaderLen - dict.size() - 1, ' ');
    out.push_back('\n');
    STRATA_CHECK(out.size() == kNpyHeaderBytes);
    return out;
}

}  // namespace strata::io::detail
