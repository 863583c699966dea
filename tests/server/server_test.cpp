// End-to-end tests of `strata serve`: the real server on 127.0.0.1 driven over HTTP.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <thread>

#include "distance/exact_knn.hpp"
#include "server_fixture.hpp"

namespace strata::testing {
namespace {

constexpr uint32_t kDim = 8;

std::string search_body(const float* q, uint32_t k, uint32_t list = 100) {
    return fmt::format("{{\"vector\":{},\"limit\":{},\"params\":{{\"search_list\":{}}}}}",
                       vector_json(q, kDim), k, list);
}

TEST(Server, EndToEnd) {
    TempDir dir;
    TestServer s(dir.path().string());
    s.start();
    const auto v = random_vectors(600, kDim, 1);

    auto r =
        s.call("PUT", "/collections/docs",
               R"({"vectors": {"size": 8, "distance": "Euclid"}, "index": {"R": 16, "L": 40}})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(
        s.call("PUT", "/collections/docs", R"({"vectors": {"size": 8, "distance": "Euclid"}})")
            .status,
        409);
    ASSERT_EQ(s.call("PUT", "/collections/docs/points", points_json(v, kDim, 0, 300)).status, 200);
    // The column form, without payloads.
    std::string batch = "{\"batch\":{\"ids\":[";
    for (uint64_t i = 300; i < 500; ++i) batch += fmt::format("{}{}", i > 300 ? "," : "", i);
    batch += "],\"vectors\":[";
    for (uint64_t i = 300; i < 500; ++i) {
        if (i > 300) batch += ',';
        batch += vector_json(&v[i * kDim], kDim);
    }
    batch += "]}}";
    r = s.call("PUT", "/collections/docs/points", batch);
    ASSERT_EQ(r.status, 200) << r.body;

    r = s.call("GET", "/collections/docs");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json_number(r.body, "/result/points_count"), 500);
    EXPECT_EQ(json_number(r.body, "/result/payloads_count"), 300);

    // Each stored vector finds itself first, with its payload.
    for (uint64_t id : {0, 7, 299, 300, 499}) {
        r = s.call("POST", "/collections/docs/points/search",
                   fmt::format("{{\"vector\":{},\"limit\":5,\"with_payload\":true}}",
                               vector_json(&v[id * kDim], kDim)));
        ASSERT_EQ(r.status, 200) << r.body;
        const auto ids = result_ids(r.body);
        ASSERT_EQ(ids.size(), 5u);
        EXPECT_EQ(ids[0], id);
        EXPECT_EQ(json_number(r.body, "/result/0/score"), 0);
        if (id < 300) {
            EXPECT_EQ(json_number(r.body, "/result/0/payload/i"), static_cast<double>(id));
        }
    }
    r = s.call("GET", "/collections/docs/points/7");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json_number(r.body, "/result/payload/i"), 7);
    EXPECT_FLOAT_EQ(static_cast<float>(json_number(r.body, "/result/vector/3")), v[7 * kDim + 3]);

    // Delete, then the ids are gone from searches and gets.
    ASSERT_EQ(
        s.call("POST", "/collections/docs/points/delete", R"({"points": [7, 300, 12345]})").status,
        200);
    EXPECT_EQ(s.call("GET", "/collections/docs/points/7").status, 404);
    r = s.call("POST", "/collections/docs/points/search", search_body(&v[7 * kDim], 3));
    EXPECT_NE(result_ids(r.body)[0], 7u);

    // Consolidate into a disk generation: same answers.
    std::vector<std::vector<uint64_t>> before;
    for (uint64_t q = 0; q < 20; ++q) {
        before.push_back(result_ids(
            s.call("POST", "/collections/docs/points/search", search_body(&v[(q * 13) * kDim], 1))
                .body));
    }
    r = s.call("POST", "/collections/docs/consolidate");
    ASSERT_EQ(r.status, 200) << r.body;
    r = s.call("GET", "/collections/docs");
    EXPECT_EQ(json_number(r.body, "/result/tiers/generation"), 1);
    EXPECT_EQ(json_number(r.body, "/result/points_count"), 498);
    for (uint64_t q = 0; q < 20; ++q) {
        EXPECT_EQ(result_ids(s.call("POST", "/collections/docs/points/search",
                                    search_body(&v[(q * 13) * kDim], 1))
                                 .body),
                  before[q]);
    }

