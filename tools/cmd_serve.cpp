// strata serve: the HTTP server over a data directory of collections; strata restore: a
// snapshot back into a data directory.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/log.hpp"
#include "io/sector_backends.hpp"
#include "server/api.hpp"
#include "server/http_server.hpp"
#include "server/recall_monitor.hpp"
#include "server/registry.hpp"

namespace strata::tools {
namespace {

struct ServeArgs {
    std::string config;
    std::string data_dir;
    server::ServerOptions server;
    double recall_fraction = 0.01;
    double recall_cpu = 0.2;
    double cache_mib = 64;
    uint64_t consolidate_at = 200000;
    std::string wal_sync = "always";
    double warmup_seconds = 60;
    double max_body_mib = 64;
    double body_budget_mib = 1024;
    uint32_t max_points = 10000;
    uint32_t max_searches = 1024;
    double grace_seconds = 30;
};

// Applies `name = value` lines of `path` to the options of `cmd` not given on the command line.
Status apply_config(CLI::App& cmd, const std::string& path) {
    std::ifstream in(path);
    if (!in) return Status::not_found(fmt::format("config file {} cannot be read", path));
    std::string line;
    for (int no = 1; std::getline(in, line); ++no) {
        auto trim = [](std::string x) {
            const size_t b = x.find_first_not_of(" \t\r");
            const size_t e = x.find_last_not_of(" \t\r");
            return b == std::string::npos ? std::string() : x.substr(b, e - b + 1);
        };
        bool quoted = false;
        for (size_t i = 0; i < line.size(); ++i) {  // a comment outside quotes ends the line
            if (line[i] == '"') quoted = !quoted;
            if (line[i] == '#' && !quoted) {
                line.resize(i);
                break;
            }
        }
        line = trim(line);
        if (line.empty() || line[0] == '[') continue;  // blank, comment or [section]
        const size_t eq = line.find('=');
        if (eq == std::string::npos) {
            return Status::invalid_argument(
                fmt::format("{}:{}: expected 'name = value'", path, no));
        }
        std::string name = trim(line.substr(0, eq));
        std::string value = trim(line.substr(eq + 1));
        std::replace(name.begin(), name.end(), '_', '-');
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        CLI::Option* opt = name == "config" ? nullptr : cmd.get_option_no_throw("--" + name);
        if (opt == nullptr) {
            return Status::invalid_argument(
                fmt::format("{}:{}: '{}' is not a flag of strata serve", path, no, name));
        }
        if (opt->count() > 0) continue;  // the command line wins
        try {
            opt->add_result(value);
            opt->run_callback();
        } catch (const CLI::Error& e) {
            return Status::invalid_argument(fmt::format("{}:{}: {}: {}", path, no, name, e.what()));
        }
    }
    return Status::ok();
}

int run_serve(ServeArgs& a) {
    // Signals go to sigwait() below, never to a worker thread: block them before any thread.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    if (a.server.api_key.empty()) {
        if (const char* k = std::getenv("STRATA_API_KEY")) a.server.api_key = k;
    }
    if (a.server.read_only_key.empty()) {
        if (const char* k = std::getenv("STRATA_READ_ONLY_KEY")) a.server.read_only_key = k;
    }
    if (!(a.max_body_mib > 0))
        return fail("serve", Status::invalid_argument("--max-body-mib must be positive"));
    a.server.max_body_bytes = static_cast<uint64_t>(a.max_body_mib * 1048576.0);
    if (!(a.body_budget_mib > 0)) {
        return fail("serve", Status::invalid_argument("--body-budget-mib must be positive"));
    }
    a.server.max_body_budget_bytes = static_cast<uint64_t>(a.body_budget_mib * 1048576.0);
    if (!(a.recall_cpu > 0 && a.recall_cpu <= 1)) {
        return fail("serve", Status::invalid_argument("--recall-cpu must be in (0, 1]"));
    }
    if (a.recall_fraction < 0 || a.recall_fraction > 1) {
        return fail("serve", Status::invalid_argument("--recall-sample must be in [0, 1]"));
    }
    server::RegistryOptions ro;
    ro.collection.consolidate_at = a.consolidate_at;
    ro.collection.disk.cache_bytes = static_cast<uint64_t>(a.cache_mib * 1048576.0);
    if (a.wal_sync == "interval") {
        ro.collection.wal_sync = CollectionOptions::Sync::kInterval;
    } else if (a.wal_sync != "always") {
        return fail("serve", Status::invalid_argument("--wal-sync must be always or interval"));
    }
    ro.warmup_seconds = a.warmup_seconds;
    if (Status s = a.server.validate(); !s.is_ok()) return fail("serve", s);

