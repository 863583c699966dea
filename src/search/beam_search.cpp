// SSD beam search (DiskANN's BeamSearch with PipeANN-style pipelining).
#include "search/beam_search.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "core/check.hpp"
#include "core/sorted_sets.hpp"

namespace strata::search {
namespace {

constexpr uint32_t kNew = 0;
constexpr uint32_t kInFlight = 1;
constexpr uint32_t kDone = 2;

// Visited-slot flags.
constexpr uint8_t kSeen = 0;
constexpr uint8_t kExpanded = 1;
constexpr uint8_t kAwaitingSector = 2;  // in the list, its sector already in flight for a mate

using Clock = std::chrono::steady_clock;

uint64_t visited_capacity(const IndexContext& ctx) {
    const uint64_t inserts =
        uint64_t{IndexContext::max_hops(ctx.max_list_size) + ctx.max_beam_width} *
            ctx.layout.nodes_per_sector * (uint64_t{ctx.layout.degree_max} + 1) +
        ctx.nav_list_size + 1;
    // A query never sees more ids than the index holds (a small index with a large L).
    return std::bit_ceil(2 * std::min<uint64_t>(inserts, ctx.layout.node_count + 1));
}

/// The smallest label in both ascending sets, or UINT32_MAX.
uint32_t first_shared(std::span<const uint32_t> a, std::span<const uint32_t> b) {
    auto i = a.begin();
    auto j = b.begin();
    while (i != a.end() && j != b.end()) {
        if (*i == *j) return *i;
        if (*i < *j) {
            ++i;
        } else {
            ++j;
        }
    }
    return UINT32_MAX;
}

}  // namespace

FilterEstimate plan_filter(const disk::IndexLabels& labels, const LabelFilter& filter,
                           std::vector<uint32_t>& clause) {
    const auto count = [&](std::span<const uint32_t> c) {
        uint64_t sum = 0;
        for (uint32_t l : c) sum += labels.nodes_of(l).size();
        return sum;
    };
    clause.clear();
    bool have = false;
    uint64_t best = labels.node_count();
    for (const auto& c : filter.must) {
        const uint64_t e = count(c);
        if (!have || e < best) {
            best = e;
            clause.assign(c.begin(), c.end());
            have = true;
        }
    }
    if (!filter.should.empty()) {
        uint64_t e = 0;
        for (const auto& c : filter.should) e += count(c);
        if (!have || e < best) {
            best = e;
            clause.clear();
            for (const auto& c : filter.should) clause.insert(clause.end(), c.begin(), c.end());
            std::sort(clause.begin(), clause.end());
            clause.erase(std::unique(clause.begin(), clause.end()), clause.end());
            have = true;
        }
    }
    FilterEstimate e;
    e.walk_nodes = std::min(best, labels.node_count());
    e.matches = e.walk_nodes;
    const size_t positive = filter.must.size() + (filter.should.empty() ? 0 : 1);
    if (e.walk_nodes == 0 || (positive == 1 && filter.must_not.empty())) return e;
    // Other clauses narrow the walk's nodes: the matching fraction of an evenly spaced sample.
    constexpr uint64_t kSample = 256;
    const uint64_t step = std::max<uint64_t>(1, e.walk_nodes / kSample);
    uint64_t seen = 0, hit = 0, at = 0;
    const auto probe = [&](uint32_t node) {
        if (at++ % step != 0) return;
        ++seen;
        hit += filter.matches(labels.of(node)) ? 1 : 0;
    };
    if (clause.empty()) {
        for (uint64_t i = 0; i < labels.node_count() && seen < kSample; ++i) {
            probe(static_cast<uint32_t>(i));
        }
    } else {
        for (uint32_t l : clause) {
            for (uint32_t node : labels.nodes_of(l)) probe(node);
        }
    }
    // A sample without a match still leaves a few possible (0 only when none can match).
    const double f = std::max(static_cast<double>(hit), 0.5) / static_cast<double>(seen);
    e.matches = std::max<uint64_t>(
        1, std::min(e.walk_nodes, static_cast<uint64_t>(f * static_cast<double>(e.walk_nodes))));
    return e;
}

Result<std::unique_ptr<QueryScratch>> QueryScratch::create(
    const IndexContext& ctx, std::shared_ptr<const io::SectorFile> file,
    const io::FaultInjection* faults) {
    std::unique_ptr<QueryScratch> s(new QueryScratch());
    io::SectorReaderOptions ro;
    ro.queue_depth = ctx.max_beam_width;
    ro.max_read_bytes = ctx.layout.read_bytes();
    if (faults != nullptr) {
        STRATA_ASSIGN_OR_RETURN(s->reader_,
                                io::SectorReader::create_with_faults(std::move(file), ro, *faults));
    } else {
        STRATA_ASSIGN_OR_RETURN(s->reader_, io::SectorReader::create(std::move(file), ro));
    }
    const uint32_t dim = ctx.layout.dim;
    s->query_.reset(size_t{dim} * 4 + 64);
    s->query_f32_.reset(dim);
    s->table_.reset(ctx.pq->table_size());
    s->list_.reset(ctx.max_list_size + 1);
    s->results_.reset(ctx.max_list_size + 1);
    const uint64_t cap = visited_capacity(ctx);
    s->visited_mask_ = cap - 1;
    s->visited_keys_.reset(cap);
    s->visited_epoch_.reset(cap);
    std::fill_n(s->visited_epoch_.data(), cap, 0u);
    s->visited_flags_.reset(cap);
    const uint32_t fresh = std::max(ctx.layout.degree_max, ctx.nav_list_size) + 1;
    s->fresh_ids_.reset(fresh);
    s->fresh_dists_.reset(fresh);
    s->completions_.reset(new io::ReadCompletion[ctx.max_beam_width]);
    s->inflight_sectors_.reset(ctx.max_beam_width);
    if (ctx.nav != nullptr) {
        s->nav_list_.reset(ctx.nav_list_size + 1);
        s->nav_epoch_.reset(ctx.nav->size());
        std::fill_n(s->nav_epoch_.data(), ctx.nav->size(), 0u);
        s->nav_ids_.reset(ctx.nav->degree_max + 1);
        s->nav_nodes_.reset(ctx.nav->degree_max + 1);
        s->nav_dists_.reset(ctx.nav->degree_max + 1);
    }
    return s;
}

/// One query's run over a scratch. Holds no state across queries.
class BeamSearch {
  public:
    BeamSearch(const IndexContext& ctx, const SearchParams& p, QueryScratch& s, QueryStats& st)
        : ctx_(ctx), p_(p), s_(s), st_(st), layout_(ctx.layout), reader_(*s.reader_) {
        if (p.label_filter != nullptr && !p.label_filter->empty()) label_filter_ = p.label_filter;
    }

