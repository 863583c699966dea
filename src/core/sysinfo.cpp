// /proc readers.
#include "core/sysinfo.hpp"

#include <cstdio>
#include <cstring>

namespace strata {
namespace {

/// Value in kB of the line starting with `key` in a /proc file, as bytes.
uint64_t proc_kb(const char* path, const char* key) {
    std::FILE* f = std::fopen(path, "r");
    if (f == nullptr) return 0;
    char line[256];
    uint64_t value = 0;
    const size_t key_len = std::strlen(key);
    while (std::fgets(line, sizeof(line), f) != nullptr) {
        if (std::strncmp(line, key, key_len) == 0) {
            unsigned long long kb = 0;
            if (std::sscanf(line + key_len, " %llu", &kb) == 1) value = kb * 1024ULL;
            break;
        }
    }
    std::fclose(f);
    return value;
}

}  // namespace

uint64_t peak_rss_bytes() { return proc_kb("/proc/self/status", "VmHWM:"); }
uint64_t current_rss_bytes() { return proc_kb("/proc/self/status", "VmRSS:"); }
uint64_t mem_available_bytes() { return proc_kb("/proc/meminfo", "MemAvailable:"); }

}  // namespace strata
