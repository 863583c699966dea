// The text form of a filter value (and of a payload value turned into a label): shared by the
// filter parser and the server's filterable payload fields, so both spell a value alike.
#pragma once

#include <string>

#include <simdjson.h>

namespace strata::search {

/// A string as is, an integer in decimal, another number in its shortest round-trip form (12.0
/// as 12, like the integer), a boolean as true/false into `out`; false (and `out` untouched) for
/// null, arrays and objects.
bool filter_value_text(simdjson::dom::element x, std::string& out);

}  // namespace strata::search