    // Snapshot, change things, recover: the snapshot's state is back.
    r = s.call("POST", "/collections/docs/snapshots");
    ASSERT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser p;
    std::string_view snap_name;
    ASSERT_FALSE(p.parse(r.body)["result"]["name"].get_string().get(snap_name));
    const std::string snap(snap_name);
    ASSERT_EQ(s.call("PUT", "/collections/docs/points", points_json(v, kDim, 500, 100)).status,
              200);
    ASSERT_EQ(s.call("POST", "/collections/docs/points/delete", R"({"points": [0, 1, 2]})").status,
              200);
    EXPECT_EQ(json_number(s.call("GET", "/collections/docs").body, "/result/points_count"), 595);
    r = s.call("GET", "/collections/docs/snapshots");
    EXPECT_NE(r.body.find(snap), std::string::npos);
    r = s.call("PUT", "/collections/docs/snapshots/recover",
               fmt::format("{{\"location\":\"{}\"}}", snap));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json_number(s.call("GET", "/collections/docs").body, "/result/points_count"), 498);
    EXPECT_EQ(s.call("GET", "/collections/docs/points/0").status, 200);
    EXPECT_EQ(s.call("GET", "/collections/docs/points/550").status, 404);
    EXPECT_EQ(json_number(s.call("GET", "/collections/docs/points/1").body, "/result/payload/i"),
              1);

    // Writes after the recovery, then a restart: the same answers.
    ASSERT_EQ(s.call("PUT", "/collections/docs/points", points_json(v, kDim, 500, 50)).status, 200);
    std::vector<std::string> answers;
    for (uint64_t q = 0; q < 30; ++q) {
        r = s.call("POST", "/collections/docs/points/search", search_body(&v[(q * 19) * kDim], 10));
        ASSERT_EQ(r.status, 200);
        answers.push_back(join_ids(result_ids(r.body)));
    }
    s.stop();
    s.start();
    EXPECT_EQ(json_number(s.call("GET", "/collections/docs").body, "/result/points_count"), 548);
    for (uint64_t q = 0; q < 30; ++q) {
        r = s.call("POST", "/collections/docs/points/search", search_body(&v[(q * 19) * kDim], 10));
        EXPECT_EQ(join_ids(result_ids(r.body)), answers[q]) << q;
    }
    EXPECT_EQ(s.call("GET", "/readyz").status, 200);

    // A snapshot restored offline into another data directory.
    TempDir other;
    const std::string snap_dir = dir.path().string() + "/snapshots/docs/" + snap;
    ASSERT_TRUE(server::restore_snapshot(snap_dir, other.path().string(), "copy", false).is_ok());
    EXPECT_EQ(server::restore_snapshot(snap_dir, other.path().string(), "copy", false).code(),
              StatusCode::kAlreadyExists);
    TestServer s2(other.path().string());
    s2.start();
    EXPECT_EQ(json_number(s2.call("GET", "/collections/copy").body, "/result/points_count"), 498);

    ASSERT_EQ(s.call("DELETE", "/collections/docs").status, 200);
    EXPECT_EQ(s.call("GET", "/collections/docs").status, 404);
    EXPECT_EQ(s.call("POST", "/collections/docs/points/search", search_body(v.data(), 1)).status,
              404);
}