    Result<uint32_t> run() {
        const auto t0 = Clock::now();
        const uint64_t io_before = reader_.stats().io_wait_us;
        Status status;
        begin();
        if (label_filter_ != nullptr) {
            status = filtered();
        } else {
            start();
            status = walk();
        }
        if (!status.is_ok()) {
            // Let every read still in the kernel finish before the buffers are reused.
            if (!reader_.drain().is_ok()) s_.broken_ = true;
        }
        s_.inflight_count_ = 0;
        const uint64_t total_us = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
        const uint64_t io_us = reader_.stats().io_wait_us - io_before;
        st_.total_us = static_cast<uint32_t>(total_us);
        st_.io_us = static_cast<uint32_t>(std::min(io_us, total_us));
        st_.cpu_us = static_cast<uint32_t>(total_us - st_.io_us);
        if (!status.is_ok()) return status;
        return result_count_;
    }

  private:
    using Cand = QueryScratch::Cand;

    Status walk() { return p_.mode == SearchMode::kRounds ? rounds() : pipelined(); }

    // ---- filtered queries ----------------------------------------------------------------------
    /// Plans by the label counts: a scan of the matching nodes when few may match, else a walk
    /// restricted to the most selective clause's labels, completed by a scan when it found fewer
    /// than k matches (so the result holds min(k, matches) items).
    Status filtered() {
        const FilterEstimate est = plan_filter(*ctx_.labels, *label_filter_, s_.walk_labels_);
        if (est.matches == 0) return Status::ok();  // no node carries the labels it needs
        const uint64_t limit = p_.scan_limit > 0 ? p_.scan_limit : auto_scan_limit(est.walk_nodes);
        const bool scan = p_.filter_plan == FilterPlan::kScan ||
                          (p_.filter_plan == FilterPlan::kAuto && est.matches <= limit);
        if (!scan) {
            restricted_ = !s_.walk_labels_.empty();
            // When only a fraction of the walked nodes match (AND, NOT), the list grows by its
            // inverse so that about L matches are met (up to the index's max list size).
            if (est.matches < est.walk_nodes) {
                const double grow =
                    static_cast<double>(est.walk_nodes) / static_cast<double>(est.matches);
                L_ = static_cast<uint32_t>(std::min<double>(
                    ctx_.max_list_size, std::ceil(static_cast<double>(p_.list_size) * grow)));
                max_hops_ = IndexContext::max_hops(L_);
            }
            start();
            STRATA_RETURN_IF_ERROR(walk());
            if (result_count_ >= p_.k) return Status::ok();
        }
        return scan_matching();
    }

