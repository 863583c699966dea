// xxh3-64 checksums for the disk format, keeping xxhash a private dependency of the module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace strata::disk {

/// XXH3_64bits (seed 0) of `bytes` bytes at `data`. Every checksum in the format is this hash.
uint64_t xxh3_64(const void* data, size_t bytes);

/// Streaming XXH3_64bits (seed 0): update() over consecutive pieces gives the same digest as
/// one xxh3_64() over their concatenation. Movable, not copyable, not thread-safe.
class Xxh3Stream {
  public:
    /// Allocates the hash state (throws std::bad_alloc like operator new).
    Xxh3Stream();
    ~Xxh3Stream();
    Xxh3Stream(Xxh3Stream&&) noexcept;
    Xxh3Stream& operator=(Xxh3Stream&&) noexcept;
    Xxh3Stream(const Xxh3Stream&) = delete;
    Xxh3Stream& operator=(const Xxh3Stream&) = delete;

    /// Starts a new hash, forgetting everything fed so far.
    void reset();
    void update(const void* data, size_t bytes);
    /// Digest of everything fed since the last reset(); the stream can continue afterwards.
    uint64_t digest() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace strata::disk
