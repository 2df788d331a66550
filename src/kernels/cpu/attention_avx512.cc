// AVX-512 attention inner loops (see attention_kernels.h). Scores are computed for 4 query rows x
// 4 keys at a time (16 accumulators, summed across lanes together at the end); the value sum keeps
// 4 rows x 64 dims in registers while it walks the tile's keys.
#include <cmath>
#include <cstring>

#include "kernels/cpu/attention_kernels.h"
#include "quant/blocks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// GCC 12 reports the deliberately undefined upper halves in _mm512_cast* as (maybe-)uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace g4::cpu::attn {

#if defined(__x86_64__)

#define G4_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c,fma")))

namespace {

// exp(x) for x <= 0 (and -inf): 2^n * p(r) with x = n ln2 + r, |r| <= ln2/2, p a degree-6 Taylor
// polynomial (relative error ~2e-7, below f32's rounding of the sum it feeds). Lanes below -87
// (including -inf) give exactly 0.
G4_AVX512 inline __m512 exp512(__m512 x) {
  const __m512 log2e = _mm512_set1_ps(1.44269504089f);
  const __m512 ln2_hi = _mm512_set1_ps(0.693359375f), ln2_lo = _mm512_set1_ps(-2.12194440e-4f);
  const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ);
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, ln2_hi, x);
  r = _mm512_fnmadd_ps(n, ln2_lo, r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(_knot_mask16(tiny), p, n);
}

// Lane i of the result is the sum of the lanes of v[i] (16 vectors summed across lanes at once).
G4_AVX512 inline __m512 hsum16(const __m512 v[16]) {
  __m512 a[8], b[4], c[2];
  for (int i = 0; i < 8; ++i)  // per 128-bit lane: (x0+x2, y0+y2, x1+x3, y1+y3)
    a[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 4; ++i) {  // per 128-bit lane: the lane's sums of 4 vectors
    const __m512d x = _mm512_castps_pd(a[2 * i]), y = _mm512_castps_pd(a[2 * i + 1]);
    b[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
  }
  for (int i = 0; i < 2; ++i)
    c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm512_add_ps(_mm512_shuffle_f32x4(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// Round half away from zero, like roundf (values here are at most 127 in magnitude).
G4_AVX512 inline __m512 round_away(__m512 x) {
  const __m512 t = _mm512_roundscale_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(x, t));
  const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x80000000u))), _mm512_castps_si512(_mm512_set1_ps(1.0f))));
  return _mm512_mask_add_ps(t, up, t, one);
}

G4_AVX512 void load(DType t, const uint8_t* src, float* dst, int n) {
  if (t == DType::F32) {
    std::memcpy(dst, src, size_t(n) * 4);
  } else if (t == DType::F16) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(src + 2 * i))));
    for (; i < n; ++i) dst[i] = _cvtsh_ss(uint16_t(src[2 * i] | src[2 * i + 1] << 8));
  } else {  // Q8_0
    for (int b = 0; b < n / quant::kQK; ++b) {
      const uint8_t* blk = src + size_t(b) * sizeof(quant::BlockQ8_0);
      const __m512 d = _mm512_set1_ps(_cvtsh_ss(uint16_t(blk[0] | blk[1] << 8)));
      for (int h = 0; h < 2; ++h) {
        const __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(blk + 2 + 16 * h)));
        _mm512_storeu_ps(dst + b * quant::kQK + 16 * h, _mm512_mul_ps(d, _mm512_cvtepi32_ps(q)));
      }
    }
  }
}

G4_AVX512 void store(DType t, const float* src, uint8_t* dst, int n) {
  if (t == DType::F32) {
    std::memcpy(dst, src, size_t(n) * 4);
  } else if (t == DType::F16) {
    int i = 0;
    for (; i + 16 <= n; i += 16)
      _mm256_storeu_si256((__m256i*)(dst + 2 * i),
                          _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; ++i) {
      const uint16_t h = f32_to_f16(src[i]);
      std::memcpy(dst + 2 * i, &h, 2);
    }
  } else {  // Q8_0
    for (int b = 0; b < n / quant::kQK; ++b) {
      const __m512 x0 = _mm512_loadu_ps(src + b * quant::kQK), x1 = _mm512_loadu_ps(src + b * quant::kQK + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
      const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
      uint8_t* blk = dst + size_t(b) * sizeof(quant::BlockQ8_0);
      const uint16_t dh = f32_to_f16(d);
      std::memcpy(blk, &dh, 2);
      const __m512 idv = _mm512_set1_ps(id);
      _mm_storeu_si128((__m128i*)(blk + 2), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(round_away(_mm512_mul_ps(x0, idv)))));
      _mm_storeu_si128((__m128i*)(blk + 18), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(round_away(_mm512_mul_ps(x1, idv)))));
    }
  }
}

