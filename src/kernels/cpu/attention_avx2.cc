// AVX2 (+FMA, F16C) attention inner loops (see attention_kernels.h): 2 query rows x 4 keys per score
// block and 4 rows x 16 dims per value block, sized for the 16 YMM registers.
#include <cmath>
#include <cstring>

#include "kernels/cpu/attention_kernels.h"
#include "quant/blocks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace g4::cpu::attn {

#if defined(__x86_64__)

#define G4_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace {

// exp(x) for x <= 0 as in attention_avx512.cc: 2^n * p(r), 0 below -87 (and for -inf).
G4_AVX2 inline __m256 exp256(__m256 x) {
  const __m256 lim = _mm256_set1_ps(-87.0f);
  const __m256 tiny = _mm256_cmp_ps(x, lim, _CMP_LT_OQ);
  x = _mm256_max_ps(x, lim);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504089f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(tiny, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

// Lane i of the result is the sum of the lanes of v[i].
G4_AVX2 inline __m256 hsum8(const __m256 v[8]) {
  const __m256 a = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
  const __m256 b = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
}

G4_AVX2 inline __m256 round_away(__m256 x) {
  const __m256 t = _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(x, t));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_and_ps(x, sign), _mm256_set1_ps(1.0f));
  return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

G4_AVX2 void load(DType t, const uint8_t* src, float* dst, int n) {
  if (t == DType::F32) {
    std::memcpy(dst, src, size_t(n) * 4);
  } else if (t == DType::F16) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(src + 2 * i))));
    for (; i < n; ++i) dst[i] = _cvtsh_ss(uint16_t(src[2 * i] | src[2 * i + 1] << 8));
  } else {  // Q8_0
    for (int b = 0; b < n / quant::kQK; ++b) {
      const uint8_t* blk = src + size_t(b) * sizeof(quant::BlockQ8_0);
      const __m256 d = _mm256_set1_ps(_cvtsh_ss(uint16_t(blk[0] | blk[1] << 8)));
      for (int h = 0; h < 4; ++h) {
        const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)(blk + 2 + 8 * h)));
        _mm256_storeu_ps(dst + b * quant::kQK + 8 * h, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q)));
      }
    }
  }
}

G4_AVX2 void store(DType t, const float* src, uint8_t* dst, int n) {
  if (t == DType::F32) {
    std::memcpy(dst, src, size_t(n) * 4);
  } else if (t == DType::F16) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
      _mm_storeu_si128((__m128i*)(dst + 2 * i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; ++i) {
      const uint16_t h = f32_to_f16(src[i]);
      std::memcpy(dst + 2 * i, &h, 2);
    }
  } else {  // Q8_0
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int b = 0; b < n / quant::kQK; ++b) {
      __m256 x[4];
      __m256 mx = _mm256_setzero_ps();
      for (int h = 0; h < 4; ++h) {
        x[h] = _mm256_loadu_ps(src + b * quant::kQK + 8 * h);
        mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, x[h]));
      }
      __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
      m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
      m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
      const float d = _mm_cvtss_f32(m4) / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
      uint8_t* blk = dst + size_t(b) * sizeof(quant::BlockQ8_0);
      const uint16_t dh = f32_to_f16(d);
      std::memcpy(blk, &dh, 2);
      const __m256 idv = _mm256_set1_ps(id);
      __m256i q[4];
      for (int h = 0; h < 4; ++h) q[h] = _mm256_cvtps_epi32(round_away(_mm256_mul_ps(x[h], idv)));
      // packs interleave the 128-bit lanes; the permute puts the 32 bytes back in element order.
      const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      _mm256_storeu_si256((__m256i*)(blk + 2), _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
  }
}

template <int R, int C>
G4_AVX2 inline void scores_block(const float* q, const float* k, int hd, float* s, int s_stride) {
  __m256 acc[8];
  for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
  for (int d = 0; d < hd; d += 8) {
    __m256 kv[C];
    for (int c = 0; c < C; ++c) kv[c] = _mm256_loadu_ps(k + size_t(c) * size_t(hd) + size_t(d));
    for (int r = 0; r < R; ++r) {
      const __m256 qv = _mm256_loadu_ps(q + size_t(r) * size_t(hd) + size_t(d));
      for (int c = 0; c < C; ++c) acc[r * 4 + c] = _mm256_fmadd_ps(qv, kv[c], acc[r * 4 + c]);
    }
  }
  alignas(32) float sums[8];
  _mm256_store_ps(sums, hsum8(acc));
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) s[size_t(r) * size_t(s_stride) + size_t(c)] = sums[r * 4 + c];
}

