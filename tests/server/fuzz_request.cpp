// Fuzz target of the request path: raw bytes -> Beast's HTTP parser -> the API handler, over a
// real collection. Built two ways: with clang -fsanitize=fuzzer it is a libFuzzer target
// (LLVMFuzzerTestOneInput); otherwise main() runs a seeded mutation loop for --seconds (the CI
// run, under AddressSanitizer in scripts/test.sh). Any crash, sanitizer report or a 5xx answer
// to a request that reached the handler fails it.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "server/api.hpp"
#include "server/registry.hpp"

namespace {

namespace http = boost::beast::http;
using namespace strata;

struct World {
    std::string dir;
    std::unique_ptr<server::Registry> registry;
    server::Metrics metrics;
    std::unique_ptr<server::Api> api;

    World() {
        dir =
            (std::filesystem::temp_directory_path() / ("strata-fuzz-" + std::to_string(::getpid())))
                .string();
        std::filesystem::remove_all(dir);
        server::RegistryOptions ro;
        ro.collection.consolidate_at = 0;
        auto r = server::Registry::open(dir, ro);
        if (!r.is_ok()) {
            std::fprintf(stderr, "fuzz: %s\n", r.status().to_string().c_str());
            std::abort();
        }
        registry = std::move(*r);
        CollectionParams p;
        p.dim = 3;
        p.metric = Metric::kCosine;
        auto e = registry->create("c", p);
        if (!e.is_ok()) std::abort();
        const uint64_t ids[] = {1, 2, 3};
        const float v[] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
        if (!(*e)->col->upsert(ids, 3, v, DType::kF32).is_ok()) std::abort();
        server::ApiLimits limits;
        limits.max_points = 64;
        limits.max_searches = 16;
        api = std::make_unique<server::Api>(*registry, metrics, nullptr, limits);
    }
    ~World() {
        api.reset();
        registry.reset();
        std::filesystem::remove_all(dir);
    }
};

uint64_t g_handled = 0, g_ok = 0;

World& world() {
    static World w;
    return w;
}

void fuzz_one(const uint8_t* data, size_t size) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    parser.header_limit(8 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    size_t used = 0;
    while (used < size && !parser.is_done()) {
        const size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
        if (ec == http::error::need_more) {
            ec = {};
            if (n == 0) break;
        }
        if (ec) return;
        used += n;
    }
    if (!parser.is_done()) {
        if (!parser.got_some()) return;
        parser.put_eof(ec);
        if (ec || !parser.is_done()) return;
    }
    const auto& req = parser.get();
    const std::string_view target = req.target();
    // Writes only to collection c: creating collections is slow and would fill the disk.
    const bool own = target.rfind("/collections/c/", 0) == 0 || target == "/collections/c";
    server::Request r{req.method_string(), target, req.body(),
                      own ? server::Access::kFull : server::Access::kReadOnly};
    if (target.find("snapshots") != std::string_view::npos) return;  // disk-heavy, tested e2e
    if (req.method() == http::verb::delete_ && own) return;          // keep the collection
    const server::Response res = world().api->handle(r);
    ++g_handled;
    if (res.status < 300) ++g_ok;
    if (res.status >= 500) {
        std::fprintf(stderr, "fuzz: %d for %.*s: %s\n", res.status, static_cast<int>(target.size()),
                     target.data(), res.error.c_str());
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz_one(data, size);
    return 0;
}

#ifndef STRATA_LIBFUZZER
namespace {

const char* kSeeds[] = {
    "POST /collections/c/points/search HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n"
    "{\"vector\": [1, 0.5, 0], \"limit\": 2, \"params\": {\"search_list\": 10}}",
    "POST /collections/c/points/search/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 72\r\n\r\n"
    "{\"searches\": [{\"vector\": [1, 0, 0]}, {\"vector\": [0, 1, 0], \"with_payload\": true}]}",
    "PUT /collections/c/points HTTP/1.1\r\nHost: x\r\nContent-Length: 70\r\n\r\n"
    "{\"points\": [{\"id\": 7, \"vector\": [0.5, 0.5, 0], \"payload\": {\"a\": [1, {}]}}]}",
    "PUT /collections/c/points HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n"
    "{\"batch\": {\"ids\": [8, 9], \"vectors\": [[1, 2, 3], [3, 2, 1]], \"payloads\": [null, {}]}}",
    "POST /collections/c/points/delete HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n"
    "{\"points\": [8, 100]}",
    "GET /collections/c/points/7 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /collections/c HTTP/1.1\r\nHost: x\r\n\r\n",
    "PUT /collections/d HTTP/1.1\r\nHost: x\r\nContent-Length: 52\r\n\r\n"
    "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}, \"index\": {\"R\": 8}}",
    "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /collections/c/points/search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "10\r\n{\"vector\": [0, 0\r\n7\r\n, 1.5]}\r\n0\r\n\r\n",
};
const char* kTokens[] = {"1e400",  "-1",         "NaN",       "[[[[[[[[", "]]]]",
                         "\"",     "{}",         "null",      "true",     "18446744073709551616",
                         "0.0",    "\r\n",       ",",         ":",        "\\u0000",
                         "1e-400", "\"vector\"", "\"limit\"", "99999999", "/..",
                         "%2e%2e"};

std::string mutate(Rng& rng, std::string s) {
    const int rounds = 1 + static_cast<int>(rng.below(8));
    for (int i = 0; i < rounds; ++i) {
        const size_t pos = s.empty() ? 0 : rng.below(s.size());
        switch (rng.below(6)) {
            case 0:
                if (!s.empty()) s[pos] = static_cast<char>(rng.below(256));
                break;
            case 1:
                s.insert(pos, 1, static_cast<char>(rng.below(256)));
                break;
            case 2:
                s.erase(pos, rng.below(16));
                break;
            case 3:
                s.insert(pos, kTokens[rng.below(std::size(kTokens))]);
                break;
            case 4:
                s.insert(pos, s.substr(pos, rng.below(32)));
                break;
            default: {
                const std::string other = kSeeds[rng.below(std::size(kSeeds))];
                s = s.substr(0, pos) + other.substr(std::min(other.size(), pos));
            }
        }
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 10;
    uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
        if (std::strcmp(argv[i], "--seed") == 0) seed = std::strtoull(argv[i + 1], nullptr, 10);
    }
    std::printf("fuzz: seed %llu, %.0f s\n", static_cast<unsigned long long>(seed), seconds);
    Rng rng(seed);
    for (const char* s : kSeeds) fuzz_one(reinterpret_cast<const uint8_t*>(s), std::strlen(s));
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    uint64_t runs = 0;
    while (std::chrono::steady_clock::now() < end) {
        for (int i = 0; i < 64; ++i, ++runs) {
            const std::string in = mutate(rng, kSeeds[rng.below(std::size(kSeeds))]);
            fuzz_one(reinterpret_cast<const uint8_t*>(in.data()), in.size());
        }
    }
    std::printf("fuzz: %llu inputs, %llu reached the handler (%llu answered 2xx), no crash\n",
                static_cast<unsigned long long>(runs), static_cast<unsigned long long>(g_handled),
                static_cast<unsigned long long>(g_ok));
    return 0;
}
#endif
