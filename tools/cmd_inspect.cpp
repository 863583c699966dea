// strata inspect: what a vector or ground-truth file holds (format, shape, norms, first rows).
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/dtype_util.hpp"
#include "io/dataset.hpp"

namespace strata::tools {
namespace {

struct InspectArgs {
    std::string file;
    std::string format = "auto";
    uint32_t rows = 0;
};

double row_norm(const io::Dataset& d, uint64_t i) {
    double sq = 0;
    for (uint32_t j = 0; j < d.dim(); ++j) {
        const double v = element_value(d.dtype(), d.row(i), j);
        sq += v * v;
    }
    return std::sqrt(sq);
}

int inspect_ground_truth(const InspectArgs& a, io::FileFormat format, const GlobalFlags& g) {
    auto gt = io::read_ground_truth(a.file, format);
    if (!gt.is_ok()) return fail("inspect", gt.status());
    if (g.json) {
        fmt::print(
            "{{\"file\": \"{}\", \"kind\": \"ground_truth\", \"queries\": {}, \"k\": {}, "
            "\"has_distances\": {}}}\n",
            a.file, gt->n, gt->k, gt->distances.empty() ? "false" : "true");
        return 0;
    }
    fmt::print("{}: ground truth, {} queries x k = {}, distances {}\n", a.file, gt->n, gt->k,
               gt->distances.empty() ? "absent" : "present");
    for (uint32_t q = 0; q < std::min(a.rows, gt->n); ++q) {
        fmt::print("  query {}:", q);
        for (uint32_t j = 0; j < std::min<uint32_t>(gt->k, 5); ++j) {
            if (gt->distances.empty()) {
                fmt::print(" {}", gt->row(q)[j]);
            } else {
                fmt::print(" {} ({:.4g})", gt->row(q)[j], gt->distances[size_t{q} * gt->k + j]);
            }
        }
        fmt::print("{}\n", gt->k > 5 ? " ..." : "");
    }
    return 0;
}

int run_inspect(const InspectArgs& a, const GlobalFlags& g) {
    auto format =
        a.format == "auto" ? io::format_from_path(a.file) : io::parse_file_format(a.format);
    if (!format.is_ok()) return fail("inspect", format.status());
    if (*format == io::FileFormat::kIbin || *format == io::FileFormat::kIvecs) {
        return inspect_ground_truth(a, *format, g);
    }
    auto d = io::Dataset::open(a.file, *format);
    if (!d.is_ok()) return fail("inspect", d.status());
    // Norm statistics over a strided sample of at most 100,000 rows.
    const uint64_t step = std::max<uint64_t>(1, d->size() / 100000);
    double lo = std::numeric_limits<double>::infinity(), hi = 0, sum = 0;
    uint64_t counted = 0;
    for (uint64_t i = 0; i < d->size(); i += step, ++counted) {
        const double n = row_norm(*d, i);
        lo = std::min(lo, n);
        hi = std::max(hi, n);
        sum += n;
    }
    const double mean = counted > 0 ? sum / static_cast<double>(counted) : 0.0;
    if (counted == 0) lo = 0;
    if (g.json) {
        fmt::print(
            "{{\"file\": \"{}\", \"kind\": \"vectors\", \"format\": \"{}\", \"dtype\": "
            "\"{}\", \"rows\": {}, \"dim\": {}, \"norm_min\": {:.6g}, \"norm_mean\": {:.6g}, "
            "\"norm_max\": {:.6g}}}\n",
            a.file, io::file_format_name(d->format()), dtype_name(d->dtype()), d->size(), d->dim(),
            lo, mean, hi);
        return 0;
    }
    fmt::print("{}: {} vectors, {} x {} {}, norm min/mean/max {:.4g} / {:.4g} / {:.4g}{}\n", a.file,
               io::file_format_name(d->format()), d->size(), d->dim(), dtype_name(d->dtype()), lo,
               mean, hi, step > 1 ? " (sampled)" : "");
    for (uint64_t i = 0; i < std::min<uint64_t>(a.rows, d->size()); ++i) {
        fmt::print("  row {}:", i);
        for (uint32_t j = 0; j < std::min<uint32_t>(d->dim(), 8); ++j) {
            switch (d->dtype()) {
                case DType::kF32:
                    fmt::print(" {:.4g}", d->row_as<float>(i)[j]);
                    break;
                case DType::kU8:
                    fmt::print(" {}", d->row_as<uint8_t>(i)[j]);
                    break;
                case DType::kI8:
                    fmt::print(" {}", d->row_as<int8_t>(i)[j]);
                    break;
            }
        }
        fmt::print("{}\n", d->dim() > 8 ? " ..." : "");
    }
    return 0;
}

}  // namespace

void register_inspect(CLI::App& app, GlobalFlags& global, int& exit_code) {
    auto args = std::make_shared<InspectArgs>();
    auto* cmd = add_command(
        app, "inspect", "Describe a vector file (format, shape, norms) or a ground-truth file.");
    cmd->add_option("file", args->file, "File to inspect")->required();
    cmd->add_option("--format", args->format,
                    "Format (auto = by extension; fbin, u8bin, i8bin, ibin, fvecs, bvecs, ivecs, "
                    "npy, idx)");
    cmd->add_option("--rows", args->rows, "Also print the first N rows");
    cmd->add_flag("--json", global.json, "Print JSON on stdout");
    cmd->callback([args, &global, &exit_code] { exit_code = run_inspect(*args, global); });
}

}  // namespace strata::tools
