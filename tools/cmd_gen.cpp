// strata gen: deterministic synthetic data sets (base and optional queries).
#include <algorithm>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/progress.hpp"
#include "io/file_util.hpp"
#include "io/labels.hpp"
#include "io/synthetic.hpp"

namespace strata::tools {
namespace {

struct GenArgs {
    uint64_t n = 0;
    uint32_t dim = 128;
    std::string dtype = "f32";
    uint32_t clusters = 0;
    uint64_t seed = 42;
    uint32_t latent_dim = 0;
    float noise = 0.2f;
    std::string out;
    uint64_t queries = 0;
    std::string queries_out;
    int threads = 0;
    uint32_t labels = 0;
    double label_zipf = 1.0;
    std::string labels_out;
};

std::string record_json(const GenArgs& a, const io::SyntheticGenerator& g, uint64_t rows,
                        const char* stream) {
    return fmt::format(
        "{{\n  \"generator\": \"strata gen\",\n  \"version\": \"{}\",\n  \"stream\": \"{}\",\n"
        "  \"rows\": {},\n  \"dim\": {},\n  \"dtype\": \"{}\",\n  \"clusters\": {},\n"
        "  \"latent_dim\": {},\n  \"noise_std\": {},\n  \"seed\": {}\n}}\n",
        STRATA_VERSION, stream, rows, a.dim, a.dtype, g.clusters(), g.options().latent_dim, a.noise,
        a.seed);
}

int run_gen(const GenArgs& a, GlobalFlags& global) {
    auto dtype = parse_dtype(a.dtype);
    if (!dtype.is_ok()) return fail("gen", dtype.status());
    if ((a.labels > 0) != !a.labels_out.empty()) {
        return fail("gen",
                    Status::invalid_argument("--labels N and --labels-out FILE go together"));
    }
    if (a.queries > 0 && a.queries_out.empty()) {
        return fail("gen", Status::invalid_argument("--queries needs --queries-out FILE"));
    }
    io::SyntheticOptions opt;
    opt.dim = a.dim;
    opt.dtype = *dtype;
    opt.clusters = a.clusters;
    opt.latent_dim = a.latent_dim;
    opt.noise_std = a.noise;
    opt.seed = a.seed;
    auto gen = io::SyntheticGenerator::create(opt, a.n);
    if (!gen.is_ok()) return fail("gen", gen.status());
    if (!global.quiet) {
        fmt::print(stderr, "strata gen: seed {}, {} x {} {}, {} clusters in latent dim {}\n",
                   a.seed, a.n, a.dim, a.dtype, gen->clusters(), gen->options().latent_dim);
    }
    const struct {
        const std::string& path;
        uint64_t rows;
        io::SyntheticStream stream;
        const char* name;
    } outputs[] = {{a.out, a.n, io::SyntheticStream::kBase, "base"},
                   {a.queries_out, a.queries, io::SyntheticStream::kQueries, "queries"}};
    for (const auto& o : outputs) {
        if (o.path.empty() || (o.rows == 0 && o.stream == io::SyntheticStream::kQueries)) continue;
        Progress progress(fmt::format("gen {}", o.name), o.rows, {.quiet = global.quiet});
        Status st = io::write_synthetic(o.path, *gen, o.stream, o.rows, a.threads, &progress);
        progress.finish();
        if (!st.is_ok()) return fail("gen", st);
        st = io::atomic_write_file(o.path + ".json", record_json(a, *gen, o.rows, o.name));
        if (!st.is_ok()) return fail("gen", st);
        if (!global.quiet)
            fmt::print(stderr, "wrote {} ({} rows; parameters in {}.json)\n", o.path, o.rows,
                       o.path);
    }
    if (a.labels > 0) {
        auto l = io::zipf_labels(a.n, a.labels, a.label_zipf, a.seed);
        if (!l.is_ok()) return fail("gen", l.status());
        if (Status st = io::write_labels(a.labels_out, *l); !st.is_ok()) return fail("gen", st);
        if (!global.quiet) {
            const auto counts = l->counts();
            const uint64_t top =
                counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
            fmt::print(
                stderr,
                "wrote {} ({} rows, {} labels used of {}, Zipf {}, most frequent on {} rows)\n",
                a.labels_out, a.n, l->label_count(), a.labels, a.label_zipf, top);
        }
    }
    return 0;
}

}  // namespace

void register_gen(CLI::App& app, GlobalFlags& global, int& exit_code) {
    auto args = std::make_shared<GenArgs>();
    auto* cmd = add_command(
        app, "gen",
        "Generate a deterministic synthetic data set shaped like real embeddings: clusters of\n"
        "uneven size in a low-dimensional latent space, mapped to --dim by a fixed random linear\n"
        "map, plus small isotropic noise. Queries come from the same distribution, not the base.\n"
        "The parameters (seed included) are printed and recorded in FILE.json.");
    cmd->add_option("--n", args->n, "Number of base vectors")->required();
    cmd->add_option("--dim", args->dim, "Dimension");
    cmd->add_option("--dtype", args->dtype, "Element type: f32, u8 or i8");
    cmd->add_option("--clusters", args->clusters,
                    "Number of clusters (0 = about n/1000, clamped to 8..1024)");
    cmd->add_option("--seed", args->seed, "Random seed; the same seed gives the same files");
    cmd->add_option(
        "--latent-dim", args->latent_dim,
        "Latent dimension K (0 = min(16, dim); K = dim gives isotropic Gaussians: stress\n"
        "tests only)");
    cmd->add_option("--noise", args->noise, "Std-dev of the isotropic noise per coordinate");
    cmd->add_option("--out", args->out,
                    "Output file for the base (.fbin/.u8bin/.i8bin/.fvecs/"
                    ".bvecs/.npy)")
        ->required();
    cmd->add_option("--queries", args->queries, "Number of query vectors to generate");
    cmd->add_option("--queries-out", args->queries_out, "Output file for the queries");
    cmd->add_option("--threads", args->threads, "Worker threads (0 = all cores)");
    cmd->add_option("--labels", args->labels,
                    "Also write one label per base row, drawn from this many labels (L0, L1, ...) "
                    "with Zipf frequencies (for filtered search)");
    cmd->add_option("--label-zipf", args->label_zipf, "Zipf exponent of the label frequencies");
    cmd->add_option("--labels-out", args->labels_out, "Labels file (line i: the label of row i)");
    cmd->add_flag("--quiet", global.quiet, "No progress output");
    cmd->callback([args, &global, &exit_code] { exit_code = run_gen(*args, global); });
}

}  // namespace strata::tools
