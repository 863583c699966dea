#include "server/http_server.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/log.hpp"

namespace strata::server {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

Status ServerOptions::validate() const {
    if (io_threads < 1 || io_threads > 64)
        return Status::invalid_argument("io threads must be in [1, 64]");
    if (workers < 0 || workers > 1024)
        return Status::invalid_argument("workers must be in [0, 1024]");
    if (queue < 1) return Status::invalid_argument("queue must be at least 1");
    if (max_body_bytes < 1024) return Status::invalid_argument("max body must be at least 1 KiB");
    if (max_header_bytes < 1024)
        return Status::invalid_argument("max header must be at least 1 KiB");
    if (max_body_budget_bytes / 4 < max_body_bytes) {
        return Status::invalid_argument(
            "the request body budget must hold four times the largest body");
    }
    if (tls_cert.empty() != tls_key.empty()) {
        return Status::invalid_argument("TLS needs both --tls-cert and --tls-key");
    }
    beast::error_code ec;
    net::ip::make_address(host, ec);
    if (ec) return Status::invalid_argument(fmt::format("--host '{}' is not an IP address", host));
    if (!(idle_timeout_s > 0) || !(request_timeout_s > 0)) {
        return Status::invalid_argument("timeouts must be positive");
    }
    return Status::ok();
}

namespace {

// A fixed set of threads draining a bounded queue.
class WorkerPool {
  public:
    WorkerPool(int threads, size_t capacity, Metrics& metrics)
        : capacity_(capacity), metrics_(metrics) {
        for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
    }
    ~WorkerPool() { stop(true); }
    bool try_submit(std::function<void()> fn) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (stop_ || queue_.size() >= capacity_) return false;
            queue_.push_back(std::move(fn));
            metrics_.queue_depth(static_cast<int64_t>(queue_.size()));
        }
        cv_.notify_one();
        return true;
    }
    /// Ends the threads once the queue is drained, or at once dropping it (`drop_queued`).
    void stop(bool drop_queued) {
        std::deque<std::function<void()>> dropped;  // destroyed outside the lock
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (stop_) return;
            stop_ = true;
            if (drop_queued) dropped.swap(queue_);
        }
        cv_.notify_all();
        for (auto& t : threads_) t.join();
    }

  private:
    void run() {
        for (;;) {
            std::function<void()> fn;
            {
                std::unique_lock<std::mutex> lock(mu_);
                cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
                if (queue_.empty()) return;  // stopping and drained
                fn = std::move(queue_.front());
                queue_.pop_front();
                metrics_.queue_depth(static_cast<int64_t>(queue_.size()));
            }
            fn();
        }
    }
    size_t capacity_;
    Metrics& metrics_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;
Digest digest(std::string_view s) {
    Digest d{};
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
    return d;
}

bool is_probe(std::string_view target) {
    return target == "/healthz" || target == "/readyz" || target.rfind("/healthz?", 0) == 0 ||
           target.rfind("/readyz?", 0) == 0;
}

}  // namespace

struct HttpServer::Impl {
    ServerOptions opt;
    Api& api;
    Metrics& metrics;
    // Declared before the io_context: sessions still queued in it when it is destroyed release
    // their counts and read the TLS context on the way out.
    std::atomic<int> in_flight{0};
    std::atomic<uint64_t> body_bytes{0};  // reserved for request bodies being read or handled
    std::atomic<uint32_t> connections{0};
    std::atomic<bool> stopping{false};
    std::optional<net::ssl::context> tls;
    net::io_context ioc;
    // Keeps run() going while the only pending work is a request on a worker (during a stop).
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    // Accepts, their retries and the close at stop run on one strand.
    net::strand<net::io_context::executor_type> accept_strand{net::make_strand(ioc)};
    tcp::acceptor acceptor{accept_strand};
    net::steady_timer accept_retry{accept_strand};
    std::vector<std::thread> threads;
    std::unique_ptr<WorkerPool> pool;

    bool reserve_body(uint64_t n) {
        uint64_t cur = body_bytes.load();
        do {
            if (cur + n > opt.max_body_budget_bytes) return false;
        } while (!body_bytes.compare_exchange_weak(cur, cur + n));
        return true;
    }
    bool stopped = false;
    bool auth = false;
    Digest full_key{}, read_key{};
    bool has_full = false, has_read = false;
    uint16_t port = 0;

    Impl(const ServerOptions& o, Api& a, Metrics& m) : opt(o), api(a), metrics(m) {}

    void accept();

