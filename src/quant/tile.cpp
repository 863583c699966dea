// Tile loading (dtype conversion, centering, transposition), centroid preparation, sampling.
#include "quant/tile.hpp"

#include <cmath>

#include <tbb/task_arena.h>

#include "core/check.hpp"
#include "core/rng.hpp"

namespace strata::quant::detail {
namespace {

template <typename T>
uint32_t load_tile_t(const distance::MatrixView& data, uint64_t first, uint32_t count,
                     const float* center, float* tile, float* norms) {
    const size_t dim = data.dim;
    uint32_t bad = count;
    for (uint32_t r = 0; r < count; ++r) {
        const T* x = static_cast<const T*>(data.row(first + r));
        float norm = 0.0f;
        bool finite = true;
        for (size_t t = 0; t < dim; ++t) {
            float v = static_cast<float>(x[t]);
            if (center != nullptr) v -= center[t];
            finite &= std::isfinite(v);
            norm += v * v;
            tile[t * kTileRows + r] = v;
        }
        if (norms != nullptr) norms[r] = norm;
        if (!finite && bad == count) bad = r;
    }
    for (uint32_t r = count; r < kTileRows; ++r) {
        for (size_t t = 0; t < dim; ++t) tile[t * kTileRows + r] = 0.0f;
    }
    return bad;
}

}  // namespace

uint32_t load_tile(const distance::MatrixView& data, uint64_t first, uint32_t count,
                   const float* center, float* tile, float* norms) {
    STRATA_CHECK(count <= kTileRows && first + count <= data.rows);
    switch (data.dtype) {
        case DType::kF32:
            return load_tile_t<float>(data, first, count, center, tile, norms);
        case DType::kU8:
            return load_tile_t<uint8_t>(data, first, count, center, tile, norms);
        case DType::kI8:
            return load_tile_t<int8_t>(data, first, count, center, tile, norms);
    }
    STRATA_CHECK(false && "unknown dtype");
    return 0;
}

bool load_row(const distance::MatrixView& data, uint64_t i, float* out) {
    STRATA_CHECK(i < data.rows);
    const void* p = data.row(i);
    switch (data.dtype) {
        case DType::kF32: {
            const auto* x = static_cast<const float*>(p);
            for (uint32_t t = 0; t < data.dim; ++t) out[t] = x[t];
            return all_finite(out, data.dim);
        }
        case DType::kU8: {
            const auto* x = static_cast<const uint8_t*>(p);
            for (uint32_t t = 0; t < data.dim; ++t) out[t] = x[t];
            return true;
        }
        case DType::kI8: {
            const auto* x = static_cast<const int8_t*>(p);
            for (uint32_t t = 0; t < data.dim; ++t) out[t] = x[t];
            return true;
        }
    }
    STRATA_CHECK(false && "unknown dtype");
    return false;
}

PreparedCentroids prepare_centroids(const float* centroids, size_t k, size_t dim) {
    PreparedCentroids p;
    p.neg2c.resize(k * dim);
    p.norms.resize(k);
    for (size_t c = 0; c < k; ++c) {
        float norm = 0.0f;
        for (size_t t = 0; t < dim; ++t) {
            const float v = centroids[c * dim + t];
            p.neg2c[c * dim + t] = -2.0f * v;
            norm += v * v;
        }
        p.norms[c] = norm;
    }
    return p;
}

std::vector<uint64_t> stratified_sample(uint64_t n, uint64_t count, uint64_t seed) {
    STRATA_CHECK(count <= n);
    std::vector<uint64_t> rows(count);
    Rng rng(seed);
    using U128 = unsigned __int128;
    for (uint64_t i = 0; i < count; ++i) {
        const auto lo = static_cast<uint64_t>(U128{i} * n / count);
        const auto hi = static_cast<uint64_t>(U128{i + 1} * n / count);
        rows[i] = lo + rng.below(hi - lo);  // hi > lo because n >= count
    }
    return rows;
}

int resolve_threads(int threads) {
    if (threads > 0) return threads;
    return tbb::this_task_arena::max_concurrency();
}

bool all_finite(const float* v, size_t count) {
    bool finite = true;
    for (size_t i = 0; i < count; ++i) finite &= std::isfinite(v[i]);
    return finite;
}

}  // namespace strata::quant::detail
