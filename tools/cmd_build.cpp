// strata build: a data set file in, an index directory out.
#include <fmt/format.h>

#include <strata/builder.hpp>

#include "commands.hpp"

namespace strata::tools {
namespace {

struct BuildArgs {
    std::string data;
    std::string out;
    std::string metric = "l2";
    BuildOptions options;
};

void print_report(const BuildReport& r, const std::string& out) {
    const auto gib = [](uint64_t b) { return static_cast<double>(b) / 1073741824.0; };
    fmt::print(stderr,
               "strata build: wrote {}\n"
               "  rows: {} read, {} indexed, {} skipped; {} x {}\n"
               "  graph: {} (shards {}), average degree {:.1f}, max {}, entry {}\n"
               "  pq: {} bytes per vector; navigation graph: {} nodes\n"
               "  time: prepare {:.1f} s, pq train {:.1f} s, pq encode {:.1f} s, graph {:.1f} s, "
               "layout {:.1f} s, nav {:.1f} s, total {:.1f} s\n"
               "  memory: peak RSS {:.2f} GiB, budget {:.2f} GiB (one-shot estimate {:.2f} GiB)\n",
               out, r.rows_read, r.rows_indexed, r.rows_skipped, r.dim, dtype_name(r.dtype),
               r.partitioned ? "sharded" : "one-shot", r.shards, r.average_degree, r.max_degree,
               r.entry_point, r.pq_bytes, r.nav_samples, r.seconds_prepare, r.seconds_pq_train,
               r.seconds_pq_encode, r.seconds_graph, r.seconds_layout, r.seconds_nav,
               r.seconds_total, gib(r.peak_rss_bytes), gib(r.memory_budget_bytes),
               gib(r.estimated_one_shot_bytes));
}

void print_json(const BuildReport& r, const std::string& out) {
    fmt::print(
        "{{\"out\": \"{}\", \"rows_read\": {}, \"rows_indexed\": {}, \"rows_skipped\": {}, "
        "\"dim\": {}, \"dtype\": \"{}\", \"pq_bytes\": {}, \"partitioned\": {}, \"shards\": {}, "
        "\"average_degree\": {:.3f}, \"seconds\": {{\"prepare\": {:.3f}, \"pq_train\": {:.3f}, "
        "\"pq_encode\": {:.3f}, \"graph\": {:.3f}, \"layout\": {:.3f}, \"nav\": {:.3f}, "
        "\"total\": {:.3f}}}, \"nav_samples\": {}, \"peak_rss_bytes\": {}, "
        "\"memory_budget_bytes\": {}, \"labels\": {}}}\n",
        out, r.rows_read, r.rows_indexed, r.rows_skipped, r.dim, dtype_name(r.dtype), r.pq_bytes,
        r.partitioned ? "true" : "false", r.shards, r.average_degree, r.seconds_prepare,
        r.seconds_pq_train, r.seconds_pq_encode, r.seconds_graph, r.seconds_layout, r.seconds_nav,
        r.seconds_total, r.nav_samples, r.peak_rss_bytes, r.memory_budget_bytes, r.label_count);
}

int run_build(BuildArgs& a, const GlobalFlags& global) {
    auto metric = parse_metric(a.metric);
    if (!metric.is_ok()) return fail("build", metric.status());
    a.options.metric = *metric;
    a.options.progress = !global.quiet;
    auto report = build_index(a.data, a.out, a.options);
    if (!report.is_ok()) return fail("build", report.status());
    if (global.json) {
        print_json(*report, a.out);
    } else if (!global.quiet) {
        print_report(*report, a.out);
    }
    return 0;
}

}  // namespace

void register_build(CLI::App& app, GlobalFlags& global, int& exit_code) {
    auto args = std::make_shared<BuildArgs>();
    BuildOptions& o = args->options;
    auto* cmd = add_command(
        app, "build",
        "Build a disk index from a vector file: PQ codes, a Vamana graph and the full vectors in\n"
        "4 KiB node sectors, written to a temporary directory and renamed into place when\n"
        "complete. When the one-shot build would exceed --memory-gb, the graph is built in\n"
        "shards (each vector in its 2 nearest) that are merged and re-pruned.");
    cmd->add_option("--data", args->data, "Input vectors (.fbin/.u8bin/.i8bin/.fvecs/.bvecs/.npy)")
        ->required();
    cmd->add_option("--out", args->out, "Output index directory (must not exist unless --force)")
        ->required();
    cmd->add_option("--metric", args->metric, "Metric: l2, ip or cosine (normalized on ingest)");
    cmd->add_option("--R", o.degree_max, "Maximum graph degree");
    cmd->add_option("--L", o.list_size, "Candidate list size of the build's searches");
    cmd->add_option("--alpha", o.alpha, "RobustPrune alpha (>= 1; larger keeps longer edges)");
    cmd->add_option("--pq-bytes", o.pq_bytes,
                    "PQ bytes per vector (0 = 32 for d <= 256, d/8 above, capped by the budget)");
    cmd->add_option("--memory-gb", o.memory_gb,
                    "Memory budget in GiB (0 = three quarters of the available RAM)");
    cmd->add_option("--threads", o.threads, "Worker threads (0 = all cores)");
    cmd->add_option("--ids", o.ids_path,
                    "External ids: .txt with one id per line, or raw little-endian u64 "
                    "(default: row numbers)");
    cmd->add_option("--labels", o.labels_path,
                    "Labels file for filtered search: line i = the comma-separated labels of row "
                    "i (DiskANN's format). Builds a filter-aware graph (a start node per label, "
                    "label-aware pruning) and stores the labels in the index (sharded builds too)");
    cmd->add_option("--format", o.data_format, "Input format (auto = by extension)");
    cmd->add_option("--seed", o.seed, "Seed for sampling, k-means and insertion order");
    cmd->add_option("--pq-sample", o.pq_train_sample, "Rows the PQ codebook trains on");
    cmd->add_option("--shards", o.shards,
                    "Force the number of graph shards (0 = by budget, 1 = one-shot)");
    cmd->add_option("--nav-fraction", o.nav_fraction,
                    "Fraction of nodes in the in-RAM navigation graph search starts from "
                    "(0 = none, start at the medoid)");
    cmd->add_option("--nav-degree", o.nav_degree, "Maximum degree of the navigation graph");
    cmd->add_flag_function(
        "--no-pack", [o = &o](int64_t) { o->pack_sectors = false; },
        "Keep row order on disk instead of packing graph neighbours into shared "
        "sectors");
    cmd->add_flag("--skip-bad", o.skip_bad,
                  "Skip rows with NaN/Inf (or zero norm under cosine) instead of failing");
    cmd->add_flag("--force", o.force, "Replace an existing output directory");
    cmd->add_flag("--quiet", global.quiet, "No progress output");
    cmd->add_flag("--json", global.json, "Print a JSON summary on stdout");
    cmd->callback([args, &global, &exit_code] { exit_code = run_build(*args, global); });
}

}  // namespace strata::tools
