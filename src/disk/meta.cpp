// Rendering of meta.json with the shared JsonWriter.
#include "disk/meta.hpp"

#include <ctime>

#include "core/json_writer.hpp"

namespace strata::disk {
namespace {

std::string utc_iso8601(int64_t unix_s) {
    const auto t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

std::string render_meta_json(const IndexLayoutParams& params, const BuildInfo& info) {
    const int64_t created =
        info.created_unix_s != 0 ? info.created_unix_s : static_cast<int64_t>(std::time(nullptr));
    const std::string version = std::to_string(kFormatMajor) + "." + std::to_string(kFormatMinor);
    JsonWriter j(2);
    j.begin_object();
    j.field("format", "strata-index");
    j.field("format_version", version);
    j.field("metric", metric_name(params.metric));
    j.field("dtype", dtype_name(params.dtype));
    j.field("dimension", params.dim);
    j.field("count", params.node_count);
    j.field("degree_max", params.degree_max);
    j.key("entry_point");
    if (params.entry_point == kNoNode) {
        j.null();
    } else {
        j.value(params.entry_point);
    }
    j.key("build").begin_object();
    j.field("search_list", info.search_list);
    j.field("alpha", info.alpha);
    j.field("pq_bytes", info.pq_bytes);
    j.field("normalized", info.normalized);
    j.end_object();
    j.key("data").begin_object();
    j.field("norm_min", info.norm_min);
    j.field("norm_mean", info.norm_mean);
    j.field("norm_max", info.norm_max);
    j.end_object();
    j.key("phase_seconds").begin_object();
    for (const auto& [phase, seconds] : info.phase_seconds) j.field(phase, seconds);
    j.end_object();
    j.field("peak_memory_bytes", info.peak_memory_bytes);
    j.field("tool_version", info.tool_version.empty() ? std::string_view(STRATA_VERSION)
                                                      : std::string_view(info.tool_version));
    j.field("created", utc_iso8601(created));
    j.field("created_unix_s", created);
    j.key("extra").begin_object();
    for (const auto& [key, value] : info.extra_numbers) j.field(key, value);
    for (const auto& [key, value] : info.extra_strings) j.field(key, std::string_view(value));
    j.end_object();
    j.end_object();
    return j.take() + "\n";
}

}  // namespace strata::disk