    // The access of a request, or the refusal to send.
    std::optional<Response> authorize(const http::request<http::string_body>& req, bool loopback,
                                      Access& access) const {
        access = Access::kFull;
        if (!auth) {
            if (loopback) return std::nullopt;
            return error_response(403,
                                  "this server accepts only loopback connections: start it with "
                                  "--api-key to serve other hosts",
                                  "auth");
        }
        if (is_probe(req.target())) return std::nullopt;
        std::string_view token;
        if (auto it = req.find("api-key"); it != req.end()) {
            token = it->value();
        } else if (auto a = req.find(http::field::authorization); a != req.end()) {
            const std::string_view v = a->value();
            if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) {
                token = v.substr(7);
            }
        }
        if (token.empty()) {
            return error_response(
                401, "missing API key: send the api-key header or Authorization: Bearer", "auth");
        }
        const Digest d = digest(token);  // compared in constant time, whatever the length
        if (has_full && CRYPTO_memcmp(d.data(), full_key.data(), d.size()) == 0)
            return std::nullopt;
        if (has_read && CRYPTO_memcmp(d.data(), read_key.data(), d.size()) == 0) {
            access = Access::kReadOnly;
            return std::nullopt;
        }
        return error_response(401, "invalid API key", "auth");
    }
};

namespace {

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
    static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  public:
    Session(HttpServer::Impl& s, Stream&& stream, bool loopback, std::string peer)
        : s_(s), stream_(std::move(stream)), loopback_(loopback), peer_(std::move(peer)) {
        s_.metrics.connection(+1);
    }
    ~Session() {
        release_body();
        s_.metrics.connection(-1);
        s_.connections.fetch_sub(1);
    }

