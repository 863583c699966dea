// Micro benchmarks of the quant kernels per ISA: ADC lookup/accumulate (ns per code, items/s =
// codes/s) for 32- and 64-byte codes, consecutive (cache-resident) and by random ids over 1M
// codes (RAM, as a graph search reads them); the nearest-centroid kernel as PQ encoding uses it
// (one 32-row tile against 256 centroids of a 4-dimension chunk); and ADC table construction.
// Names: BM_adc/<isa>/<bytes>/<seq|ids>, BM_nearest/<isa>/<dim>x<k>, BM_table/<metric>.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "quant/kernel_tables.hpp"
#include "quant/pq.hpp"

namespace strata::quant {
namespace {

using detail::kPqCentroids;
using detail::kTileRows;
using distance::Isa;

constexpr uint64_t kSeed = 42;
constexpr size_t kHotCodes = 4096;       // consecutive: codes stay in L1/L2
constexpr size_t kColdCodes = 1u << 20;  // random ids: codes come from RAM
constexpr size_t kBatch = 64;            // ids per call, about one node's neighbour list

std::vector<float> normals(size_t n, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(rng.normal());
    return v;
}

void bench_adc(benchmark::State& state, detail::AdcBatchFn fn, uint32_t bytes, bool random_ids) {
    const std::vector<float> table = normals(size_t{bytes} * kPqCentroids, kSeed);
    const size_t rows = random_ids ? kColdCodes : kHotCodes;
    std::vector<uint8_t> codes(rows * bytes);
    Rng rng(kSeed + 1);
    for (uint8_t& c : codes) c = static_cast<uint8_t>(rng.next_u64());
    std::vector<uint32_t> ids(1u << 16);
    for (uint32_t& id : ids) id = static_cast<uint32_t>(rng.below(rows));
    std::vector<float> out(kHotCodes);
    size_t next = 0;
    for (auto _ : state) {
        if (random_ids) {
            fn(table.data(), bytes, codes.data(), ids.data() + next, kBatch, out.data());
            next = (next + kBatch) % ids.size();
        } else {
            fn(table.data(), bytes, codes.data(), nullptr, kHotCodes, out.data());
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    const size_t per_iter = random_ids ? kBatch : kHotCodes;
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * per_iter));
}

void bench_nearest(benchmark::State& state, detail::NearestFn fn, size_t dim, size_t k) {
    const std::vector<float> tile = normals(dim * kTileRows, kSeed);
    const std::vector<float> neg2c = normals(dim * k, kSeed + 1);
    const std::vector<float> norms = normals(k, kSeed + 2);
    float scores[kTileRows];
    uint32_t ids[kTileRows];
    for (auto _ : state) {
        fn(tile.data(), dim, neg2c.data(), norms.data(), k, 1, scores, ids);
        benchmark::DoNotOptimize(ids);
        benchmark::ClobberMemory();
    }
    // Items: rows scored against all k centroids.
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kTileRows));
}

void bench_table(benchmark::State& state, Metric metric) {
    const uint32_t dim = 128;
    const std::vector<float> data = normals(size_t{2000} * dim, kSeed);
    PqOptions o;
    o.bytes = 32;
    o.iterations = 2;
    const PqCodebook pq = PqCodebook::train({data.data(), 2000, dim, DType::kF32, 0}, o).value();
    const std::vector<float> q = normals(dim, kSeed + 3);
    std::vector<float> table(pq.table_size());
    for (auto _ : state) {
        pq.compute_table(q.data(), metric, table.data());
        benchmark::DoNotOptimize(table.data());
    }
}

int register_all() {
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        const detail::QuantKernels* k = detail::quant_kernels_for(isa);
        if (k == nullptr) continue;
        const std::string name(distance::isa_name(isa));
        for (uint32_t bytes : {32u, 64u}) {
            for (bool ids : {false, true}) {
                const std::string n =
                    "BM_adc/" + name + "/" + std::to_string(bytes) + (ids ? "/ids" : "/seq");
                benchmark::RegisterBenchmark(n.c_str(), [fn = k->adc_batch, bytes, ids](auto& s) {
                    bench_adc(s, fn, bytes, ids);
                });
            }
        }
        for (auto [dim, kc] : {std::pair<size_t, size_t>{4, 256}, {128, 64}}) {
            const std::string n =
                "BM_nearest/" + name + "/" + std::to_string(dim) + "x" + std::to_string(kc);
            benchmark::RegisterBenchmark(
                n.c_str(), [fn = k->nearest, dim, kc](auto& s) { bench_nearest(s, fn, dim, kc); });
        }
    }
    benchmark::RegisterBenchmark("BM_table/l2", [](auto& s) { bench_table(s, Metric::kL2); });
    benchmark::RegisterBenchmark("BM_table/ip",
                                 [](auto& s) { bench_table(s, Metric::kInnerProduct); });
    return 0;
}

[[maybe_unused]] const int kRegistered = register_all();

}  // namespace
}  // namespace strata::quant
