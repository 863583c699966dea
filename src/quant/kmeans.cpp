// k-means (k-means++ seeding on a subsample, Lloyd iterations over fixed row blocks) and
// nearest-centroid assignment, both on the ISA kernels of kernel_tables.hpp.
#include "quant/kmeans.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <new>
#include <string>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "core/guard.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "quant/tile.hpp"

namespace strata::quant {
namespace {

using detail::kTileRows;

constexpr uint64_t kNoRow = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kUnassigned = std::numeric_limits<uint32_t>::max();
// Split distance for an empty cluster, relative to the coordinate (or the data RMS).
constexpr double kSplitEps = 1.0 / 1024.0;
// Lloyd work blocks: at least this many rows, at most kMaxBlocks blocks, and the per-block
// partial sums together within kPartialBudgetBytes. All depend on the input only, never on the
// thread count, which is what makes the reduction (in block order) deterministic.
constexpr uint64_t kMinBlockRows = 4096;
constexpr uint64_t kMaxBlocks = 64;
constexpr uint64_t kPartialBudgetBytes = uint64_t{256} << 20;
// Rows are copied once as kernel tiles when the copy fits this budget; larger inputs are read
// (and converted) tile by tile on every Lloyd iteration instead.
constexpr uint64_t kMaxTiledBytes = uint64_t{1} << 30;
// k-means++ keeps D^2 partial sums per block of this many seed rows.
constexpr uint64_t kSeedBlockRows = 1024;
static_assert(kSeedBlockRows % kTileRows == 0);

Status check_view(const distance::MatrixView& data) {
    if (data.dim == 0 || data.dim > kMaxDimension) {
        return Status::invalid_argument(
            fmt::format("dimension {} is outside [1, {}]", data.dim, kMaxDimension));
    }
    if (data.rows > 0 && data.data == nullptr) {
        return Status::invalid_argument("data pointer is null");
    }
    return Status::ok();
}

Status non_finite_row(uint64_t row) {
    return Status::invalid_argument(fmt::format("row {} holds NaN or infinity", row));
}

/// Rows as kernel tiles (tile i holds rows [32i, 32i + 32), zero-padded) and |x|^2 per row.
struct TiledRows {
    uint32_t dim = 0;
    uint64_t rows = 0;
    std::vector<float> x;      // tiles x dim x kTileRows
    std::vector<float> norms;  // one per row (padded to whole tiles)

    const float* tile(uint64_t i) const { return x.data() + i * dim * kTileRows; }
    float at(uint64_t row, uint32_t t) const {
        return x[(row / kTileRows * dim + t) * kTileRows + row % kTileRows];
    }
};

/// Tiles `count` rows of `data`: rows (*pick)[i] when `pick` is given, else rows [0, count).
Status tile_rows(const distance::MatrixView& data, const std::vector<uint64_t>* pick,
                 uint64_t count, TiledRows& out) {
    const uint32_t dim = data.dim;
    const uint64_t tiles = (count + kTileRows - 1) / kTileRows;
    out.dim = dim;
    out.rows = count;
    out.x.resize(tiles * dim * kTileRows);
    out.norms.resize(tiles * kTileRows);
    std::atomic<uint64_t> bad{kNoRow};
    tbb::parallel_for(tbb::blocked_range<uint64_t>(0, tiles, 16), [&](const auto& r) {
        std::vector<float> row(dim);
        for (uint64_t ti = r.begin(); ti != r.end(); ++ti) {
            const uint64_t first = ti * kTileRows;
            const auto n = static_cast<uint32_t>(std::min<uint64_t>(kTileRows, count - first));
            float* tile = out.x.data() + ti * dim * kTileRows;
            if (pick == nullptr) {
                const uint32_t b =
                    detail::load_tile(data, first, n, nullptr, tile, out.norms.data() + first);
                if (b < n) detail::lower_min(bad, first + b);
                continue;
            }
            std::fill(tile, tile + size_t{dim} * kTileRows, 0.0f);
            for (uint32_t i = 0; i < n; ++i) {
                const uint64_t src = (*pick)[first + i];
                if (!detail::load_row(data, src, row.data())) detail::lower_min(bad, src);
                float norm = 0.0f;
                for (uint32_t t = 0; t < dim; ++t) {
                    tile[t * kTileRows + i] = row[t];
                    norm += row[t] * row[t];
                }
                out.norms[first + i] = norm;
            }
        }
    });
    if (bad.load() != kNoRow) return non_finite_row(bad.load());
    return Status::ok();
}

/// D^2 of every seed row to the centroids chosen so far, with per-block sums.
struct SeedDistances {
    std::vector<float> d2;
    std::vector<double> block_sum;

