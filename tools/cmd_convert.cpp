// strata convert: rewrite a vector file in another format (e.g. IDX or fvecs to u8bin/fbin).
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/progress.hpp"
#include "io/dataset.hpp"

namespace strata::tools {
namespace {

struct ConvertArgs {
    std::string in;
    std::string out;
    std::string in_format = "auto";
    std::string out_format = "auto";
    uint64_t limit = 0;
};

int run_convert(const ConvertArgs& a, const GlobalFlags& global) {
    auto inf = a.in_format == "auto" ? Result<io::FileFormat>(io::FileFormat::kAuto)
                                     : io::parse_file_format(a.in_format);
    if (!inf.is_ok()) return fail("convert", inf.status());
    auto outf = a.out_format == "auto" ? Result<io::FileFormat>(io::FileFormat::kAuto)
                                       : io::parse_file_format(a.out_format);
    if (!outf.is_ok()) return fail("convert", outf.status());
    auto in = io::Dataset::open(a.in, *inf);
    if (!in.is_ok()) return fail("convert", in.status());
    auto writer = io::VectorWriter::create(a.out, in->dtype(), in->dim(), *outf);
    if (!writer.is_ok()) return fail("convert", writer.status());
    const uint64_t rows = a.limit > 0 ? std::min(a.limit, in->size()) : in->size();
    Progress progress("convert", rows, {.quiet = global.quiet});
    for (uint64_t i = 0; i < rows; ++i) {
        Status st = writer->append(in->row(i), 1);
        if (!st.is_ok()) return fail("convert", st);
        if ((i & 4095) == 4095) progress.add(4096);
    }
    progress.add(rows & 4095);
    progress.finish();
    Status st = writer->finish();
    if (!st.is_ok()) return fail("convert", st);
    if (!global.quiet) {
        fmt::print(stderr, "strata convert: {} -> {} ({} x {} {})\n", a.in, a.out, rows, in->dim(),
                   dtype_name(in->dtype()));
    }
    return 0;
}

}  // namespace

void register_convert(CLI::App& app, GlobalFlags& global, int& exit_code) {
    auto args = std::make_shared<ConvertArgs>();
    auto* cmd = add_command(app, "convert",
                            "Rewrite a vector file in another format (the element type is kept).");
    cmd->add_option("--in", args->in, "Input vectors file")->required();
    cmd->add_option("--out", args->out, "Output vectors file")->required();
    cmd->add_option("--in-format", args->in_format,
                    "Input format (auto = by extension; fbin, u8bin, i8bin, fvecs, bvecs, npy, "
                    "idx)");
    cmd->add_option("--out-format", args->out_format,
                    "Output format (auto = by extension; fbin, u8bin, i8bin, fvecs, bvecs, npy)");
    cmd->add_option("--limit", args->limit, "Convert only the first N rows (0 = all)");
    cmd->add_flag("--quiet", global.quiet, "No progress output");
    cmd->callback([args, &global, &exit_code] { exit_code = run_convert(*args, global); });
}

}  // namespace strata::tools
