// The malformed-request suite: every bad request gets a 4xx naming the problem, changes
// nothing, and the server goes on serving.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include "server_fixture.hpp"

namespace strata::testing {
namespace {

class Malformed : public ::testing::Test {
  protected:
    void SetUp() override {
        s_ = std::make_unique<TestServer>(dir_.path().string());
        s_->options.max_body_bytes = 64 * 1024;
        s_->options.max_header_bytes = 8 * 1024;
        s_->limits.max_points = 10;
        s_->limits.max_searches = 4;
        s_->start();
        ASSERT_EQ(
            s_->call("PUT", "/collections/c", R"({"vectors": {"size": 3, "distance": "Cosine"}})")
                .status,
            200);
        ASSERT_EQ(
            s_->call(
                  "PUT", "/collections/c/points",
                  R"({"points": [{"id": 1, "vector": [1, 0, 0]}, {"id": 2, "vector": [0, 1, 0]}]})")
                .status,
            200);
    }
    void TearDown() override {
        // Still serving, and nothing changed.
        EXPECT_EQ(s_->call("GET", "/healthz").status, 200);
        auto r = s_->call("POST", "/collections/c/points/search",
                          R"({"vector": [1, 0.1, 0], "limit": 2})");
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(result_ids(r.body), (std::vector<uint64_t>{1, 2}));
        EXPECT_EQ(json_number(s_->call("GET", "/collections/c").body, "/result/points_count"), 2);
        s_.reset();
    }
    // Expects `status` and an error message containing `words`.
    void expect(const HttpReply& r, int status, const std::string& words) {
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_NE(r.body.find(words), std::string::npos) << r.body;
    }
    HttpReply post(const std::string& target, const std::string& body) {
        return s_->call("POST", target, body);
    }
    HttpReply put(const std::string& target, const std::string& body) {
        return s_->call("PUT", target, body);
    }

