// Micro benchmarks of the distance kernels: time per distance for each dtype x metric x ISA.
//
// One iteration = one distance between a fixed query and the next row of a small block that
// stays in L1 with it, called through the kernel table's function pointer as real callers do.
// The query and every row start on a 64-byte boundary (rows padded), so the numbers are the
// kernel's own cost; a dense float array at d = 200 puts every other row off a cache line and
// makes each 64-byte load a split load.
// Names: BM_<metric>/<dtype>/<isa>/<dim>, e.g. BM_l2/f32/avx512/128.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/aligned_buffer.hpp"
#include "core/rng.hpp"
#include "distance/distance.hpp"

namespace strata::distance {
namespace {

constexpr size_t kDims[] = {96, 128, 200, 768, 1536};
// Rows in the block: ~24 KiB of them (at least 4), so block + query fit a 48 KiB L1d.
constexpr size_t kBlockBytes = 24 * 1024;
constexpr size_t kMinRows = 4;
constexpr uint64_t kSeed = 42;
constexpr size_t kAlignBytes = 64;

template <typename T>
AlignedBuffer<T> random_values(size_t n, uint64_t seed) {
    Rng rng(seed);
    AlignedBuffer<T> v(n, kAlignBytes);
    for (size_t i = 0; i < n; ++i) {
        T& x = v[i];
        if constexpr (sizeof(T) == 4) {
            x = static_cast<T>(rng.normal());
        } else {
            x = static_cast<T>(rng.next_u64() >> 56);
        }
    }
    return v;
}

template <typename T, typename R>
void bench_kernel(benchmark::State& state, R (*kernel)(const T*, const T*, size_t), size_t dim) {
    const size_t stride =
        (dim * sizeof(T) + kAlignBytes - 1) / kAlignBytes * kAlignBytes / sizeof(T);
    const size_t rows = std::max(kMinRows, kBlockBytes / (stride * sizeof(T)));
    const AlignedBuffer<T> block = random_values<T>(rows * stride, kSeed);
    const AlignedBuffer<T> query = random_values<T>(dim, kSeed + 1);
    const T* const begin = block.data();
    const T* const end = begin + rows * stride;
    const T* row = begin;
    for (auto _ : state) {
        benchmark::DoNotOptimize(kernel(query.data(), row, dim));
        row += stride;
        if (row == end) row = begin;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * dim * sizeof(T)));
}

template <typename T, typename R>
void add(const char* metric, const char* dtype, Isa isa, R (*kernel)(const T*, const T*, size_t)) {
    for (size_t dim : kDims) {
        const std::string name = std::string("BM_") + metric + "/" + dtype + "/" +
                                 std::string(isa_name(isa)) + "/" + std::to_string(dim);
        benchmark::RegisterBenchmark(name.c_str(), [kernel, dim](benchmark::State& state) {
            bench_kernel(state, kernel, dim);
        });
    }
}

int register_all() {
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        const Kernels* k = kernels_for(isa);
        if (k == nullptr) continue;  // not runnable on this CPU
        add("l2", "f32", isa, k->l2_f32);
        add("ip", "f32", isa, k->ip_f32);
        add("l2", "u8", isa, k->l2_u8);
        add("ip", "u8", isa, k->ip_u8);
        add("l2", "i8", isa, k->l2_i8);
        add("ip", "i8", isa, k->ip_i8);
    }
    return 0;
}

// benchmark::benchmark_main supplies main(); registration happens during static initialization.
[[maybe_unused]] const int kRegistered = register_all();

}  // namespace
}  // namespace strata::distance
