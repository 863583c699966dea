// Standalone timing of PQ training plus encoding of a whole vector file (the target:
// 1M x 128 f32 at 32 bytes in under 60 s on 2 threads).
// Usage: pq_train_bench <base.fbin> [bytes=0 (default rule)] [threads=0] [iterations=12]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "io/dataset.hpp"
#include "quant/pq.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Mean relative L2 error of ADC against exact distances, over `pairs` random (row, row) pairs.
double relative_error(const strata::quant::PqCodebook& pq, const strata::io::Dataset& data,
                      const std::vector<uint8_t>& codes, int pairs) {
    strata::Rng rng(7);
    std::vector<float> table(pq.table_size());
    std::vector<float> q(data.dim()), x(data.dim());
    const strata::distance::MatrixView view{data.row(0), data.size(), data.dim(), data.dtype(),
                                            data.row_stride_bytes()};
    double sum = 0.0;
    int counted = 0;
    for (int i = 0; i < pairs; ++i) {
        const uint64_t a = rng.below(data.size());
        const uint64_t b = rng.below(data.size());
        const auto* qa = static_cast<const float*>(view.row(a));
        const auto* xb = static_cast<const float*>(view.row(b));
        double exact = 0.0;
        for (uint32_t t = 0; t < data.dim(); ++t)
            exact += (double{qa[t]} - xb[t]) * (qa[t] - xb[t]);
        if (exact <= 0.0) continue;
        pq.compute_table(qa, strata::Metric::kL2, table.data());
        const float adc = pq.adc(table.data(), codes.data() + b * pq.bytes());
        sum += std::abs(adc - exact) / exact;
        ++counted;
    }
    return counted > 0 ? sum / counted : 0.0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <base.fbin> [bytes] [threads] [iterations]\n", argv[0]);
        return 2;
    }
    strata::quant::PqOptions options;
    options.bytes = argc > 2 ? static_cast<uint32_t>(std::atoi(argv[2])) : 0;
    options.threads = argc > 3 ? std::atoi(argv[3]) : 0;
    options.iterations = argc > 4 ? static_cast<uint32_t>(std::atoi(argv[4])) : 12;
    strata::Result<strata::io::Dataset> data = strata::io::Dataset::open(argv[1]);
    if (!data.is_ok()) {
        std::fprintf(stderr, "%s\n", data.status().to_string().c_str());
        return 1;
    }
    const strata::distance::MatrixView view{data->row(0), data->size(), data->dim(), data->dtype(),
                                            data->row_stride_bytes()};
    const auto t0 = std::chrono::steady_clock::now();
    strata::Result<strata::quant::PqCodebook> pq = strata::quant::PqCodebook::train(view, options);
    if (!pq.is_ok()) {
        std::fprintf(stderr, "%s\n", pq.status().to_string().c_str());
        return 1;
    }
    const double train_s = seconds_since(t0);
    std::vector<uint8_t> codes(data->size() * pq->bytes());
    const auto t1 = std::chrono::steady_clock::now();
    const strata::Status s = pq->encode_all(view, codes.data(), options.threads, nullptr);
    if (!s.is_ok()) {
        std::fprintf(stderr, "%s\n", s.to_string().c_str());
        return 1;
    }
    const double encode_s = seconds_since(t1);
    std::printf(
        "rows %llu dim %u bytes %u threads %d iterations %u sample %llu: train %.2f s, "
        "encode %.2f s, total %.2f s; train mse %.4f; mean relative L2 error %.4f\n",
        static_cast<unsigned long long>(data->size()), data->dim(), pq->bytes(), options.threads,
        options.iterations, static_cast<unsigned long long>(pq->train_rows()), train_s, encode_s,
        train_s + encode_s, pq->train_mse(),
        data->dtype() == strata::DType::kF32 ? relative_error(*pq, *data, codes, 2000) : 0.0);
    return 0;
}
