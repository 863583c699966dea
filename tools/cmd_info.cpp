// strata info / strata verify: describe an index directory, and check it completely.
#include <fmt/format.h>

#include <strata/collection.hpp>

#include "collection/manifest.hpp"
#include "commands.hpp"
#include "core/progress.hpp"
#include "disk/index_reader.hpp"
#include "disk/verify.hpp"

namespace strata::tools {
namespace {

int run_info(const std::string& dir, const GlobalFlags& global) {
    auto reader = disk::IndexReader::open(dir);
    if (!reader.is_ok()) return fail("info", reader.status());
    auto meta = reader->meta_json();
    if (!meta.is_ok()) return fail("info", meta.status());
    const auto& h = reader->header();
    const auto& l = reader->layout();
    if (global.json) {
        fmt::print(
            "{{\"dir\": \"{}\", \"format\": \"{}.{}\", \"metric\": \"{}\", \"dtype\": \"{}\", "
            "\"dim\": {}, \"nodes\": {}, \"R\": {}, \"node_bytes\": {}, "
            "\"nodes_per_sector\": {}, \"sectors_per_node\": {}, \"entry_point\": {}, "
            "\"meta\": {}}}\n",
            dir, h.version_major, h.version_minor, metric_name(h.metric), dtype_name(l.dtype),
            l.dim, l.node_count, l.degree_max, l.node_bytes, l.nodes_per_sector, l.sectors_per_node,
            h.entry_point, *meta);
        return 0;
    }
    fmt::print("{}: strata index, format {}.{}\n", dir, h.version_major, h.version_minor);
    fmt::print("  {} nodes, {} x {}, metric {}, R = {}, entry point {}\n", l.node_count, l.dim,
               dtype_name(l.dtype), metric_name(h.metric), l.degree_max, h.entry_point);
    fmt::print("  node {} bytes, {} per sector, {} sector(s) per node, index.strata {} bytes\n",
               l.node_bytes, l.nodes_per_sector, l.sectors_per_node, h.file_bytes());
    for (const auto& f : h.files) {
        fmt::print("  file {:<14} {:>14} bytes  xxh3 {:016x}\n", f.name, f.file_bytes,
                   f.content_xxh3);
    }
    fmt::print("meta.json:\n{}\n", *meta);
    return 0;
}

int run_verify(const std::string& path, const GlobalFlags& global) {
    std::string dir = path;
    if (Collection::exists(path)) {
        // A collection: its MANIFEST, then the current generation (the log is checked, and a
        // torn tail dropped, when the collection is opened; verify changes nothing).
        auto m = collection::read_manifest(path);
        if (!m.is_ok()) return fail("verify", m.status());
        fmt::print("{}: collection, MANIFEST OK (generation {}, log from LSN {}, next id {})\n",
                   path, m->generation, m->wal_from_lsn, m->next_id);
        if (m->generation == 0) return 0;
        dir = path + "/" + collection::generation_dir_name(m->generation);
    }
    disk::VerifyOptions vo;
    std::unique_ptr<Progress> progress;
    uint64_t reported = 0;
    vo.progress = [&](uint64_t done, uint64_t total) {
        if (!progress)
            progress = std::make_unique<Progress>("verify (bytes)", total,
                                                  ProgressOptions{.quiet = global.quiet});
        progress->add(done - reported);
        reported = done;
    };
    auto report = disk::verify_index(dir, vo);
    if (progress) progress->finish();
    if (!report.is_ok()) return fail("verify", report.status());
    for (const auto& n : report->notes) fmt::print(stderr, "note: {}\n", n);
    if (report->ok()) {
        fmt::print("{}: OK ({} nodes, {} checksum blocks, {} bytes read)\n", dir,
                   report->nodes_checked, report->blocks_checked, report->bytes_read);
        return 0;
    }
    for (const auto& p : report->problems) fmt::print("{}\n", p);
    if (report->problem_count > report->problems.size()) {
        fmt::print("... and {} more\n", report->problem_count - report->problems.size());
    }
    fmt::print("{}: {} problem(s) found\n", dir, report->problem_count);
    return 1;
}

}  // namespace

void register_info(CLI::App& app, GlobalFlags& global, int& exit_code) {
    auto dir = std::make_shared<std::string>();
    auto* cmd = add_command(app, "info", "Print an index's header, files and meta.json.");
    cmd->add_option("dir", *dir, "Index directory")->required();
    cmd->add_flag("--json", global.json, "Print JSON on stdout");
    cmd->callback([dir, &global, &exit_code] { exit_code = run_info(*dir, global); });

    auto vdir = std::make_shared<std::string>();
    auto* verify = add_command(
        app, "verify",
        "Check an index completely: every checksum (header, node blocks, companion files,\n"
        "meta.json) and every node's structure (degree <= R, ids in range, no self-loops).\n"
        "Exit code 0 when sound, 1 when a problem is found (each is named).");
    verify
        ->add_option("dir", *vdir,
                     "Index directory, or collection directory (its MANIFEST and "
                     "current generation)")
        ->required();
    verify->add_flag("--quiet", global.quiet, "No progress output");
    verify->callback([vdir, &global, &exit_code] { exit_code = run_verify(*vdir, global); });
}

}  // namespace strata::tools
