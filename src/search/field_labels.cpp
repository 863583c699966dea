#include "search/field_labels.hpp"

#include <charconv>
#include <cmath>

namespace strata::search {

std::optional<double> label_number(std::string_view value) {
    if (value.empty() || value.size() > 64) return std::nullopt;
    double v = 0;
    const char* end = value.data() + value.size();
    const auto [p, ec] = std::from_chars(value.data(), end, v);
    if (ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
    return v;
}

void FieldLabels::add(uint32_t id, std::string_view name) {
    const size_t eq = name.find('=');
    if (eq == std::string_view::npos || eq == 0) return;
    const std::string_view field = name.substr(0, eq);
    if (fields_.find(field) == fields_.end()) fields_.emplace(field);
    if (const auto v = label_number(name.substr(eq + 1))) {
        auto it = numbers_.find(field);
        if (it == numbers_.end())
            it = numbers_.emplace(std::string(field), std::multimap<double, uint32_t>{}).first;
        it->second.emplace(*v, id);
        ++entries_;
    }
}

bool FieldLabels::has_field(std::string_view field) const {
    return fields_.find(field) != fields_.end();
}

void FieldLabels::in_range(std::string_view field, const NumericRange& range,
                           std::vector<uint32_t>& out) const {
    const auto it = numbers_.find(field);
    if (it == numbers_.end()) return;
    const auto& m = it->second;
    for (auto i = range.lo_open ? m.upper_bound(range.lo) : m.lower_bound(range.lo);
         i != m.end() && (range.hi_open ? i->first < range.hi : i->first <= range.hi); ++i) {
        out.push_back(i->second);
    }
}

uint64_t FieldLabels::memory_bytes() const {
    uint64_t b = 0;
    for (const auto& f : fields_) b += f.size() + 64;
    return b + entries_ * 64;  // a multimap node: links, colour, key and value
}

}  // namespace strata::search
