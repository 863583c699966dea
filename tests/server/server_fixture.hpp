// An in-process strata server on a free loopback port over a temporary data directory.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/rng.hpp"
#include "http_client.hpp"
#include "server/api.hpp"
#include "server/http_server.hpp"
#include "server/recall_monitor.hpp"
#include "server/registry.hpp"
#include "testing/testing.hpp"

namespace strata::testing {

struct TestServer {
    std::string data_dir;
    server::ServerOptions options;
    server::RegistryOptions registry_options;
    server::RecallMonitorOptions monitor_options;
    server::ApiLimits limits;
    std::unique_ptr<server::Registry> registry;
    std::unique_ptr<server::Metrics> metrics;
    std::unique_ptr<server::RecallMonitor> monitor;
    std::unique_ptr<server::Api> api;
    std::unique_ptr<server::HttpServer> http;
    uint16_t port = 0;

    explicit TestServer(std::string dir) : data_dir(std::move(dir)) {
        options.port = 0;
        options.workers = 2;
        registry_options.collection.consolidate_at = 0;  // consolidations on request only
        registry_options.warmup_seconds = 5;
        monitor_options.fraction = 0;
        monitor_options.cpu_fraction = 1;  // no rests: tests drain the monitor
    }
    ~TestServer() { stop(); }

    void start() {
        auto r = server::Registry::open(data_dir, registry_options);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        registry = std::move(*r);
        metrics = std::make_unique<server::Metrics>();
        monitor = std::make_unique<server::RecallMonitor>(monitor_options);
        api = std::make_unique<server::Api>(*registry, *metrics, monitor.get(), limits);
        auto h = server::HttpServer::start(options, *api, *metrics);
        ASSERT_TRUE(h.is_ok()) << h.status().to_string();
        http = std::move(*h);
        port = http->port();
        registry->warm_up_all();
    }
    void stop() {
        if (http) http->stop(10);
        http.reset();
        monitor.reset();
        if (registry) {
            EXPECT_TRUE(registry->flush().is_ok());
        }
        api.reset();
        registry.reset();
        metrics.reset();
    }

    HttpReply call(const std::string& method, const std::string& target,
                   const std::string& body = "",
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
        return ::strata::testing::http(port, method, target, body, headers);
    }
};

/// `n` random vectors of `dim` floats in [0, 1), row-major.
inline std::vector<float> random_vectors(uint64_t n, uint32_t dim, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> v(n * dim);
    for (auto& x : v) x = static_cast<float>(rng.uniform());
    return v;
}

inline std::string vector_json(const float* v, uint32_t dim) {
    std::string s = "[";
    for (uint32_t j = 0; j < dim; ++j) s += fmt::format("{}{}", j ? "," : "", v[j]);
    return s + "]";
}

/// {"points": [...]} for ids first..first+n-1 with payload {"i": id}.
inline std::string points_json(const std::vector<float>& v, uint32_t dim, uint64_t first,
                               uint64_t n) {
    std::string s = "{\"points\":[";
    for (uint64_t i = 0; i < n; ++i) {
        s += fmt::format("{}{{\"id\":{},\"vector\":{},\"payload\":{{\"i\":{}}}}}", i ? "," : "",
                         first + i, vector_json(&v[(first + i) * dim], dim), first + i);
    }
    return s + "]}";
}

/// The ids of a search response's result array.
inline std::vector<uint64_t> result_ids(const std::string& body) {
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    std::vector<uint64_t> ids;
    if (p.parse(body).get(doc)) return ids;
    simdjson::dom::array a;
    if (doc["result"].get_array().get(a)) return ids;
    for (auto el : a) {
        uint64_t id = 0;
        if (!el["id"].get_uint64().get(id)) ids.push_back(id);
    }
    return ids;
}

/// "1,2,3".
inline std::string join_ids(const std::vector<uint64_t>& ids) {
    std::string s;
    for (uint64_t id : ids) {
        if (!s.empty()) s += ',';
        s += std::to_string(id);
    }
    return s;
}

/// A number at a JSON pointer ("/result/points_count") of a response; -1 when absent.
inline double json_number(const std::string& body, const char* pointer) {
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    if (p.parse(body).get(doc)) return -1;
    double d = 0;
    if (doc.at_pointer(pointer).get_double().get(d)) return -1;
    return d;
}

}  // namespace strata::testing
