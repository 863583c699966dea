// The strata command end to end: help texts, gen -> gt against a naive scan, and bad input
// reported with a clear message and a non-zero exit code.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/dataset.hpp"
#include "testing/testing.hpp"

namespace strata {
namespace {

struct CmdResult {
    int code;
    std::string output;  // stdout and stderr
};

CmdResult run(const std::string& args) {
    const std::string cmd = std::string(STRATA_BIN) + " " + args + " 2>&1";
    std::FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return {-1, "popen failed"};
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

bool contains(const std::string& s, const std::string& what) {
    return s.find(what) != std::string::npos;
}

TEST(Cli, HelpDescribesEveryCommandAndDefaults) {
    CmdResult r = run("--help");
    EXPECT_EQ(r.code, 0) << r.output;
    for (const char* cmd : {"gen", "gt", "convert", "inspect", "version", "build", "search"}) {
        EXPECT_TRUE(contains(r.output, cmd)) << cmd << "\n" << r.output;
    }
    r = run("gt --help");
    EXPECT_EQ(r.code, 0);
    EXPECT_TRUE(contains(r.output, "--k")) << r.output;
    EXPECT_TRUE(contains(r.output, "UINT=100")) << "default of --k shown\n" << r.output;
    EXPECT_TRUE(contains(r.output, "TEXT=l2")) << r.output;
    r = run("gen --help");
    EXPECT_TRUE(contains(r.output, "=42")) << "default seed shown\n" << r.output;
    EXPECT_TRUE(contains(r.output, "--latent-dim")) << r.output;
    r = run("nonsense");
    EXPECT_NE(r.code, 0);
}

TEST(Cli, VersionReportsKernelsAndAllocator) {
    CmdResult r = run("version");
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "simd kernels:")) << r.output;
    EXPECT_TRUE(contains(r.output, "malloc overridden")) << r.output;
}

TEST(Cli, GenThenGtMatchesNaiveScan) {
    testing::TempDir dir;
    const std::string base = dir.file("base.fbin"), query = dir.file("query.fbin"),
                      gt = dir.file("gt.ibin");
    CmdResult r = run("gen --quiet --n 3000 --dim 24 --seed 7 --out " + base + " --queries 30 " +
                      "--queries-out " + query);
    ASSERT_EQ(r.code, 0) << r.output;
    // The same seed reproduces the file byte for byte.
    const std::string again = dir.file("again.fbin");
    ASSERT_EQ(run("gen --quiet --n 3000 --dim 24 --seed 7 --out " + again).code, 0);
    EXPECT_EQ(testing::read_bytes(base), testing::read_bytes(again));
    const auto record = testing::read_bytes(base + ".json");
    EXPECT_TRUE(contains(std::string(record.begin(), record.end()), "\"seed\": 7"));

    r = run("gt --quiet --base " + base + " --queries " + query + " --k 10 --out " + gt);
    ASSERT_EQ(r.code, 0) << r.output;
    auto b = io::Dataset::open(base);
    auto q = io::Dataset::open(query);
    auto g = io::read_ground_truth(gt);
    ASSERT_TRUE(b.is_ok() && q.is_ok() && g.is_ok());
    ASSERT_EQ(g->n, 30u);
    ASSERT_EQ(g->k, 10u);
    ASSERT_EQ(g->distances.size(), 300u);
    for (uint32_t qi = 0; qi < 30; ++qi) {
        std::vector<std::pair<double, uint32_t>> all;
        for (uint32_t i = 0; i < 3000; ++i) {
            double d = 0;
            for (uint32_t j = 0; j < 24; ++j) {
                const double diff = double{q->row_as<float>(qi)[j]} - b->row_as<float>(i)[j];
                d += diff * diff;
            }
            all.emplace_back(d, i);
        }
        std::sort(all.begin(), all.end());
        for (uint32_t j = 0; j < 10; ++j) {
            EXPECT_NEAR(g->distances[qi * 10 + j], all[j].first, 1e-4 * (1 + all[j].first));
            // Ids agree unless two distances are within float rounding of each other.
            if (j + 1 < 10 && all[j + 1].first - all[j].first > 1e-4 * all[j].first) {
                EXPECT_EQ(g->row(qi)[j], all[j].second) << "query " << qi << " rank " << j;
            }
        }
    }
    r = run("inspect " + gt + " --rows 1");
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "30 queries x k = 10")) << r.output;
}

