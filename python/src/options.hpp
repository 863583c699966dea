// Keyword options of the strata module (Collection.open(..., **options), strata.build(...,
// **options)) read into the C++ options structs, each checked for its type and range.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>

#include <strata/builder.hpp>
#include <strata/collection.hpp>
#include <strata/disk_index.hpp>

namespace strata::python {

/// Takes named values out of a kwargs dict; finish() refuses whatever is left. TypeError for a
/// value of the wrong type or an unknown name, strata.InvalidArgument for an out-of-range one.
class Kwargs {
  public:
    /// `function` names the caller in messages, e.g. "Collection.open()".
    Kwargs(const pybind11::kwargs& kwargs, std::string function);

    void take(const char* name, uint32_t& out);
    void take(const char* name, uint64_t& out);
    void take(const char* name, int& out);
    void take(const char* name, double& out);
    void take(const char* name, float& out);
    void take(const char* name, bool& out);
    /// A str or an os.PathLike.
    void take(const char* name, std::string& out);
    void take(const char* name, std::vector<std::string>& out);
    void take(const char* name, Metric& out);
    void take(const char* name, CollectionOptions::Sync& out);

    /// TypeError naming the first keyword no take() consumed.
    void finish() const;

  private:
    /// The value of `name` removed from the dict, or a null handle when absent.
    pybind11::object pop(const char* name);
    /// `v` as an integer in [lo, hi]: TypeError when it is not an int, InvalidArgument when
    /// it is out of range.
    int64_t integer(const char* name, const pybind11::object& v, int64_t lo, int64_t hi) const;

    pybind11::dict kwargs_;
    std::string function_;
};

/// DiskIndexOptions from cache_bytes, io, use_nav_graph, max_list_size, max_beam_width.
void read_disk_options(Kwargs& kw, DiskIndexOptions& o);
/// CollectionOptions (the disk index's options included, flattened).
CollectionOptions read_collection_options(Kwargs& kw);
/// BuildOptions; `degree` is degree_max.
BuildOptions read_build_options(Kwargs& kw);

}  // namespace strata::python
