// Test helpers: temporary directories and raw file writers for building malformed inputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace strata::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    /// path()/name as a string.
    std::string file(std::string_view name) const;

  private:
    std::filesystem::path path_;
};

/// Writes `bytes` to `path` (truncating). Aborts the test binary on failure (test-only code).
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
void write_bytes(const std::string& path, std::string_view bytes);
/// Reads a whole file.
std::vector<uint8_t> read_bytes(const std::string& path);

/// Appends the little-endian bytes of a trivially copyable value.
template <typename T>
void put(std::vector<uint8_t>& out, const T& value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    out.insert(out.end(), p, p + sizeof(T));
}

/// The seed a test uses: $STRATA_TEST_SEED when set, else `fallback`. Printed by the caller.
uint64_t test_seed(uint64_t fallback);

}  // namespace strata::testing