    void start() {
        if constexpr (kTls) {
            beast::get_lowest_layer(stream_).expires_after(timeout(s_.opt.request_timeout_s));
            stream_.async_handshake(net::ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        if (ec) return;  // not TLS, or gave up: drop quietly
                                        self->read();
                                    });
        } else {
            read();
        }
    }

  private:
    static std::chrono::milliseconds timeout(double s) {
        return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
    }

    void read() {
        parser_.emplace();
        parser_->body_limit(s_.opt.max_body_bytes);
        parser_->header_limit(s_.opt.max_header_bytes);
        beast::get_lowest_layer(stream_).expires_after(
            timeout(served_ == 0 ? s_.opt.request_timeout_s : s_.opt.idle_timeout_s));
        // The header first: the body is read only once its bytes fit the server-wide budget.
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = this->shared_from_this()](beast::error_code ec, size_t) {
                                    self->on_header(ec);
                                });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read(ec);
        const auto& h = parser_->get();
        start_ = Clock::now();
        note_request(h);
        // Keys before the body: nobody without one can make the server hold request bytes.
        if (auto refusal = s_.authorize(h, loopback_, access_)) {
            s_.in_flight.fetch_add(1);
            return respond(std::move(*refusal), false);  // the body stays unread
        }
        const auto length = parser_->content_length();
        const uint64_t body = length ? *length : (parser_->chunked() ? s_.opt.max_body_bytes : 0);
        // A body costs about four times its size while handled: the bytes, the parser's padded
        // copy and its document.
        const uint64_t want = 4 * body;
        if (want > 0 && !s_.reserve_body(want)) {
            s_.in_flight.fetch_add(1);
            s_.metrics.rejected();
            return respond(error_response(503,
                                          "server busy: request bodies in memory are at their "
                                          "budget, retry later",
                                          "busy"),
                           false);
        }
        reserved_ = want;
        beast::get_lowest_layer(stream_).expires_after(timeout(s_.opt.request_timeout_s));
        if (beast::iequals(h[http::field::expect], "100-continue")) {
            continue_ =
                std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
            return http::async_write(
                stream_, *continue_,
                [self = this->shared_from_this()](beast::error_code e, size_t) {
                    self->continue_.reset();
                    if (e) return self->close();
                    self->read_body();
                });
        }
        read_body();
    }

    void read_body() {
        http::async_read(
            stream_, buffer_, *parser_,
            [self = this->shared_from_this()](beast::error_code e, size_t) { self->on_read(e); });
    }

    // Method and target for logs and metrics; unknown methods share one label.
    void note_request(const http::request<http::string_body>& h) {
        method_ = h.method() == http::verb::unknown ? std::string("other")
                                                    : std::string(h.method_string());
        target_ = std::string(h.target());
    }

    void release_body() {
        if (reserved_ > 0) s_.body_bytes.fetch_sub(reserved_);
        reserved_ = 0;
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == net::error::operation_aborted || ec == net::error::eof ||
            ec == net::error::connection_reset || ec == net::ssl::error::stream_truncated) {
            return close();
        }
        start_ = Clock::now();
        s_.in_flight.fetch_add(1);  // until its response is written
        if (ec) {
            // Nothing more can be read reliably from this connection: answer and close.
            method_ = "-";
            target_ = "-";
            if (ec == http::error::body_limit) {
                return respond(error_response(413,
                                              fmt::format("request body over the {} byte limit",
                                                          s_.opt.max_body_bytes),
                                              "http"),
                               false);
            }
            if (ec == http::error::header_limit) {
                return respond(error_response(431,
                                              fmt::format("request headers over the {} byte limit",
                                                          s_.opt.max_header_bytes),
                                              "http"),
                               false);
            }
            if (ec.category() == http::make_error_code(http::error::bad_target).category() ||
                ec == http::error::partial_message) {
                return respond(
                    error_response(400, fmt::format("malformed HTTP request: {}", ec.message()),
                                   "http"),
                    false);
            }
            s_.in_flight.fetch_sub(1);
            return close();
        }
        auto req = std::make_shared<http::request<http::string_body>>(parser_->release());
        keep_alive_ = req->keep_alive();
        ++served_;
        const Access access = access_;
        Request r{req->method_string(), req->target(), req->body(), access};
        if (req->method() == http::verb::get &&
            (is_probe(r.target) || r.target == "/metrics" || r.target.rfind("/metrics?", 0) == 0)) {
            return respond(run(r), keep_alive_);  // cheap, answered even when the queue is full
        }
        auto self = this->shared_from_this();
        const bool queued = s_.pool->try_submit([self, req, access] {
            Request rr{req->method_string(), req->target(), req->body(), access};
            Response res = self->run(rr);
            net::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
                self->respond(std::move(res), self->keep_alive_);
            });
        });
        if (!queued) {
            s_.metrics.rejected();
            Response busy =
                error_response(503, "server busy: request queue full, retry later", "busy");
            return respond(std::move(busy), keep_alive_);
        }
    }

    Response run(const Request& r) {
        try {
            return s_.api.handle(r);
        } catch (const std::exception& e) {
            return error_response(500, fmt::format("internal error: {}", e.what()));
        }
    }

    void respond(Response r, bool keep_alive) {
        const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
        s_.metrics.request(r.endpoint, method_, r.status, seconds);
        // Probes polling /readyz during warm-up are not failures worth a line each.
        if ((r.status >= 400 && r.endpoint != "readyz") || seconds >= s_.opt.slow_request_s) {
            const LogLevel level =
                r.status >= 500 && r.status != 503 ? LogLevel::kWarn : LogLevel::kInfo;
            detail::log(level,
                        "request method={} target=\"{}\" endpoint={} status={} duration_ms={:.2f} "
                        "peer={} error=\"{}\"",
                        method_, target_.substr(0, 200), r.endpoint, r.status, seconds * 1e3, peer_,
                        r.error);
        }
        keep_alive = keep_alive && !s_.stopping.load();
        res_ = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(r.status), 11);
        res_->set(http::field::server, "strata/" STRATA_VERSION);
        res_->set(http::field::content_type, r.content_type);
        if (r.status == 503) res_->set(http::field::retry_after, "1");
        if (r.status == 401) res_->set(http::field::www_authenticate, "Bearer");
        res_->body() = std::move(r.body);
        res_->keep_alive(keep_alive);
        res_->prepare_payload();
        beast::get_lowest_layer(stream_).expires_after(timeout(s_.opt.request_timeout_s));
        http::async_write(
            stream_, *res_,
            [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                self->res_.reset();
                self->release_body();
                self->s_.in_flight.fetch_sub(1);
                if (ec || !keep_alive) return self->close();
                self->read();
            });
    }

    void close() {
        if constexpr (kTls) {
            beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
                beast::error_code ignored;
                beast::get_lowest_layer(self->stream_).socket().close(ignored);
            });
        } else {
            // Send FIN, then read and discard what the client still sends (an unread body) for
            // up to a second: closing with unread input would reset the connection and the
            // client could lose the response written just before.
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            stream_.expires_after(std::chrono::seconds(1));
            drain(0);
        }
    }

    void drain(size_t total) {
        if (total > (size_t{1} << 20)) return;
        if (!drain_buf_) drain_buf_ = std::make_unique<std::array<char, 4096>>();
        stream_.async_read_some(net::buffer(*drain_buf_), [self = this->shared_from_this(), total](
                                                              beast::error_code ec, size_t n) {
            if (!ec) self->drain(total + n);
        });
    }

    HttpServer::Impl& s_;
    Stream stream_;
    bool loopback_;
    std::string peer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<http::response<http::string_body>> res_;
    Clock::time_point start_;
    std::string method_, target_;
    bool keep_alive_ = true;
    uint64_t served_ = 0;
    uint64_t reserved_ = 0;  // bytes of body_bytes this connection holds
    Access access_ = Access::kFull;
    std::shared_ptr<http::response<http::empty_body>> continue_;
    std::unique_ptr<std::array<char, 4096>> drain_buf_;
};

}  // namespace

