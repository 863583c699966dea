// Sharded Vamana build: partition, per-shard builds streamed to temp files, ordered merge.
#include "graph/sharded_build.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "core/dtype_util.hpp"
#include "core/progress.hpp"
#include "quant/kmeans.hpp"

namespace strata::graph {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// A buffered binary file of u32 values, written or read sequentially.
class U32File {
  public:
    static Result<U32File> open(const std::string& path, bool write) {
        std::FILE* f = std::fopen(path.c_str(), write ? "wb" : "rb");
        if (f == nullptr) {
            return Status::io_error(fmt::format("cannot open shard file {}", path), errno);
        }
        U32File u;
        u.file_.reset(f);
        u.path_ = path;
        u.buffer_ = std::make_unique<char[]>(kBuffer);
        std::setvbuf(f, u.buffer_.get(), _IOFBF, kBuffer);
        return u;
    }
    Status write(const uint32_t* v, size_t n) {
        if (std::fwrite(v, sizeof(uint32_t), n, file_.get()) != n) {
            return Status::io_error(fmt::format("cannot write shard file {}", path_), errno);
        }
        return Status::ok();
    }
    /// Reads exactly n values; false at a clean end of file before the first value.
    Result<bool> read(uint32_t* v, size_t n) {
        const size_t got = std::fread(v, sizeof(uint32_t), n, file_.get());
        if (got == n) return true;
        if (got == 0 && std::feof(file_.get())) return false;
        return Status::corruption(fmt::format("shard file {} is truncated", path_));
    }
    Status close() {
        std::FILE* f = file_.release();
        if (f != nullptr && std::fclose(f) != 0) {
            return Status::io_error(fmt::format("cannot close shard file {}", path_), errno);
        }
        return Status::ok();
    }