// A block of R rows x C keys of scores over hd (a multiple of 16).
template <int R, int C>
G4_AVX512 inline void scores_block(const float* q, const float* k, int hd, float* s, int s_stride) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_ps();
  for (int d = 0; d < hd; d += 16) {
    __m512 kv[C];
    for (int c = 0; c < C; ++c) kv[c] = _mm512_loadu_ps(k + size_t(c) * size_t(hd) + size_t(d));
    for (int r = 0; r < R; ++r) {
      const __m512 qv = _mm512_loadu_ps(q + size_t(r) * size_t(hd) + size_t(d));
      for (int c = 0; c < C; ++c) acc[r * 4 + c] = _mm512_fmadd_ps(qv, kv[c], acc[r * 4 + c]);
    }
  }
  alignas(64) float sums[16];
  _mm512_store_ps(sums, hsum16(acc));
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) s[size_t(r) * size_t(s_stride) + size_t(c)] = sums[r * 4 + c];
}

template <int R>
G4_AVX512 inline void scores_rows(const float* q, const float* k, int nk, int hd, float* s, int s_stride) {
  int j = 0;
  for (; j + 4 <= nk; j += 4) scores_block<R, 4>(q, k + size_t(j) * size_t(hd), hd, s + j, s_stride);
  switch (nk - j) {
    case 3: scores_block<R, 3>(q, k + size_t(j) * size_t(hd), hd, s + j, s_stride); break;
    case 2: scores_block<R, 2>(q, k + size_t(j) * size_t(hd), hd, s + j, s_stride); break;
    case 1: scores_block<R, 1>(q, k + size_t(j) * size_t(hd), hd, s + j, s_stride); break;
    default: break;
  }
}

G4_AVX512 void scores(const float* q, int rows, const float* k, int nk, int hd, float* s, int s_stride) {
  if (hd % 16 != 0) return kernels_scalar().scores(q, rows, k, nk, hd, s, s_stride);
  int r = 0;
  for (; r + 4 <= rows; r += 4) scores_rows<4>(q + size_t(r) * size_t(hd), k, nk, hd, s + size_t(r) * size_t(s_stride), s_stride);
  const float* qr = q + size_t(r) * size_t(hd);
  float* sr = s + size_t(r) * size_t(s_stride);
  switch (rows - r) {
    case 3: scores_rows<3>(qr, k, nk, hd, sr, s_stride); break;
    case 2: scores_rows<2>(qr, k, nk, hd, sr, s_stride); break;
    case 1: scores_rows<1>(qr, k, nk, hd, sr, s_stride); break;
    default: break;
  }
}

G4_AVX512 float exp_sum(float* s, int n, float m) {
  const __m512 mv = _mm512_set1_ps(m);
  __m512 sum = _mm512_setzero_ps();
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(s + j), mv));
    _mm512_storeu_ps(s + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (j < n) {
    const __mmask16 k = __mmask16((1u << (n - j)) - 1);
    const __m512 e = _mm512_maskz_mov_ps(k, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), mv)));
    _mm512_mask_storeu_ps(s + j, k, e);
    sum = _mm512_add_ps(sum, e);
  }
  return _mm512_reduce_add_ps(sum);
}

// R rows x C 16-wide chunks of the output accumulated over the tile's keys in registers.
template <int R, int C>
G4_AVX512 inline void pv_block(const float* p, int p_stride, const float* v, int nk, int hd, float* o) {
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_loadu_ps(o + size_t(r) * size_t(hd) + size_t(16 * c));
  for (int j = 0; j < nk; ++j) {
    __m512 vv[C];
    for (int c = 0; c < C; ++c) vv[c] = _mm512_loadu_ps(v + size_t(j) * size_t(hd) + size_t(16 * c));
    for (int r = 0; r < R; ++r) {
      const __m512 w = _mm512_set1_ps(p[size_t(r) * size_t(p_stride) + size_t(j)]);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(w, vv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) _mm512_storeu_ps(o + size_t(r) * size_t(hd) + size_t(16 * c), acc[r][c]);
}

template <int R>
G4_AVX512 inline void pv_rows(const float* p, int p_stride, const float* v, int nk, int hd, float* o) {
  int d = 0;
  for (; d + 64 <= hd; d += 64) pv_block<R, 4>(p, p_stride, v + d, nk, hd, o + d);
  for (; d < hd; d += 16) pv_block<R, 1>(p, p_stride, v + d, nk, hd, o + d);
}

G4_AVX512 void pv(const float* p, int p_stride, int rows, const float* v, int nk, int hd, float* o) {
  if (hd % 16 != 0) return kernels_scalar().pv(p, p_stride, rows, v, nk, hd, o);
  int r = 0;
  for (; r + 4 <= rows; r += 4)
    pv_rows<4>(p + size_t(r) * size_t(p_stride), p_stride, v, nk, hd, o + size_t(r) * size_t(hd));
  for (; r < rows; ++r) pv_rows<1>(p + size_t(r) * size_t(p_stride), p_stride, v, nk, hd, o + size_t(r) * size_t(hd));
}

}  // namespace

const Kernels* kernels_avx512() {
  static const Kernels k{load, store, scores, exp_sum, pv};
  return &k;
}

#else

const Kernels* kernels_avx512() { return nullptr; }

#endif

}  // namespace g4::cpu::attn
