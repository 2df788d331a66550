// The integer prefill product: against the dequantized weights times the quantized activations
// (double precision), for every block type, odd row counts, token counts around the tile size and
// K across the blocking boundary; and the SIMD panel kernel against the scalar one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/qgemm.h"
#include "quant/quant.h"
#include "testing/quant_blocks.h"

namespace g4::cpu {
namespace {

constexpr auto& kTypes = testing::kBlockTypes;

TEST(QGemm, MatchesDequantizedProduct) {
  std::mt19937 rng(21);
  std::normal_distribution<float> nd;
  ThreadPool pool(2);
  for (DType t : kTypes) {
    for (int64_t K : {int64_t(512), int64_t(2304)}) {
      const int64_t M = 37;
      auto w = testing::random_blocks(t, size_t(M), size_t(K), rng);
      std::vector<float> wf(size_t(M * K));
      quant::dequantize(t, w.data(), wf.data(), M * K);
      for (int n : {1, 5, 8, 13}) {
        std::vector<float> x(size_t(n * K)), y(size_t(n * M), -1.0f);
        for (auto& v : x) v = nd(rng);
        qgemm(pool, t, w.data(), M, K, x.data(), n, y.data());
        QAct act;
        qgemm_quantize(x.data(), n, size_t(K), &act);
        for (int i = 0; i < n; ++i)
          for (int64_t r = 0; r < M; ++r) {
            double exact = 0, mag = 0;
            for (int64_t k = 0; k < K; ++k) {
              const double xv = double(act.d[size_t(i * K / 32 + k / 32)]) * act.qs[size_t(i * K + k)];
              exact += double(wf[size_t(r * K + k)]) * xv;
              mag += std::fabs(double(wf[size_t(r * K + k)]) * xv);
            }
            ASSERT_NEAR(y[size_t(i * M + r)], exact, 1e-5 * mag + 1e-6)
                << dtype_name(t) << " K=" << K << " n=" << n << " token " << i << " row " << r;
          }
      }
    }
  }
}

TEST(QGemm, SimdPackMatchesReference) {
  if (!qgemm_has_simd()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  std::mt19937 rng(29);
  for (DType t : kTypes) {
    const int64_t M = 21, K = 2560, units = K / 32;  // two row panels, the second partly past M
    auto w = testing::random_blocks(t, size_t(M), size_t(K), rng);
    for (int64_t r0 : {int64_t(0), int64_t(16)})
      for (auto [u0, nu] : {std::pair<int64_t, int64_t>{0, units}, {8, 72}}) {
        std::vector<uint8_t> a(size_t(nu) * kQUnitBytes, 1), b(size_t(nu) * kQUnitBytes, 2);
        qgemm_pack_ref(t, w.data(), dtype_row_bytes(t, K), M, r0, u0, nu, a.data());
        qgemm_pack(t, w.data(), dtype_row_bytes(t, K), M, r0, u0, nu, b.data());
        ASSERT_EQ(a, b) << dtype_name(t) << " r0=" << r0 << " u0=" << u0;
      }
  }
}

TEST(QGemm, SimdPanelMatchesReference) {
  if (!qgemm_has_simd()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  std::mt19937 rng(23);
  std::normal_distribution<float> nd;
  for (DType t : kTypes) {
    const int64_t M = 16, K = 1024, nu = K / 32;
    auto w = testing::random_blocks(t, size_t(M), size_t(K), rng);
    std::vector<uint8_t> pack(size_t(nu) * kQUnitBytes);
    qgemm_pack(t, w.data(), dtype_row_bytes(t, K), M, 0, 0, nu, pack.data());
    for (int n = 1; n <= 8; ++n) {
      std::vector<float> x(size_t(n * K));
      for (auto& v : x) v = nd(rng);
      QAct act;
      qgemm_quantize(x.data(), n, size_t(K), &act);
      std::vector<float> a(size_t(n * M), 0.5f), b(size_t(n * M), 0.5f);
      qgemm_panel_ref(pack.data(), 0, nu, t == DType::Q6_K, act, 0, n, M, 0, a.data(), true);
      qgemm_panel(pack.data(), 0, nu, t == DType::Q6_K, act, 0, n, M, 0, b.data(), true);
      float mag = 0;
      for (float v : a) mag = std::max(mag, std::fabs(v));
      for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 2e-5f * mag) << dtype_name(t) << " n=" << n;
    }
  }
}

}  // namespace
}  // namespace g4::cpu