    bool admits(uint32_t id) const {
        return sorted_intersects(ctx_.labels->of(id), s_.walk_labels_);
    }

    /// Scores every node the filter matches by PQ (enumerated from the postings of the walk
    /// clause, or all nodes), keeps the list_size best in the list and reads them.
    Status scan_matching() {
        const disk::IndexLabels& lb = *ctx_.labels;
        if (!table_ready_) prepare_table();
        scan_ = true;
        restricted_ = false;
        L_ = p_.list_size;
        max_hops_ = IndexContext::max_hops(L_);
        size_ = 0;
        cursor_ = 0;
        taken_ = 0;
        const uint32_t chunk = std::max(layout_.degree_max, ctx_.nav_list_size);
        uint32_t m = 0;
        const auto flush = [&] {
            ctx_.pq->adc_batch(s_.table_.data(), ctx_.codes, s_.fresh_ids_.data(), m,
                               s_.fresh_dists_.data());
            for (uint32_t j = 0; j < m; ++j) insert(s_.fresh_dists_[j], s_.fresh_ids_[j]);
            st_.scanned += m;
            m = 0;
        };
        const auto consider = [&](uint32_t node) {
            if (!label_filter_->matches(lb.of(node))) return;
            s_.fresh_ids_[m++] = node;
            if (m == chunk) flush();
        };
        const std::vector<uint32_t>& clause = s_.walk_labels_;
        if (clause.empty()) {
            for (uint64_t node = 0; node < lb.node_count(); ++node) {
                consider(static_cast<uint32_t>(node));
            }
        } else {
            for (uint32_t l : clause) {
                for (uint32_t node : lb.nodes_of(l)) {
                    // A node with several of the clause's labels is taken at the first of them.
                    if (first_shared(lb.of(node), clause) == l) consider(node);
                }
            }
        }
        flush();
        return walk();
    }

    // ---- visited set: open addressing, epoch-tagged so a new query clears it in O(1) ----------
    // Each id seen in this query has a slot whose flag says whether it was expanded.
    uint64_t slot_of(uint32_t id, bool& inserted) {
        uint64_t h = (uint64_t{id} * 0x9E3779B97F4A7C15ull >> 17) & s_.visited_mask_;
        while (s_.visited_epoch_[h] == s_.epoch_) {
            if (s_.visited_keys_[h] == id) {
                inserted = false;
                return h;
            }
            h = (h + 1) & s_.visited_mask_;
        }
        s_.visited_epoch_[h] = s_.epoch_;
        s_.visited_keys_[h] = id;
        s_.visited_flags_[h] = kSeen;
        inserted = true;
        return h;
    }
    bool visit(uint32_t id) {
        bool inserted = false;
        slot_of(id, inserted);
        return inserted;
    }
    /// Marks `id` expanded; false when it already was.
    bool claim(uint32_t id) {
        bool inserted = false;
        const uint64_t h = slot_of(id, inserted);
        if (s_.visited_flags_[h] == kExpanded) return false;
        s_.visited_flags_[h] = kExpanded;
        return true;
    }
    uint8_t& flag(uint32_t id) {
        bool inserted = false;
        return s_.visited_flags_[slot_of(id, inserted)];
    }

    // ---- candidate list: sorted by (dist, id), at most L -------------------------------------
    void insert(float dist, uint32_t id) {
        Cand* list = s_.list_.data();
        if (size_ == L_ && !(dist < list[size_ - 1].dist)) return;
        uint32_t pos = static_cast<uint32_t>(
            std::upper_bound(list, list + size_, dist,
                             [](float d, const Cand& c) { return d < c.dist; }) -
            list);
        const uint32_t moved = std::min(size_, L_ - 1) - pos;
        std::memmove(list + pos + 1, list + pos, size_t{moved} * sizeof(Cand));
        list[pos] = {dist, id, kNew};
        size_ = std::min(size_ + 1, L_);
        cursor_ = std::min(cursor_, pos);
    }

