// Payloads of a collection's points: one JSON document per id in an LMDB environment beside the
// collection (payloads/). Written before the vectors they describe; see docs/server.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include <strata/status.hpp>

struct MDB_env;

namespace strata::server {

class PayloadStore {
  public:
    /// Opens (creating when missing) the environment in directory `dir`.
    static Result<std::unique_ptr<PayloadStore>> open(const std::string& dir);
    ~PayloadStore();
    PayloadStore(const PayloadStore&) = delete;
    PayloadStore& operator=(const PayloadStore&) = delete;

    /// In one durable transaction: for each of `n` ids, stores payloads[i] (minified JSON
    /// object), or removes the id's payload when payloads[i] is empty (all of them when
    /// `payloads` is null). Grows the map as needed.
    Status write(const uint64_t* ids, const std::string_view* payloads, uint64_t n);
    /// Removes the payloads of `n` ids (absent ids are ignored), durably.
    Status remove(const uint64_t* ids, uint64_t n);
    /// The payload of `id` into `out`; false when the id has none. Thread-safe.
    Result<bool> get(uint64_t id, std::string& out) const;
    /// Ids with a payload.
    uint64_t count() const;
    /// Calls fn(id, payload) for every stored payload in id order, in one read transaction (a
    /// consistent view); stops at fn's first error and returns it. Thread-safe with writes.
    Status for_each(const std::function<Status(uint64_t id, std::string_view payload)>& fn) const;
    /// Writes a compacted consistent copy to the existing empty directory `dir`.
    Status copy_to(const std::string& dir) const;

  private:
    PayloadStore() = default;
    // One write transaction; MDB_MAP_FULL is returned as is (write() grows the map and retries).
    int write_txn(const uint64_t* ids, const std::string_view* payloads, uint64_t n);
    MDB_env* env_ = nullptr;
    // The map grows (doubling from 64 MiB, never reserving more address space than needed:
    // a collection must not cost a terabyte of it) only with no transaction open: every
    // transaction holds this shared, a resize exclusively.
    mutable std::shared_mutex resize_mu_;
    size_t map_size_ = 0;
    unsigned int dbi_ = 0;
    std::string dir_;
};

}  // namespace strata::server