    TempDir dir_;
    std::unique_ptr<TestServer> s_;
};

constexpr const char* kSearch = "/collections/c/points/search";
constexpr const char* kPoints = "/collections/c/points";

TEST_F(Malformed, InvalidJson) {
    expect(post(kSearch, R"({"vector": [1, 2)"), 400, "invalid JSON");
    expect(post(kSearch, "not json"), 400, "invalid JSON");
    expect(post(kSearch, R"({"vector": [NaN, 0, 0]})"), 400, "invalid JSON");
    expect(post(kSearch, R"({"vector": [1, 0, 0]} trailing)"), 400, "invalid JSON");
    expect(post(kSearch, ""), 400, "needs a JSON body");
    expect(post(kSearch, "[1, 2, 3]"), 400, "body must be an object");
}

TEST_F(Malformed, WrongTypesAndValues) {
    expect(post(kSearch, R"({"vector": [1, 0, 0], "limit": "ten"})"), 400,
           "limit must be an unsigned integer");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "limit": -1})"), 400,
           "limit must be an unsigned integer");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "limit": 5000})"), 400,
           "limit must be in [1, 1000]");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "limit": 0})"), 400,
           "limit must be in [1, 1000]");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "params": {"search_list": 100000}})"), 400,
           "params.search_list must be in");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "params": {"beam_width": 0}})"), 400,
           "params.beam_width");
    expect(post(kSearch, R"({"vector": "abc"})"), 400, "vector must be an array of 3 numbers");
    expect(post(kSearch, R"({"vector": [1, "a", 0]})"), 400, "vector[1] must be a number");
    expect(post(kSearch, R"({"vector": [1, 0]})"), 400,
           "vector has 2 elements; the collection's dimension is 3");
    expect(post(kSearch, R"({"vector": [0, 0, 0]})"), 400, "zero vector");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "filtre": {}})"), 400, "unknown field 'filtre'");
    // Filters on a collection without filterable fields: the field is named as not filterable.
    expect(
        post(
            kSearch,
            R"({"vector": [1, 0, 0], "filter": {"must": [{"key": "x", "match": {"value": "a"}}]}})"),
        400, "'x' is not a filterable field");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "filter": {"must": [{"key": "x"}]}})"), 400,
           "needs a match");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "filter": [1]})"), 400,
           "filter must be an object");
    expect(post(kSearch, R"({"limit": 3})"), 400, "vector is required");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "with_payload": "yes"})"), 400,
           "with_payload must be true or false");
    expect(put(kPoints, R"({"points": [{"id": -3, "vector": [1, 0, 0]}]})"), 400,
           "points[0].id must be an unsigned integer");
    expect(put(kPoints, R"({"points": [{"id": 1.5, "vector": [1, 0, 0]}]})"), 400, "points[0].id");
    expect(put(kPoints, R"({"points": [{"id": "a", "vector": [1, 0, 0]}]})"), 400, "points[0].id");
    expect(put(kPoints, R"({"points": [{"id": 5, "vector": [1, 0, 0], "payload": 7}]})"), 400,
           "points[0].payload must be an object");
    expect(put(kPoints,
               R"({"points": [{"id": 5, "vector": [1, 0, 0]}, {"id": 5, "vector": [0, 0, 1]}]})"),
           400, "id");
    expect(put(kPoints, R"({"points": []})"), 400, "points is empty");
    expect(put(kPoints, R"({"points": [{"id": 18446744073709551615, "vector": [1, 0, 0]}]})"), 400,
           "is reserved");
    expect(put(kPoints, R"({"points": [{"id": 5}]})"), 400, "points[0].vector is required");
    expect(put(kPoints, R"({"batch": {"ids": [5, 6], "vectors": [[1, 0, 0]]}})"), 400,
           "batch.ids has 2 ids");
    std::string many = "{\"points\":[";
    for (int i = 0; i < 11; ++i)
        many += fmt::format("{}{{\"id\":{},\"vector\":[1,1,1]}}", i ? "," : "", 100 + i);
    expect(put(kPoints, many + "]}"), 400, "at most 10 per request");
    expect(post("/collections/c/points/search/batch", R"({"searches": [{}, {}, {}, {}, {}]})"), 400,
           "at most 4");
    expect(post("/collections/c/points/search/batch",
                R"({"searches": [{"vector": [1, 0, 0]}, {"vector": [1]}]})"),
           400, "searches[1].vector has 1 elements");
    expect(post("/collections/c/points/delete", R"({"points": [1, "x"]})"), 400,
           "points[1] must be an unsigned integer");
    expect(put("/collections/d", R"({"vectors": {"size": 0, "distance": "Cosine"}})"), 400,
           "vectors.size must be in");
    expect(put("/collections/d", R"({"vectors": {"size": 4, "distance": "Manhattan"}})"), 400,
           "not Cosine, Euclid or Dot");
    expect(put("/collections/d",
               R"({"vectors": {"size": 4, "distance": "Dot", "datatype": "float64"}})"),
           400, "vectors.datatype");
    expect(
        put("/collections/d", R"({"vectors": {"size": 4, "distance": "Dot"}, "index": {"R": 1}})"),
        400, "index.R");
    expect(s_->call("GET", "/collections/c/points/abc"), 400, "not an unsigned integer");
    EXPECT_EQ(s_->call("GET", "/collections/d").status, 404);  // none of the above created it
}

TEST_F(Malformed, HugeNumbers) {
    expect(post(kSearch, R"({"vector": [1e400, 0, 0]})"), 400, "");
    expect(post(kSearch, R"({"vector": [1e39, 0, 0]})"), 400,
           "vector[0] = 1e+39 is outside the float range");
    expect(put(kPoints, R"({"points": [{"id": 1e30, "vector": [1, 0, 0]}]})"), 400, "points[0].id");
    expect(put(kPoints, R"({"points": [{"id": 99999999999999999999999, "vector": [1, 0, 0]}]})"),
           400, "");
    expect(post(kSearch, R"({"vector": [1, 0, 0], "limit": 18446744073709551616})"), 400, "");
}

TEST_F(Malformed, DeepJson) {
    std::string deep(200, '[');
    deep += std::string(200, ']');
    expect(post(kSearch, "{\"vector\": " + deep + "}"), 400, "nested deeper than");
}

