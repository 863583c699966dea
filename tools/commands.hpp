// The strata command's subcommands: each registers its flags on the CLI11 app and returns an
// exit code when run (0 ok, 1 failure, 2 usage error).
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include <strata/status.hpp>

namespace strata::tools {

/// The filter syntax, for --help of the commands taking --filter (gt, search).
inline constexpr char kFilterSyntax[] =
    "Qdrant style: '{\"must\": [{\"key\": \"label\", \"match\": {\"value\": \"red\"}}]}' "
    "(must, should, must_not; match value or any). Labels named field=value are fields: "
    "{\"key\": \"price\", \"range\": {\"gte\": 10, \"lt\": 50}} matches labels price=<number> "
    "in range, {\"key\": \"color\", \"match\": {\"value\": \"red\"}} the label color=red";

/// Flags every subcommand shares.
struct GlobalFlags {
    bool quiet = false;
    bool json = false;
};

void register_build(CLI::App& app, GlobalFlags& global, int& exit_code);
void register_info(CLI::App& app, GlobalFlags& global, int& exit_code);
void register_gen(CLI::App& app, GlobalFlags& global, int& exit_code);
void register_gt(CLI::App& app, GlobalFlags& global, int& exit_code);
void register_convert(CLI::App& app, GlobalFlags& global, int& exit_code);
void register_inspect(CLI::App& app, GlobalFlags& global, int& exit_code);
void register_version(CLI::App& app, GlobalFlags& global, int& exit_code);
void register_search(CLI::App& app, GlobalFlags& global, int& exit_code);
void register_collection(CLI::App& app, GlobalFlags& global, int& exit_code);
void register_serve(CLI::App& app, GlobalFlags& global, int& exit_code);

/// Adds a subcommand whose options show their defaults in --help.
inline CLI::App* add_command(CLI::App& app, const std::string& name,
                             const std::string& description) {
    CLI::App* cmd = app.add_subcommand(name, description);
    cmd->option_defaults()->always_capture_default();
    return cmd;
}

/// Prints "strata <cmd>: error: <status>" to stderr and returns 1.
int fail(const std::string& command, const Status& status);

}  // namespace strata::tools
