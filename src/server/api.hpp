// The HTTP API, independent of the transport: one request (method, target, body, the caller's
// access) in, one response out. Qdrant-like paths and JSON; see docs/server.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/metrics.hpp"
#include "server/recall_monitor.hpp"
#include "server/registry.hpp"

namespace strata::server {

enum class Access : uint8_t { kReadOnly, kFull };

struct ApiLimits {
    uint32_t max_k = 1000;
    uint32_t max_search_list = 1000;  ///< the collections' DiskIndexOptions::max_list_size
    uint32_t max_beam_width = 16;     ///< and max_beam_width
    uint32_t max_points = 10000;      ///< per upsert or delete
    uint32_t max_searches = 1024;     ///< per batch search
    uint32_t max_json_depth = 32;
};

struct Request {
    std::string_view method;
    std::string_view target;
    std::string_view body;
    Access access = Access::kFull;
};

struct Response {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::string endpoint = "unknown";  ///< metric label of the route
    std::string error;                 ///< the message of a 4xx/5xx, for the log
};

class Api {
  public:
    Api(Registry& registry, Metrics& metrics, RecallMonitor* monitor, const ApiLimits& limits);
    Response handle(const Request& request);
    /// /readyz answers 503 from now on.
    void set_draining() { draining_ = true; }
    const ApiLimits& limits() const { return limits_; }

  private:
    Registry& registry_;
    Metrics& metrics_;
    RecallMonitor* monitor_;
    ApiLimits limits_;
    std::atomic<bool> draining_{false};
    struct Handlers;
};

/// The HTTP status of a Status code (InvalidArgument 400, NotFound 404, ...).
int http_status(const Status& s);
/// A JSON error response.
Response error_response(int status, std::string_view message, std::string_view endpoint = "");

}  // namespace strata::server
