// Builder input checks: non-finite values, zero vectors under cosine, norm statistics, and the
// external id map.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <strata/status.hpp>
#include <strata/types.hpp>

#include "io/dataset.hpp"

namespace strata::disk {

struct InputScan {
    /// Rows that cannot be indexed (NaN/Inf anywhere; zero norm under cosine), ascending.
    std::vector<uint64_t> bad_rows;
    /// Description of the first bad row ("row 17 element 3 is NaN"), empty when none.
    std::string first_problem;
    /// Norm statistics over the good rows (0 when there are none).
    double norm_min = 0;
    double norm_mean = 0;
    double norm_max = 0;
    uint64_t good_rows = 0;
};

/// Rows per pass chunk so that one chunk spans about `bytes` of the file (at least 1024 rows).
uint64_t rows_per_chunk(const io::Dataset& data, uint64_t bytes = 64ull << 20);

/// Scans every row in parallel, in chunks of about 64 MiB, dropping the input's resident pages
/// after each (so a memory-mapped input never counts against the build's memory). Never fails
/// on bad rows: the caller decides (reject or skip).
InputScan scan_input(const io::Dataset& data, Metric metric);

/// Loads external ids: a text file with one unsigned integer per line (".txt"), or raw
/// little-endian u64 values (any other extension). Must hold exactly `rows` distinct ids.
/// Errors name the file and the line/row: InvalidArgument (count, duplicate, not a number),
/// NotFound/IOError.
/// load_ids without a row count to match.
inline constexpr uint64_t kAnyIdCount = ~uint64_t{0};
Result<std::vector<uint64_t>> load_ids(const std::string& path, uint64_t rows);

}  // namespace strata::disk