// strata gt with labels: the exact nearest among the rows passing the filter, padded when fewer
// than k pass.
TEST(Cli, FilteredGroundTruth) {
    testing::TempDir dir;
    const std::string base = dir.file("base.fbin"), query = dir.file("query.fbin");
    ASSERT_EQ(run("gen --quiet --n 2000 --dim 8 --seed 3 --out " + base + " --queries 20 " +
                  "--queries-out " + query)
                  .code,
              0);
    std::string labels, qlabels;
    for (int i = 0; i < 2000; ++i)
        labels += std::string(i % 2 ? "odd" : "even") + (i % 100 == 0 ? ",rare\n" : "\n");
    for (int q = 0; q < 20; ++q) qlabels += q % 2 ? "odd\n" : "rare\n";
    testing::write_bytes(dir.file("labels.txt"), labels);
    testing::write_bytes(dir.file("qlabels.txt"), qlabels);
    const std::string common = "gt --quiet --base " + base + " --queries " + query +
                               " --k 30 --labels " + dir.file("labels.txt");
    CmdResult r =
        run(common + " --out " + dir.file("even.ibin") +
            " --filter '{\"must\": [{\"key\": \"label\", \"match\": {\"value\": \"even\"}}]}'");
    ASSERT_EQ(r.code, 0) << r.output;
    r = run(common + " --out " + dir.file("q.ibin") + " --query-labels " + dir.file("qlabels.txt"));
    ASSERT_EQ(r.code, 0) << r.output;
    auto b = io::Dataset::open(base);
    auto q = io::Dataset::open(query);
    auto even = io::read_ground_truth(dir.file("even.ibin"));
    auto ql = io::read_ground_truth(dir.file("q.ibin"));
    ASSERT_TRUE(b.is_ok() && q.is_ok() && even.is_ok() && ql.is_ok());
    auto nearest = [&](uint32_t qi, auto pass) {
        std::vector<std::pair<double, uint32_t>> all;
        for (uint32_t i = 0; i < 2000; ++i) {
            if (!pass(i)) continue;
            double d = 0;
            for (uint32_t j = 0; j < 8; ++j) {
                const double diff = double{q->row_as<float>(qi)[j]} - b->row_as<float>(i)[j];
                d += diff * diff;
            }
            all.emplace_back(d, i);
        }
        std::sort(all.begin(), all.end());
        return all;
    };
    for (uint32_t qi = 0; qi < 20; ++qi) {
        const auto want = nearest(qi, [](uint32_t i) { return i % 2 == 0; });
        for (uint32_t j = 0; j < 30; ++j)
            EXPECT_EQ(even->row(qi)[j], want[j].second) << qi << " " << j;
        // Odd queries ask for "odd" (1,000 rows); even ones for "rare" (20 rows: 10 padded).
        const auto want_q =
            nearest(qi, [&](uint32_t i) { return qi % 2 ? i % 2 == 1 : i % 100 == 0; });
        for (uint32_t j = 0; j < 30; ++j) {
            if (j < want_q.size()) {
                EXPECT_EQ(ql->row(qi)[j], want_q[j].second) << qi << " " << j;
            } else {
                EXPECT_EQ(ql->row(qi)[j], UINT32_MAX);
                EXPECT_TRUE(std::isinf(ql->distances[qi * 30 + j]));
            }
        }
    }
    r = run(common + " --out " + dir.file("x.ibin"));
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(contains(r.output, "needs --labels and one of --filter or --query-labels"))
        << r.output;
    r = run(common + " --out " + dir.file("x.ibin") +
            " --filter '{\"must\": [{\"key\": \"price\"}]}'");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(contains(r.output, "needs a match")) << r.output;
    r = run(common + " --out " + dir.file("x.ibin") +
            " --filter '{\"must\": [{\"key\": \"price\", \"match\": {\"value\": 3}}]}'");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(contains(r.output, "'price' is not a field of these labels")) << r.output;
}

