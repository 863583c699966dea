// The search path allocates nothing once a thread's scratch exists: global operator new is
// counted on this thread around searches of a warmed-up index.
#include <strata/builder.hpp>
#include <strata/disk_index.hpp>

#include <cstdlib>
#include <new>
#include <vector>

#include <gtest/gtest.h>

#include "io/dataset.hpp"
#include "io/synthetic.hpp"
#include "testing/testing.hpp"

// The replacement pair below forwards to malloc/free; GCC cannot see that they match.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
thread_local bool g_counting = false;
thread_local uint64_t g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
    if (g_counting) ++g_allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace strata {
namespace {

TEST(SearchAllocation, NoHeapAllocationAfterWarmUp) {
    testing::TempDir dir;
    io::SyntheticOptions so;
    so.dim = 24;
    so.seed = 3;
    const uint32_t n = 3000;
    auto gen = io::SyntheticGenerator::create(so, n);
    ASSERT_TRUE(gen.is_ok());
    std::vector<float> base(size_t{n} * so.dim), queries(size_t{20} * so.dim);
    gen->generate(io::SyntheticStream::kBase, 0, n, base.data());
    gen->generate(io::SyntheticStream::kQueries, 0, 20, queries.data());
    ASSERT_TRUE(io::write_vectors(dir.file("b.fbin"), DType::kF32, n, so.dim, base.data()).is_ok());
    BuildOptions bo;
    bo.degree_max = 16;
    bo.list_size = 32;
    bo.threads = 1;
    ASSERT_TRUE(build_index(dir.file("b.fbin"), dir.file("idx"), bo).is_ok());
    DiskIndexOptions o;
    o.cache_bytes = 64 * 1024;
    auto idx = DiskIndex::open(dir.file("idx"), o);
    ASSERT_TRUE(idx.is_ok()) << idx.status().to_string();
    std::vector<uint64_t> ids(10);
    std::vector<float> dists(10);
    QueryStats stats;
    for (SearchMode mode : {SearchMode::kPipelined, SearchMode::kRounds}) {
        SearchParams p;
        p.list_size = 40;
        p.mode = mode;
        ASSERT_TRUE(
            (*idx)
                ->search(queries.data(), DType::kF32, so.dim, p, ids.data(), dists.data(), &stats)
                .is_ok());  // warm-up: this thread's scratch
        g_allocations = 0;
        g_counting = true;
        for (uint32_t q = 0; q < 20; ++q) {
            const Status st = (*idx)->search(queries.data() + q * so.dim, DType::kF32, so.dim, p,
                                             ids.data(), dists.data(), &stats);
            if (!st.is_ok()) {
                g_counting = false;
                FAIL() << st.to_string();
            }
        }
        g_counting = false;
        EXPECT_EQ(g_allocations, 0u) << search_mode_name(mode);
        EXPECT_GT(stats.reads + stats.cache_hits, 0u);
    }
}

}  // namespace
}  // namespace strata