  private:
    static constexpr size_t kBuffer = 1 << 20;
    struct Closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Closer> file_;
    std::unique_ptr<char[]> buffer_;
    std::string path_;
};

/// Rows per streaming block: about 64 MiB of input, at most 65,536 rows.
uint64_t block_rows(const distance::MatrixView& data) {
    return std::clamp<uint64_t>((64ull << 20) / std::max<size_t>(1, data.stride()), 1024, 65536);
}

std::string shard_path(const std::string& dir, uint32_t s, const char* what) {
    return fmt::format("{}/shard-{:04}.{}", dir, s, what);
}

/// k-means on a strided sample of the rows, then capacity-bounded assignment of every row to
/// its `overlap` nearest shards with room; member lists go to files.
Result<std::vector<uint64_t>> partition(const distance::MatrixView& data,
                                        const ShardedBuildOptions& opt, uint32_t shards,
                                        uint64_t capacity) {
    const uint64_t n = data.rows;
    const uint64_t sample_rows =
        std::min<uint64_t>(n, std::max<uint64_t>(opt.kmeans_sample, shards));
    const size_t row_bytes = size_t{data.dim} * dtype_size(data.dtype);
    std::vector<uint8_t> sample(sample_rows * row_bytes);
    for (uint64_t i = 0; i < sample_rows; ++i) {
        const uint64_t row = i * n / sample_rows;
        std::memcpy(sample.data() + i * row_bytes, data.row(row), row_bytes);
        if (opt.release_input && (i & 16383) == 16383) opt.release_input();
    }
    if (opt.release_input) opt.release_input();
    quant::KMeansOptions ko;
    ko.k = shards;
    ko.iterations = 10;
    ko.seed = opt.vamana.seed;
    ko.threads = opt.vamana.threads;
    STRATA_ASSIGN_OR_RETURN(
        auto km, quant::kmeans({sample.data(), sample_rows, data.dim, data.dtype, 0}, ko));
    std::vector<uint8_t>().swap(sample);

    std::vector<U32File> members;
    for (uint32_t s = 0; s < shards; ++s) {
        STRATA_ASSIGN_OR_RETURN(auto f, U32File::open(shard_path(opt.temp_dir, s, "ids"), true));
        members.push_back(std::move(f));
    }
    std::vector<uint64_t> sizes(shards, 0);
    const uint32_t top_m = std::min<uint32_t>(shards, quant::kMaxAssignTopM);
    const uint64_t kBlock = block_rows(data);
    std::vector<uint32_t> nearest(kBlock * top_m);
    quant::AssignOptions ao;
    ao.top_m = top_m;
    ao.threads = opt.vamana.threads;
    for (uint64_t b0 = 0; b0 < n; b0 += kBlock) {
        const uint64_t count = std::min(kBlock, n - b0);
        const distance::MatrixView block{data.row(b0), count, data.dim, data.dtype, data.stride()};
        STRATA_RETURN_IF_ERROR(
            quant::assign_nearest(block, km.centroids.data(), shards, ao, nearest.data(), nullptr));
        for (uint64_t i = 0; i < count; ++i) {
            const auto row = static_cast<uint32_t>(b0 + i);
            uint32_t joined = 0;
            uint32_t chosen[16];
            auto join = [&](uint32_t s) -> Status {
                for (uint32_t j = 0; j < joined; ++j) {
                    if (chosen[j] == s) return Status::ok();
                }
                chosen[joined++] = s;
                ++sizes[s];
                return members[s].write(&row, 1);
            };
            for (uint32_t j = 0; j < top_m && joined < opt.overlap; ++j) {
                const uint32_t s = nearest[i * top_m + j];
                if (sizes[s] < capacity) STRATA_RETURN_IF_ERROR(join(s));
            }
            // Every near shard is full: the emptiest ones take the row.
            while (joined < std::min(opt.overlap, shards)) {
                uint32_t best = UINT32_MAX;
                for (uint32_t s = 0; s < shards; ++s) {
                    const bool taken = std::find(chosen, chosen + joined, s) != chosen + joined;
                    if (!taken && (best == UINT32_MAX || sizes[s] < sizes[best])) best = s;
                }
                STRATA_RETURN_IF_ERROR(join(best));
            }
        }
        if (opt.release_input) opt.release_input();
    }
    for (auto& f : members) STRATA_RETURN_IF_ERROR(f.close());
    if (opt.release_input) opt.release_input();
    return sizes;
}

/// The labels of `rows` (ascending global row ids) as a local view with node i = rows[i], with
/// `counts` as its per-label counts (the merge passes the counts over all rows, so a node serves
/// the same rarest label as in its shards; a shard's build counts its own rows). Owns its
/// arrays.
struct LocalLabels {
    std::vector<uint64_t> offsets{0};
    std::vector<uint32_t> ids;
    LabelView view;
    LocalLabels(const LabelView& global, std::span<const uint32_t> rows,
                std::span<const uint32_t> counts) {
        offsets.reserve(rows.size() + 1);
        for (uint32_t r : rows) {
            const auto l = global.of(r);
            ids.insert(ids.end(), l.begin(), l.end());
            offsets.push_back(ids.size());
        }
        view = {offsets, ids, global.label_count, counts};
    }
};

/// Builds shard `s` and writes its graph as records [node, degree, neighbours...] in global ids.
Status build_shard(uint32_t s, const StoreFactory& make_store, const ShardedBuildOptions& opt,
                   uint64_t expected, uint64_t& largest) {
    std::vector<uint32_t> rows(expected);
    {
        STRATA_ASSIGN_OR_RETURN(auto f, U32File::open(shard_path(opt.temp_dir, s, "ids"), false));
        if (expected > 0) {
            STRATA_ASSIGN_OR_RETURN(bool ok, f.read(rows.data(), rows.size()));
            if (!ok) return Status::corruption("shard member file is empty");
        }
    }
    std::filesystem::remove(shard_path(opt.temp_dir, s, "ids"));
    largest = std::max<uint64_t>(largest, rows.size());
    STRATA_ASSIGN_OR_RETURN(auto out, U32File::open(shard_path(opt.temp_dir, s, "graph"), true));
    if (!rows.empty()) {
        STRATA_ASSIGN_OR_RETURN(auto store, make_store(rows));
        VamanaOptions vo = opt.vamana;
        vo.progress = opt.progress;
        std::optional<LocalLabels> shard_labels;
        if (opt.labels != nullptr)
            shard_labels.emplace(*opt.labels, rows, std::span<const uint32_t>());
        STRATA_ASSIGN_OR_RETURN(
            auto built, build_vamana(*store, vo, shard_labels ? &shard_labels->view : nullptr));
        store.reset();
        std::vector<uint32_t> rec;
        for (uint32_t local = 0; local < rows.size(); ++local) {
            const auto nbrs = built.graph.neighbors(local);
            rec.assign({rows[local], static_cast<uint32_t>(nbrs.size())});
            for (uint32_t j : nbrs) rec.push_back(rows[j]);
            STRATA_RETURN_IF_ERROR(out.write(rec.data(), rec.size()));
        }
    }
    if (opt.release_input) opt.release_input();
    return out.close();
}

struct MergeReader {
    U32File file;
    bool done = false;
    uint32_t node = 0;
    std::vector<uint32_t> nbrs;

