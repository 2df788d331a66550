// The packed prefill kernel against its scalar reference, over tails in every dimension.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/dot.h"
#include "kernels/cpu/gemm.h"
#include "quant/quant.h"

namespace g4::cpu {
namespace {

std::vector<GemmIsa> isas() {
  std::vector<GemmIsa> v;
  if (have_avx2()) v.push_back(GemmIsa::kAvx2);
  if (have_avx512()) v.push_back(GemmIsa::kAvx512);
  return v;
}

// Every instruction set this CPU has, against the scalar reference.
TEST(GemmPanel, MatchesReference) {
  if (isas().empty()) GTEST_SKIP() << "no SIMD version on this CPU: the scalar reference is what runs";
  std::mt19937 rng(4);
  std::normal_distribution<float> nd;
  for (auto [M, K, n] : std::vector<std::tuple<int64_t, int64_t, int>>{
           {16, 256, 6}, {37, 300, 13}, {5, 7, 1}, {33, 513, 7}, {64, 1024, 12}, {20, 40, 25}, {16, 8, 11}}) {
    for (DType t : {DType::F32, DType::F16, DType::BF16}) {
      std::vector<float> wf(size_t(M * K));
      for (auto& v : wf) v = nd(rng);
      std::vector<uint16_t> wh(wf.size());
      for (size_t i = 0; i < wf.size(); ++i) wh[i] = t == DType::F16 ? f32_to_f16(wf[i]) : f32_to_bf16(wf[i]);
      const auto* w = t == DType::F32 ? reinterpret_cast<const uint8_t*>(wf.data())
                                      : reinterpret_cast<const uint8_t*>(wh.data());
      const size_t rb = size_t(K) * dtype_size(t);
      std::vector<float> x(size_t(n) * size_t(K));
      for (auto& v : x) v = nd(rng);
      std::vector<float> a(size_t(n) * size_t(M), -1), b(a.size(), -1), pack(size_t(kPanelRows) * kBlockK);
      for (int64_t r0 = 0; r0 < M; r0 += kPanelRows)
        gemm_panel_ref(t, w, rb, M, K, r0, x.data(), n, b.data(), pack.data());
      for (GemmIsa isa : isas()) {
        std::fill(a.begin(), a.end(), -1.0f);
        for (int64_t r0 = 0; r0 < M; r0 += kPanelRows)
          gemm_panel_isa(isa, t, w, rb, M, K, r0, x.data(), n, a.data(), pack.data());
        for (size_t i = 0; i < a.size(); ++i)
          ASSERT_NEAR(a[i], b[i], 1e-4 * (1 + std::fabs(b[i])))
              << dtype_name(t) << " isa " << int(isa) << " M" << M << " K" << K << " n" << n;
      }
    }
  }
}

// Quantized weights through the F32 path (what CPUs without VNNI use for prefill): rows expanded per
// K-block, on every ISA and the scalar reference, against the dequantized matrix in double precision.
TEST(GemmPanel, BlockTypesMatchDequantizedProduct) {
  std::mt19937 rng(6);
  std::normal_distribution<float> nd;
  const int64_t M = 21, K = 768;  // a K-block tail of 256 and a partial second panel
  const int n = 9;
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::IQ4_XS}) {
    std::vector<float> src(size_t(M * K));
    for (auto& v : src) v = nd(rng);
    std::vector<uint8_t> w(dtype_row_bytes(t, M * K));
    quant::quantize(t, src.data(), w.data(), M * K);
    std::vector<float> wf(src.size());
    quant::dequantize(t, w.data(), wf.data(), M * K);
    std::vector<float> x(size_t(n * K));
    for (auto& v : x) v = nd(rng);
    std::vector<float> pack(size_t(kPanelRows) * kBlockK);
    std::vector<GemmIsa> all = isas();
    all.push_back(GemmIsa::kScalar);
    for (GemmIsa isa : all) {
      std::vector<float> y(size_t(n * M), -1);
      for (int64_t r0 = 0; r0 < M; r0 += kPanelRows)
        gemm_panel_isa(isa, t, w.data(), dtype_row_bytes(t, K), M, K, r0, x.data(), n, y.data(), pack.data());
      for (int i = 0; i < n; ++i)
        for (int64_t r = 0; r < M; ++r) {
          double exact = 0, mag = 0;
          for (int64_t k = 0; k < K; ++k) {
            exact += double(wf[size_t(r * K + k)]) * x[size_t(i * K + k)];
            mag += std::fabs(double(wf[size_t(r * K + k)]) * x[size_t(i * K + k)]);
          }
          ASSERT_NEAR(y[size_t(i * M + r)], exact, 1e-5 * mag) << dtype_name(t) << " isa " << int(isa);
        }
    }
  }
}

}  // namespace
}  // namespace g4::cpu
