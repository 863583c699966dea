// The HTTP/1.1 transport of `strata serve`: Boost.Beast over Asio, keep-alive, TLS optional.
// Network threads (few) read and write; request handlers run on a separate bounded worker pool,
// and a full queue is answered 503 with Retry-After instead of piling up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <strata/status.hpp>

#include "server/api.hpp"
#include "server/metrics.hpp"

namespace strata::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 6333;  ///< 0 = any free port (see HttpServer::port())
    int io_threads = 1;    ///< network threads
    int workers = 0;       ///< request handler threads; 0 = hardware threads
    uint32_t queue = 256;  ///< requests waiting for a worker before 503
    uint64_t max_body_bytes = 64ull << 20;
    /// All request bodies held at once (being read or handled), across connections, each
    /// counted four times (its bytes, the parser's padded copy and document): a request whose
    /// Content-Length does not fit is answered 503 before its body is read. This bounds the
    /// server's request memory whatever the number of clients. At least 4 x max_body_bytes.
    uint64_t max_body_budget_bytes = 1ull << 30;
    uint32_t max_header_bytes = 16 << 10;
    uint32_t max_connections = 1024;
    double idle_timeout_s = 60;     ///< a keep-alive connection with no request is closed
    double request_timeout_s = 30;  ///< reading one request (headers and body)
    double slow_request_s = 0.5;    ///< requests slower than this are logged
    std::string api_key;            ///< full access; empty = none
    std::string read_only_key;      ///< searches and reads only
    std::string tls_cert, tls_key;  ///< PEM files; both or neither
    Status validate() const;
};

class HttpServer {
  public:
    /// Binds and starts serving on background threads.
    static Result<std::unique_ptr<HttpServer>> start(const ServerOptions& options, Api& api,
                                                     Metrics& metrics);
    ~HttpServer();
    /// The bound port.
    uint16_t port() const;
    /// Graceful stop: no new connections, in-flight requests finish (up to `grace_s`), then the
    /// network threads end. Idempotent.
    void stop(double grace_s = 30);

    struct Impl;

  private:
    explicit HttpServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strata::server