    Status advance(uint32_t degree_limit) {
        uint32_t head[2];
        STRATA_ASSIGN_OR_RETURN(bool more, file.read(head, 2));
        if (!more) {
            done = true;
            return Status::ok();
        }
        if (head[1] > degree_limit) return Status::corruption("shard graph record too long");
        node = head[0];
        nbrs.resize(head[1]);
        if (head[1] > 0) {
            STRATA_ASSIGN_OR_RETURN(bool ok, file.read(nbrs.data(), head[1]));
            if (!ok) return Status::corruption("shard graph record truncated");
        }
        return Status::ok();
    }
};

/// Re-prunes node `node`'s merged list down to R with a small store over it and its candidates.
Status reprune(uint32_t node, std::vector<uint32_t>& list, const StoreFactory& make_store,
               const VamanaOptions& vo, const LabelView* labels, std::span<const uint32_t> counts) {
    std::vector<uint32_t> rows = list;
    rows.push_back(node);
    std::sort(rows.begin(), rows.end());
    STRATA_ASSIGN_OR_RETURN(auto store, make_store(rows));
    const auto local_of = [&](uint32_t global) {
        return static_cast<uint32_t>(std::lower_bound(rows.begin(), rows.end(), global) -
                                     rows.begin());
    };
    const uint32_t self = local_of(node);
    std::vector<uint32_t> ids(list.size());
    for (size_t i = 0; i < list.size(); ++i) ids[i] = local_of(list[i]);
    std::vector<float> dists(ids.size());
    store->distances(store->vector(self), ids.data(), ids.size(), dists.data());
    std::vector<Candidate> pool(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) pool[i] = {dists[i], ids[i]};
    std::vector<uint32_t> kept;
    std::vector<float> scratch;
    std::optional<LocalLabels> local;
    if (labels != nullptr) local.emplace(*labels, rows, counts);
    robust_prune(*store, self, pool, vo.alpha, vo.degree_max, vo.pool_max, kept, scratch,
                 local ? &local->view : nullptr);
    list.clear();
    for (uint32_t l : kept) list.push_back(rows[l]);
    return Status::ok();
}

Status merge(uint64_t n, uint32_t shards, const StoreFactory& make_store,
             const ShardedBuildOptions& opt, const NodeSink& sink, uint64_t& reprunes) {
    const VamanaOptions& vo = opt.vamana;
    std::vector<uint32_t> counts;  // nodes per label over all rows
    if (opt.labels != nullptr) counts = label_counts(*opt.labels);
    const uint32_t record_limit =
        static_cast<uint32_t>(std::ceil(vo.slack * static_cast<float>(vo.degree_max))) + 1;
    std::vector<MergeReader> readers(shards);
    for (uint32_t s = 0; s < shards; ++s) {
        STRATA_ASSIGN_OR_RETURN(readers[s].file,
                                U32File::open(shard_path(opt.temp_dir, s, "graph"), false));
        STRATA_RETURN_IF_ERROR(readers[s].advance(record_limit));
    }
    // Each re-prune reads up to 2R+1 random rows of the input; a batch touches at most ~16K
    // rows (64 MiB of pages) between releases.
    const uint64_t kBatch = std::max<uint64_t>(32, 16384 / (2 * uint64_t{vo.degree_max} + 1));
    std::vector<std::vector<uint32_t>> lists(kBatch);
    std::vector<Status> errors(kBatch);
    std::atomic<uint64_t> pruned{0};
    for (uint64_t b0 = 0; b0 < n; b0 += kBatch) {
        const uint64_t count = std::min(kBatch, n - b0);
        for (uint64_t i = 0; i < count; ++i) {
            const auto node = static_cast<uint32_t>(b0 + i);
            auto& list = lists[i];
            list.clear();
            for (auto& r : readers) {
                while (!r.done && r.node == node) {
                    list.insert(list.end(), r.nbrs.begin(), r.nbrs.end());
                    STRATA_RETURN_IF_ERROR(r.advance(record_limit));
                }
            }
            std::sort(list.begin(), list.end());
            list.erase(std::unique(list.begin(), list.end()), list.end());
            list.erase(std::remove(list.begin(), list.end(), node), list.end());
        }
        tbb::parallel_for(tbb::blocked_range<uint64_t>(0, count, 64), [&](const auto& r) {
            for (uint64_t i = r.begin(); i != r.end(); ++i) {
                errors[i] = Status::ok();
                if (lists[i].size() <= vo.degree_max) continue;
                pruned.fetch_add(1, std::memory_order_relaxed);
                errors[i] = reprune(static_cast<uint32_t>(b0 + i), lists[i], make_store, vo,
                                    opt.labels, counts);
            }
        });
        for (uint64_t i = 0; i < count; ++i) {
            STRATA_RETURN_IF_ERROR(errors[i]);
            STRATA_RETURN_IF_ERROR(sink(static_cast<uint32_t>(b0 + i), lists[i]));
        }
        if (opt.progress != nullptr) opt.progress->add(count);
        if (opt.release_input) opt.release_input();
    }
    for (auto& r : readers) {
        if (!r.done) return Status::corruption("shard graph holds a node beyond the data set");
        STRATA_RETURN_IF_ERROR(r.file.close());
    }
    reprunes = pruned.load();
    return Status::ok();
}

}  // namespace

