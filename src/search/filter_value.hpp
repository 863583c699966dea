// The text form of a filter value (and of a payload value turned into a label): shared by the
// filter parser and the server's filterable payload fields, so both spell a value alike.
#pragma once

#include <string>

#include <simdjson.h>

namespace strata::search {

/// A string as is, an integer in decimal, a boolean as true/false into `out`; false (and `out`
/// untouched) for any other type (floats, null, arrays, objects).
bool filter_value_text(simdjson::dom::element x, std::string& out);

}  // namespace strata::search
