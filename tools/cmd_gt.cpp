// strata gt: exact k-nearest neighbours of a query file in a base file (ground truth).
#include <algorithm>
#include <chrono>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/progress.hpp"
#include "distance/exact_knn.hpp"
#include "io/dataset.hpp"
#include "io/labels.hpp"
#include "io/validate.hpp"
#include "search/filter.hpp"

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
    std::string labels;        // base labels (filtered ground truth)
    std::string filter;        // one filter (JSON) for every query
    std::string query_labels;  // or: line i = the labels query i asks for (any of them)
};

// Filtered ground truth: the exact k nearest among the base rows that pass each query's filter.
// Queries sharing a filter are scored together against the gathered matching rows; fewer than k
// matches are padded with id UINT32_MAX and distance +inf. Returns the padded query count.
Result<uint64_t> filtered_knn(const GtArgs& a, const io::Dataset& base, const io::Dataset& queries,
                              distance::ExactKnnOptions opt, io::GroundTruth& gt) {
    STRATA_ASSIGN_OR_RETURN(auto labels, io::read_labels(a.labels, base.size()));
    auto resolve = [&](std::string_view name) {
        auto id = labels.id(name);
        return id.is_ok() ? *id : search::LabelFilter::kUnknown;
    };
    // Each query's filter, as a key grouping the queries that share it.
    std::vector<std::string> keys(queries.size());
    std::map<std::string, search::LabelFilter> filters;
    if (!a.filter.empty()) {
        STRATA_ASSIGN_OR_RETURN(auto f, search::parse_labels_file_filter(a.filter, labels));
        filters.emplace("", std::move(f));
    } else {
        STRATA_ASSIGN_OR_RETURN(auto ql, io::read_labels(a.query_labels, queries.size()));
        for (uint64_t q = 0; q < queries.size(); ++q) {
            search::LabelFilter f;
            std::vector<uint32_t> clause;
            for (uint32_t l : ql.of(q)) clause.push_back(resolve(ql.name(l)));
            std::sort(clause.begin(), clause.end());
            std::string key;
            for (uint32_t l : clause) key += fmt::format("{},", l);
            if (!clause.empty()) f.must.push_back(std::move(clause));
            keys[q] = key;
            filters.emplace(key, std::move(f));
        }
    }
    const size_t row_bytes = size_t{base.dim()} * dtype_size(base.dtype());
    const uint32_t k = gt.k;
    uint64_t padded = 0;
    std::vector<uint8_t> rows, qrows;
    std::vector<uint64_t> which;
    std::vector<uint32_t> ids;
    std::vector<float> dists;
    for (const auto& [key, f] : filters) {
        std::vector<uint64_t> qs;
        for (uint64_t q = 0; q < queries.size(); ++q) {
            if (keys[q] == key) qs.push_back(q);
        }
        which.clear();
        rows.clear();
        for (uint64_t r = 0; r < base.size(); ++r) {
            if (!f.matches(labels.of(r))) continue;
            which.push_back(r);
            const auto* src = static_cast<const uint8_t*>(base.row(r));
            rows.insert(rows.end(), src, src + row_bytes);
        }
        qrows.clear();
        for (uint64_t q : qs) {
            const auto* src = static_cast<const uint8_t*>(queries.row(q));
            qrows.insert(qrows.end(), src, src + row_bytes);
        }
        const auto kk = static_cast<uint32_t>(std::min<uint64_t>(k, which.size()));
        if (kk < k) padded += qs.size();
        if (kk > 0) {
            opt.k = kk;
            ids.resize(qs.size() * kk);
            dists.resize(ids.size());
            STRATA_RETURN_IF_ERROR(distance::exact_knn(
                {rows.data(), which.size(), base.dim(), base.dtype(), row_bytes},
                {qrows.data(), qs.size(), base.dim(), base.dtype(), row_bytes}, opt, ids.data(),
                dists.data()));
        }
        for (size_t i = 0; i < qs.size(); ++i) {
            for (uint32_t j = 0; j < k; ++j) {
                const size_t at = qs[i] * k + j;
                gt.ids[at] = j < kk ? static_cast<uint32_t>(which[ids[i * kk + j]]) : UINT32_MAX;
                gt.distances[at] =
                    j < kk ? dists[i * kk + j] : std::numeric_limits<float>::infinity();
            }
        }
    }
    return padded;
}

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
        if (a.labels.empty() != (a.filter.empty() && a.query_labels.empty())) {
            return Status::invalid_argument(
                "a filtered ground truth needs --labels and one of --filter or --query-labels");
        }
        if (!a.filter.empty() && !a.query_labels.empty()) {
            return Status::invalid_argument("--filter and --query-labels exclude each other");
        }
        if (!a.labels.empty() && base->dtype() != queries->dtype()) {
            return Status::invalid_argument("base and queries must have the same element type");
        }
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
    uint64_t padded = 0;
    if (!a.labels.empty()) {
        auto p = filtered_knn(a, *base, *queries, opt, gt);
        if (!p.is_ok()) return fail("gt", p.status());
        padded = *p;
    } else {
        Progress progress("gt", queries->size(), {.quiet = global.quiet});
        opt.progress = &progress;
        st = distance::exact_knn(view_of(*base), view_of(*queries), opt, gt.ids.data(),
                                 gt.distances.data());
    }
    if (!st.is_ok()) return fail("gt", st);
    if (padded > 0 && !global.quiet) {
        fmt::print(stderr, "strata gt: {} queries match fewer than {} rows (padded with id {})\n",
                   padded, a.k, UINT32_MAX);
    }
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
    cmd->add_option("--labels", args->labels,
                    "Labels of the base rows (line i: comma-separated labels of row i): the "
                    "ground truth of filtered search, with --filter or --query-labels");
    cmd->add_option("--filter", args->filter,
                    std::string("Filter of every query, ") + kFilterSyntax);
    cmd->add_option("--query-labels", args->query_labels,
                    "Line i: the labels query i asks for (a row matches with any of them); rows "
                    "short of k matches are padded with id 4294967295 and distance inf");
    cmd->add_flag("--quiet", global.quiet, "No progress output");
    cmd->add_flag("--json", global.json, "Print a JSON summary on stdout");
    cmd->callback([args, &global, &exit_code] { exit_code = run_gt(*args, global); });
}

}  // namespace strata::tools