uint32_t find_medoid_streaming(const distance::MatrixView& data,
                               const std::function<void()>& release_input) {
    const uint64_t kBlock = block_rows(data);
    const uint32_t dim = data.dim;
    std::vector<double> mean(dim, 0.0);
    std::vector<double> block_sum(dim);
    for (uint64_t b0 = 0; b0 < data.rows; b0 += kBlock) {
        const uint64_t b1 = std::min(data.rows, b0 + kBlock);
        std::fill(block_sum.begin(), block_sum.end(), 0.0);
        for (uint64_t i = b0; i < b1; ++i) {
            for (uint32_t j = 0; j < dim; ++j)
                block_sum[j] += element_value(data.dtype, data.row(i), j);
        }
        for (uint32_t j = 0; j < dim; ++j) mean[j] += block_sum[j];
        if (release_input) release_input();
    }
    for (auto& m : mean) m /= static_cast<double>(std::max<uint64_t>(1, data.rows));
    double best = INFINITY;
    uint64_t best_row = 0;
    for (uint64_t b0 = 0; b0 < data.rows; b0 += kBlock) {
        const uint64_t b1 = std::min(data.rows, b0 + kBlock);
        for (uint64_t i = b0; i < b1; ++i) {
            double d = 0;
            for (uint32_t j = 0; j < dim; ++j) {
                const double diff = element_value(data.dtype, data.row(i), j) - mean[j];
                d += diff * diff;
            }
            if (d < best) {
                best = d;
                best_row = i;
            }
        }
        if (release_input) release_input();
    }
    return static_cast<uint32_t>(best_row);
}