    /// Index of the closest candidate still kNew, or size_ when none.
    uint32_t next_new() {
        const Cand* list = s_.list_.data();
        while (cursor_ < size_ && list[cursor_].state != kNew) ++cursor_;
        return cursor_;
    }

    // ---- results: the k closest by exact distance -------------------------------------------
    void add_result(float dist, uint32_t id) {
        Scored* r = s_.results_.data();
        if (result_count_ == p_.k && !(dist < r[result_count_ - 1].dist)) return;
        if (label_filter_ != nullptr && !label_filter_->matches(ctx_.labels->of(id))) return;
        if (p_.filter != nullptr && !p_.filter(ctx_.external_id(id), p_.filter_context)) return;
        for (uint32_t i = 0; i < result_count_; ++i) {
            if (r[i].id == id) return;
        }
        uint32_t pos = result_count_;
        while (pos > 0 && dist < r[pos - 1].dist) --pos;
        const uint32_t moved = std::min(result_count_, p_.k - 1) - pos;
        std::memmove(r + pos + 1, r + pos, size_t{moved} * sizeof(Scored));
        r[pos] = {dist, id};
        result_count_ = std::min(result_count_ + 1, p_.k);
    }

    // ---- the walk ----------------------------------------------------------------------------
    /// A new query: a new epoch clears the visited set (every plan uses it).
    void begin() {
        if (++s_.epoch_ == 0) {  // wrapped: clear the tags once every 2^32 queries
            std::fill_n(s_.visited_epoch_.data(), s_.visited_mask_ + 1, 0u);
            if (ctx_.nav != nullptr) std::fill_n(s_.nav_epoch_.data(), ctx_.nav->size(), 0u);
            s_.epoch_ = 1;
        }
    }

    void start() {
        prepare_table();
        if (restricted_) {
            seed_from_labels();
        } else if (ctx_.nav != nullptr) {
            seed_from_nav();
        } else {
            float d = 0;
            ctx_.pq->adc_batch(s_.table_.data(), ctx_.codes, &ctx_.medoid, 1, &d);
            visit(ctx_.medoid);
            insert(d, ctx_.medoid);
        }
    }

    void prepare_table() {
        ctx_.pq->compute_table(s_.query_f32_.data(), ctx_.metric, s_.table_.data());
        table_ready_ = true;
    }

    /// A restricted walk starts from the start nodes of its labels (the closest list_size).
    void seed_from_labels() {
        const disk::IndexLabels& lb = *ctx_.labels;
        s_.seeds_.clear();
        for (uint32_t l : s_.walk_labels_) {
            if (l >= lb.label_count() || lb.start[l] == disk::kNoNode) continue;
            float d = 0;
            ctx_.pq->adc_batch(s_.table_.data(), ctx_.codes, &lb.start[l], 1, &d);
            s_.seeds_.push_back({d, lb.start[l]});
        }
        std::sort(s_.seeds_.begin(), s_.seeds_.end(),
                  [](const Scored& a, const Scored& b) { return a.dist < b.dist; });
        uint32_t seeded = 0;
        for (const Scored& x : s_.seeds_) {
            if (seeded == L_) break;
            if (!visit(x.id)) continue;
            insert(x.dist, x.id);
            ++seeded;
        }
    }

