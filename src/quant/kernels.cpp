// Run-time choice of the quant kernel table, following the distance module's ISA decision.
#include "quant/kernel_tables.hpp"

namespace strata::quant::detail {

const QuantKernels* quant_kernels_for(distance::Isa isa) {
    if (!distance::isa_supported(isa)) return nullptr;
    switch (isa) {
        case distance::Isa::kScalar:
            return &kScalarQuantKernels;
        case distance::Isa::kAvx2:
            return &kAvx2QuantKernels;
        case distance::Isa::kAvx512:
            return &kAvx512QuantKernels;
    }
    return nullptr;
}

const QuantKernels& quant_kernels() {
    // distance::kernels() already applied STRATA_ISA and only settles on supported ISAs.
    static const QuantKernels& active = *quant_kernels_for(distance::kernels().isa);
    return active;
}

}  // namespace strata::quant::detail