// strata build --labels, then strata search --filter against strata gt --filter: every plan
// finds the filtered neighbours and no query comes back short; filters on an unlabelled index
// and post-filtering work as documented.
TEST(Cli, FilteredBuildAndSearch) {
    testing::TempDir dir;
    const std::string base = dir.file("base.fbin"), query = dir.file("query.fbin");
    const std::string labels = dir.file("labels.txt"), idx = dir.file("idx");
    ASSERT_EQ(run("gen --quiet --n 4000 --dim 16 --seed 4 --out " + base + " --queries 50 " +
                  "--queries-out " + query + " --labels 40 --labels-out " + labels)
                  .code,
              0);
    CmdResult r = run("build --quiet --data " + base + " --out " + idx + " --labels " + labels +
                      " --R 24 --L 48 --json");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "\"labels\": 40")) << r.output;
    const std::string filter =
        "'{\"must\": [{\"key\": \"label\", \"match\": {\"value\": \"L20\"}}]}'";
    r = run("gt --quiet --base " + base + " --queries " + query + " --k 10 --labels " + labels +
            " --filter " + filter + " --out " + dir.file("gt.ibin"));
    ASSERT_EQ(r.code, 0) << r.output;
    for (const char* plan : {"auto", "graph", "scan"}) {
        r = run("search --quiet --json --index " + idx + " --queries " + query + " --gt " +
                dir.file("gt.ibin") + " --L 64 --filter " + filter + " --filter-plan " + plan);
        ASSERT_EQ(r.code, 0) << r.output;
        EXPECT_TRUE(contains(r.output, "\"short_results\": 0")) << plan << ": " << r.output;
        const auto at = r.output.find("\"recall\": ");
        ASSERT_NE(at, std::string::npos) << r.output;
        EXPECT_GE(std::stod(r.output.substr(at + 10)), 0.95) << plan << ": " << r.output;
    }
    r = run("search --quiet --index " + idx + " --queries " + query + " --filter " + filter +
            " --filter-plan sideways");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(contains(r.output, "expected auto, graph or scan")) << r.output;
    r = run("verify " + idx);
    EXPECT_EQ(r.code, 0) << r.output;
    // An index built without labels refuses the filter; post-filtering uses the labels file.
    ASSERT_EQ(
        run("build --quiet --data " + base + " --out " + dir.file("plain") + " --R 24 --L 48").code,
        0);
    r = run("search --quiet --index " + dir.file("plain") + " --queries " + query + " --filter " +
            filter);
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(contains(r.output, "holds no labels")) << r.output;
    r = run("search --quiet --json --index " + dir.file("plain") + " --queries " + query +
            " --gt " + dir.file("gt.ibin") + " --L 64 --filter " + filter + " --post-filter " +
            labels);
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "\"filter\": \"post\"")) << r.output;
    // Collections: a labelled bulk load and a labelled load through the log, searched with
    // the same filter against the same ground truth.
    r = run("ingest --quiet " + dir.file("col") + " --data " + base + " --labels " + labels +
            " --R 24 --L 48");
    ASSERT_EQ(r.code, 0) << r.output;
    r = run("ingest --quiet " + dir.file("col2") + " --data " + base + " --labels " + labels +
            " --R 24 --L 48 --no-bulk --batch 700 --consolidate");
    ASSERT_EQ(r.code, 0) << r.output;
    for (const char* col : {"col", "col2"}) {
        r = run("search --quiet --json --index " + dir.file(col) + " --queries " + query +
                " --gt " + dir.file("gt.ibin") + " --L 64 --filter " + filter);
        ASSERT_EQ(r.code, 0) << col << ": " << r.output;
        const auto at = r.output.find("\"recall\": ");
        ASSERT_NE(at, std::string::npos) << r.output;
        EXPECT_GE(std::stod(r.output.substr(at + 10)), 0.95) << col << ": " << r.output;
    }
    r = run("ingest --quiet " + dir.file("col3") + " --data " + base + " --labels " +
            dir.file("missing.txt"));
    EXPECT_NE(r.code, 0);
    // A labels file with the wrong number of rows is refused by the build.
    testing::write_bytes(dir.file("short.txt"), "a\nb\n");
    r = run("build --quiet --data " + base + " --out " + dir.file("bad") + " --labels " +
            dir.file("short.txt"));
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(contains(r.output, "labels for 2 rows")) << r.output;
}

