// AVX-512 VNNI micro-kernel of the integer prefill product (qgemm.h): 16 rows × up to 8 tokens, the
// eight 64-byte weight registers of a unit loaded once and used by every token, one VPDPBUSD per
// 4 k per token.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/qgemm.h"
#include "quant/blocks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// GCC 12 reports the deliberately undefined upper halves in mask/cast intrinsics as uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace g4::cpu {

#if defined(__x86_64__)
#define G4_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")))

namespace {

using namespace quant;

G4_VNNI inline float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// The 32 low nibbles then high nibbles of 16 bytes.
G4_VNNI inline __m256i nibbles16(const uint8_t* q) {
  const __m128i v = _mm_loadu_si128((const __m128i*)q), m = _mm_set1_epi8(0x0F);
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, m)), _mm_and_si128(_mm_srli_epi16(v, 4), m), 1);
}

G4_VNNI inline __m256i iq4_lookup(__m256i idx) {
  return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_load_si128((const __m128i*)kIq4ValuesBiased)), idx);
}

// Units [u0, u0+nu) of one row as bytes u (32 per unit) and per-half a, b (see qgemm.h): the SIMD
// twin of qgemm.cc's unpack_unit, tested byte for byte against it.
G4_VNNI void unpack_row(DType t, const uint8_t* row, int64_t u0, int64_t nu, uint8_t* u, float* a, float* b) {
  const __m256i lo4 = _mm256_set1_epi8(0x0F);
  for (int64_t i = 0; i < nu; ++i) {
    const int64_t ui = u0 + i;
    __m256i v;
    float a0, a1, b0, b1;
    switch (t) {
      case DType::Q4_0: case DType::IQ4_NL: {
        const uint8_t* blk = row + size_t(ui) * 18;
        v = nibbles16(blk + 2);
        if (t == DType::IQ4_NL) v = iq4_lookup(v);
        a0 = a1 = h2f(blk);
        b0 = b1 = (t == DType::Q4_0 ? 8.0f : 128.0f) * a0;
        break;
      }
      case DType::Q4_1: {
        const uint8_t* blk = row + size_t(ui) * 20;
        v = nibbles16(blk + 4);
        a0 = a1 = h2f(blk);
        b0 = b1 = -h2f(blk + 2);
        break;
      }
      case DType::Q5_0: case DType::Q5_1: {
        const bool m = t == DType::Q5_1;
        const uint8_t* blk = row + size_t(ui) * (m ? 24 : 22);
        const int h = m ? 4 : 2;
        uint32_t qh;
        std::memcpy(&qh, blk + h, 4);
        v = _mm256_or_si256(nibbles16(blk + h + 4), _mm256_maskz_mov_epi8(__mmask32(qh), _mm256_set1_epi8(0x10)));
        a0 = a1 = h2f(blk);
        b0 = b1 = m ? -h2f(blk + 2) : 16.0f * a0;
        break;
      }
      case DType::Q8_0: {
        const uint8_t* blk = row + size_t(ui) * 34;
        v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i*)(blk + 2)), _mm256_set1_epi8(char(0x80)));
        a0 = a1 = h2f(blk);
        b0 = b1 = 128.0f * a0;
        break;
      }
      case DType::Q4_K: case DType::Q5_K: {
        const bool five = t == DType::Q5_K;
        const uint8_t* blk = row + size_t(ui / 8) * (five ? 176 : 144);
        const int j = int(ui % 8);
        const __m256i q = _mm256_loadu_si256((const __m256i*)(blk + 16 + (five ? 32 : 0) + 32 * (j / 2)));
        v = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(q, 4) : q, lo4);
        if (five) {
          const __m256i h = _mm256_srli_epi16(_mm256_loadu_si256((const __m256i*)(blk + 16)), j);
          v = _mm256_or_si256(v, _mm256_and_si256(_mm256_slli_epi16(h, 4), _mm256_set1_epi8(0x10)));
        }
        uint8_t sc, mn;
        k_scale_min(j, blk + 4, &sc, &mn);
        a0 = a1 = h2f(blk) * float(sc);
        b0 = b1 = h2f(blk + 2) * float(mn);
        break;
      }
      case DType::Q6_K: {
        const auto* blk = reinterpret_cast<const BlockQ6_K*>(row + size_t(ui / 8) * sizeof(BlockQ6_K));
        const int j = int(ui % 8), h = j / 4, part = j % 4;
        const __m256i l = _mm256_loadu_si256((const __m256i*)(blk->ql + 64 * h + (part % 2 ? 32 : 0)));
        const __m256i hb = _mm256_loadu_si256((const __m256i*)(blk->qh + 32 * h));
        const __m256i nib = _mm256_and_si256(part < 2 ? l : _mm256_srli_epi16(l, 4), lo4);
        // Bits 2·part, 2·part+1 of qh moved to bits 4, 5.
        const __m256i hi = 2 * part >= 4 ? _mm256_srli_epi16(hb, 2 * part - 4) : _mm256_slli_epi16(hb, 4 - 2 * part);
        v = _mm256_or_si256(nib, _mm256_and_si256(hi, _mm256_set1_epi8(0x30)));
        const float d = _cvtsh_ss(blk->d);
        a0 = d * float(blk->scales[8 * h + 2 * part]);
        a1 = d * float(blk->scales[8 * h + 2 * part + 1]);
        b0 = 32.0f * a0;
        b1 = 32.0f * a1;
        break;
      }
      case DType::IQ4_XS: {
        const auto* blk = reinterpret_cast<const BlockIQ4_XS*>(row + size_t(ui / 8) * sizeof(BlockIQ4_XS));
        const int j = int(ui % 8);
        const int ls = (((blk->scales_l[j / 2] >> (4 * (j % 2))) & 15) | (((blk->scales_h >> (2 * j)) & 3) << 4)) - 32;
        v = iq4_lookup(nibbles16(blk->qs + 16 * j));
        a0 = a1 = _cvtsh_ss(blk->d) * float(ls);
        b0 = b1 = 128.0f * a0;
        break;
      }
      default:
        v = _mm256_setzero_si256();
        a0 = a1 = b0 = b1 = 0;
    }
    _mm256_storeu_si256((__m256i*)(u + 32 * i), v);
    a[2 * i] = a0, a[2 * i + 1] = a1, b[2 * i] = b0, b[2 * i + 1] = b1;
  }
}