    // d2 = min(d2, |x - c|^2), or = when `first`. Distances come from the tile kernel as
    // |x|^2 + |c|^2 - 2 x.c: rounding only perturbs the sampling weights.
    void update(const TiledRows& s, const float* c, bool first, detail::NearestFn nearest) {
        const detail::PreparedCentroids pc = detail::prepare_centroids(c, 1, s.dim);
        tbb::parallel_for(tbb::blocked_range<uint64_t>(0, block_sum.size(), 4), [&](const auto& r) {
            float scores[kTileRows];
            uint32_t ids[kTileRows];
            for (uint64_t b = r.begin(); b != r.end(); ++b) {
                double sum = 0.0;
                const uint64_t end = std::min(s.rows, (b + 1) * kSeedBlockRows);
                for (uint64_t row0 = b * kSeedBlockRows; row0 < end; row0 += kTileRows) {
                    nearest(s.tile(row0 / kTileRows), s.dim, pc.neg2c.data(), pc.norms.data(), 1, 1,
                            scores, ids);
                    const uint64_t n = std::min<uint64_t>(kTileRows, end - row0);
                    for (uint64_t i = 0; i < n; ++i) {
                        const float d = std::max(0.0f, s.norms[row0 + i] + scores[i]);
                        float& cur = d2[row0 + i];
                        if (first || d < cur) cur = d;
                        sum += cur;
                    }
                }
                block_sum[b] = sum;
            }
        });
    }

    // The row where the running sum of d2 first exceeds `target` (a D^2-weighted draw).
    uint64_t pick(double target) const {
        uint64_t b = 0;
        while (b + 1 < block_sum.size() && target >= block_sum[b]) target -= block_sum[b++];
        const uint64_t begin = b * kSeedBlockRows;
        const uint64_t end = std::min<uint64_t>(d2.size(), begin + kSeedBlockRows);
        uint64_t last_positive = begin;
        for (uint64_t i = begin; i < end; ++i) {
            if (d2[i] <= 0.0f) continue;
            last_positive = i;
            if (target < d2[i]) return i;
            target -= d2[i];
        }
        return last_positive;  // rounding left `target` past the block's end
    }
};

/// k-means++ over the seed rows, into centroids (k x dim).
void seed_kmeanspp(const TiledRows& s, const KMeansOptions& o, float* centroids) {
    const detail::NearestFn nearest = detail::quant_kernels().nearest;
    const uint32_t dim = s.dim;
    Rng rng(derive_seed(o.seed, 2));
    SeedDistances dist;
    dist.d2.resize(s.rows);
    dist.block_sum.resize((s.rows + kSeedBlockRows - 1) / kSeedBlockRows);
    const uint64_t first = rng.below(s.rows);
    for (uint32_t t = 0; t < dim; ++t) centroids[t] = s.at(first, t);
    dist.update(s, centroids, true, nearest);
    for (uint32_t c = 1; c < o.k; ++c) {
        double total = 0.0;
        for (double b : dist.block_sum) total += b;
        // Every seed row already sits on a centroid (fewer distinct rows than k): repeat rows
        // cyclically; Lloyd's empty-cluster split pulls the duplicates apart where it can.
        const uint64_t row = total > 0.0 && std::isfinite(total) ? dist.pick(rng.uniform() * total)
                                                                 : (first + c) % s.rows;
        float* out = centroids + size_t{c} * dim;
        for (uint32_t t = 0; t < dim; ++t) out[t] = s.at(row, t);
        dist.update(s, out, false, nearest);
    }
}

/// One Lloyd block's contribution: per-cluster coordinate sums and counts, and its error.
struct Partial {
    std::vector<double> sums;  // k x dim
    std::vector<uint64_t> counts;
    double sse = 0.0;
    uint64_t changed = 0;
    uint64_t bad_row = kNoRow;
};

struct Lloyd {
    const distance::MatrixView& data;
    const TiledRows* tiled;  // null: convert rows from `data` on every pass
    uint32_t k;
    uint64_t block_rows;
    std::vector<Partial> partials;
    std::vector<uint32_t> assignment;

