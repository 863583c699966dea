// strata version: build and runtime facts (version, SIMD kernels, allocator).
#include <cstdlib>

#include <fmt/format.h>
#include <mimalloc.h>

#include "commands.hpp"
#include "distance/distance.hpp"

namespace strata::tools {

void register_version(CLI::App& app, GlobalFlags& /*global*/, int& exit_code) {
    auto* cmd = add_command(app, "version", "Print the version, SIMD kernels and allocator.");
    cmd->callback([&exit_code] {
        // The executable links mimalloc ahead of libc, so plain malloc should land in its heap.
        void* probe = std::calloc(1, 64);
        const bool overridden = mi_is_in_heap_region(probe);
        std::free(probe);
        fmt::print("strata {}\n", STRATA_VERSION);
        fmt::print("simd kernels: {} (cpu supports {})\n",
                   distance::isa_name(distance::kernels().isa),
                   distance::isa_name(distance::detect_isa()));
        fmt::print("allocator: mimalloc {} (malloc {})\n", mi_version(),
                   overridden ? "overridden" : "NOT overridden");
        exit_code = 0;
    });
}

}  // namespace strata::tools
