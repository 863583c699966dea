// Payloads of a collection's points: one JSON document per id in an LMDB environment beside the
// collection (payloads/). Written before the vectors they describe; see docs/server.md.
#pragma once

#include <cstdint>
#include <memory>
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
    /// object), or removes the id's payload when payloads[i] is empty.
    Status write(const uint64_t* ids, const std::string_view* payloads, uint64_t n);
    /// Removes the payloads of `n` ids (absent ids are ignored), durably.
    Status remove(const uint64_t* ids, uint64_t n);
    /// The payload of `id` into `out`; false when the id has none. Thread-safe.
    Result<bool> get(uint64_t id, std::string& out) const;
    /// Ids with a payload.
    uint64_t count() const;
    /// Writes a compacted consistent copy to the existing empty directory `dir`.
    Status copy_to(const std::string& dir) const;

  private:
    PayloadStore() = default;
    MDB_env* env_ = nullptr;
    unsigned int dbi_ = 0;
    std::string dir_;
};

}  // namespace strata::server
