#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/cpu_features.h"
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
  for (int j = 0; j < kPanelRows; ++j) {
    if (r0 + j < M) {
      // k0 is a multiple of kBlockK, hence of every block size, so this is a block boundary.
      to_f32(t, w + size_t(r0 + j) * row_bytes + dtype_row_bytes(t, k0), row, size_t(kb));
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

// AVX-512: one zmm holds a panel's 16 rows, so a tile covers 12 tokens with 12 accumulators.
constexpr int kTileTokens512 = 12;

template <int NT>
__attribute__((target("avx512f"))) void tile512(const float* pack, int64_t kb, const float* x, int64_t K, int64_t M,
                                                int64_t r0, float* y, bool first) {
  __m512 acc[NT];
  for (int i = 0; i < NT; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kb; ++k) {
    const __m512 w = _mm512_loadu_ps(pack + k * kPanelRows);
    for (int i = 0; i < NT; ++i)
      acc[i] = _mm512_fmadd_ps(w, _mm512_set1_ps(x[size_t(i) * size_t(K) + size_t(k)]), acc[i]);
  }
  for (int i = 0; i < NT; ++i) {
    alignas(64) float out[kPanelRows];
    _mm512_store_ps(out, acc[i]);
    store_rows(y + size_t(i) * size_t(M), out, r0, M, first);
  }
}

template <int NT>
__attribute__((target("avx512f"))) void tail512(int left, const float* pack, int64_t kb, const float* x, int64_t K,
                                               int64_t M, int64_t r0, float* y, bool first) {
  if constexpr (NT > 0) {
    if (left == NT) return tile512<NT>(pack, kb, x, K, M, r0, y, first);
    tail512<NT - 1>(left, pack, kb, x, K, M, r0, y, first);
  }
}

// GCC 12 warns about the "undefined" registers inside its own AVX-512 conversion intrinsics.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// 16 elements of a row as f32.
__attribute__((target("avx512f"))) inline __m512 load16(DType t, const uint8_t* p) {
  if (t == DType::F32) return _mm512_loadu_ps(p);
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  if (t == DType::F16) return _mm512_cvtph_ps(h);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// pack_panel with a 16x16 register transpose per block of 16 columns: rows are read along K and
// written as columns without scalar scatter stores.
__attribute__((target("avx512f"))) void pack_panel_avx512(DType t, const uint8_t* w, size_t row_bytes, int64_t M,
                                                          int64_t r0, int64_t k0, int64_t kb, float* pack) {
  if (dtype_is_block(t)) {
    // Quantized rows are expanded to f32 first (a block never straddles k0), then transposed alike.
    alignas(64) float rows[kPanelRows * kBlockK];
    const int64_t valid = std::min<int64_t>(kPanelRows, M - r0);
    for (int64_t j = 0; j < valid; ++j)
      to_f32(t, w + size_t(r0 + j) * row_bytes + dtype_row_bytes(t, k0), rows + j * kBlockK, size_t(kb));
    return pack_panel_avx512(DType::F32, reinterpret_cast<const uint8_t*>(rows), kBlockK * 4, valid, 0, 0, kb, pack);
  }
  const size_t es = dtype_size(t);
  const int64_t full = kb / 16 * 16;
  for (int64_t kk = 0; kk < full; kk += 16) {
    __m512 r[16], a[16], b[16];
    for (int j = 0; j < 16; ++j)
      r[j] = r0 + j < M ? load16(t, w + size_t(r0 + j) * row_bytes + size_t(k0 + kk) * es) : _mm512_setzero_ps();
    // 32-bit, then 64-bit interleaves inside 128-bit lanes: b[g + e] holds, in lane L, rows g..g+3 at
    // column 4L + e.
    for (int j = 0; j < 16; j += 2) {
      a[j] = _mm512_unpacklo_ps(r[j], r[j + 1]);
      a[j + 1] = _mm512_unpackhi_ps(r[j], r[j + 1]);
    }
    for (int g = 0; g < 16; g += 4) {
      const __m512d a0 = _mm512_castps_pd(a[g]), a1 = _mm512_castps_pd(a[g + 1]);
      const __m512d a2 = _mm512_castps_pd(a[g + 2]), a3 = _mm512_castps_pd(a[g + 3]);
      b[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
      b[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
      b[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
      b[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
    // A 4x4 transpose of 128-bit lanes across the four row groups gives whole columns.
    for (int e = 0; e < 4; ++e) {
      const __m512 c0 = _mm512_shuffle_f32x4(b[e], b[4 + e], 0x44), c1 = _mm512_shuffle_f32x4(b[e], b[4 + e], 0xEE);
      const __m512 c2 = _mm512_shuffle_f32x4(b[8 + e], b[12 + e], 0x44);
      const __m512 c3 = _mm512_shuffle_f32x4(b[8 + e], b[12 + e], 0xEE);
      _mm512_storeu_ps(pack + (kk + e) * kPanelRows, _mm512_shuffle_f32x4(c0, c2, 0x88));
      _mm512_storeu_ps(pack + (kk + 4 + e) * kPanelRows, _mm512_shuffle_f32x4(c0, c2, 0xDD));
      _mm512_storeu_ps(pack + (kk + 8 + e) * kPanelRows, _mm512_shuffle_f32x4(c1, c3, 0x88));
      _mm512_storeu_ps(pack + (kk + 12 + e) * kPanelRows, _mm512_shuffle_f32x4(c1, c3, 0xDD));
    }
  }
  if (full < kb) {  // the last columns, one at a time
    float col[kPanelRows];
    for (int64_t k = full; k < kb; ++k) {
      for (int j = 0; j < kPanelRows; ++j) {
        col[j] = 0.0f;
        if (r0 + j < M) to_f32(t, w + size_t(r0 + j) * row_bytes + size_t(k0 + k) * es, &col[j], 1);
      }
      std::memcpy(pack + k * kPanelRows, col, sizeof col);
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

__attribute__((target("avx512f"))) void gemm_panel_avx512(DType t, const uint8_t* w, size_t row_bytes, int64_t M,
                                                          int64_t K, int64_t r0, const float* x, int n, float* y,
                                                          float* pack) {
  for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
    const int64_t kb = std::min<int64_t>(kBlockK, K - k0);
    pack_panel_avx512(t, w, row_bytes, M, r0, k0, kb, pack);
    const bool first = k0 == 0;
    int i = 0;
    for (; i + kTileTokens512 <= n; i += kTileTokens512)
      tile512<kTileTokens512>(pack, kb, x + size_t(i) * size_t(K) + size_t(k0), K, M, r0, y + size_t(i) * size_t(M),
                              first);
    if (i < n)
      tail512<kTileTokens512 - 1>(n - i, pack, kb, x + size_t(i) * size_t(K) + size_t(k0), K, M, r0,
                                  y + size_t(i) * size_t(M), first);
  }
}

const bool kAvx512 = cpu_features().avx512f;

}  // namespace

bool have_avx512() { return kAvx512; }

void gemm_panel_isa(GemmIsa isa, DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0,
                    const float* x, int n, float* y, float* pack) {
  switch (isa) {
    case GemmIsa::kAvx512: return gemm_panel_avx512(t, w, row_bytes, M, K, r0, x, n, y, pack);
    case GemmIsa::kAvx2: return gemm_panel_avx2(t, w, row_bytes, M, K, r0, x, n, y, pack);
    case GemmIsa::kScalar: return gemm_panel_ref(t, w, row_bytes, M, K, r0, x, n, y, pack);
  }
}

void gemm_panel(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0, const float* x, int n,
                float* y, float* pack) {
  gemm_panel_isa(kAvx512 ? GemmIsa::kAvx512 : have_avx2() ? GemmIsa::kAvx2 : GemmIsa::kScalar, t, w, row_bytes, M,
                 K, r0, x, n, y, pack);
}
#else
bool have_avx512() { return false; }
void gemm_panel_isa(GemmIsa, DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0,
                    const float* x, int n, float* y, float* pack) {
  gemm_panel_ref(t, w, row_bytes, M, K, r0, x, n, y, pack);
}
void gemm_panel(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0, const float* x, int n,
                float* y, float* pack) {
  gemm_panel_ref(t, w, row_bytes, M, K, r0, x, n, y, pack);
}
#endif

}  // namespace g4::cpu