    const int uring = io::probe_uring();
    STRATA_LOG_INFO(
        "strata serve {}: data dir {}, io backend {}, node cache {} MiB per collection, "
        "WAL sync {}, consolidate at {}, recall sample {}",
        STRATA_VERSION, a.data_dir,
        uring == 0 ? "io_uring"
                   : fmt::format("pread (io_uring unavailable: {})", std::strerror(uring)),
        a.cache_mib, a.wal_sync, a.consolidate_at, a.recall_fraction);
    auto registry = server::Registry::open(a.data_dir, ro);
    if (!registry.is_ok()) return fail("serve", registry.status());
    STRATA_LOG_INFO("{} collections open", (*registry)->list().size());

    server::Metrics metrics;
    server::RecallMonitorOptions mo;
    mo.fraction = a.recall_fraction;
    mo.cpu_fraction = a.recall_cpu;
    auto monitor = std::make_unique<server::RecallMonitor>(mo);
    server::ApiLimits limits;
    limits.max_search_list = ro.collection.disk.max_list_size;
    limits.max_beam_width = ro.collection.disk.max_beam_width;
    limits.max_points = a.max_points;
    limits.max_searches = a.max_searches;
    server::Api api(**registry, metrics, monitor.get(), limits);
    auto http = server::HttpServer::start(a.server, api, metrics);
    if (!http.is_ok()) return fail("serve", http.status());
    std::fprintf(stdout, "strata serve: listening on %s://%s:%u\n",
                 a.server.tls_cert.empty() ? "http" : "https", a.server.host.c_str(),
                 static_cast<unsigned>((*http)->port()));
    std::fflush(stdout);

    std::thread warm([&] { (*registry)->warm_up_all(); });
    int sig = 0;
    sigwait(&signals, &sig);
    STRATA_LOG_INFO("{}: stopping: no new connections, finishing requests in flight",
                    strsignal(sig));
    (*http)->stop(a.grace_seconds);
    warm.join();
    monitor.reset();
    Status s = (*registry)->flush();
    registry->reset();  // closes every collection: waits for consolidations, syncs the logs
    if (!s.is_ok()) return fail("serve", s);
    STRATA_LOG_INFO("stopped cleanly");
    return 0;
}

}  // namespace

