// Deterministic, counter-friendly random numbers: results depend only on the seed and the
// stream/row index, never on thread count or scheduling.
#pragma once

#include <cmath>
#include <cstdint>

namespace strata {

/// SplitMix64 step (Steele et al.): a good 64-bit mixer, used to derive independent streams.
constexpr uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/// Mixes a seed and a stream id into one state (e.g. stream = row index).
constexpr uint64_t derive_seed(uint64_t seed, uint64_t stream) {
    uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ULL + 0x8CB92BA72F3D8DD7ULL);
    splitmix64(s);
    return splitmix64(s);
}

/// xoshiro256** (Blackman & Vigna): fast, statistically strong, 2^256 period.
class Rng {
  public:
    explicit Rng(uint64_t seed) {
        uint64_t s = seed;
        for (auto& w : s_) w = splitmix64(s);
    }
    uint64_t next_u64() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    /// Uniform in [0, 1).
    double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
    /// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, tiny bias irrelevant here).
    uint64_t below(uint64_t n) {
        return static_cast<uint64_t>((static_cast<unsigned __int128>(next_u64()) * n) >> 64);
    }
    /// Standard normal (Box–Muller; the second value is discarded to keep streams simple).
    double normal() {
        double u1 = uniform();
        if (u1 < 1e-300) u1 = 1e-300;
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }

  private:
    static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
};

}  // namespace strata
