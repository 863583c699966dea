// Recall of a built index's graph, loaded into RAM and searched with exact distances (before the
// SSD beam search exists): recall@k and QPS for several list sizes against a ground-truth file.
// Usage: index_recall_bench INDEX_DIR QUERIES GT [k=10] [L list, e.g. 10,20,50,100,200]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "disk/in_memory_index.hpp"
#include "io/dataset.hpp"

using namespace strata;

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s INDEX_DIR QUERIES GT [k] [L,L,...]\n", argv[0]);
        return 2;
    }
    const uint32_t k = argc > 4 ? static_cast<uint32_t>(std::stoul(argv[4])) : 10;
    std::vector<uint32_t> lists = {10, 20, 50, 100, 200};
    if (argc > 5) {
        lists.clear();
        std::stringstream ss(argv[5]);
        std::string item;
        while (std::getline(ss, item, ','))
            lists.push_back(static_cast<uint32_t>(std::stoul(item)));
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto idx = disk::InMemoryIndex::load(argv[1]);
    auto queries = io::Dataset::open(argv[2]);
    auto gt = io::read_ground_truth(argv[3]);
    for (const Status* st : {&idx.status(), &queries.status(), &gt.status()}) {
        if (!st->is_ok()) {
            std::fprintf(stderr, "%s\n", st->to_string().c_str());
            return 1;
        }
    }
    const double load_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const uint64_t nq = std::min<uint64_t>(queries->size(), gt->n);
    std::printf("index %s: %llu nodes, loaded in %.1f s; %llu queries, k = %u\n", argv[1],
                static_cast<unsigned long long>(idx->size()), load_s,
                static_cast<unsigned long long>(nq), k);
    std::vector<uint32_t> ids(nq * k);
    for (uint32_t L : lists) {
        if (L < k) continue;
        const auto s0 = std::chrono::steady_clock::now();
        const Status st = idx->search(queries->row(0), nq, queries->row_stride_bytes(), k, L,
                                      ids.data(), nullptr);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
        if (!st.is_ok()) {
            std::fprintf(stderr, "%s\n", st.to_string().c_str());
            return 1;
        }
        size_t hits = 0;
        for (uint64_t q = 0; q < nq; ++q) {
            std::set<uint64_t> truth(gt->row(static_cast<uint32_t>(q)),
                                     gt->row(static_cast<uint32_t>(q)) + k);
            for (uint32_t i = 0; i < k; ++i) {
                const uint32_t node = ids[q * k + i];
                if (node != UINT32_MAX) hits += truth.count(idx->external_id(node));
            }
        }
        std::printf("  L=%4u  recall@%u %.4f  %8.0f QPS (in memory, exact distances)\n", L, k,
                    static_cast<double>(hits) / static_cast<double>(nq * k),
                    static_cast<double>(nq) / secs);
    }
    return 0;
}
