// meta.json: the human-readable record of how an index was built (schema in docs/format.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "disk/index_writer.hpp"

namespace strata::disk {

/// What the builder knows about a build, beyond the layout. Zero means "not recorded".
struct BuildInfo {
    /// L: candidate list size of the graph build. Default 0.
    uint32_t search_list = 0;
    /// α of RobustPrune. Default 0.
    double alpha = 0;
    /// Bytes per PQ code; 0 when the index has no PQ. Default 0.
    uint32_t pq_bytes = 0;
    /// True when vectors were scaled to unit L2 norm on ingest (cosine). Default false.
    bool normalized = false;
    /// L2 norms of the input vectors before any normalization: min, mean, max. Default 0.
    double norm_min = 0;
    double norm_mean = 0;
    double norm_max = 0;
    /// Wall time per build phase in seconds, in the order run ({"pq_train", 12.5}, ...).
    std::vector<std::pair<std::string, double>> phase_seconds;
    /// Peak resident memory of the build, bytes. Default 0.
    uint64_t peak_memory_bytes = 0;
    /// Version of the program that built the index. Default "" = this library's version.
    std::string tool_version;
    /// Creation time, seconds since the Unix epoch. Default 0 = now.
    int64_t created_unix_s = 0;
    /// Further numeric members of the "extra" object ({"validation_recall_at_10", 0.95}, ...).
    std::vector<std::pair<std::string, double>> extra_numbers;
    /// Further string members of the "extra" object ({"source", "sift1m.fbin"}, ...).
    std::vector<std::pair<std::string, std::string>> extra_strings;
};

/// Renders meta.json (a pretty-printed JSON object) for an index with `params` built as `info`
/// describes; pass the result to IndexWriter::finish. Non-finite numbers become null.
std::string render_meta_json(const IndexLayoutParams& params, const BuildInfo& info);

}  // namespace strata::disk
