// MANIFEST: a collection's committed state, one small text file replaced atomically
// (write a temp file, fsync, rename, fsync the directory). See docs/format.md.
#pragma once

#include <cstdint>
#include <string>

#include <strata/collection.hpp>
#include <strata/status.hpp>

namespace strata::collection {

struct Manifest {
    CollectionParams params;
    uint64_t generation = 0;    ///< 0 = none yet; else the index is in gen-<generation>/
    uint64_t wal_from_lsn = 1;  ///< the first log record not folded into the generation
    uint64_t next_id = 0;       ///< one past the largest id ever written
    double recall = 0;          ///< recall@10 the generation measured at its swap (0 = unknown)

    std::string encode() const;
    /// Corruption naming the problem for a damaged or foreign file (checksum, keys, values).
    static Result<Manifest> decode(const std::string& text, const std::string& path);
};

inline constexpr const char* kManifestName = "MANIFEST";

std::string generation_dir_name(uint64_t generation);
/// `dir`/generation_dir_name(generation).
std::string generation_path(const std::string& dir, uint64_t generation);

Result<Manifest> read_manifest(const std::string& dir);
Status write_manifest(const std::string& dir, const Manifest& manifest);

}  // namespace strata::collection