template <int NT, bool HALVES>
G4_VNNI void panel(const uint8_t* pack, int64_t u0, int64_t nu, const QAct& act, int t0, int64_t M, int64_t r0,
                   float* y, bool accumulate) {
  const size_t K = act.K;
  const int8_t* xq[NT];
  const float* dx[NT];
  const float* ds[NT];
  __m512 acc[NT];
  for (int i = 0; i < NT; ++i) {
    xq[i] = act.qs.data() + size_t(t0 + i) * K + size_t(u0) * 32;
    dx[i] = act.d.data() + size_t(t0 + i) * (K / 32) + size_t(u0);
    ds[i] = act.ds.data() + size_t(t0 + i) * (K / 16) + 2 * size_t(u0);
    acc[i] = _mm512_setzero_ps();
  }
  for (int64_t u = 0; u < nu; ++u) {
    const uint8_t* p = pack + size_t(u) * kQUnitBytes;
    __m512i w[8];
    for (int q = 0; q < 8; ++q) w[q] = _mm512_loadu_si512(p + 64 * q);
    const float* ab = reinterpret_cast<const float*>(p + kQRows * kQUnit);
    const __m512 a0 = _mm512_loadu_ps(ab), b0 = _mm512_loadu_ps(ab + 2 * kQRows);
    for (int i = 0; i < NT; ++i) {
      int32_t xv[8];
      std::memcpy(xv, xq[i] + 32 * u, 32);
      if constexpr (!HALVES) {
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        for (int q = 0; q < 8; q += 2) {
          s0 = _mm512_dpbusd_epi32(s0, w[q], _mm512_set1_epi32(xv[q]));
          s1 = _mm512_dpbusd_epi32(s1, w[q + 1], _mm512_set1_epi32(xv[q + 1]));
        }
        const __m512 f = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
        acc[i] = _mm512_fmadd_ps(f, _mm512_mul_ps(a0, _mm512_set1_ps(dx[i][u])), acc[i]);
        acc[i] = _mm512_fnmadd_ps(b0, _mm512_set1_ps(ds[i][2 * u] + ds[i][2 * u + 1]), acc[i]);
      } else {
        const __m512 a1 = _mm512_loadu_ps(ab + kQRows), b1 = _mm512_loadu_ps(ab + 3 * kQRows);
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        for (int q = 0; q < 4; ++q) {
          s0 = _mm512_dpbusd_epi32(s0, w[q], _mm512_set1_epi32(xv[q]));
          s1 = _mm512_dpbusd_epi32(s1, w[q + 4], _mm512_set1_epi32(xv[q + 4]));
        }
        const __m512 d = _mm512_set1_ps(dx[i][u]);
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), _mm512_mul_ps(a0, d), acc[i]);
        acc[i] = _mm512_fnmadd_ps(b0, _mm512_set1_ps(ds[i][2 * u]), acc[i]);
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1), _mm512_mul_ps(a1, d), acc[i]);
        acc[i] = _mm512_fnmadd_ps(b1, _mm512_set1_ps(ds[i][2 * u + 1]), acc[i]);
      }
    }
  }
  const __mmask16 valid = M - r0 >= kQRows ? __mmask16(0xFFFF) : __mmask16((1u << (M - r0)) - 1);
  for (int i = 0; i < NT; ++i) {
    float* out = y + size_t(t0 + i) * size_t(M) + size_t(r0);
    __m512 v = acc[i];
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(valid, out));
    _mm512_mask_storeu_ps(out, valid, v);
  }
}

