// strata gt: exact k-nearest neighbours of a query file in a base file (ground truth).
#include <chrono>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/progress.hpp"
#include "distance/exact_knn.hpp"
#include "io/dataset.hpp"
#include "io/validate.hpp"

namespace strata::tools {
namespace {

struct GtArgs {
    std::string base;
    std::string queries;
    uint32_t k = 100;
    std::string metric = "l2";
    std::string out;
    int threads = 0;
    std::string base_format = "auto";
    std::string query_format = "auto";
    std::string out_format = "auto";
};

Result<io::FileFormat> format_flag(const std::string& value) {
    if (value == "auto") return io::FileFormat::kAuto;
    return io::parse_file_format(value);
}

distance::MatrixView view_of(const io::Dataset& d) {
    return {d.size() > 0 ? d.row(0) : nullptr, d.size(), d.dim(), d.dtype(), d.row_stride_bytes()};
}

int run_gt(const GtArgs& a, const GlobalFlags& global) {
    auto metric = parse_metric(a.metric);
    if (!metric.is_ok()) return fail("gt", metric.status());
    auto bf = format_flag(a.base_format);
    auto qf = format_flag(a.query_format);
    auto of = format_flag(a.out_format);
    for (const auto* r : {&bf, &qf, &of}) {
        if (!r->is_ok()) return fail("gt", r->status());
    }
    auto base = io::Dataset::open(a.base, *bf);
    if (!base.is_ok()) return fail("gt", base.status());
    auto queries = io::Dataset::open(a.queries, *qf);
    if (!queries.is_ok()) return fail("gt", queries.status());
    if (base->size() == 0) {
        return fail("gt", Status::invalid_argument(a.base + ": the base holds no vectors"));
    }
    for (const io::Dataset* d : {&*base, &*queries}) {
        if (Status st = io::check_finite(*d); !st.is_ok()) return fail("gt", st);
    }
    io::GroundTruth gt;
    gt.n = static_cast<uint32_t>(queries->size());
    gt.k = a.k;
    distance::ExactKnnOptions opt;
    opt.k = a.k;
    opt.metric = *metric;
    opt.threads = a.threads;
    Status st = [&]() -> Status {
        if (queries->size() > UINT32_MAX) return Status::invalid_argument("too many queries");
        if (a.k == 0 || a.k > base->size()) {
            return Status::invalid_argument(
                fmt::format("--k {} must be in [1, {}] (base size)", a.k, base->size()));
        }
        gt.ids.resize(size_t{gt.n} * gt.k);
        gt.distances.resize(gt.ids.size());
        return Status::ok();
    }();
    if (!st.is_ok()) return fail("gt", st);
    const auto t0 = std::chrono::steady_clock::now();
    {
        Progress progress("gt", queries->size(), {.quiet = global.quiet});
        opt.progress = &progress;
        st = distance::exact_knn(view_of(*base), view_of(*queries), opt, gt.ids.data(),
                                 gt.distances.data());
    }
    if (!st.is_ok()) return fail("gt", st);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    st = io::write_ground_truth(a.out, gt, *of);
    if (!st.is_ok()) return fail("gt", st);
    if (global.json) {
        fmt::print(
            "{{\"base\": \"{}\", \"queries\": \"{}\", \"n_base\": {}, \"n_queries\": {}, "
            "\"dim\": {}, \"k\": {}, \"metric\": \"{}\", \"seconds\": {:.3f}, "
            "\"out\": \"{}\"}}\n",
            a.base, a.queries, base->size(), queries->size(), base->dim(), a.k,
            metric_name(*metric), secs, a.out);
    } else if (!global.quiet) {
        fmt::print(stderr,
                   "strata gt: {} queries x {} base ({}-d {}, {}), k={}: {:.2f} s ({:.0f} "
                   "queries/s); wrote {}\n",
                   queries->size(), base->size(), base->dim(), dtype_name(base->dtype()),
                   metric_name(*metric), a.k, secs, static_cast<double>(queries->size()) / secs,
                   a.out);
    }
    return 0;
}

}  // namespace

void register_gt(CLI::App& app, GlobalFlags& global, int& exit_code) {
    auto args = std::make_shared<GtArgs>();
    auto* cmd = add_command(
        app, "gt",
        "Exact k nearest neighbours of every query (brute force, multi-threaded, cache-blocked).\n"
        "Writes ids and distances (.ibin) or ids (.ivecs). Ties go to the lower base row.\n"
        "Distances: l2 = squared L2, ip = -dot, cosine = 1 - cos.");
    cmd->add_option("--base", args->base, "Base vectors file")->required();
    cmd->add_option("--queries", args->queries, "Query vectors file")->required();
    cmd->add_option("--k", args->k, "Neighbours per query");
    cmd->add_option("--metric", args->metric, "Metric: l2, ip or cosine");
    cmd->add_option("--out", args->out, "Output ground truth (.ibin or .ivecs)")->required();
    cmd->add_option("--threads", args->threads, "Worker threads (0 = all cores)");
    cmd->add_option("--base-format", args->base_format,
                    "Base file format (auto = by extension; fbin, u8bin, i8bin, fvecs, bvecs, "
                    "npy, idx)");
    cmd->add_option("--query-format", args->query_format, "Query file format (as --base-format)");
    cmd->add_option("--out-format", args->out_format, "Output format: auto, ibin or ivecs");
    cmd->add_flag("--quiet", global.quiet, "No progress output");
    cmd->add_flag("--json", global.json, "Print a JSON summary on stdout");
    cmd->callback([args, &global, &exit_code] { exit_code = run_gt(*args, global); });
}

}  // namespace strata::tools