void register_serve(CLI::App& app, GlobalFlags& /*global*/, int& exit_code) {
    auto a = std::make_shared<ServeArgs>();
    CLI::App* cmd = add_command(
        app, "serve",
        "HTTP server (Qdrant-like JSON API) over a data directory of collections. Binds to "
        "loopback unless told otherwise; without an API key only loopback clients are served. "
        "SIGTERM/SIGINT: stop accepting, finish requests in flight, sync the logs");
    cmd->add_option("--config", a->config,
                    "File of flag values, one 'name = value' per line (TOML style: names without "
                    "--, strings in quotes, # comments); flags on the command line win");
    cmd->add_option("--data-dir", a->data_dir, "Data directory (created when missing; required)");
    cmd->add_option("--host", a->server.host, "Address to bind");
    cmd->add_option("--port", a->server.port, "Port (0 = any free port)");
    cmd->add_option(
        "--api-key", a->server.api_key,
        "Full-access key (api-key header or Authorization: Bearer); env STRATA_API_KEY");
    cmd->add_option("--read-only-key", a->server.read_only_key,
                    "Key for searches and reads only; env STRATA_READ_ONLY_KEY");
    cmd->add_option("--tls-cert", a->server.tls_cert, "PEM certificate chain: serve HTTPS");
    cmd->add_option("--tls-key", a->server.tls_key, "PEM private key of --tls-cert");
    cmd->add_option("--workers", a->server.workers, "Request handler threads (0 = cores)");
    cmd->add_option("--io-threads", a->server.io_threads, "Network threads");
    cmd->add_option("--queue", a->server.queue, "Requests waiting for a worker before 503");
    cmd->add_option("--max-connections", a->server.max_connections, "Open connections at most");
    cmd->add_option("--max-body-mib", a->max_body_mib, "Largest request body, MiB");
    cmd->add_option("--body-budget-mib", a->body_budget_mib,
                    "Request bodies held in memory at once, all connections (503 beyond)");
    cmd->add_option("--max-points", a->max_points, "Points per upsert or delete request");
    cmd->add_option("--max-searches", a->max_searches, "Searches per batch request");
    cmd->add_option("--idle-timeout", a->server.idle_timeout_s,
                    "Seconds a keep-alive connection may idle");
    cmd->add_option("--request-timeout", a->server.request_timeout_s,
                    "Seconds to read one request");
    cmd->add_option("--slow-seconds", a->server.slow_request_s, "Log requests slower than this");
    cmd->add_option("--recall-sample", a->recall_fraction,
                    "Fraction of searches the recall monitor re-runs exactly (0 = off)");
    cmd->add_option("--recall-cpu", a->recall_cpu,
                    "Share of one core the recall monitor's exact passes may use");
    cmd->add_option("--cache-mib", a->cache_mib, "Node cache per collection, MiB");
    cmd->add_option("--consolidate-at", a->consolidate_at,
                    "Hot-tier vectors (or deletes) that start a background consolidation");
    cmd->add_option("--wal-sync", a->wal_sync, "always (durable on return) or interval (100 ms)");
    cmd->add_option("--warmup-seconds", a->warmup_seconds, "Warm-up time cap per collection");
    cmd->add_option("--grace-seconds", a->grace_seconds,
                    "On stop, wait this long for requests in flight");
    cmd->callback([a, cmd, &exit_code] {
        if (!a->config.empty()) {
            if (Status s = apply_config(*cmd, a->config); !s.is_ok()) {
                exit_code = fail("serve", s);
                return;
            }
        }
        if (a->data_dir.empty()) {
            exit_code = fail("serve", Status::invalid_argument("--data-dir is required"));
            return;
        }
        exit_code = run_serve(*a);
    });

    struct RestoreArgs {
        std::string snapshot, data_dir, name;
        bool replace = false;
    };
    auto r = std::make_shared<RestoreArgs>();
    cmd = add_command(
        app, "restore",
        "Restore a collection snapshot (made by POST /collections/{c}/snapshots) into a "
        "data directory; the server must not be running on it");
    cmd->add_option("snapshot", r->snapshot, "Snapshot directory (DATA/snapshots/<c>/<name>)")
        ->required();
    cmd->add_option("--data-dir", r->data_dir, "Data directory of the server")->required();
    cmd->add_option("--collection", r->name, "Collection name to restore as")->required();
    cmd->add_flag("--replace", r->replace, "Replace an existing collection of that name");
    cmd->callback([r, &exit_code] {
        Status s = server::restore_snapshot(r->snapshot, r->data_dir, r->name, r->replace);
        if (!s.is_ok()) {
            exit_code = fail("restore", s);
            return;
        }
        fmt::print("restored {} as collection '{}' in {}\n", r->snapshot, r->name, r->data_dir);
        exit_code = 0;
    });
}

}  // namespace strata::tools
