// Blocked, multi-threaded brute-force k-NN. Queries are split into blocks; each TBB task scans
// the whole base one L2-sized block at a time, scoring its queries against the block while it
// is hot in cache, and keeps a bounded max-heap per query. Base rows are visited in increasing
// id order and a candidate enters only when strictly closer than the heap's worst, so ties go to
// the lower id without comparing ids.
#include "distance/exact_knn.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "core/progress.hpp"
#include "distance/distance.hpp"

namespace strata::distance {
namespace {

struct Neighbor {
    float dist;
    uint32_t id;
};

bool closer(const Neighbor& a, const Neighbor& b) {
    return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
}

/// Bounded max-heap of the k best so far (worst on top).
class TopK {
  public:
    explicit TopK(uint32_t k) : k_(k) { heap_.reserve(k); }
    float worst() const { return heap_.size() < k_ ? INFINITY : heap_.front().dist; }
    bool full() const { return heap_.size() == k_; }
    void push(float dist, uint32_t id) {
        if (heap_.size() < k_) {
            heap_.push_back({dist, id});
            std::push_heap(heap_.begin(), heap_.end(), closer);
        } else {
            std::pop_heap(heap_.begin(), heap_.end(), closer);
            heap_.back() = {dist, id};
            std::push_heap(heap_.begin(), heap_.end(), closer);
        }
    }
    void sorted_into(uint32_t* ids, float* dists) {
        std::sort(heap_.begin(), heap_.end(), closer);
        for (size_t i = 0; i < heap_.size(); ++i) {
            ids[i] = heap_[i].id;
            if (dists != nullptr) dists[i] = heap_[i].dist;
        }
    }

