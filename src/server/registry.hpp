// The server's collections: a data directory of named collections, each a strata::Collection
// with its payload store, plus their snapshots.
//
// Layout: DATA/collections/<name>/{collection/, payloads/, warmup.f32}
//         DATA/snapshots/<name>/<snapshot>/{collection/, payloads/, snapshot.json}
// Creating builds in collections/.tmp-<name> and renames; dropping renames to .drop-<name>-<n>
// and then removes; open() clears the leftovers of either.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <strata/collection.hpp>
#include <strata/status.hpp>

#include "server/payload_store.hpp"

namespace strata::server {

/// InvalidArgument unless `name` is 1-max_length characters of [A-Za-z0-9_-].
Status validate_name(std::string_view name, std::string_view what = "collection name",
                     size_t max_length = 64);

/// One open collection. `use` is held shared by every operation and exclusively by drop and
/// recover; `write` serializes writes (payload and vector stay in step) against snapshots.
struct CollectionEntry {
    std::string name;
    std::string dir;  ///< DATA/collections/<name>
    std::shared_mutex use;
    std::mutex write;
    bool closed = false;  ///< under `use`: dropped or replaced; look the name up again
    std::unique_ptr<Collection> col;
    std::unique_ptr<PayloadStore> payloads;
    std::atomic<bool> ready{false};  ///< warmed up

    /// Payload fields declared filterable (DATA/collections/<name>/filterable, one per line):
    /// their values become the points' filter labels "field=value". Declared at create or
    /// later (declare_filterable, under `write`); a caller keeps the list it got. Thread-safe.
    using Fields = std::shared_ptr<const std::vector<std::string>>;
    Fields fields() const;
    void set_fields(std::vector<std::string> fields);

    /// Remembers a served query (f32, dim values) for the next start's warm-up. Thread-safe.
    void remember_query(const float* q, uint32_t dim);
    std::vector<float> recent_queries() const;

  private:
    mutable std::mutex fields_mu_;
    Fields fields_ = std::make_shared<const std::vector<std::string>>();
    mutable std::mutex recent_mu_;
    std::vector<float> recent_;  // ring of kRecent queries
    size_t recent_next_ = 0;
};

struct SnapshotInfo {
    std::string name;
    std::string created;  ///< ISO 8601, UTC
    uint64_t size_bytes = 0;
    uint64_t points = 0;
};

struct RegistryOptions {
    CollectionOptions collection;  ///< for every collection opened
    /// Warm-up: queries per round, most rounds and time cap per collection.
    uint32_t warmup_queries = 100;
    uint32_t warmup_rounds = 8;
    double warmup_seconds = 60;
};

class Registry {
  public:
    /// Opens `data_dir` (creating it when missing) and every collection in it. Errors name the
    /// collection that failed to open.
    static Result<std::unique_ptr<Registry>> open(const std::string& data_dir,
                                                  const RegistryOptions& options);
    ~Registry();

    /// NotFound for an unknown name (InvalidArgument for an invalid one).
    Result<std::shared_ptr<CollectionEntry>> get(std::string_view name) const;
    std::vector<std::shared_ptr<CollectionEntry>> list() const;
    /// AlreadyExists when the name is taken.
    Result<std::shared_ptr<CollectionEntry>> create(
        std::string_view name, const CollectionParams& params,
        const std::vector<std::string>& filterable = {});
    Status drop(std::string_view name);

    /// A consistent snapshot of collection `name` in DATA/snapshots/<name>/.
    Result<SnapshotInfo> snapshot(std::string_view name);
    Result<std::vector<SnapshotInfo>> snapshots(std::string_view name) const;
    /// Replaces (or creates) collection `name` with the snapshot `snapshot` of DATA/snapshots/
    /// <name>/ (or an absolute path to a snapshot directory).
    Status recover(std::string_view name, const std::string& snapshot);

    /// Warms up every collection not yet ready (blocking); see warm_up().
    void warm_up_all();
    /// True when every collection is open and warmed up.
    bool ready() const;
    /// Syncs every log and saves recent queries for the next warm-up; collections stay open.
    Status flush();

    const std::string& data_dir() const { return data_dir_; }
    const RegistryOptions& options() const { return options_; }

  private:
    Registry() = default;
    Result<std::shared_ptr<CollectionEntry>> open_entry(const std::string& name);
    void warm_up(CollectionEntry& e);
    std::string collections_dir() const;
    std::string snapshots_dir(std::string_view name) const;

    std::string data_dir_;
    RegistryOptions options_;
    mutable std::mutex mu_;  // the map; held briefly
    std::map<std::string, std::shared_ptr<CollectionEntry>, std::less<>> entries_;
    std::mutex admin_mu_;  // create / drop / recover, one at a time
    std::atomic<uint64_t> seq_{0};
};

/// Writes a collection's filterable field list (one per line) to `dir`/filterable, atomically.
Status write_filterable(const std::string& dir, const std::vector<std::string>& fields);

/// Copies snapshot directory `snapshot` to DATA/collections/<name> for a server that is not
/// running (`strata restore`). AlreadyExists unless `replace`.
Status restore_snapshot(const std::string& snapshot, const std::string& data_dir,
                        std::string_view name, bool replace);

}  // namespace strata::server
