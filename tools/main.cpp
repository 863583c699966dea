// strata: the command-line face of the engine (build, search, serve, gt, gen, ...).
#include <cstdio>
#include <exception>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace strata::tools {

int fail(const std::string& command, const Status& status) {
    fmt::print(stderr, "strata {}: error: {}\n", command, status.to_string());
    return 1;
}

}  // namespace strata::tools

int main(int argc, char** argv) {
    using namespace strata::tools;
    CLI::App app{
        "strata: disk-resident approximate nearest-neighbour search.\n"
        "Run 'strata <command> --help' for the flags of a command."};
    app.require_subcommand(1);
    app.option_defaults()->always_capture_default();
    GlobalFlags global;
    int exit_code = 0;
    register_build(app, global, exit_code);
    register_info(app, global, exit_code);
    register_gen(app, global, exit_code);
    register_gt(app, global, exit_code);
    register_search(app, global, exit_code);
    register_collection(app, global, exit_code);
    register_serve(app, global, exit_code);
    register_convert(app, global, exit_code);
    register_inspect(app, global, exit_code);
    register_version(app, global, exit_code);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "strata: unexpected error: %s\n", e.what());
        return 1;
    }
    return exit_code;
}