  private:
    uint32_t k_;
    std::vector<Neighbor> heap_;
};

/// Raw score (squared L2 or inner product) of two rows with the chosen kernel.
using RawFn = float (*)(const Kernels& kern, const void* a, const void* b, size_t dim);

template <DType T, bool kL2>
float raw_score(const Kernels& kern, const void* a, const void* b, size_t dim) {
    if constexpr (T == DType::kF32) {
        const auto* x = static_cast<const float*>(a);
        const auto* y = static_cast<const float*>(b);
        return kL2 ? kern.l2_f32(x, y, dim) : kern.ip_f32(x, y, dim);
    } else if constexpr (T == DType::kU8) {
        const auto* x = static_cast<const uint8_t*>(a);
        const auto* y = static_cast<const uint8_t*>(b);
        return static_cast<float>(kL2 ? kern.l2_u8(x, y, dim) : kern.ip_u8(x, y, dim));
    } else {
        const auto* x = static_cast<const int8_t*>(a);
        const auto* y = static_cast<const int8_t*>(b);
        return static_cast<float>(kL2 ? kern.l2_i8(x, y, dim) : kern.ip_i8(x, y, dim));
    }
}

RawFn pick_raw(DType dtype, bool l2) {
    switch (dtype) {
        case DType::kF32:
            return l2 ? raw_score<DType::kF32, true> : raw_score<DType::kF32, false>;
        case DType::kU8:
            return l2 ? raw_score<DType::kU8, true> : raw_score<DType::kU8, false>;
        case DType::kI8:
            return l2 ? raw_score<DType::kI8, true> : raw_score<DType::kI8, false>;
    }
    return nullptr;
}

/// 1/|row| for every row (0 for a zero row), for cosine.
std::vector<float> inverse_norms(const MatrixView& m, const Kernels& kern, RawFn ip) {
    std::vector<float> inv(m.rows);
    tbb::parallel_for(tbb::blocked_range<uint64_t>(0, m.rows, 4096), [&](const auto& r) {
        for (uint64_t i = r.begin(); i != r.end(); ++i) {
            const float sq = ip(kern, m.row(i), m.row(i), m.dim);
            inv[i] = sq > 0 ? 1.0f / std::sqrt(sq) : 0.0f;
        }
    });
    return inv;
}

struct Plan {
    const MatrixView& base;
    const MatrixView& queries;
    const ExactKnnOptions& opt;
    const Kernels& kern;
    RawFn raw;
    const std::vector<float>& base_inv;   // cosine only
    const std::vector<float>& query_inv;  // cosine only
    uint64_t base_block_rows;
};

/// Final distance from a raw score, by metric convention.
inline float finish_distance(Metric metric, float raw, float inv_q, float inv_b) {
    switch (metric) {
        case Metric::kL2:
            return raw;
        case Metric::kInnerProduct:
            return -raw;
        case Metric::kCosine:
            return 1.0f - raw * inv_q * inv_b;
    }
    return raw;
}

void run_query_block(const Plan& p, uint64_t q_begin, uint64_t q_end, uint32_t* ids_out,
                     float* dists_out) {
    std::vector<TopK> tops;
    tops.reserve(q_end - q_begin);
    for (uint64_t q = q_begin; q < q_end; ++q) tops.emplace_back(p.opt.k);
    const Metric metric = p.opt.metric;
    const bool cosine = metric == Metric::kCosine;
    for (uint64_t b0 = 0; b0 < p.base.rows; b0 += p.base_block_rows) {
        const uint64_t b1 = std::min(p.base.rows, b0 + p.base_block_rows);
        for (uint64_t q = q_begin; q < q_end; ++q) {
            TopK& top = tops[q - q_begin];
            const void* qv = p.queries.row(q);
            const float inv_q = cosine ? p.query_inv[q] : 1.0f;
            float worst = top.worst();
            for (uint64_t b = b0; b < b1; ++b) {
                const float raw = p.raw(p.kern, qv, p.base.row(b), p.base.dim);
                const float d = finish_distance(metric, raw, inv_q, cosine ? p.base_inv[b] : 1.0f);
                if (d < worst) {
                    top.push(d, static_cast<uint32_t>(b));
                    worst = top.worst();
                }
            }
        }
    }
    for (uint64_t q = q_begin; q < q_end; ++q) {
        const size_t off = (q - q_begin) * p.opt.k;
        tops[q - q_begin].sorted_into(ids_out + off,
                                      dists_out != nullptr ? dists_out + off : nullptr);
    }
}

Status validate(const MatrixView& base, const MatrixView& queries, const ExactKnnOptions& opt) {
    if (base.dtype != queries.dtype) {
        return Status::invalid_argument(fmt::format(
            "base is {} but queries are {}", dtype_name(base.dtype), dtype_name(queries.dtype)));
    }
    if (base.dim != queries.dim) {
        return Status::invalid_argument(fmt::format(
            "base has dimension {} but queries have dimension {}", base.dim, queries.dim));
    }
    if (base.dim == 0) return Status::invalid_argument("dimension is 0");
    if (opt.k == 0) return Status::invalid_argument("k must be at least 1");
    if (opt.k > base.rows) {
        return Status::invalid_argument(
            fmt::format("k = {} exceeds the {} base vectors", opt.k, base.rows));
    }
    if (base.rows > uint64_t{UINT32_MAX}) {
        return Status::invalid_argument("base has more than 2^32-1 rows; ids would not fit u32");
    }
    if (opt.threads < 0) return Status::invalid_argument("threads must be >= 0");
    return Status::ok();
}

}  // namespace

Status exact_knn(const MatrixView& base, const MatrixView& queries, const ExactKnnOptions& opt,
                 uint32_t* ids_out, float* dists_out) {
    STRATA_RETURN_IF_ERROR(validate(base, queries, opt));
    if (queries.rows == 0) return Status::ok();
    try {
        const Kernels& kern = kernels();
        const bool l2 = opt.metric == Metric::kL2;
        const RawFn raw = pick_raw(base.dtype, l2);
        const RawFn ip = pick_raw(base.dtype, false);
        const int threads = opt.threads > 0 ? opt.threads : tbb::this_task_arena::max_concurrency();
        tbb::task_arena arena(threads);
        std::vector<float> base_inv;
        std::vector<float> query_inv;
        uint64_t block_rows = std::max<uint64_t>(16, opt.base_block_bytes / base.stride());
        // Few queries: smaller blocks so every thread has work.
        uint64_t qb = std::max<uint32_t>(1, opt.query_block);
        while (qb > 1 && (queries.rows + qb - 1) / qb < static_cast<uint64_t>(threads) * 4) qb /= 2;
        arena.execute([&] {
            if (opt.metric == Metric::kCosine) {
                base_inv = inverse_norms(base, kern, ip);
                query_inv = inverse_norms(queries, kern, ip);
            }
            const Plan plan{base, queries, opt, kern, raw, base_inv, query_inv, block_rows};
            const uint64_t blocks = (queries.rows + qb - 1) / qb;
            tbb::parallel_for(tbb::blocked_range<uint64_t>(0, blocks, 1), [&](const auto& r) {
                for (uint64_t blk = r.begin(); blk != r.end(); ++blk) {
                    const uint64_t q0 = blk * qb;
                    const uint64_t q1 = std::min(queries.rows, q0 + qb);
                    run_query_block(plan, q0, q1, ids_out + q0 * opt.k,
                                    dists_out != nullptr ? dists_out + q0 * opt.k : nullptr);
                    if (opt.progress != nullptr) opt.progress->add(q1 - q0);
                }
            });
        });
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("exact_knn: out of memory");
    } catch (const std::exception& e) {
        return Status::internal(std::string("exact_knn: ") + e.what());
    }
    return Status::ok();
}

}  // namespace strata::distance
