// Write validation and the stored form of a collection's vectors: the collection's dtype, and
// unit-length f32 under cosine. Every check names the row; nothing is written on error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <strata/builder.hpp>
#include <strata/collection.hpp>
#include <strata/status.hpp>

namespace strata::collection {

/// Element type of the stored rows: f32 under cosine (normalized), else the collection's.
inline DType stored_dtype(const CollectionParams& p) {
    return p.metric == Metric::kCosine ? DType::kF32 : p.dtype;
}

/// Bytes of one stored row.
size_t stored_row_bytes(const CollectionParams& p);

/// The builder options of the collection's disk generations (the rest left at defaults).
BuildOptions index_build_options(const CollectionParams& p);

/// Converts `n` rows of dim elements of `dtype` into the stored form, appended to `out`.
/// `dtype` must be the collection's, or f32 holding integers in range for a u8/i8 collection.
/// InvalidArgument naming the row for NaN/Inf, a non-integral or out-of-range value, or a zero
/// vector under cosine. `what` names the rows in messages ("row", "query").
Status to_stored(const CollectionParams& p, const void* rows, DType dtype, uint64_t n,
                 std::vector<uint8_t>& out, const char* what = "row");

/// InvalidArgument naming the row for a label a collection cannot hold: `labels` must have n
/// rows of at most 1024 names, each 1-256 bytes without ',', line breaks or edge spaces.
Status check_label_rows(std::span<const std::vector<std::string>> labels, uint64_t n);
/// InvalidArgument naming the position when an id repeats within the batch.
Status check_unique_ids(const uint64_t* ids, uint64_t n);

}  // namespace strata::collection
