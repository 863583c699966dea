// The per-ISA kernel tables; each is defined in its own kernels_<isa>.cpp.
#pragma once

#include "distance/distance.hpp"

namespace strata::distance::detail {

// kernels_avx2.cpp and kernels_avx512.cpp are compiled with -mavx2/-mavx512* (and only they are).
// ODR rule for those files: they hold intrinsics and functions of internal linkage only, and
// export nothing but their table. An inline or template function with external linkage
// instantiated there could be emitted with AVX-512 instructions and then chosen by the linker
// for a scalar caller. The tables are constant-initialized (constinit), so reading them runs no
// code from those files; calling through one is only allowed once isa_supported() said yes.
// The distance_isa_objects test checks with nm that the ISA objects define no other global or
// weak symbol.

/// Plain loops; the reference the SIMD kernels are tested against.
[[gnu::visibility("hidden")]] extern const Kernels kScalarKernels;
/// AVX2 + FMA.
[[gnu::visibility("hidden")]] extern const Kernels kAvx2Kernels;
/// AVX-512 F/BW/DQ/VL.
[[gnu::visibility("hidden")]] extern const Kernels kAvx512Kernels;

}  // namespace strata::distance::detail