template <bool HALVES>
G4_VNNI void dispatch(const uint8_t* pack, int64_t u0, int64_t nu, const QAct& act, int t0, int nt, int64_t M,
                      int64_t r0, float* y, bool accumulate) {
  switch (nt) {
    case 1: return panel<1, HALVES>(pack, u0, nu, act, t0, M, r0, y, accumulate);
    case 2: return panel<2, HALVES>(pack, u0, nu, act, t0, M, r0, y, accumulate);
    case 3: return panel<3, HALVES>(pack, u0, nu, act, t0, M, r0, y, accumulate);
    case 4: return panel<4, HALVES>(pack, u0, nu, act, t0, M, r0, y, accumulate);
    case 5: return panel<5, HALVES>(pack, u0, nu, act, t0, M, r0, y, accumulate);
    case 6: return panel<6, HALVES>(pack, u0, nu, act, t0, M, r0, y, accumulate);
    case 7: return panel<7, HALVES>(pack, u0, nu, act, t0, M, r0, y, accumulate);
    default: return panel<8, HALVES>(pack, u0, nu, act, t0, M, r0, y, accumulate);
  }
}

}  // namespace

G4_VNNI bool qgemm_pack_avx512(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t r0, int64_t u0, int64_t nu,
                       uint8_t* pack) {
  // Each row's units unpacked to bytes, then 4-byte groups gathered across the 16 rows.
  constexpr int64_t kChunk = 64;
  alignas(64) uint8_t rows[kQRows][kChunk * kQUnit];
  alignas(64) float a[kQRows][2 * kChunk], b[kQRows][2 * kChunk];
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(kChunk * kQUnit));
  for (int64_t c0 = 0; c0 < nu; c0 += kChunk) {
    const int64_t nc = std::min(kChunk, nu - c0);
    for (int r = 0; r < kQRows; ++r) {
      if (r0 + r < M) {
        unpack_row(t, w + size_t(r0 + r) * row_bytes, u0 + c0, nc, rows[r], a[r], b[r]);
      } else {
        std::memset(rows[r], 0, sizeof rows[r]);
        std::memset(a[r], 0, sizeof a[r]);
        std::memset(b[r], 0, sizeof b[r]);
      }
    }
    for (int64_t i = 0; i < nc; ++i) {
      uint8_t* unit = pack + size_t(c0 + i) * kQUnitBytes;
      for (int q = 0; q < 8; ++q)
        _mm512_storeu_si512(unit + 64 * q, _mm512_i32gather_epi32(idx, rows[0] + 32 * i + 4 * q, 1));
      float* ua = reinterpret_cast<float*>(unit + kQRows * kQUnit);
      for (int h = 0; h < 2; ++h)
        for (int r = 0; r < kQRows; ++r) {
          ua[h * kQRows + r] = a[r][2 * i + h];
          ua[2 * kQRows + h * kQRows + r] = b[r][2 * i + h];
        }
    }
  }
  return true;
}

bool qgemm_panel_avx512(const uint8_t* pack, int64_t u0, int64_t nu, bool halves, const QAct& act, int t0, int nt,
                        int64_t M, int64_t r0, float* y, bool accumulate) {
  if (nt < 1 || nt > 8) return false;
  if (halves) dispatch<true>(pack, u0, nu, act, t0, nt, M, r0, y, accumulate);
  else dispatch<false>(pack, u0, nu, act, t0, nt, M, r0, y, accumulate);
  return true;
}

#else
bool qgemm_pack_avx512(DType, const uint8_t*, size_t, int64_t, int64_t, int64_t, int64_t, uint8_t*) { return false; }
bool qgemm_panel_avx512(const uint8_t*, int64_t, int64_t, bool, const QAct&, int, int, int64_t, int64_t, float*,
                        bool) {
  return false;
}
#endif

}  // namespace g4::cpu
