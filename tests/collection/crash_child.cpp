// The process crash_test kills: opens (or creates) a collection and writes to it in a loop,
// printing each operation before it starts ("U <version> <ids...>", "D <ids...>", "C" for an
// explicit consolidation) and "A" / "c" once it is acknowledged. Usage: crash_child DIR SEED RUN;
// explicit consolidations only when RUN % 3 == 2 (background ones always).
#include <strata/collection.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "crash_common.hpp"

namespace {

void say(const std::string& line) {
    const std::string l = line + "\n";
    if (::write(1, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::_Exit(3);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace strata;
    if (argc != 4) return 2;
    const std::string dir = argv[1];
    const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
    const uint64_t run = std::strtoull(argv[3], nullptr, 10);
    const CollectionOptions o = crash::child_options();
    auto c = Collection::exists(dir) ? Collection::open(dir, o)
                                     : Collection::create(dir, crash::params(), o);
    if (!c.is_ok()) {
        std::fprintf(stderr, "crash_child: %s\n", c.status().to_string().c_str());
        return 1;
    }
    std::mt19937_64 rng(seed * 7919 + run);
    std::vector<uint64_t> mine;
    uint64_t next = run * 1000000;
    say("R");
    for (;;) {
        const uint64_t pick = rng() % 100;
        std::string line;
        if ((pick < 60 && mine.size() < 400) || mine.size() < 40 ||
            (pick >= 95 && (run % 3 != 2 || rng() % 5 != 0))) {
            std::vector<uint64_t> ids;
            for (int i = 0; i < 20; ++i) ids.push_back(next++);
            line = "U 0";
            std::vector<float> rows;
            for (uint64_t id : ids) {
                line += " " + std::to_string(id);
                const auto v = crash::vector_for(seed, id, 0);
                rows.insert(rows.end(), v.begin(), v.end());
            }
            say(line);
            Status s = (*c)->upsert(ids.data(), ids.size(), rows.data(), DType::kF32);
            if (!s.is_ok()) return 4;
            mine.insert(mine.end(), ids.begin(), ids.end());
            say("A");
        } else if (pick < 95) {
            std::vector<uint64_t> ids;
            for (int i = 0; i < 10; ++i) {
                const uint64_t id = mine[rng() % mine.size()];
                if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
            }
            if (pick < 80) {
                const auto version = static_cast<uint32_t>(1 + rng() % 1000);
                line = "U " + std::to_string(version);
                std::vector<float> rows;
                for (uint64_t id : ids) {
                    line += " " + std::to_string(id);
                    const auto v = crash::vector_for(seed, id, version);
                    rows.insert(rows.end(), v.begin(), v.end());
                }
                say(line);
                if (!(*c)->upsert(ids.data(), ids.size(), rows.data(), DType::kF32).is_ok())
                    return 4;
            } else {
                line = "D";
                for (uint64_t id : ids) line += " " + std::to_string(id);
                say(line);
                if (!(*c)->remove(ids.data(), ids.size()).is_ok()) return 4;
                for (uint64_t id : ids) mine.erase(std::find(mine.begin(), mine.end(), id));
            }
            say("A");
        } else {
            say("C");
            if (!(*c)->consolidate().is_ok()) return 5;
            say("c");
        }
    }
}