TEST(Cli, BadInputGivesClearErrors) {
    testing::TempDir dir;
    const std::string base = dir.file("base.fbin"), q16 = dir.file("q16.fbin");
    ASSERT_EQ(run("gen --quiet --n 100 --dim 8 --out " + base).code, 0);
    ASSERT_EQ(run("gen --quiet --n 10 --dim 16 --out " + q16).code, 0);

    CmdResult r = run("gt --quiet --base " + dir.file("missing.fbin") + " --queries " + base +
                      " --out " + dir.file("x.ibin"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.output, "missing.fbin")) << r.output;

    r = run("gt --quiet --base " + base + " --queries " + q16 + " --out " + dir.file("x.ibin"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.output, "dimension")) << r.output;

    r = run("gt --quiet --base " + base + " --queries " + base + " --k 101 --out " +
            dir.file("x.ibin"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.output, "--k 101")) << r.output;

    r = run("gt --quiet --base " + base + " --queries " + base + " --metric hamming --out " +
            dir.file("x.ibin"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.output, "hamming")) << r.output;

    // A NaN in row 3 of the base is named, and no output file appears.
    std::vector<uint8_t> bytes = testing::read_bytes(base);
    const float nan = NAN;
    std::copy_n(reinterpret_cast<const uint8_t*>(&nan), 4, bytes.begin() + 8 + (3 * 8 + 5) * 4);
    const std::string bad = dir.file("nan.fbin");
    testing::write_bytes(bad, bytes);
    r = run("gt --quiet --base " + bad + " --queries " + base + " --out " + dir.file("y.ibin"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.output, "row 3 element 5 is NaN")) << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir.file("y.ibin")));

    r = run("gen --quiet --n 10 --dim 0 --out " + dir.file("z.fbin"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.output, "dimension 0")) << r.output;
    r = run("gen --quiet --n 10 --dim 8 --dtype f64 --out " + dir.file("z.fbin"));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.output, "f64")) << r.output;
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

TEST(Cli, BuildInfoVerifyAndDamageDetection) {
    testing::TempDir dir;
    const std::string base = dir.file("base.fbin"), idx = dir.file("idx");
    ASSERT_EQ(run("gen --quiet --n 3000 --dim 16 --out " + base).code, 0);
    CmdResult r = run("build --quiet --data " + base + " --out " + idx + " --R 16 --L 32");
    ASSERT_EQ(r.code, 0) << r.output;
    r = run("info " + idx);
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "3000 nodes, 16 x f32, metric l2, R = 16")) << r.output;
    EXPECT_TRUE(contains(r.output, "\"pq_bytes\": 16")) << r.output;
    r = run("verify --quiet " + idx);
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "OK")) << r.output;
    // One flipped byte in the PQ codes is found and blamed on that file.
    auto codes = testing::read_bytes(idx + "/pq.codes");
    codes[codes.size() / 2] ^= 0x20;
    testing::write_bytes(idx + "/pq.codes", codes);
    r = run("verify --quiet " + idx);
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_TRUE(contains(r.output, "pq.codes")) << r.output;
    // An existing directory is refused without --force.
    r = run("build --quiet --data " + base + " --out " + idx);
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.output, "already exists")) << r.output;
    r = run("build --quiet --data " + base + " --out " + idx + " --R 16 --force");
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(run("verify --quiet " + idx).code, 0);
}

