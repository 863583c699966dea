// A minimal streaming JSON writer (objects, arrays, strings with escaping, numbers): enough for
// meta.json, --json outputs and later HTTP responses, without building a DOM.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

class JsonWriter {
  public:
    /// `indent` > 0 pretty-prints with that many spaces per level.
    explicit JsonWriter(int indent = 0) : indent_(indent) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    /// Object key; the next value call writes its value.
    JsonWriter& key(std::string_view k);
    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(bool b);
    JsonWriter& value(double d);  ///< non-finite values are written as null
    JsonWriter& value(float f);   ///< shortest float form; non-finite as null
    JsonWriter& value(int64_t i);
    JsonWriter& value(uint64_t u);
    JsonWriter& value(int i) { return value(static_cast<int64_t>(i)); }
    JsonWriter& value(uint32_t u) { return value(static_cast<uint64_t>(u)); }
    JsonWriter& null();
    /// A value already encoded as JSON (not checked).
    JsonWriter& raw(std::string_view json);

    /// key + value in one call.
    template <typename T>
    JsonWriter& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }

    const std::string& str() const { return out_; }
    std::string take() { return std::move(out_); }

  private:
    void before_value();
    void newline();
    JsonWriter& close(char bracket);

    int indent_;
    std::string out_;
    std::vector<bool> first_;  // per open container: no element written yet
    bool after_key_ = false;
};

/// Appends `s` to `out` as a JSON string literal (with quotes and escapes).
void json_escape(std::string& out, std::string_view s);

}  // namespace strata