    Lloyd(const distance::MatrixView& d, const TiledRows* t, uint32_t clusters)
        : data(d), tiled(t), k(clusters) {
        const uint64_t partial_bytes = uint64_t{k} * (d.dim + 1) * 8;
        uint64_t blocks = std::clamp<uint64_t>(d.rows / kMinBlockRows, 1, kMaxBlocks);
        blocks = std::max<uint64_t>(1, std::min(blocks, kPartialBudgetBytes / partial_bytes));
        block_rows = (d.rows + blocks - 1) / blocks;
        block_rows = (block_rows + kTileRows - 1) / kTileRows * kTileRows;
        partials.resize((d.rows + block_rows - 1) / block_rows);
        for (Partial& p : partials) {
            p.sums.resize(size_t{k} * d.dim);
            p.counts.resize(k);
        }
        assignment.assign(d.rows, kUnassigned);
    }

    void assign_block(uint64_t b, const detail::PreparedCentroids& pc,
                      const detail::NearestFn nearest) {
        Partial& p = partials[b];
        std::fill(p.sums.begin(), p.sums.end(), 0.0);
        std::fill(p.counts.begin(), p.counts.end(), 0);
        p.sse = 0.0;
        p.changed = 0;
        p.bad_row = kNoRow;
        const size_t dim = data.dim;
        std::vector<float> buffer(tiled != nullptr ? 0 : dim * kTileRows);
        float buffer_norms[kTileRows];
        float scores[kTileRows];
        uint32_t ids[kTileRows];
        const uint64_t end = std::min(data.rows, (b + 1) * block_rows);
        for (uint64_t row0 = b * block_rows; row0 < end; row0 += kTileRows) {
            const auto count = static_cast<uint32_t>(std::min<uint64_t>(kTileRows, end - row0));
            const float* tile = buffer.data();
            const float* norms = buffer_norms;
            if (tiled != nullptr) {
                tile = tiled->tile(row0 / kTileRows);
                norms = tiled->norms.data() + row0;
            } else {
                const uint32_t bad =
                    detail::load_tile(data, row0, count, nullptr, buffer.data(), buffer_norms);
                if (bad < count) {
                    p.bad_row = row0 + bad;
                    return;
                }
            }
            nearest(tile, dim, pc.neg2c.data(), pc.norms.data(), k, 1, scores, ids);
            for (uint32_t r = 0; r < count; ++r) {
                const uint32_t id = ids[r];
                ++p.counts[id];
                double* sum = p.sums.data() + size_t{id} * dim;
                for (size_t t = 0; t < dim; ++t) sum[t] += tile[t * kTileRows + r];
                p.sse += std::max(0.0f, norms[r] + scores[r]);
                uint32_t& a = assignment[row0 + r];
                p.changed += a != id;
                a = id;
            }
        }
    }
};

/// Moves centroids to their cluster means; re-seeds empty clusters by splitting the largest.
/// Returns the number of empty clusters.
uint64_t update_centroids(Lloyd& l, double rms, float* centroids) {
    const size_t dim = l.data.dim;
    std::vector<double> sums(size_t{l.k} * dim, 0.0);
    std::vector<uint64_t> counts(l.k, 0);
    for (const Partial& p : l.partials) {  // block order: deterministic
        for (size_t i = 0; i < sums.size(); ++i) sums[i] += p.sums[i];
        for (uint32_t c = 0; c < l.k; ++c) counts[c] += p.counts[c];
    }
    uint64_t empty = 0;
    for (uint32_t c = 0; c < l.k; ++c) {
        if (counts[c] == 0) continue;
        for (size_t t = 0; t < dim; ++t) {
            centroids[c * dim + t] =
                static_cast<float>(sums[c * dim + t] / static_cast<double>(counts[c]));
        }
    }
    for (uint32_t e = 0; e < l.k; ++e) {
        if (counts[e] != 0) continue;
        ++empty;
        const auto big =
            static_cast<uint32_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
        float* cb = centroids + size_t{big} * dim;
        float* ce = centroids + size_t{e} * dim;
        for (size_t t = 0; t < dim; ++t) {
            const double delta = kSplitEps * std::max<double>(std::fabs(cb[t]), rms);
            const double sign = (t % 2 == 0) ? 1.0 : -1.0;
            ce[t] = static_cast<float>(cb[t] + sign * delta);
            cb[t] = static_cast<float>(cb[t] - sign * delta);
        }
        counts[e] = counts[big] / 2;
        counts[big] -= counts[e];
    }
    return empty;
}

Status lloyd(const distance::MatrixView& data, const TiledRows* tiled, const KMeansOptions& o,
             double rms, KMeansResult& result) {
    Lloyd l(data, tiled, o.k);
    const detail::NearestFn nearest = detail::quant_kernels().nearest;
    for (uint32_t it = 0; it < o.iterations; ++it) {
        const detail::PreparedCentroids pc =
            detail::prepare_centroids(result.centroids.data(), o.k, data.dim);
        tbb::parallel_for(tbb::blocked_range<uint64_t>(0, l.partials.size(), 1),
                          [&](const auto& r) {
                              for (uint64_t b = r.begin(); b != r.end(); ++b) {
                                  l.assign_block(b, pc, nearest);
                              }
                          });
        double sse = 0.0;
        uint64_t changed = 0;
        for (const Partial& p : l.partials) {
            if (p.bad_row != kNoRow) return non_finite_row(p.bad_row);
            sse += p.sse;
            changed += p.changed;
        }
        result.mse = sse / static_cast<double>(data.rows);
        const uint64_t empty = update_centroids(l, rms, result.centroids.data());
        result.empty_splits += empty;
        result.iterations_run = it + 1;
        if (o.progress != nullptr) o.progress->add(1);
        if (changed == 0 && empty == 0) break;
    }
    return Status::ok();
}

}  // namespace

Status KMeansOptions::validate() const {
    if (k == 0 || k > kMaxClusters) {
        return Status::invalid_argument(fmt::format("k = {} is outside [1, {}]", k, kMaxClusters));
    }
    if (iterations == 0 || iterations > 1000) {
        return Status::invalid_argument(
            fmt::format("iterations = {} is outside [1, 1000]", iterations));
    }
    if (threads < 0) return Status::invalid_argument("threads must be >= 0");
    return Status::ok();
}

Status AssignOptions::validate() const {
    if (top_m == 0 || top_m > kMaxAssignTopM) {
        return Status::invalid_argument(
            fmt::format("top_m = {} is outside [1, {}]", top_m, kMaxAssignTopM));
    }
    if (threads < 0) return Status::invalid_argument("threads must be >= 0");
    return Status::ok();
}

namespace detail {

Result<KMeansResult> kmeans_in_current_arena(const distance::MatrixView& data,
                                             const KMeansOptions& options) {
    STRATA_RETURN_IF_ERROR(options.validate());
    STRATA_RETURN_IF_ERROR(check_view(data));
    if (data.rows == 0) return Status::invalid_argument("k-means needs at least one row");
    KMeansResult result;
    result.k = options.k;
    result.dim = data.dim;
    result.centroids.resize(size_t{options.k} * data.dim);
    if (data.rows <= options.k) {
        for (uint32_t c = 0; c < options.k; ++c) {
            const uint64_t row = c % data.rows;
            if (!load_row(data, row, result.centroids.data() + size_t{c} * data.dim)) {
                return non_finite_row(row);
            }
        }
        return result;
    }
    const uint64_t seed_rows =
        options.init_rows_per_centroid == 0
            ? data.rows
            : std::min<uint64_t>(data.rows, uint64_t{options.init_rows_per_centroid} * options.k);
    const std::vector<uint64_t> pick =
        stratified_sample(data.rows, seed_rows, derive_seed(options.seed, 1));
    TiledRows seed;
    STRATA_RETURN_IF_ERROR(tile_rows(data, &pick, seed_rows, seed));
    double sq = 0.0;
    for (uint64_t i = 0; i < seed.rows; ++i) sq += seed.norms[i];
    const double rms = std::sqrt(sq / static_cast<double>(seed.rows * data.dim));
    seed_kmeanspp(seed, options, result.centroids.data());

    // Lloyd reads every row once per iteration: tile them once when the copy is affordable.
    // With all rows as seed rows, the stratified pick is the identity and the seed tiles serve.
    TiledRows all;
    const TiledRows* tiled = nullptr;
    if (seed_rows == data.rows) {
        tiled = &seed;
    } else if (data.rows * data.dim * sizeof(float) <= kMaxTiledBytes) {
        STRATA_RETURN_IF_ERROR(tile_rows(data, nullptr, data.rows, all));
        tiled = &all;
    }
    STRATA_RETURN_IF_ERROR(lloyd(data, tiled, options, rms, result));
    return result;
}

}  // namespace detail

Result<KMeansResult> kmeans(const distance::MatrixView& data, const KMeansOptions& options) {
    STRATA_RETURN_IF_ERROR(options.validate());
    Result<KMeansResult> out = Status::internal("k-means did not run");
    STRATA_RETURN_IF_ERROR(guarded("k-means", [&] {
        tbb::task_arena arena(detail::resolve_threads(options.threads));
        arena.execute([&] { out = detail::kmeans_in_current_arena(data, options); });
        return Status::ok();
    }));
    return out;
}

Status assign_nearest(const distance::MatrixView& data, const float* centroids, uint32_t k,
                      const AssignOptions& options, uint32_t* ids_out, float* dists_out) {
    STRATA_RETURN_IF_ERROR(options.validate());
    STRATA_RETURN_IF_ERROR(check_view(data));
    if (k == 0) return Status::invalid_argument("k must be at least 1");
    if (options.top_m > k) {
        return Status::invalid_argument(
            fmt::format("top_m = {} exceeds the {} centroids", options.top_m, k));
    }
    if (centroids == nullptr || (data.rows > 0 && ids_out == nullptr)) {
        return Status::invalid_argument("centroids and ids_out must not be null");
    }
    if (!detail::all_finite(centroids, size_t{k} * data.dim)) {
        return Status::invalid_argument("a centroid holds NaN or infinity");
    }
    return guarded("assign_nearest", [&]() -> Status {
        const detail::PreparedCentroids pc = detail::prepare_centroids(centroids, k, data.dim);
        const detail::NearestFn nearest = detail::quant_kernels().nearest;
        const uint32_t m = options.top_m;
        const uint64_t tiles = (data.rows + kTileRows - 1) / kTileRows;
        std::atomic<uint64_t> bad_row{kNoRow};
        tbb::task_arena arena(detail::resolve_threads(options.threads));
        arena.execute([&] {
            tbb::parallel_for(tbb::blocked_range<uint64_t>(0, tiles, 16), [&](const auto& r) {
                std::vector<float> tile(size_t{data.dim} * kTileRows);
                float norms[kTileRows];
                float scores[kTileRows * kMaxAssignTopM];
                uint32_t ids[kTileRows * kMaxAssignTopM];
                uint64_t rows_done = 0;
                for (uint64_t tt = r.begin(); tt != r.end(); ++tt) {
                    const uint64_t row0 = tt * kTileRows;
                    const auto count =
                        static_cast<uint32_t>(std::min<uint64_t>(kTileRows, data.rows - row0));
                    const uint32_t bad =
                        detail::load_tile(data, row0, count, nullptr, tile.data(), norms);
                    if (bad < count) {
                        uint64_t cur = bad_row.load();
                        while (row0 + bad < cur &&
                               !bad_row.compare_exchange_weak(cur, row0 + bad)) {
                        }
                    }
                    nearest(tile.data(), data.dim, pc.neg2c.data(), pc.norms.data(), k, m, scores,
                            ids);
                    for (uint32_t i = 0; i < count; ++i) {
                        for (uint32_t j = 0; j < m; ++j) {
                            const size_t out = (row0 + i) * m + j;
                            ids_out[out] = ids[j * kTileRows + i];
                            if (dists_out != nullptr) {
                                dists_out[out] =
                                    std::max(0.0f, norms[i] + scores[j * kTileRows + i]);
                            }
                        }
                    }
                    rows_done += count;
                }
                if (options.progress != nullptr) options.progress->add(rows_done);
            });
        });
        if (bad_row.load() != kNoRow) return non_finite_row(bad_row.load());
        return Status::ok();
    });
}

}  // namespace strata::quant