TEST(Cli, SearchSweepPrintsJsonLinesAndWritesIds) {
    testing::TempDir dir;
    const std::string base = dir.file("base.fbin"), q = dir.file("q.fbin"),
                      gt = dir.file("gt.ibin"), idx = dir.file("idx"), out = dir.file("res.ibin");
    ASSERT_EQ(run("gen --quiet --n 3000 --dim 16 --seed 5 --out " + base +
                  " --queries 50 "
                  "--queries-out " +
                  q)
                  .code,
              0);
    ASSERT_EQ(run("gt --quiet --base " + base + " --queries " + q + " --k 10 --out " + gt).code, 0);
    ASSERT_EQ(run("build --quiet --data " + base + " --out " + idx + " --R 16 --L 32").code, 0);
    CmdResult r = run("search --json --index " + idx + " --queries " + q + " --gt " + gt +
                      " --k 10 --L 10,60 --beamwidth 2 --threads 2 --cache-mb 0.1 --out " + out);
    ASSERT_EQ(r.code, 0) << r.output;
    size_t lines = 0;
    for (size_t pos = 0; (pos = r.output.find("{\"system\": \"strata\"", pos)) != std::string::npos;
         ++pos) {
        ++lines;
    }
    EXPECT_EQ(lines, 2u) << r.output;
    for (const char* key :
         {"\"L\": 60", "\"beamwidth\": 2", "\"threads\": 2", "\"k\": 10",
          "\"recall\": ", "\"qps\": ", "\"latency_us\": {\"mean\": ", "\"p50\": ", "\"p99\": ",
          "\"p999\": ", "\"reads_mean\": ", "\"hops_mean\": ", "\"cache_hits_mean\": "}) {
        EXPECT_TRUE(contains(r.output, key)) << key << "\n" << r.output;
    }
    const size_t at = r.output.find("\"recall\": ", r.output.find("\"L\": 60"));
    ASSERT_NE(at, std::string::npos);
    EXPECT_GE(std::stod(r.output.substr(at + 10)), 0.9) << r.output;
    // --out: the ids of the last L as .ibin, readable as ground truth by other tools.
    auto res = io::read_ground_truth(out);
    ASSERT_TRUE(res.is_ok()) << res.status().to_string();
    EXPECT_EQ(res->n, 50u);
    EXPECT_EQ(res->k, 10u);
    EXPECT_EQ(testing::read_bytes(out).size(), 8u + 50 * 10 * 4);
    // The table form and both modes, forced pread.
    r = run("search --index " + idx + " --queries " + q + " --gt " + gt +
            " --L 20 --io pread --mode pipelined,rounds");
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "io pread")) << r.output;
    EXPECT_TRUE(contains(r.output, "rounds")) << r.output;
    EXPECT_TRUE(contains(r.output, "p99_us")) << r.output;
    // Wrong dimension, bad flags.
    const std::string q8 = dir.file("q8.fbin");
    ASSERT_EQ(run("gen --quiet --n 10 --dim 8 --out " + q8).code, 0);
    r = run("search --index " + idx + " --queries " + q8);
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.output, "dimension 8")) << r.output;
    r = run("search --index " + idx + " --queries " + q + " --mode sideways");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(contains(r.output, "sideways")) << r.output;
    r = run("search --index " + idx + " --queries " + q + " --L 10,x");
    EXPECT_NE(r.code, 0);
    EXPECT_TRUE(contains(r.output, "--L")) << r.output;
    r = run("search --index " + dir.file("none") + " --queries " + q);
    EXPECT_EQ(r.code, 1);
    r = run("search --help");
    EXPECT_TRUE(contains(r.output, "--beamwidth")) << r.output;
    EXPECT_TRUE(contains(r.output, "--cache-mb")) << r.output;
}

TEST(Cli, BuildKilledMidwayLeavesNothingInfoAccepts) {
    testing::TempDir dir;
    const std::string base = dir.file("base.fbin"), idx = dir.file("idx");
    ASSERT_EQ(run("gen --quiet --n 200000 --dim 64 --out " + base).code, 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        execl(STRATA_BIN, STRATA_BIN, "build", "--quiet", "--data", base.c_str(), "--out",
              idx.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    usleep(1500 * 1000);  // mid-build: PQ or graph phase
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status)) << "the build finished before it was killed";
    EXPECT_FALSE(std::filesystem::exists(idx));
    CmdResult r = run("info " + idx);
    EXPECT_EQ(r.code, 1) << r.output;
    // Whatever the build left beside it (a temporary directory) is refused too.
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        if (e.is_directory()) {
            EXPECT_EQ(run("info " + e.path().string()).code, 1) << e.path();
        }
    }
}

}  // namespace
}  // namespace strata