    /// Greedy walk of the in-RAM navigation graph by PQ distance; its best nodes seed the list.
    void seed_from_nav() {
        const disk::NavGraph& nav = *ctx_.nav;
        const uint32_t L = ctx_.nav_list_size;
        Cand* list = s_.nav_list_.data();
        uint32_t size = 0;
        uint32_t* epoch = s_.nav_epoch_.data();
        const auto add = [&](float d, uint32_t s) {
            if (size == L && !(d < list[size - 1].dist)) return;
            uint32_t pos = size < L ? size : L - 1;
            while (pos > 0 && d < list[pos - 1].dist) {
                list[pos] = list[pos - 1];
                --pos;
            }
            list[pos] = {d, s, kNew};
            size = std::min(size + 1, L);
        };
        float d = 0;
        ctx_.pq->adc_batch(s_.table_.data(), ctx_.codes, &nav.nodes[nav.entry], 1, &d);
        epoch[nav.entry] = s_.epoch_;
        add(d, nav.entry);
        for (;;) {
            uint32_t i = 0;
            while (i < size && list[i].state != kNew) ++i;
            if (i == size) break;
            list[i].state = kDone;
            ++st_.nav_hops;
            uint32_t m = 0;
            for (uint32_t t : nav.neighbors(list[i].id)) {
                if (epoch[t] == s_.epoch_) continue;
                epoch[t] = s_.epoch_;
                s_.nav_ids_[m] = t;
                s_.nav_nodes_[m] = nav.nodes[t];
                ++m;
            }
            ctx_.pq->adc_batch(s_.table_.data(), ctx_.codes, s_.nav_nodes_.data(), m,
                               s_.nav_dists_.data());
            for (uint32_t j = 0; j < m; ++j) add(s_.nav_dists_[j], s_.nav_ids_[j]);
        }
        const uint32_t seeds = std::min(size, ctx_.nav_seeds);
        for (uint32_t i = 0; i < seeds; ++i) {
            const uint32_t node = nav.nodes[list[i].id];
            visit(node);
            insert(list[i].dist, node);
        }
    }

    /// Scores node `id` (bytes at `node`) exactly and its unvisited neighbours by PQ.
    Status expand(uint32_t id, const uint8_t* node) {
        const disk::NodeView v = layout_.view_node(node);
        if (!v.valid(layout_.degree_max)) {
            return Status::corruption(fmt::format("{}: node {} has degree {} > R {}",
                                                  reader_.file().path(), id, v.degree,
                                                  layout_.degree_max));
        }
        if (!claim(id)) return Status::ok();  // already expanded as a sector mate
        ++st_.hops;
        const float exact = ctx_.exact(s_.query_.data(), v.vector, layout_.dim);
        add_result(exact, id);
        mark_done(id);
        if (scan_) return Status::ok();  // a scan reads its candidates; it does not walk
        return expand_neighbors(id, v);
    }

    Status expand_neighbors(uint32_t id, const disk::NodeView& v) {
        uint32_t m = 0;
        for (uint32_t j : v.neighbors) {
            if (j >= layout_.node_count) {
                return Status::corruption(fmt::format("{}: node {} links to {} beyond the {} nodes",
                                                      reader_.file().path(), id, j,
                                                      layout_.node_count));
            }
            if (restricted_ && !admits(j)) continue;
            if (visit(j)) s_.fresh_ids_[m++] = j;
        }
        ctx_.pq->adc_batch(s_.table_.data(), ctx_.codes, s_.fresh_ids_.data(), m,
                           s_.fresh_dists_.data());
        for (uint32_t j = 0; j < m; ++j) insert(s_.fresh_dists_[j], s_.fresh_ids_[j]);
        return Status::ok();
    }

    /// The expanded node's list entry becomes kDone; false when it is not in the list (it may
    /// have left it meanwhile, or be a sector mate that never entered it).
    bool mark_done(uint32_t id) {
        Cand* list = s_.list_.data();
        for (uint32_t i = 0; i < size_; ++i) {
            if (list[i].id != id) continue;
            // The entry keeps its PQ distance: re-ranking the list by exact distances was
            // measured and read more sectors for the same recall on Fashion-MNIST.
            list[i].state = kDone;
            return true;
        }
        return false;
    }

    /// Inserts an already expanded node into the list.
    void insert_done(float dist, uint32_t id) {
        insert(dist, id);
        Cand* list = s_.list_.data();
        for (uint32_t i = 0; i < size_; ++i) {
            if (list[i].id == id) {
                list[i].state = kDone;
                return;
            }
        }
    }

