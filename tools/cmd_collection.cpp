// strata ingest / delete / consolidate: writes to a collection directory from the shell.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include <strata/collection.hpp>

#include "commands.hpp"
#include "core/progress.hpp"
#include "core/sysinfo.hpp"
#include "disk/build_input.hpp"
#include "io/dataset.hpp"
#include "io/labels.hpp"

namespace strata::tools {
namespace {

struct WriteArgs {
    std::string dir;
    std::string data;
    std::string ids;
    std::string labels;
    std::string metric;
    uint32_t degree_max = 64;
    uint32_t list_size = 100;
    uint32_t pq_bytes = 0;
    uint64_t batch = 1000;
    std::string fsync = "always";
    bool consolidate = false;
    bool no_bulk = false;
    int threads = 1;
    double memory_gb = 0;
    double recall_margin = 0.02;
    double read_mib_s = 0;
};

Result<CollectionOptions> options_of(const WriteArgs& a) {
    CollectionOptions o;
    o.background = false;  // a command-line write consolidates only when asked
    o.consolidate_at = 0;
    o.consolidation_threads = a.threads;
    o.consolidation_memory_gb = a.memory_gb;
    o.recall_margin = a.recall_margin;
    o.consolidation_read_mib_s = a.read_mib_s;
    if (a.fsync == "always") {
        o.wal_sync = CollectionOptions::Sync::kAlways;
    } else if (a.fsync == "interval") {
        o.wal_sync = CollectionOptions::Sync::kInterval;
    } else {
        return Status::invalid_argument(
            fmt::format("--fsync '{}': expected always or interval", a.fsync));
    }
    return o;
}

void print_stats(const Collection& c, const GlobalFlags& g) {
    const CollectionStats s = c.stats();
    if (g.json) {
        fmt::print(
            "{{\"dir\": \"{}\", \"live\": {}, \"generation\": {}, \"generation_nodes\": {}, "
            "\"generation_deleted\": {}, \"hot\": {}, \"hot_bytes\": {}, \"wal_bytes\": {}, "
            "\"next_id\": {}, \"generation_recall\": {:.4f}}}\n",
            c.dir(), s.live, s.generation, s.generation_nodes, s.generation_deleted, s.hot,
            s.hot_bytes, s.wal_bytes, s.next_id, s.generation_recall);
    } else if (!g.quiet) {
        fmt::print(
            "{}: {} live vectors; generation {} ({} nodes, {} deleted since, recall@10 {:.4f}); "
            "hot tier {} vectors ({:.1f} MiB); log {:.1f} MiB; next id {}\n",
            c.dir(), s.live, s.generation, s.generation_nodes, s.generation_deleted,
            s.generation_recall, s.hot, static_cast<double>(s.hot_bytes) / (1 << 20),
            static_cast<double>(s.wal_bytes) / (1 << 20), s.next_id);
    }
}

int print_report(const char* cmd, const Result<ConsolidationReport>& r, const GlobalFlags& g) {
    if (!r.is_ok()) return fail(cmd, r.status());
    if (!r->swapped) {
        if (!g.quiet) fmt::print("consolidation: {}\n", r->reason);
        return r->reason == "nothing to consolidate" ? 0 : 1;
    }
    if (g.json) {
        fmt::print(
            "{{\"generation\": {}, \"kept\": {}, \"deleted\": {}, \"inserted\": {}, "
            "\"incremental\": {}, \"recall\": {:.4f}, \"previous_recall\": {:.4f}, "
            "\"seconds\": {{\"read\": {:.2f}, \"graph\": {:.2f}, \"write\": {:.2f}, \"check\": "
            "{:.2f}, \"total\": {:.2f}}}, \"peak_rss_bytes\": {}}}\n",
            r->generation, r->kept, r->deleted, r->inserted, r->incremental ? "true" : "false",
            r->recall, r->previous_recall, r->seconds_read, r->seconds_graph, r->seconds_write,
            r->seconds_check, r->seconds_total, r->peak_rss_bytes);
    } else if (!g.quiet) {
        fmt::print(
            "consolidation: generation {} ({}; {} kept, {} deleted, {} inserted), recall@10 "
            "{:.4f} (was {:.4f}); {:.1f} s (read {:.1f}, graph {:.1f}, write {:.1f}, check "
            "{:.1f}), peak RSS {:.0f} MiB\n",
            r->generation,
            r->incremental ? std::string("incremental") : "full build: " + r->full_build_reason,
            r->kept, r->deleted, r->inserted, r->recall, r->previous_recall, r->seconds_total,
            r->seconds_read, r->seconds_graph, r->seconds_write, r->seconds_check,
            static_cast<double>(r->peak_rss_bytes) / (1 << 20));
    }
    return 0;
}

int run_ingest(const WriteArgs& a, const GlobalFlags& g) {
    auto o = options_of(a);
    if (!o.is_ok()) return fail("ingest", o.status());
    if (a.batch == 0) return fail("ingest", Status::invalid_argument("--batch must be >= 1"));
    auto data = io::Dataset::open(a.data);
    if (!data.is_ok()) return fail("ingest", data.status());
    std::unique_ptr<Collection> c;
    if (Collection::exists(a.dir)) {
        auto opened = Collection::open(a.dir, *o);
        if (!opened.is_ok()) return fail("ingest", opened.status());
        c = std::move(*opened);
        if (!a.metric.empty()) {
            auto m = parse_metric(a.metric);
            if (!m.is_ok()) return fail("ingest", m.status());
            if (*m != c->params().metric) {
                return fail("ingest", Status::invalid_argument(fmt::format(
                                          "--metric {} differs from the collection's {}", a.metric,
                                          metric_name(c->params().metric))));
            }
        }
    } else {
        CollectionParams p;
        p.dim = data->dim();
        p.dtype = data->dtype();
        if (!a.metric.empty()) {
            auto m = parse_metric(a.metric);
            if (!m.is_ok()) return fail("ingest", m.status());
            p.metric = *m;
        }
        p.degree_max = a.degree_max;
        p.list_size = a.list_size;
        p.pq_bytes = a.pq_bytes;
        auto made = Collection::create(a.dir, p, *o);
        if (!made.is_ok()) return fail("ingest", made.status());
        c = std::move(*made);
    }
    const CollectionStats before = c->stats();
    if (data->dim() != c->params().dim) {
        return fail("ingest",
                    Status::invalid_argument(fmt::format("{} has dimension {}, the collection {}",
                                                         a.data, data->dim(), c->params().dim)));
    }
    std::optional<io::LabelSets> labels;
    if (!a.labels.empty()) {
        auto l = io::read_labels(a.labels, data->size());
        if (!l.is_ok()) return fail("ingest", l.status());
        labels = std::move(*l);
    }
    const bool empty = before.generation == 0 && before.hot == 0 && before.live == 0;
    if (empty && !a.no_bulk && data->size() > 0) {
        // The first load of a collection goes through the offline builder.
        Status s = c->bulk_load(a.data, a.ids, !g.quiet, 0, a.labels);
        if (!s.is_ok()) return fail("ingest", s);
        print_stats(*c, g);
        return 0;
    }
    std::vector<uint64_t> ids;
    if (!a.ids.empty()) {
        auto loaded = disk::load_ids(a.ids, data->size());
        if (!loaded.is_ok()) return fail("ingest", loaded.status());
        ids = std::move(*loaded);
    } else {
        ids.resize(data->size());
        for (uint64_t i = 0; i < ids.size(); ++i) ids[i] = before.next_id + i;
    }
    Progress bar("ingest", data->size(), {.quiet = g.quiet});
    // Rows are contiguous in .bin/.npy files; .fvecs/.bvecs rows carry a header, so those are
    // gathered into one buffer per batch.
    const size_t dense = size_t{data->dim()} * dtype_size(data->dtype());
    const bool contiguous = data->row_stride_bytes() == dense;
    std::vector<uint8_t> rows;
    for (uint64_t from = 0; from < data->size(); from += a.batch) {
        const uint64_t n = std::min<uint64_t>(a.batch, data->size() - from);
        const void* batch = data->row(from);
        if (!contiguous) {
            rows.resize(n * dense);
            for (uint64_t i = 0; i < n; ++i) {
                std::memcpy(rows.data() + i * dense, data->row(from + i), dense);
            }
            batch = rows.data();
        }
        std::vector<std::vector<std::string>> batch_labels;
        if (labels) {
            batch_labels.resize(n);
            for (uint64_t i = 0; i < n; ++i) {
                for (uint32_t l : labels->of(from + i)) batch_labels[i].push_back(labels->name(l));
            }
        }
        Status s = labels ? c->upsert(ids.data() + from, n, batch, data->dtype(), batch_labels)
                          : c->upsert(ids.data() + from, n, batch, data->dtype());
        if (!s.is_ok()) {
            return fail("ingest",
                        Status(s.code(), fmt::format("rows {}..{}: {} (rows before {} "
                                                     "are in the collection)",
                                                     from, from + n - 1, s.message(), from)));
        }
        bar.add(n);
    }
    bar.finish();
    if (a.consolidate) {
        const int rc = print_report("ingest", c->consolidate(), g);
        if (rc != 0) return rc;
    }
    print_stats(*c, g);
    return 0;
}

int run_delete(const WriteArgs& a, const GlobalFlags& g) {
    auto o = options_of(a);
    if (!o.is_ok()) return fail("delete", o.status());
    auto ids = disk::load_ids(a.ids, disk::kAnyIdCount);
    if (!ids.is_ok()) return fail("delete", ids.status());
    auto c = Collection::open(a.dir, *o);
    if (!c.is_ok()) return fail("delete", c.status());
    Status s = (*c)->remove(ids->data(), ids->size());
    if (!s.is_ok()) return fail("delete", s);
    if (a.consolidate) {
        const int rc = print_report("delete", (*c)->consolidate(), g);
        if (rc != 0) return rc;
    }
    print_stats(**c, g);
    return 0;
}

int run_consolidate(const WriteArgs& a, const GlobalFlags& g) {
    auto o = options_of(a);
    if (!o.is_ok()) return fail("consolidate", o.status());
    auto c = Collection::open(a.dir, *o);
    if (!c.is_ok()) return fail("consolidate", c.status());
    const int rc = print_report("consolidate", (*c)->consolidate(), g);
    print_stats(**c, g);
    return rc;
}

void common_flags(CLI::App* cmd, WriteArgs& a, GlobalFlags& global) {
    cmd->add_option("--fsync", a.fsync,
                    "always: each batch is durable before the next (default); interval: the log "
                    "is synced every 100 ms");
    cmd->add_option("--threads", a.threads, "Threads of a consolidation (0 = all cores)");
    cmd->add_option("--memory-gb", a.memory_gb,
                    "Memory budget of a build or consolidation, GiB (0 = 3/4 of the RAM)");
    cmd->add_option("--read-mib-s", a.read_mib_s,
                    "Throttle of a consolidation's read pass over the old generation, MiB/s "
                    "(0 = none)");
    cmd->add_option("--recall-margin", a.recall_margin,
                    "A consolidation is refused when the new generation's sampled recall@10 is "
                    "more than this below the current one's (1 = never refuse)");
    cmd->add_flag("--quiet", global.quiet, "No progress or summary");
    cmd->add_flag("--json", global.json, "Summary as JSON");
}

}  // namespace

void register_collection(CLI::App& app, GlobalFlags& global, int& exit_code) {
    auto ingest = std::make_shared<WriteArgs>();
    CLI::App* cmd = add_command(
        app, "ingest",
        "Write vectors to a collection (created when DIR does not exist; an existing id is "
        "replaced). The first load of an empty collection runs the offline builder");
    cmd->add_option("dir", ingest->dir, "Collection directory")->required();
    cmd->add_option("--data", ingest->data, "Vectors (.fbin/.u8bin/.i8bin/.fvecs/.bvecs/.npy)")
        ->required();
    cmd->add_option("--ids", ingest->ids,
                    "External ids: .txt one per line, else raw u64 (default: numbered on from "
                    "the largest id so far)");
    cmd->add_option("--labels", ingest->labels,
                    "Filter labels: line i = the comma-separated labels of row i (then "
                    "strata search --filter works on the collection)");
    cmd->add_option("--metric", ingest->metric, "l2, ip or cosine (new collections; default l2)");
    cmd->add_option("--R", ingest->degree_max,
                    "Graph degree of the disk generations (new collections)");
    cmd->add_option("--L", ingest->list_size, "Build list size (new collections)");
    cmd->add_option("--pq-bytes", ingest->pq_bytes, "PQ code bytes (new collections; 0 = auto)");
    cmd->add_option("--batch", ingest->batch, "Rows per write (one log record each)");
    cmd->add_flag("--consolidate", ingest->consolidate,
                  "Fold the written vectors into a new disk generation at the end");
    cmd->add_flag("--no-bulk", ingest->no_bulk,
                  "Write through the log and hot tier even when the collection is empty");
    common_flags(cmd, *ingest, global);
    cmd->callback([ingest, &global, &exit_code] { exit_code = run_ingest(*ingest, global); });

    auto del = std::make_shared<WriteArgs>();
    cmd = add_command(app, "delete", "Delete ids from a collection (absent ids are ignored)");
    cmd->add_option("dir", del->dir, "Collection directory")->required();
    cmd->add_option("--ids", del->ids, "Ids: .txt one per line, else raw u64")->required();
    cmd->add_flag("--consolidate", del->consolidate, "Consolidate afterwards");
    common_flags(cmd, *del, global);
    cmd->callback([del, &global, &exit_code] { exit_code = run_delete(*del, global); });

    auto cons = std::make_shared<WriteArgs>();
    cmd = add_command(app, "consolidate",
                      "Fold the hot tier and the deletes into a new disk generation, check its "
                      "recall against exact search, and swap it in");
    cmd->add_option("dir", cons->dir, "Collection directory")->required();
    common_flags(cmd, *cons, global);
    cmd->callback([cons, &global, &exit_code] { exit_code = run_consolidate(*cons, global); });
}

}  // namespace strata::tools
