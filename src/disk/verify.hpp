// verify_index: a full check of an index directory — every checksum and every node's structure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <strata/status.hpp>

namespace strata::disk {

struct VerifyOptions {
    /// Called after each chunk read (at most every 4 MiB) with bytes checked so far and the
    /// total; may be empty. Runs on the calling thread. Default empty.
    std::function<void(uint64_t done_bytes, uint64_t total_bytes)> progress;
    /// Problems kept in the report; later ones are only counted. At least 1. Default 100.
    size_t max_problems = 100;
    /// Memory the duplicate external-id check may use (8 bytes per node); above it the check
    /// is skipped with a note. Default 1 GiB.
    uint64_t id_check_memory_bytes = uint64_t{1} << 30;

    Status validate() const;
};

struct VerifyReport {
    /// One line per problem, each naming the file (full path) and what is wrong.
    std::vector<std::string> problems;
    /// All problems found, including those beyond max_problems.
    uint64_t problem_count = 0;
    /// Checks that were skipped and why.
    std::vector<std::string> notes;
    uint64_t nodes_checked = 0;
    uint64_t blocks_checked = 0;
    uint64_t bytes_read = 0;

    bool ok() const { return problem_count == 0; }
};

/// Checks index directory `dir` completely: the header checksum and fields, the checksum table,
/// every node block checksum (naming the block and its node range), every companion's header,
/// payload checksum, sizes and index uid, meta.json's checksum, and for every node: degree <= R,
/// neighbour ids < node count, no self-loop, no repeated neighbour, zero unused slots and zero
/// padding; external ids unique. Reads each byte once, sequentially. Damage is reported in the
/// VerifyReport, not as an error: the Result fails only when `dir` is missing (NotFound) or not a
/// directory (InvalidArgument), for bad options, or on an I/O error (IOError).
Result<VerifyReport> verify_index(const std::string& dir, const VerifyOptions& options = {});

}  // namespace strata::disk