TEST(Server, MetricsAndRecallMonitor) {
    TempDir dir;
    TestServer s(dir.path().string());
    s.monitor_options.fraction = 1.0;
    s.start();
    constexpr uint64_t n = 4000, nq = 200;
    constexpr uint32_t k = 10, dim = 32;
    const auto v = random_vectors(n, dim, 2);
    const auto q = random_vectors(nq, dim, 3);
    ASSERT_EQ(
        s.call("PUT", "/collections/m",
               R"({"vectors": {"size": 32, "distance": "Euclid"}, "index": {"R": 16, "L": 32}})")
            .status,
        200);
    for (uint64_t first = 0; first < n; first += 1000) {
        std::string body = "{\"points\":[";
        for (uint64_t i = first; i < first + 1000; ++i) {
            body += fmt::format("{}{{\"id\":{},\"vector\":{}}}", i > first ? "," : "", i,
                                vector_json(&v[i * dim], dim));
        }
        ASSERT_EQ(s.call("PUT", "/collections/m/points", body + "]}").status, 200);
    }
    // Half the points on disk, half in the hot tier; a low search list so recall is below 1.
    ASSERT_EQ(s.call("POST", "/collections/m/consolidate").status, 200);
    std::string body = "{\"points\":[";
    for (uint64_t i = 0; i < 500; ++i) {
        body += fmt::format("{}{{\"id\":{},\"vector\":{}}}", i ? "," : "", n + i,
                            vector_json(&q[(i % nq) * dim], dim));
    }
    ASSERT_EQ(s.call("PUT", "/collections/m/points", body + "]}").status, 200);

    std::vector<uint64_t> served;
    for (uint64_t i = 0; i < nq; ++i) {
        auto r = s.call(
            "POST", "/collections/m/points/search",
            fmt::format(
                "{{\"vector\":{},\"limit\":{},\"params\":{{\"search_list\":10,\"beam_width\":1}}}}",
                vector_json(&q[i * dim], dim), k));
        ASSERT_EQ(r.status, 200) << r.body;
        auto ids = result_ids(r.body);
        ASSERT_EQ(ids.size(), k);
        served.insert(served.end(), ids.begin(), ids.end());
    }
    s.monitor->drain();
    // Offline recall of the same answers against brute force over all 4500 points.
    std::vector<float> all(v);
    for (uint64_t i = 0; i < 500; ++i)
        all.insert(all.end(), &q[(i % nq) * dim], &q[(i % nq) * dim] + dim);
    distance::MatrixView base{all.data(), n + 500, dim, DType::kF32, 0};
    distance::MatrixView qv{q.data(), nq, dim, DType::kF32, 0};
    distance::ExactKnnOptions eo;
    eo.k = k;
    eo.threads = 1;  // no TBB workers: ThreadSanitizer cannot see into TBB
    std::vector<uint32_t> truth(nq * k);
    std::vector<float> tdist(nq * k);
    ASSERT_TRUE(distance::exact_knn(base, qv, eo, truth.data(), tdist.data()).is_ok());
    uint64_t hits = 0;
    for (uint64_t i = 0; i < nq; ++i) {
        for (uint32_t j = 0; j < k; ++j) {
            const uint64_t want = truth[i * k + j];
            if (std::find(&served[i * k], &served[i * k] + k, want) != &served[i * k] + k) ++hits;
        }
    }
    const double offline = static_cast<double>(hits) / (nq * k);
    const double gauge = s.monitor->recall("m");
    EXPECT_LT(offline, 0.999);  // the check must be able to see a loss
    EXPECT_NEAR(gauge, offline, 0.02) << "offline " << offline;

    auto m = s.call("GET", "/metrics");
    ASSERT_EQ(m.status, 200);
    EXPECT_NE(m.headers["content-type"].find("text/plain"), std::string::npos);
    for (const char* want :
         {"strata_recall{collection=\"m\"}", "strata_search_latency_seconds{quantile=\"0.99\"}",
          "strata_search_disk_reads_bucket", "strata_collection_hot_points{collection=\"m\"} 500",
          "strata_http_requests_total{endpoint=\"points.search\",method=\"POST\",code=\"200\"} 200",
          "strata_collection_wal_bytes", "strata_memory_rss_bytes", "strata_search_top1_score",
          "strata_collection_consolidating{collection=\"m\"} 0"}) {
        EXPECT_NE(m.body.find(want), std::string::npos) << want;
    }
}

