// Test support: re-seal an index directory after a test edited its bytes on purpose.
#pragma once

#include <string>

#include <strata/status.hpp>

namespace strata::disk::detail {

/// FOR TESTS AND FORENSICS ONLY. Recomputes every checksum of index directory `dir` from the
/// bytes now on disk — companion payload sizes and checksums, their header checksums, the files
/// table (sizes, checksums), the node block checksums, the checksum-table checksum and the
/// header checksum — so that a deliberately forged value (a neighbour id >= count, a bumped
/// version) reaches the structural checks instead of failing a checksum. Field values other
/// than sizes and checksums are kept as found. Reads whole files into memory: small indexes only.
/// Corruption when index.strata is too short to hold its header.
Status reseal_index_for_testing(const std::string& dir);

}  // namespace strata::disk::detail
