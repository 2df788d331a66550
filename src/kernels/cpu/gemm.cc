#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/dot.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace g4::cpu {

namespace {

// pack[k * 16 + j] = W[r0 + j][k0 + k] as f32, zero for rows past M.
void pack_panel(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t r0, int64_t k0, int64_t kb,
                float* pack) {
  float row[kBlockK];
  const size_t es = dtype_size(t);
  for (int j = 0; j < kPanelRows; ++j) {
    if (r0 + j < M) {
      to_f32(t, w + size_t(r0 + j) * row_bytes + size_t(k0) * es, row, size_t(kb));
    } else {
      std::memset(row, 0, sizeof(float) * size_t(kb));
    }
    for (int64_t k = 0; k < kb; ++k) pack[k * kPanelRows + j] = row[k];
  }
}

void store_rows(float* yrow, const float* acc, int64_t r0, int64_t M, bool first) {
  const int nr = int(std::min<int64_t>(kPanelRows, M - r0));
  for (int j = 0; j < nr; ++j) yrow[r0 + j] = first ? acc[j] : yrow[r0 + j] + acc[j];
}

}  // namespace

void gemm_panel_ref(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0, const float* x,
                    int n, float* y, float* pack) {
  for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
    const int64_t kb = std::min<int64_t>(kBlockK, K - k0);
    pack_panel(t, w, row_bytes, M, r0, k0, kb, pack);
    for (int i = 0; i < n; ++i) {
      float acc[kPanelRows] = {};
      const float* xr = x + size_t(i) * size_t(K) + size_t(k0);
      for (int64_t k = 0; k < kb; ++k)
        for (int j = 0; j < kPanelRows; ++j) acc[j] += pack[k * kPanelRows + j] * xr[k];
      store_rows(y + size_t(i) * size_t(M), acc, r0, M, k0 == 0);
    }
  }
}

#if defined(__x86_64__)
namespace {

template <int NT>
__attribute__((target("avx2,fma"))) void tile(const float* pack, int64_t kb, const float* x, int64_t K, int64_t M,
                                              int64_t r0, float* y, bool first) {
  __m256 acc[NT][2];
  for (int i = 0; i < NT; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kb; ++k) {
    const __m256 w0 = _mm256_loadu_ps(pack + k * kPanelRows), w1 = _mm256_loadu_ps(pack + k * kPanelRows + 8);
    for (int i = 0; i < NT; ++i) {
      const __m256 xb = _mm256_broadcast_ss(x + size_t(i) * size_t(K) + size_t(k));
      acc[i][0] = _mm256_fmadd_ps(w0, xb, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(w1, xb, acc[i][1]);
    }
  }
  for (int i = 0; i < NT; ++i) {
    alignas(32) float out[kPanelRows];
    _mm256_store_ps(out, acc[i][0]);
    _mm256_store_ps(out + 8, acc[i][1]);
    store_rows(y + size_t(i) * size_t(M), out, r0, M, first);
  }
}

__attribute__((target("avx2,fma"))) void gemm_panel_avx2(DType t, const uint8_t* w, size_t row_bytes, int64_t M,
                                                         int64_t K, int64_t r0, const float* x, int n, float* y,
                                                         float* pack) {
  for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
    const int64_t kb = std::min<int64_t>(kBlockK, K - k0);
    pack_panel(t, w, row_bytes, M, r0, k0, kb, pack);
    const bool first = k0 == 0;
    int i = 0;
    for (; i + kTileTokens <= n; i += kTileTokens)
      tile<kTileTokens>(pack, kb, x + size_t(i) * size_t(K) + size_t(k0), K, M, r0, y + size_t(i) * size_t(M), first);
    const float* xt = x + size_t(i) * size_t(K) + size_t(k0);
    float* yt = y + size_t(i) * size_t(M);
    switch (n - i) {
      case 5: tile<5>(pack, kb, xt, K, M, r0, yt, first); break;
      case 4: tile<4>(pack, kb, xt, K, M, r0, yt, first); break;
      case 3: tile<3>(pack, kb, xt, K, M, r0, yt, first); break;
      case 2: tile<2>(pack, kb, xt, K, M, r0, yt, first); break;
      case 1: tile<1>(pack, kb, xt, K, M, r0, yt, first); break;
      default: break;
    }
  }
}

}  // namespace

void gemm_panel(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0, const float* x, int n,
                float* y, float* pack) {
  if (have_avx2()) gemm_panel_avx2(t, w, row_bytes, M, K, r0, x, n, y, pack);
  else gemm_panel_ref(t, w, row_bytes, M, K, r0, x, n, y, pack);
}
#else
void gemm_panel(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0, const float* x, int n,
                float* y, float* pack) {
  gemm_panel_ref(t, w, row_bytes, M, K, r0, x, n, y, pack);
}
#endif

}  // namespace g4::cpu
