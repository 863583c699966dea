// Data checks shared by the tools and the builder: non-finite values, zero vectors.
#pragma once

#include <strata/status.hpp>

#include "io/dataset.hpp"

namespace strata::io {

/// OK when every element of an f32 data set is finite (integer data always is). Otherwise
/// InvalidArgument naming the file, the first bad row and element, and whether it is NaN or Inf.
/// Scans in parallel with TBB.
Status check_finite(const Dataset& data);

}  // namespace strata::io
