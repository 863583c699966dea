// IndexWriter: streams one index directory (index.strata, companions, meta.json) into a temporary
// directory and renames it into place only when complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <strata/status.hpp>
#include <strata/types.hpp>

#include "disk/format.hpp"

namespace strata::disk {

/// What the node sectors hold; fixed before the first node is written.
struct IndexLayoutParams {
    /// Distance metric recorded for the search. Default l2.
    Metric metric = Metric::kL2;
    /// Element type of the stored full-precision vectors. Default f32.
    DType dtype = DType::kF32;
    /// Vector dimension, in [1, kMaxDimension]. No default (0 is invalid).
    uint32_t dim = 0;
    /// R: neighbour slots per node, in [1, kMaxDegree]. No default (0 is invalid).
    uint32_t degree_max = 0;
    /// Nodes the index will hold (ids 0 .. node_count-1), at most kMaxNodeCount. Default 0.
    uint64_t node_count = 0;
    /// Search entry point (the medoid): < node_count, or kNoNode for an empty index. May also be
    /// set later with IndexWriter::set_entry_point. Default kNoNode.
    uint32_t entry_point = kNoNode;

    Status validate() const;
};

/// How the writer behaves.
struct WriterOptions {
    /// Replace an existing index directory (swapped atomically at finish). The existing
    /// directory must be empty or hold an index.strata; anything else is refused. Default false.
    bool force = false;
    /// Node-section bytes per block checksum, a multiple of kSectorBytes in (0, 1 GiB].
    /// Default kDefaultChecksumBlockBytes (1 MiB).
    uint32_t checksum_block_bytes = kDefaultChecksumBlockBytes;

    Status validate() const;
};

/// Writes one index directory. Everything goes to `<dir>.tmp-<pid>-<uid>/`, which finish()
/// fsyncs and renames to `dir`; a crash or an unfinished writer therefore never leaves a
/// directory at `dir` (a leftover temporary directory is refused by IndexReader by its name and
/// its missing header). Memory use is O(R + number of checksum blocks): nodes are streamed.
///
/// Use: create, append_node for ids 0..node_count-1 in order, add companions at any point,
/// finish(meta_json). After an I/O error every call returns that error; destroying a writer that
/// did not finish removes its temporary directory. Movable, not copyable, not thread-safe.
class IndexWriter {
  public:
    /// Creates the temporary directory beside `dir`. AlreadyExists when `dir` exists and
    /// options.force is false; InvalidArgument for bad params/options or (with force) a `dir`
    /// that is not an index directory; NotFound when the parent directory is missing; IOError
    /// (naming the path) when it cannot be written.
    static Result<IndexWriter> create(const std::string& dir, const IndexLayoutParams& params,
                                      const WriterOptions& options = {});

    IndexWriter(IndexWriter&& other) noexcept;
    IndexWriter& operator=(IndexWriter&& other) noexcept;
    IndexWriter(const IndexWriter&) = delete;
    IndexWriter& operator=(const IndexWriter&) = delete;
    /// Removes the temporary directory unless finish() succeeded.
    ~IndexWriter();

    /// Appends node nodes_appended(): `vector` holds dim elements of the dtype; `neighbors` at
    /// most degree_max ids (asserted). InvalidArgument for more than node_count nodes or for a
    /// neighbour id >= node_count, equal to the node itself, or repeated.
    Status append_node(const void* vector, std::span<const uint32_t> neighbors);
    /// Nodes appended so far (the id of the next one).
    uint64_t nodes_appended() const;
    /// Sets the entry point; InvalidArgument unless id < node_count.
    Status set_entry_point(uint32_t id);

    /// Writes companion `kind` (any known kind except kMetaJson) with `payload` in one call.
    /// `record_bytes`: bytes per record, 0 for an opaque blob; per-node kinds need
    /// payload == node_count * record_bytes (ids: record_bytes 8, pq.codes: pq_bytes).
    /// InvalidArgument for a bad kind, a kind written twice or a size mismatch.
    Status add_file(FileKind kind, std::string_view payload, uint32_t record_bytes = 0);
    /// Streaming form of add_file for large payloads: begin_file, append_file..., end_file.
    /// One companion can be open at a time; size checks happen in end_file.
    Status begin_file(FileKind kind, uint32_t record_bytes = 0);
    Status append_file(const void* data, size_t bytes);
    Status end_file();

    /// Completes the index: requires node_count nodes appended, an entry point and no open
    /// companion. Writes ids.u64 (row numbers) if no id map was added, meta.json (`meta_json`,
    /// a JSON object, see render_meta_json), the checksum section and the header; fsyncs every
    /// file; renames the temporary directory to `dir` (atomically exchanging it with an old one
    /// when forced, then removing the old one) and fsyncs the parent. After success the writer
    /// is spent.
    Status finish(std::string_view meta_json);

    /// The final directory and the temporary one being written.
    const std::string& dir() const;
    const std::string& temp_dir() const;
    const NodeLayout& layout() const;

  private:
    struct Impl;
    explicit IndexWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Removes `<base>.tmp-<pid>-<hex>` directories beside `dir` left by writers whose process no
/// longer exists (a build killed midway). Returns how many were removed; IOError if the parent
/// cannot be listed or an entry cannot be removed.
Result<uint64_t> remove_stale_temp_dirs(const std::string& dir);

}  // namespace strata::disk