template <int R>
G4_AVX2 inline void scores_rows(const float* q, const float* k, int nk, int hd, float* s, int s_stride) {
  int j = 0;
  for (; j + 4 <= nk; j += 4) scores_block<R, 4>(q, k + size_t(j) * size_t(hd), hd, s + j, s_stride);
  switch (nk - j) {
    case 3: scores_block<R, 3>(q, k + size_t(j) * size_t(hd), hd, s + j, s_stride); break;
    case 2: scores_block<R, 2>(q, k + size_t(j) * size_t(hd), hd, s + j, s_stride); break;
    case 1: scores_block<R, 1>(q, k + size_t(j) * size_t(hd), hd, s + j, s_stride); break;
    default: break;
  }
}

G4_AVX2 void scores(const float* q, int rows, const float* k, int nk, int hd, float* s, int s_stride) {
  if (hd % 8 != 0) return kernels_scalar().scores(q, rows, k, nk, hd, s, s_stride);
  int r = 0;
  for (; r + 2 <= rows; r += 2) scores_rows<2>(q + size_t(r) * size_t(hd), k, nk, hd, s + size_t(r) * size_t(s_stride), s_stride);
  if (r < rows) scores_rows<1>(q + size_t(r) * size_t(hd), k, nk, hd, s + size_t(r) * size_t(s_stride), s_stride);
}

G4_AVX2 float exp_sum(float* s, int n, float m) {
  const __m256 mv = _mm256_set1_ps(m);
  __m256 sum = _mm256_setzero_ps();
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv));
    _mm256_storeu_ps(s + j, e);
    sum = _mm256_add_ps(sum, e);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
  for (; j < n; ++j) total += s[j] = std::exp(s[j] - m);
  return total;
}

template <int R, int C>
G4_AVX2 inline void pv_block(const float* p, int p_stride, const float* v, int nk, int hd, float* o) {
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_loadu_ps(o + size_t(r) * size_t(hd) + size_t(8 * c));
  for (int j = 0; j < nk; ++j) {
    __m256 vv[C];
    for (int c = 0; c < C; ++c) vv[c] = _mm256_loadu_ps(v + size_t(j) * size_t(hd) + size_t(8 * c));
    for (int r = 0; r < R; ++r) {
      const __m256 w = _mm256_broadcast_ss(p + size_t(r) * size_t(p_stride) + size_t(j));
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(w, vv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) _mm256_storeu_ps(o + size_t(r) * size_t(hd) + size_t(8 * c), acc[r][c]);
}

template <int R>
G4_AVX2 inline void pv_rows(const float* p, int p_stride, const float* v, int nk, int hd, float* o) {
  int d = 0;
  for (; d + 16 <= hd; d += 16) pv_block<R, 2>(p, p_stride, v + d, nk, hd, o + d);
  for (; d < hd; d += 8) pv_block<R, 1>(p, p_stride, v + d, nk, hd, o + d);
}

G4_AVX2 void pv(const float* p, int p_stride, int rows, const float* v, int nk, int hd, float* o) {
  if (hd % 8 != 0) return kernels_scalar().pv(p, p_stride, rows, v, nk, hd, o);
  int r = 0;
  for (; r + 4 <= rows; r += 4) pv_rows<4>(p + size_t(r) * size_t(p_stride), p_stride, v, nk, hd, o + size_t(r) * size_t(hd));
  for (; r < rows; ++r) pv_rows<1>(p + size_t(r) * size_t(p_stride), p_stride, v, nk, hd, o + size_t(r) * size_t(hd));
}

}  // namespace

const Kernels* kernels_avx2() {
  static const Kernels k{load, store, scores, exp_sum, pv};
  return &k;
}

#else

const Kernels* kernels_avx2() { return nullptr; }

#endif

}  // namespace g4::cpu::attn