TEST(Server, ApiKeys) {
    TempDir dir;
    TestServer s(dir.path().string());
    s.options.api_key = "full-secret";
    s.options.read_only_key = "read-secret";
    s.start();
    const std::string create = R"({"vectors": {"size": 2, "distance": "Cosine"}})";
    EXPECT_EQ(s.call("PUT", "/collections/k", create).status, 401);
    EXPECT_EQ(s.call("PUT", "/collections/k", create, {{"api-key", "wrong"}}).status, 401);
    EXPECT_EQ(s.call("PUT", "/collections/k", create, {{"api-key", "read-secret"}}).status, 403);
    EXPECT_EQ(
        s.call("PUT", "/collections/k", create, {{"Authorization", "Bearer full-secret"}}).status,
        200);
    const std::string pts =
        R"({"points": [{"id": 1, "vector": [1, 0]}, {"id": 2, "vector": [0, 1]}]})";
    EXPECT_EQ(s.call("PUT", "/collections/k/points", pts, {{"api-key", "read-secret"}}).status,
              403);
    EXPECT_EQ(s.call("PUT", "/collections/k/points", pts, {{"api-key", "full-secret"}}).status,
              200);
    auto r = s.call("POST", "/collections/k/points/search", R"({"vector": [1, 0.1], "limit": 1})",
                    {{"api-key", "read-secret"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(result_ids(r.body), std::vector<uint64_t>{1});
    EXPECT_EQ(s.call("GET", "/metrics").status, 401);
    EXPECT_EQ(s.call("GET", "/healthz").status, 200);  // probes need no key
    EXPECT_EQ(s.call("GET", "/readyz").status, 200);
}

TEST(Server, OverloadAnswers503WithRetryAfter) {
    TempDir dir;
    TestServer s(dir.path().string());
    s.options.workers = 1;
    s.options.queue = 1;
    s.start();
    ASSERT_EQ(
        s.call("PUT", "/collections/o", R"({"vectors": {"size": 8, "distance": "Euclid"}})").status,
        200);
    const auto v = random_vectors(2000, kDim, 4);
    for (uint64_t f = 0; f < 2000; f += 500) {
        ASSERT_EQ(s.call("PUT", "/collections/o/points", points_json(v, kDim, f, 500)).status, 200);
    }
    // Slow requests: batches of 500 searches with a long list.
    std::string body = "{\"searches\":[";
    for (int i = 0; i < 500; ++i) {
        body += fmt::format("{}{{\"vector\":{},\"limit\":100,\"params\":{{\"search_list\":1000}}}}",
                            i ? "," : "", vector_json(&v[i * kDim], kDim));
    }
    body += "]}";
    constexpr int kClients = 8;
    std::vector<HttpReply> replies(kClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back(
            [&, i] { replies[i] = s.call("POST", "/collections/o/points/search/batch", body); });
    }
    for (auto& t : threads) t.join();
    int ok = 0, busy = 0;
    for (const auto& r : replies) {
        if (r.status == 200) ++ok;
        if (r.status == 503) {
            ++busy;
            EXPECT_EQ(r.headers.at("retry-after"), "1");
        }
    }
    EXPECT_EQ(ok + busy, kClients);
    EXPECT_GE(ok, 1);
    EXPECT_GE(busy, 1);
    const std::string m = s.call("GET", "/metrics").body;
    const size_t at = m.find("\nstrata_http_rejected_total ");
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(std::stoi(m.substr(at + 28)), busy);  // every 503 counted
    EXPECT_EQ(s.call("GET", "/healthz").status, 200);
}

TEST(Server, StopFinishesRequestsInFlight) {
    TempDir dir;
    TestServer s(dir.path().string());
    s.options.workers = 1;
    s.start();
    ASSERT_EQ(
        s.call("PUT", "/collections/g", R"({"vectors": {"size": 8, "distance": "Euclid"}})").status,
        200);
    const auto v = random_vectors(1000, kDim, 5);
    ASSERT_EQ(s.call("PUT", "/collections/g/points", points_json(v, kDim, 0, 1000)).status, 200);
    std::string body = "{\"searches\":[";
    for (int i = 0; i < 1000; ++i) {
        body += fmt::format("{}{{\"vector\":{},\"limit\":50,\"params\":{{\"search_list\":500}}}}",
                            i ? "," : "", vector_json(&v[i * kDim], kDim));
    }
    body += "]}";
    HttpReply slow;
    std::thread t([&] { slow = s.call("POST", "/collections/g/points/search/batch", body); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    s.http->stop(30);
    t.join();
    EXPECT_EQ(slow.status, 200);
    EXPECT_EQ(slow.headers["connection"], "close");
    EXPECT_EQ(connect_loopback(s.port), -1);  // no longer accepting
}

// Request bodies share one memory budget: a body that does not fit is refused with 503
// before it is read, and the budget frees when a request completes.
TEST(Server, BodyBudgetAnswers503) {
    TempDir dir;
    TestServer s(dir.path().string());
    s.options.max_body_bytes = 64 * 1024;
    s.options.max_body_budget_bytes = 256 * 1024;  // bodies count four times
    s.start();
    ASSERT_EQ(
        s.call("PUT", "/collections/b", R"({"vectors": {"size": 2, "distance": "Euclid"}})").status,
        200);
    const std::string body = R"({"vector": [1, 2], "limit": 1})";
    const std::string padded = body + std::string(60000 - body.size(), ' ');
    // A slow client holds 60,000 bytes of the budget: headers sent, body not yet.
    const int slow = connect_loopback(s.port);
    ASSERT_GE(slow, 0);
    ASSERT_TRUE(send_all(slow,
                         "POST /collections/b/points/search HTTP/1.1\r\nHost: x\r\n"
                         "Connection: close\r\nContent-Length: 60000\r\n\r\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::string small = R"({"vector": [1, 2], "limit": 1})" + std::string(9000, ' ');
    auto r = s.call("POST", "/collections/b/points/search", small);
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.headers["retry-after"], "1");
    EXPECT_EQ(s.call("GET", "/healthz").status, 200);  // no body: not refused
    ASSERT_TRUE(send_all(slow, padded));
    EXPECT_EQ(parse_reply(read_until_close(slow, 10000)).status, 200);
    ::close(slow);
    EXPECT_EQ(s.call("POST", "/collections/b/points/search", small).status, 200);
}

TEST(Server, FilteredSearchOnDeclaredPayloadFields) {
    TempDir dir;
    TestServer s(dir.path().string());
    s.start();
    const auto v = random_vectors(400, kDim, 3);
    auto r = s.call("PUT", "/collections/shop",
                    R"({"vectors": {"size": 8, "distance": "Euclid"}, "index": {"R": 16, "L": 40},
                        "filterable": ["color", "tags", "stock"]})");
    ASSERT_EQ(r.status, 200) << r.body;
    // color: one of 4 strings; tags: an array; stock: a boolean; size: not filterable.
    const char* colors[] = {"red", "green", "blue", "black"};
    std::string body = "{\"points\":[";
    for (uint64_t i = 0; i < 400; ++i) {
        body += fmt::format(
            "{}{{\"id\":{},\"vector\":{},\"payload\":{{\"color\":\"{}\",\"tags\":[\"t{}\",\"all\"],"
            "\"stock\":{},\"size\":{}}}}}",
            i ? "," : "", i, vector_json(&v[i * kDim], kDim), colors[i % 4], i % 10,
            i % 3 == 0 ? "true" : "false", i);
    }
    body += "]}";
    ASSERT_EQ(s.call("PUT", "/collections/shop/points", body).status, 200);
    r = s.call("GET", "/collections/shop");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json_number(r.body, "/result/labels"), 4 + 11 + 2);

    const auto search = [&](const std::string& filter, uint32_t limit = 10) {
        return s.call("POST", "/collections/shop/points/search",
                      fmt::format("{{\"vector\":{},\"limit\":{},\"filter\":{}}}",
                                  vector_json(&v[5 * kDim], kDim), limit, filter));
    };
    const auto check = [&](const std::string& filter, const std::function<bool(uint64_t)>& want,
                           size_t expect) {
        for (int pass = 0; pass < 2; ++pass) {
            auto rr = search(filter);
            ASSERT_EQ(rr.status, 200) << filter << ": " << rr.body;
            const auto ids = result_ids(rr.body);
            EXPECT_EQ(ids.size(), expect) << filter;
            for (uint64_t id : ids) EXPECT_TRUE(want(id)) << filter << ": id " << id;
            if (pass == 0) {
                ASSERT_EQ(s.call("POST", "/collections/shop/consolidate", "").status, 200);
            }
        }
    };
    check(R"({"must": [{"key": "color", "match": {"value": "red"}}]})",
          [](uint64_t id) { return id % 4 == 0; }, 10);
    check(R"({"must": [{"key": "tags", "match": {"value": "t7"}},
                       {"key": "stock", "match": {"value": true}}]})",
          [](uint64_t id) { return id % 10 == 7 && id % 3 == 0; }, 10);  // 13 such ids
    check(R"({"should": [{"key": "color", "match": {"any": ["green", "blue"]}}],
              "must_not": [{"key": "tags", "match": {"value": "t1"}}]})",
          [](uint64_t id) { return (id % 4 == 1 || id % 4 == 2) && id % 10 != 1; }, 10);
    // Fewer matches than the limit: all of them (ids 1 mod 4 and 3 mod 10 and in stock: 7).
    {
        auto rr = search(R"({"must": [{"key": "color", "match": {"value": "green"}},
                                      {"key": "tags", "match": {"value": "t3"}},
                                      {"key": "stock", "match": {"value": true}}]})",
                         50);
        ASSERT_EQ(rr.status, 200) << rr.body;
        size_t want = 0;
        for (uint64_t i = 0; i < 400; ++i) want += (i % 4 == 1 && i % 10 == 3 && i % 3 == 0);
        EXPECT_EQ(result_ids(rr.body).size(), want);
    }
    // A value no point has: an empty result, not an error.
    r = search(R"({"must": [{"key": "color", "match": {"value": "purple"}}]})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(result_ids(r.body).empty());
    // Unknown or undeclared fields, ranges, wrong types: 400 naming the part.
    const std::pair<const char*, const char*> bad[] = {
        {R"({"must": [{"key": "size", "match": {"value": 3}}]})", "'size' is not a filterable"},
        {R"({"must": [{"key": "size", "range": {"lt": 3}}]})", "'size' is not a filterable"},
        {R"({"must": [{"key": "color", "match": {"value": [1]}}]})", "must be a string"},
        {R"({"must": [{"key": "color", "range": {"lt": "3"}}]})", "must be a number"},
        {R"({"must": {"key": "color"}})", "must be an array"},
        {R"({"maybe": []})", "unknown part"},
        {R"("red")", "filter must be an object"},
    };
    for (const auto& [filter, msg] : bad) {
        r = search(filter);
        EXPECT_EQ(r.status, 400) << filter << ": " << r.body;
        EXPECT_NE(r.body.find(msg), std::string::npos) << filter << ": " << r.body;
    }
    // An object in a filterable field is refused and changes nothing.
    r = s.call(
        "PUT", "/collections/shop/points",
        fmt::format(
            "{{\"points\":[{{\"id\":1,\"vector\":{},\"payload\":{{\"stock\":{{\"a\":1}}}}}}]}}",
            vector_json(&v[0], kDim)));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("points[0].payload.stock"), std::string::npos) << r.body;
    r = s.call("GET", "/collections/shop/points/1");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"t1\""), std::string::npos) << r.body;
    // Declared fields and labels survive a restart.
    s.stop();
    s.start();
    check(R"({"must": [{"key": "color", "match": {"value": "black"}}]})",
          [](uint64_t id) { return id % 4 == 3; }, 10);
    EXPECT_EQ(s.call("PUT", "/collections/bad",
                     R"({"vectors": {"size": 8, "distance": "Euclid"}, "filterable": ["a=b"]})")
                  .status,
              400);
}

