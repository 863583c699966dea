// Collection::bulk_load: the first load of an empty collection through the offline builder.
#include <strata/collection.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>

#include <fmt/format.h>

#include "collection/collection_impl.hpp"
#include "collection/manifest.hpp"
#include "collection/merge.hpp"
#include "collection/rows.hpp"
#include "collection/tiers.hpp"
#include "core/log.hpp"
#include "disk/build_input.hpp"
#include "disk/dir_util.hpp"
#include "io/dataset.hpp"
#include "io/file_util.hpp"

namespace strata {

using collection::Generation;
using collection::kNoLsn;

Status Collection::bulk_load(const std::string& data_path, const std::string& ids_path,
                             bool progress, int threads, const std::string& labels_path) {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> clock(m.consolidate_mu);
    {
        std::lock_guard<std::mutex> lock(m.apply_mu);
        std::lock_guard<std::mutex> vlock(m.view_mu);
        if (m.gen || !m.frozen.empty() || m.active->size() > 0 || m.next_apply > 1) {
            return Status::invalid_argument(
                "bulk load needs an empty collection (no generation and nothing written)");
        }
        // Writes that arrive during the build stay in the log and mask their ids in it.
        m.track_lsn = true;
        m.min_lsn_since_freeze = kNoLsn;
        m.track_touched = true;
        m.touched.clear();
    }
    struct StopTracking {  // on an error return; commit() stops it on success
        Impl& m;
        ~StopTracking() {
            std::lock_guard<std::mutex> lock(m.apply_mu);
            m.track_touched = false;
            m.touched.clear();
        }
    } stop_tracking{m};
    STRATA_ASSIGN_OR_RETURN(auto data, io::Dataset::open(data_path));
    const CollectionParams& p = m.params;
    if (data.dim() != p.dim) {
        return Status::invalid_argument(fmt::format(
            "{}: dimension {} does not match the collection's {}", data_path, data.dim(), p.dim));
    }
    if (data.dtype() != p.dtype) {
        return Status::invalid_argument(
            fmt::format("{}: element type {} does not match the collection's {}", data_path,
                        dtype_name(data.dtype()), dtype_name(p.dtype)));
    }
    std::vector<uint64_t> ids;
    if (!ids_path.empty()) {
        STRATA_ASSIGN_OR_RETURN(ids, disk::load_ids(ids_path, data.size()));
    } else {
        ids.resize(data.size());
        for (uint64_t i = 0; i < ids.size(); ++i) ids[i] = m.next_id + i;
    }
    const std::string ids_tmp = disk::detail::join(m.dir, "consolidate.tmp.ids");
    STRATA_RETURN_IF_ERROR(collection::write_ids(ids_tmp, ids));
    BuildOptions bo = collection::index_build_options(p);
    bo.ids_path = ids_tmp;
    bo.progress = progress;
    bo.threads = threads;
    bo.memory_gb = m.options.consolidation_memory_gb;
    if (!labels_path.empty()) {
        bo.labels_path = labels_path;
        bo.label_names = m.labels.names();  // ids already given keep their meaning
    }
    uint64_t number = 0;
    {
        std::lock_guard<std::mutex> lock(m.apply_mu);
        number = std::max(m.manifest.generation, m.last_generation) + 1;
        m.last_generation = number;
    }
    const std::string out = collection::generation_path(m.dir, number);
    auto built = build_index(data_path, out, bo);
    if (!built.is_ok()) {
        ::unlink(ids_tmp.c_str());
        return built.status();
    }
    auto recall = collection::measure_recall(out, data_path, ids, p.metric,
                                             m.options.validation_queries, threads);
    ::unlink(ids_tmp.c_str());
    std::error_code ec;
    if (!recall.is_ok()) {
        std::filesystem::remove_all(out, ec);
        return recall.status();
    }
    auto gen = Generation::open(out, number, m.options.disk);
    if (!gen.is_ok()) {
        std::filesystem::remove_all(out, ec);
        return gen.status();
    }
    // The generation's label ids must be the collection's: its names are interned in order (a
    // labelled write that introduced a name during the build could break that: refused).
    const DiskIndex& index = (*gen)->index();
    for (uint32_t l = 0; l < index.info().label_count; ++l) {
        if (m.labels.intern(index.label_name(l)) != l) {
            gen->reset();
            std::filesystem::remove_all(out, ec);
            return Status::internal(fmt::format(
                "bulk load: label '{}' was introduced by a write during the build; load again",
                index.label_name(l)));
        }
    }
    {
        std::lock_guard<std::mutex> lock(m.apply_mu);
        for (uint64_t id : ids) m.next_id = std::max(m.next_id, id + 1);
    }
    return m.commit(std::move(*gen), *recall);
}

}  // namespace strata