    /// The other nodes of a sector just read cost no I/O: each is scored exactly, and one that
    /// would enter the candidate list is expanded on the spot (Starling's block search; with
    /// sector packing these are the node's graph neighbours).
    Status expand_sector_mates(uint32_t id, const uint8_t* sector) {
        const uint32_t nps = layout_.nodes_per_sector;
        if (nps <= 1) return Status::ok();
        const uint64_t first = layout_.section_sector_of(id) * nps;
        const uint64_t last = std::min<uint64_t>(first + nps, layout_.node_count);
        for (uint64_t other = first; other < last; ++other) {
            if (other == id) continue;
            const auto mate = static_cast<uint32_t>(other);
            const uint8_t* node = sector + layout_.offset_in_sector(other);
            const disk::NodeView v = layout_.view_node(node);
            const float exact = ctx_.exact(s_.query_.data(), v.vector, layout_.dim);
            add_result(exact, mate);
            if (scan_ || (restricted_ && !admits(mate))) continue;
            // A candidate taken while this sector was in flight was waiting for it.
            const bool awaited = flag(mate) == kAwaitingSector;
            float pq = 0;
            ctx_.pq->adc_batch(s_.table_.data(), ctx_.codes, &mate, 1, &pq);
            if (!awaited && size_ == L_ && !(pq < s_.list_[size_ - 1].dist)) continue;
            if (!v.valid(layout_.degree_max)) {
                return Status::corruption(fmt::format("{}: node {} has degree {} > R {}",
                                                      reader_.file().path(), mate, v.degree,
                                                      layout_.degree_max));
            }
            if (!claim(mate)) continue;
            ++st_.hops;
            ++st_.mate_expansions;
            if (!mark_done(mate)) insert_done(pq, mate);
            STRATA_RETURN_IF_ERROR(expand_neighbors(mate, v));
        }
        return Status::ok();
    }

    /// Takes candidate `i` (kNew): expands it from the cache, or submits its read. Returns false
    /// when it went to the disk.
    Result<bool> take(uint32_t i) {
        Cand& c = s_.list_[i];
        ++taken_;
        if (const uint8_t* node = ctx_.cache->find(c.id)) {
            ++st_.cache_hits;
            c.state = kDone;
            STRATA_RETURN_IF_ERROR(expand(c.id, node));
            return true;
        }
        const auto span = layout_.read_span(c.id);
        if (layout_.nodes_per_sector > 1) {
            // Its sector is already on the way for a mate: no second read of the same sector.
            const uint64_t sector = layout_.section_sector_of(c.id);
            for (uint32_t j = 0; j < s_.inflight_count_; ++j) {
                if (s_.inflight_sectors_[j] != sector) continue;
                c.state = kInFlight;
                flag(c.id) = kAwaitingSector;
                return true;
            }
        }
        const io::ReadRequest req{span.offset_bytes, span.length_bytes, c.id};
        STRATA_ASSIGN_OR_RETURN(uint32_t accepted, reader_.submit({&req, 1}));
        STRATA_CHECK(accepted == 1);
        if (layout_.nodes_per_sector > 1) {
            s_.inflight_sectors_[s_.inflight_count_++] = layout_.section_sector_of(c.id);
        }
        c.state = kInFlight;
        ++st_.reads;
        st_.bytes_read += span.length_bytes;
        return false;
    }

    Status complete(const io::ReadCompletion& c) {
        Status status = c.status;
        const auto id = static_cast<uint32_t>(c.user_tag);
        if (layout_.nodes_per_sector > 1) {
            const uint64_t sector = layout_.section_sector_of(id);
            for (uint32_t j = 0; j < s_.inflight_count_; ++j) {
                if (s_.inflight_sectors_[j] != sector) continue;
                s_.inflight_sectors_[j] = s_.inflight_sectors_[--s_.inflight_count_];
                break;
            }
        }
        if (status.is_ok()) {
            const uint8_t* node = c.data + layout_.read_span(id).node_offset_bytes;
            status = expand(id, node);
            if (status.is_ok()) status = expand_sector_mates(id, c.data);
        }
        reader_.release(c.slot);
        return status;
    }

    bool hop_budget_left() const { return taken_ < max_hops_; }

    /// Keeps up to W reads in flight; a completed node is expanded at once and the next read
    /// goes out before the following completion is handled.
    Status pipelined() {
        for (;;) {
            STRATA_RETURN_IF_ERROR(top_up());
            if (reader_.in_flight() == 0) return Status::ok();
            STRATA_ASSIGN_OR_RETURN(uint32_t got, reader_.wait({s_.completions_.get(), 1}, 1));
            for (uint32_t i = 0; i < got; ++i) {
                STRATA_RETURN_IF_ERROR(complete(s_.completions_[i]));
            }
        }
    }

