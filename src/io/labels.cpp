#include "io/labels.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/rng.hpp"
#include "io/file_util.hpp"

namespace strata::io {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

bool LabelSets::has(uint64_t row, uint32_t label) const {
    const auto l = of(row);
    return std::binary_search(l.begin(), l.end(), label);
}

Result<uint32_t> LabelSets::id(std::string_view name) const {
    auto it = ids_.find(std::string(name));
    if (it == ids_.end()) return Status::not_found(fmt::format("no row carries label '{}'", name));
    return it->second;
}

std::vector<uint64_t> LabelSets::counts() const {
    std::vector<uint64_t> c(names_.size(), 0);
    for (uint32_t l : labels_) ++c[l];
    return c;
}

void LabelSets::add_name(std::string_view name) {
    auto [it, fresh] = ids_.try_emplace(std::string(name), static_cast<uint32_t>(names_.size()));
    if (fresh) names_.emplace_back(name);
}

Status LabelSets::add_row(std::span<const std::string_view> names) {
    const size_t start = labels_.size();
    for (std::string_view n : names) {
        if (n.empty() || n.size() > 256) {
            return Status::invalid_argument(fmt::format("label '{}' must be 1 to 256 bytes", n));
        }
        if (n.find_first_of(",\n") != std::string_view::npos) {
            return Status::invalid_argument(fmt::format("label '{}' holds ',' or a line break", n));
        }
        auto [it, fresh] = ids_.try_emplace(std::string(n), static_cast<uint32_t>(names_.size()));
        if (fresh) names_.emplace_back(n);
        labels_.push_back(it->second);
    }
    std::sort(labels_.begin() + static_cast<ptrdiff_t>(start), labels_.end());
    labels_.erase(std::unique(labels_.begin() + static_cast<ptrdiff_t>(start), labels_.end()),
                  labels_.end());
    offsets_.push_back(labels_.size());
    return Status::ok();
}

Result<LabelSets> read_labels(const std::string& path, uint64_t expected_rows,
                              std::span<const std::string> names_first) {
    STRATA_ASSIGN_OR_RETURN(auto text, read_file(path));
    LabelSets out;
    for (const auto& n : names_first) out.add_name(n);
    std::vector<std::string_view> names;
    uint64_t line_no = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t eol = text.find('\n', pos);
        const std::string_view line = std::string_view(text).substr(
            pos, (eol == std::string::npos ? text.size() : eol) - pos);
        pos = eol == std::string::npos ? text.size() : eol + 1;
        ++line_no;
        names.clear();
        const std::string_view l = trim(line);
        if (!l.empty()) {
            size_t b = 0;
            for (;;) {
                const size_t c = l.find(',', b);
                const std::string_view n =
                    trim(l.substr(b, c == std::string_view::npos ? l.size() - b : c - b));
                if (n.empty()) {
                    return Status::invalid_argument(
                        fmt::format("{}:{}: empty label", path, line_no));
                }
                names.push_back(n);
                if (c == std::string_view::npos) break;
                b = c + 1;
            }
        }
        if (Status s = out.add_row(names); !s.is_ok()) {
            return Status::invalid_argument(fmt::format("{}:{}: {}", path, line_no, s.message()));
        }
    }
    if (expected_rows > 0 && out.rows() != expected_rows) {
        return Status::invalid_argument(fmt::format("{} has labels for {} rows; the data has {}",
                                                    path, out.rows(), expected_rows));
    }
    return out;
}

Result<LabelSets> zipf_labels(uint64_t rows, uint32_t labels, double exponent, uint64_t seed) {
    if (labels == 0 || labels > 10'000'000) {
        return Status::invalid_argument(fmt::format("label count {} is outside [1, 10^7]", labels));
    }
    if (!(exponent >= 0 && exponent <= 10)) {
        return Status::invalid_argument(
            fmt::format("Zipf exponent {} is outside [0, 10]", exponent));
    }
    std::vector<double> cdf(labels);
    double sum = 0;
    for (uint32_t i = 0; i < labels; ++i) {
        sum += 1.0 / std::pow(static_cast<double>(i) + 1.0, exponent);
        cdf[i] = sum;
    }
    std::vector<std::string> names(labels);
    for (uint32_t i = 0; i < labels; ++i) names[i] = fmt::format("L{}", i);
    LabelSets out;
    Rng rng(derive_seed(seed, 0x1abe15));
    for (uint64_t r = 0; r < rows; ++r) {
        const double u = rng.uniform() * sum;
        const auto i = static_cast<uint32_t>(std::min<size_t>(
            labels - 1,
            static_cast<size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin())));
        const std::string_view name = names[i];
        STRATA_RETURN_IF_ERROR(out.add_row(std::span<const std::string_view>(&name, 1)));
    }
    return out;
}

Status write_labels(const std::string& path, const LabelSets& labels) {
    std::string text;
    for (uint64_t r = 0; r < labels.rows(); ++r) {
        bool first = true;
        for (uint32_t l : labels.of(r)) {
            if (!first) text += ',';
            text += labels.name(l);
            first = false;
        }
        text += '\n';
    }
    return atomic_write_file(path, text);
}

}  // namespace strata::io