TEST(Server, FieldsDeclaredLaterAndRangeFilters) {
    TempDir dir;
    TestServer s(dir.path().string());
    s.start();
    constexpr uint64_t kN = 300;
    const auto v = random_vectors(kN + 20, kDim, 5);
    ASSERT_EQ(
        s.call("PUT", "/collections/late",
               R"({"vectors": {"size": 8, "distance": "Euclid"}, "index": {"R": 16, "L": 40}})")
            .status,
        200);
    // price: i / 2 (floats and integers); cat: one of 3; blob (point 7 only): an object.
    const auto point = [&](uint64_t i) {
        return fmt::format(
            "{{\"id\":{},\"vector\":{},\"payload\":{{\"price\":{},\"cat\":\"c{}\"{}}}}}", i,
            vector_json(&v[i * kDim], kDim), static_cast<double>(i) / 2, i % 3,
            i == 7 ? ",\"blob\":{\"x\":1}" : "");
    };
    std::string body = "{\"points\":[";
    for (uint64_t i = 0; i < kN; ++i) {
        if (i) body += ',';
        body += point(i);
    }
    body += "]}";
    ASSERT_EQ(s.call("PUT", "/collections/late/points", body).status, 200);
    const auto search = [&](const std::string& filter, uint32_t limit) {
        return s.call("POST", "/collections/late/points/search",
                      fmt::format("{{\"vector\":{},\"limit\":{},\"filter\":{}}}",
                                  vector_json(&v[0], kDim), limit, filter));
    };
    const std::string range = R"({"must": [{"key": "price", "range": {"gte": 10, "lt": 20}}]})";
    auto r = search(range, 10);
    EXPECT_EQ(r.status, 400) << r.body;  // not declared yet
    EXPECT_NE(r.body.find("PUT /collections/{name}/index"), std::string::npos) << r.body;

    r = s.call("PUT", "/collections/late/index",
               R"({"field_name": "price", "field_schema": "float"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json_number(r.body, "/result/relabelled"), kN);
    r = s.call("PUT", "/collections/late/index", R"({"field_name": "cat"})");
    ASSERT_EQ(r.status, 200) << r.body;
    r = s.call("PUT", "/collections/late/index", R"({"field_name": "price"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json_number(r.body, "/result/relabelled"), 0);  // declared already
    // Refused declarations change nothing.
    const std::pair<const char*, const char*> bad[] = {
        {R"({})", "field_name is required"},
        {R"({"field_name": "x", "field_schema": "geo"})", "field_schema must be"},
        {R"({"field_name": "a b"})", "field name 'a b'"},
        {R"({"field_name": "blob"})", "point 7: payload.blob"},
        {R"({"field_name": "x", "extra": 1})", "extra"},
    };
    for (const auto& [b, msg] : bad) {
        r = s.call("PUT", "/collections/late/index", b);
        EXPECT_EQ(r.status, 400) << b << ": " << r.body;
        EXPECT_NE(r.body.find(msg), std::string::npos) << b << ": " << r.body;
    }
    r = s.call("GET", "/collections/late");
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find(R"("filterable":["price","cat"])"), std::string::npos) << r.body;

    // Points written after the declaration are labelled at once.
    body = "{\"points\":[";
    for (uint64_t i = kN; i < kN + 20; ++i) {
        if (i > kN) body += ',';
        body += point(i);
    }
    body += "]}";
    ASSERT_EQ(s.call("PUT", "/collections/late/points", body).status, 200);

    const auto check = [&](const std::string& filter, const std::function<bool(uint64_t)>& want) {
        size_t expect = 0;
        for (uint64_t i = 0; i < kN + 20; ++i) expect += want(i) ? 1 : 0;
        for (uint32_t limit : {10u, 200u}) {
            auto rr = search(filter, limit);
            ASSERT_EQ(rr.status, 200) << filter << ": " << rr.body;
            const auto ids = result_ids(rr.body);
            EXPECT_EQ(ids.size(), std::min<size_t>(limit, expect)) << filter;
            for (uint64_t id : ids) EXPECT_TRUE(want(id)) << filter << ": id " << id;
        }
    };
    const auto all_checks = [&] {
        check(range, [](uint64_t i) { return i >= 20 && i < 40; });
        check(R"({"must": [{"key": "price", "range": {"gt": 149.5}}]})",
              [](uint64_t i) { return i > 299; });  // only the late points
        check(R"({"must": [{"key": "cat", "match": {"value": "c1"}},
                           {"key": "price", "range": {"lte": 5}}]})",
              [](uint64_t i) { return i % 3 == 1 && i <= 10; });
        check(R"({"must": [{"key": "price", "match": {"any": [2.5, 3]}}]})",
              [](uint64_t i) { return i == 5 || i == 6; });
        check(R"({"must_not": [{"key": "price", "range": {"gte": 1}}]})",
              [](uint64_t i) { return i < 2; });
        check(R"({"must": [{"key": "price", "range": {"gt": 1000}}]})",
              [](uint64_t) { return false; });
    };
    all_checks();
    ASSERT_EQ(s.call("POST", "/collections/late/consolidate", "").status, 200);
    all_checks();
    s.stop();
    s.start();
    all_checks();
}

}  // namespace
}  // namespace strata::testing