    Status top_up() {
        while (reader_.in_flight() < p_.beam_width && hop_budget_left()) {
            const uint32_t i = next_new();
            if (i == size_) break;
            STRATA_RETURN_IF_ERROR(take(i).status());
        }
        return Status::ok();
    }

    /// DiskANN's rounds: the W closest unexpanded candidates, read together, waited for together.
    Status rounds() {
        for (;;) {
            uint32_t issued = 0;
            while (issued < p_.beam_width && hop_budget_left()) {
                const uint32_t i = next_new();
                if (i == size_) break;
                // A cached expansion counts toward the round, as in DiskANN.
                STRATA_RETURN_IF_ERROR(take(i).status());
                ++issued;
            }
            if (reader_.in_flight() == 0) {
                if (issued == 0) return Status::ok();
                continue;
            }
            // Collect the whole round, then expand in node-id order: the result does not
            // depend on the order the reads finished in.
            uint32_t got = 0;
            while (reader_.in_flight() > 0) {
                const uint32_t want = reader_.in_flight();
                STRATA_ASSIGN_OR_RETURN(uint32_t n,
                                        reader_.wait({s_.completions_.get() + got, want}, want));
                got += n;
            }
            io::ReadCompletion* done = s_.completions_.get();
            std::sort(done, done + got,
                      [](const io::ReadCompletion& a, const io::ReadCompletion& b) {
                          return a.user_tag < b.user_tag;
                      });
            Status first;
            for (uint32_t i = 0; i < got; ++i) {
                Status st = complete(done[i]);  // releases every slot, even after an error
                if (first.is_ok() && !st.is_ok()) first = std::move(st);
            }
            STRATA_RETURN_IF_ERROR(first);
        }
    }

    const IndexContext& ctx_;
    const SearchParams& p_;
    QueryScratch& s_;
    QueryStats& st_;
    const disk::NodeLayout& layout_;
    io::SectorReader& reader_;
    uint32_t size_ = 0;
    uint32_t cursor_ = 0;
    uint32_t result_count_ = 0;
    uint32_t taken_ = 0;         // candidates taken from the list (read or served by the cache)
    uint32_t L_ = p_.list_size;  // list size (a filtered walk may grow it)
    uint32_t max_hops_ = IndexContext::max_hops(p_.list_size);
    // Filtered queries.
    // Measured on 1M x 128 (scripts/bench.sh filter): a scan costs about 50 ns per matching node
    // plus its L reads; it beat the filtered walk at 955 matches (L = 20: 3039 vs 2445 QPS) and
    // lost at 10,303 (L = 20: 1209 vs 1902; L = 200: 243 vs 310).
    static constexpr uint32_t kScanPerListEntry = 50;

    /// kAuto scans when at most this many nodes may match: 50 x L (the crossover measured for
    /// one label at 1M). A walk over a union of c labels (a range, an `any`) follows each
    /// label's own edges, so it behaves like c walks of L / c: a range of 10 values covering 1%
    /// of 1M reached only 0.50-0.81 recall@10 at L = 20-200 where the scan reached 0.97 at L =
    /// 20. Unions get 64 x L x min(c, 16), up to 32,768 nodes, when the scan would enumerate
    /// at most that many (`walk_nodes`: an AND with a wide range enumerates the whole range;
    /// a larger scan costs more than the walk's extra reads).
    uint64_t auto_scan_limit(uint64_t walk_nodes) const {
        constexpr uint64_t kUnionScanMax = 32768;
        const uint64_t one = uint64_t{kScanPerListEntry} * p_.list_size;
        const uint64_t c = s_.walk_labels_.size();
        if (c < 2 || walk_nodes > kUnionScanMax) return one;
        return std::max(one,
                        std::min<uint64_t>(uint64_t{64} * p_.list_size * std::min<uint64_t>(c, 16),
                                           kUnionScanMax));
    }
    const LabelFilter* label_filter_ = nullptr;
    bool restricted_ = false;  // the walk admits only nodes carrying one of s_.walk_labels_
    bool scan_ = false;        // the list holds scanned candidates: read, score, no expansion
    bool table_ready_ = false;
};

Result<uint32_t> beam_search(const IndexContext& ctx, const SearchParams& params,
                             QueryScratch& scratch, QueryStats& stats) {
    stats = {};
    BeamSearch search(ctx, params, scratch, stats);
    return search.run();
}

}  // namespace strata::search