TEST_F(Malformed, UnknownCollectionsAndTraversal) {
    expect(post("/collections/nope/points/search", R"({"vector": [1, 0, 0]})"), 404,
           "does not exist");
    expect(put("/collections/..", R"({"vectors": {"size": 3, "distance": "Cosine"}})"), 400,
           "collection name");
    expect(put("/collections/.hidden", R"({"vectors": {"size": 3, "distance": "Cosine"}})"), 400,
           "collection name");
    expect(put("/collections/a%2F..%2Fb", R"({"vectors": {"size": 3, "distance": "Cosine"}})"), 400,
           "collection name");
    expect(s_->call("GET", "/collections/..%2F..%2Fetc"), 400, "collection name");
    expect(put(std::string("/collections/") + std::string(65, 'a'),
               R"({"vectors": {"size": 3, "distance": "Cosine"}})"),
           400, "1 to 64 characters");
    auto r = raw_request(
        s_->port,
        "GET /collections/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 404);
    expect(put("/collections/c/snapshots/recover", R"({"location": "../../etc"})"), 400,
           "snapshot name");
    expect(put("/collections/c/snapshots/recover", R"({"location": "missing"})"), 404,
           "no snapshot");
    expect(s_->call("PATCH", "/collections/c"), 405, "PUT, GET or DELETE");
    expect(s_->call("GET", "/nothing/here"), 404, "no such endpoint");
}

TEST_F(Malformed, HttpLevel) {
    // Garbage request line.
    auto r = raw_request(s_->port, "HELLO WORLD\r\n\r\n");
    EXPECT_EQ(r.status, 400);
    // Body over the limit.
    std::string big(100 * 1024, ' ');
    r = raw_request(s_->port,
                    fmt::format("POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{}",
                                kSearch, big.size(), big));
    EXPECT_EQ(r.status, 413);
    // Headers over the limit.
    r = raw_request(s_->port, fmt::format("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                                          std::string(20000, 'x')));
    EXPECT_EQ(r.status, 431);
    // A truncated body: the client stops sending and closes its side.
    {
        const int fd = connect_loopback(s_->port);
        ASSERT_GE(fd, 0);
        send_all(fd, fmt::format(
                         "POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{\"vector\":",
                         kSearch));
        ::shutdown(fd, SHUT_WR);
        r = parse_reply(read_until_close(fd, 10000));
        ::close(fd);
        EXPECT_EQ(r.status, 400);
    }
    // Bad Content-Length.
    r = raw_request(
        s_->port,
        "POST /collections/c/points/search HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
    EXPECT_EQ(r.status, 400);
    // Expect: 100-continue (curl sends it for large bodies): the server says continue first.
    {
        const int fd = connect_loopback(s_->port);
        ASSERT_GE(fd, 0);
        const std::string body = R"({"vector": [1, 0.1, 0], "limit": 1})";
        send_all(fd, fmt::format("POST {} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                                 "Connection: close\r\nContent-Length: {}\r\n\r\n",
                                 kSearch, body.size()));
        char buf[64] = {};
        ASSERT_GT(::recv(fd, buf, sizeof buf - 1, 0), 0);
        EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 100 Continue", 0), 0u) << buf;
        send_all(fd, body);
        const std::string rest = read_until_close(fd, 10000);
        ::close(fd);
        EXPECT_NE(rest.find("HTTP/1.1 200"), std::string::npos) << rest;
    }
    // Keep-alive: two requests on one connection.
    {
        const int fd = connect_loopback(s_->port);
        ASSERT_GE(fd, 0);
        send_all(fd,
                 "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: "
                 "x\r\nConnection: close\r\n\r\n");
        const std::string both = read_until_close(fd, 10000);
        ::close(fd);
        size_t count = 0;
        for (size_t p = both.find("HTTP/1.1 200"); p != std::string::npos;
             p = both.find("HTTP/1.1 200", p + 1))
            ++count;
        EXPECT_EQ(count, 2u);
    }
}

}  // namespace
}  // namespace strata::testing