void HttpServer::Impl::accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || stopping) return;
        if (!ec) {
            beast::error_code rec;
            const auto remote = socket.remote_endpoint(rec);
            if (rec) {
                // The peer went away already.
            } else if (connections.fetch_add(1) >= opt.max_connections) {
                connections.fetch_sub(1);
                metrics.rejected();
                beast::error_code ignored;
                socket.close(ignored);
            } else {
                const bool loopback = remote.address().is_loopback();
                const std::string peer =
                    fmt::format("{}:{}", remote.address().to_string(), remote.port());
                if (tls) {
                    std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
                        *this, beast::ssl_stream<beast::tcp_stream>(std::move(socket), *tls),
                        loopback, peer)
                        ->start();
                } else {
                    std::make_shared<Session<beast::tcp_stream>>(
                        *this, beast::tcp_stream(std::move(socket)), loopback, peer)
                        ->start();
                }
            }
        } else {
            // Out of descriptors or memory: retry shortly instead of spinning on the error.
            STRATA_LOG_WARN("accept: {}; retrying in 100 ms", ec.message());
            accept_retry.expires_after(std::chrono::milliseconds(100));
            accept_retry.async_wait([this](beast::error_code e) {
                if (!e && !stopping) accept();
            });
            return;
        }
        accept();
    });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const ServerOptions& options, Api& api,
                                                      Metrics& metrics) {
    STRATA_RETURN_IF_ERROR(options.validate());
    auto impl = std::make_unique<Impl>(options, api, metrics);
    Impl& m = *impl;
    m.has_full = !options.api_key.empty();
    m.has_read = !options.read_only_key.empty();
    m.auth = m.has_full || m.has_read;
    if (m.has_full) m.full_key = digest(options.api_key);
    if (m.has_read) m.read_key = digest(options.read_only_key);
    if (!options.tls_cert.empty()) {
        m.tls.emplace(net::ssl::context::tls_server);
        m.tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                           net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                           net::ssl::context::no_tlsv1_1);
        beast::error_code ec;
        m.tls->use_certificate_chain_file(options.tls_cert, ec);
        if (ec) {
            return Status::invalid_argument(
                fmt::format("--tls-cert {}: {}", options.tls_cert, ec.message()));
        }
        m.tls->use_private_key_file(options.tls_key, net::ssl::context::pem, ec);
        if (ec) {
            return Status::invalid_argument(
                fmt::format("--tls-key {}: {}", options.tls_key, ec.message()));
        }
    }
    beast::error_code ec;
    const auto address = net::ip::make_address(options.host, ec);
    if (ec)
        return Status::invalid_argument(
            fmt::format("--host '{}' is not an IP address", options.host));
    const tcp::endpoint ep(address, options.port);
    m.acceptor.open(ep.protocol(), ec);
    if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) m.acceptor.bind(ep, ec);
    if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        return Status::io_error(
            fmt::format("cannot listen on {}:{}: {}", options.host, options.port, ec.message()),
            ec.value());
    }
    m.port = m.acceptor.local_endpoint().port();
    const int workers = options.workers > 0
                            ? options.workers
                            : static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
    m.pool = std::make_unique<WorkerPool>(workers, options.queue, metrics);
    m.accept();
    for (int i = 0; i < options.io_threads; ++i) m.threads.emplace_back([&m] { m.ioc.run(); });
    STRATA_LOG_INFO(
        "listening on {}:{} ({}; {} network threads, {} workers, queue {}, max body {} B, "
        "auth {})",
        options.host, m.port, m.tls ? "https" : "http", options.io_threads, workers, options.queue,
        options.max_body_bytes,
        m.auth ? (m.has_read ? "api key + read-only key" : "api key") : "none: loopback only");
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::stop(double grace_s) {
    Impl& m = *impl_;
    if (m.stopped) return;
    m.stopped = true;
    m.stopping = true;
    m.api.set_draining();
    net::post(m.accept_strand, [&m] {
        beast::error_code ignored;
        m.acceptor.close(ignored);
        m.accept_retry.cancel();
    });
    const auto deadline =
        Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(grace_s * 1000));
    while (m.in_flight.load() > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const bool late = m.in_flight.load() > 0;
    if (late) {
        STRATA_LOG_WARN(
            "stopping with {} requests still running after {} s; queued ones are dropped",
            m.in_flight.load(), grace_s);
    }
    m.pool->stop(/*drop_queued=*/late);
    m.work.reset();
    m.ioc.stop();
    for (auto& t : m.threads) t.join();
    m.threads.clear();
}

HttpServer::~HttpServer() {
    if (impl_) stop(0);
}

}  // namespace strata::server