Status ShardedBuildOptions::validate() const {
    STRATA_RETURN_IF_ERROR(vamana.validate());
    if (overlap < 1 || overlap > 8) return Status::invalid_argument("overlap must be in [1, 8]");
    if (shard_budget_bytes == 0 || bytes_per_vector == 0) {
        return Status::invalid_argument("sharded build needs a shard budget and a per-vector cost");
    }
    if (temp_dir.empty()) return Status::invalid_argument("sharded build needs a temp directory");
    if (labels != nullptr)
        STRATA_RETURN_IF_ERROR(check_labels(*labels, labels->offsets.size() - 1));
    return Status::ok();
}

uint32_t shards_for_budget(uint64_t rows, uint32_t overlap, uint64_t shard_budget_bytes,
                           uint64_t bytes_per_vector) {
    const uint64_t max_rows = std::max<uint64_t>(1, shard_budget_bytes / bytes_per_vector);
    // 25% headroom: capacity-bounded assignment needs spare room to stay near the centroids.
    const double needed =
        1.25 * static_cast<double>(rows) * overlap / static_cast<double>(max_rows);
    return std::max<uint32_t>(overlap, static_cast<uint32_t>(std::ceil(needed)));
}

Result<ShardedBuildReport> build_vamana_sharded(const distance::MatrixView& data,
                                                const StoreFactory& make_store,
                                                const ShardedBuildOptions& opt,
                                                const NodeSink& sink) {
    STRATA_RETURN_IF_ERROR(opt.validate());
    if (data.rows == 0) return Status::invalid_argument("cannot build a graph over 0 vectors");
    if (data.rows >= UINT32_MAX) return Status::invalid_argument("too many rows for u32 ids");
    if (opt.labels != nullptr && opt.labels->offsets.size() != data.rows + 1) {
        return Status::invalid_argument("sharded build: the labels do not cover the rows");
    }
    ShardedBuildReport rep;
    const uint64_t max_rows = std::max<uint64_t>(1, opt.shard_budget_bytes / opt.bytes_per_vector);
    rep.shards = opt.shards != 0 ? opt.shards
                                 : shards_for_budget(data.rows, opt.overlap, opt.shard_budget_bytes,
                                                     opt.bytes_per_vector);
    rep.shards = static_cast<uint32_t>(std::min<uint64_t>(rep.shards, data.rows));
    // Capacity per shard: the budget's row count, but never below what the rows need.
    const uint64_t needed =
        (data.rows * std::min(opt.overlap, rep.shards) + rep.shards - 1) / rep.shards;
    const uint64_t capacity = std::max(max_rows, needed + needed / 8 + 1);
    std::error_code ec;
    std::filesystem::create_directories(opt.temp_dir, ec);
    if (ec) {
        return Status::io_error(fmt::format("cannot create temp directory {}", opt.temp_dir),
                                ec.value());
    }
    struct Cleanup {
        std::string dir;
        ~Cleanup() {
            std::error_code e;
            std::filesystem::remove_all(dir, e);
        }
    } cleanup{opt.temp_dir};
    try {
        const int threads =
            opt.vamana.threads > 0 ? opt.vamana.threads : tbb::this_task_arena::max_concurrency();
        tbb::task_arena arena(threads);
        Status st;
        arena.execute([&] {
            st = [&]() -> Status {
                auto t0 = Clock::now();
                STRATA_ASSIGN_OR_RETURN(auto sizes, partition(data, opt, rep.shards, capacity));
                rep.seconds_partition = since(t0);
                t0 = Clock::now();
                for (uint32_t s = 0; s < rep.shards; ++s) {
                    STRATA_RETURN_IF_ERROR(
                        build_shard(s, make_store, opt, sizes[s], rep.largest_shard));
                }
                rep.seconds_shards = since(t0);
                t0 = Clock::now();
                STRATA_RETURN_IF_ERROR(
                    merge(data.rows, rep.shards, make_store, opt, sink, rep.reprunes));
                rep.seconds_merge = since(t0);
                return Status::ok();
            }();
        });
        STRATA_RETURN_IF_ERROR(st);
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted("sharded build: out of memory");
    } catch (const std::exception& e) {
        return Status::internal(std::string("sharded build: ") + e.what());
    }
    return rep;
}

}  // namespace strata::graph
