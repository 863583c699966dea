#include "disk/labels_file.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace strata::disk {
namespace {

constexpr size_t kHeadBytes = 24;

template <typename T>
void put(std::string& out, T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace

uint32_t IndexLabels::resolve(std::string_view name) const {
    const auto it = ids.find(std::string(name));
    return it == ids.end() ? UINT32_MAX : it->second;
}

uint64_t IndexLabels::memory_bytes() const {
    uint64_t b = start.size() * 4 + offsets.size() * 8 + labels.size() * 4 +
                 posting_offsets.size() * 8 + postings.size() * 4;
    for (const auto& n : names) b += n.size() + 48;  // the string, its map entry
    return b;
}

void IndexLabels::finish() {
    const uint32_t lc = label_count();
    posting_offsets.assign(size_t{lc} + 1, 0);
    for (uint32_t l : labels) ++posting_offsets[l + 1];
    for (uint32_t l = 0; l < lc; ++l) posting_offsets[l + 1] += posting_offsets[l];
    postings.resize(labels.size());
    std::vector<uint64_t> at(posting_offsets.begin(), posting_offsets.end() - 1);
    for (uint64_t i = 0; i + 1 < offsets.size(); ++i) {
        for (uint32_t l : of(static_cast<uint32_t>(i)))
            postings[at[l]++] = static_cast<uint32_t>(i);
    }
    ids.clear();
    for (uint32_t l = 0; l < lc; ++l) ids.emplace(names[l], l);
}

std::string IndexLabels::encode() const {
    std::string out;
    put<uint32_t>(out, label_count());
    put<uint32_t>(out, 0);
    put<uint64_t>(out, node_count());
    put<uint64_t>(out, labels.size());
    out.append(reinterpret_cast<const char*>(start.data()), start.size() * 4);
    out.append(reinterpret_cast<const char*>(offsets.data()), offsets.size() * 8);
    out.append(reinterpret_cast<const char*>(labels.data()), labels.size() * 4);
    for (const auto& n : names) {
        put<uint16_t>(out, static_cast<uint16_t>(n.size()));
        out += n;
    }
    return out;
}

Result<IndexLabels> IndexLabels::decode(std::string_view payload, uint64_t node_count,
                                        std::string_view source) {
    const auto bad = [&](std::string_view what) {
        return Status::corruption(fmt::format("{}: labels {}", source, what));
    };
    if (payload.size() < kHeadBytes) return bad("payload is shorter than its 24-byte header");
    uint32_t lc = 0;
    uint64_t nodes = 0, entries = 0;
    std::memcpy(&lc, payload.data(), 4);
    std::memcpy(&nodes, payload.data() + 8, 8);
    std::memcpy(&entries, payload.data() + 16, 8);
    if (nodes != node_count) {
        return bad(fmt::format("cover {} nodes; the index has {}", nodes, node_count));
    }
    // Sizes are checked against the payload before anything is allocated.
    const uint64_t fixed = uint64_t{lc} * 4 + (nodes + 1) * 8;
    if (lc > payload.size() || entries > payload.size() ||
        kHeadBytes + fixed + entries * 4 + uint64_t{lc} * 3 > payload.size()) {
        return bad(fmt::format("payload of {} bytes is too short for {} labels, {} entries",
                               payload.size(), lc, entries));
    }
    IndexLabels r;
    const char* p = payload.data() + kHeadBytes;
    r.start.resize(lc);
    std::memcpy(r.start.data(), p, size_t{lc} * 4);
    p += size_t{lc} * 4;
    r.offsets.resize(nodes + 1);
    std::memcpy(r.offsets.data(), p, (nodes + 1) * 8);
    p += (nodes + 1) * 8;
    r.labels.resize(entries);
    std::memcpy(r.labels.data(), p, entries * 4);
    p += entries * 4;
    const char* end = payload.data() + payload.size();
    r.names.reserve(lc);
    for (uint32_t l = 0; l < lc; ++l) {
        uint16_t len = 0;
        if (end - p < 2) return bad(fmt::format("name {} is cut short", l));
        std::memcpy(&len, p, 2);
        p += 2;
        if (len == 0 || len > 256 || end - p < len) {
            return bad(fmt::format("name {} has a bad length {}", l, len));
        }
        r.names.emplace_back(p, len);
        p += len;
    }
    if (p != end) return bad(fmt::format("payload has {} trailing bytes", end - p));
    graph::LabelView view = r.view();
    if (Status st = graph::check_labels(view, nodes); !st.is_ok()) {
        return bad(st.message());
    }
    r.finish();
    if (r.ids.size() != lc) return bad("repeat a name");
    for (uint32_t l = 0; l < lc; ++l) {
        if (r.start[l] == UINT32_MAX) {
            if (!r.nodes_of(l).empty()) return bad(fmt::format("label {} has no start node", l));
            continue;
        }
        if (r.start[l] >= nodes ||
            !std::binary_search(r.of(r.start[l]).begin(), r.of(r.start[l]).end(), l)) {
            return bad(fmt::format("start node {} of label {} does not carry it", r.start[l], l));
        }
    }
    return r;
}

}  // namespace strata::disk
