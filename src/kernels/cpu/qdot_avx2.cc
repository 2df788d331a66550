// AVX2 + FMA + F16C versions of the quantized-activation kernels (Haswell, Zen 2 and later).
// VPMADDUBSW multiplies unsigned weight bytes by signed activation bytes and adds adjacent pairs
// with int16 saturation, so every pair sum must stay within ±32767:
//  - the nibble types (Q4_*, Q5_*, Q4_K, Q5_K, Q6_K) are read as u = q + offset (0..15, 0..31, 0..63;
//    pair sums at most 2·63·127) and the offset is taken back with the activation sums;
//  - Q8_0, IQ4_NL and IQ4_XS use the sign trick: |w| (0..128) times x with w's sign (-127..127).
// VPMADDWD then widens to int32, with ones (32-blocks) or with the sub-block scales (k-quants).
// Four rows share each activation load; the per-block scales of the four rows are converted together.
// See qdot.h for the formats and qdot_ref.cc for the definitions.
#include <cstdint>
#include <cstring>

#include "kernels/cpu/qdot.h"
#include "kernels/cpu/qdot_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// GCC 12 reports the deliberately undefined upper halves in _mm256_cast* as (maybe-)uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace g4::cpu {

#if defined(__x86_64__)
#define G4_AVX2 __attribute__((target("avx2,fma,f16c")))

using namespace quant;

namespace {

inline uint32_t ld32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint16_t ld16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

G4_AVX2 inline __m256i loadu256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
G4_AVX2 inline __m128i loadu128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

G4_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
G4_AVX2 inline float hsum(__m128 s) {
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
G4_AVX2 inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}
G4_AVX2 inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The 16 signed levels of IQ4_NL / IQ4_XS in both lanes, for VPSHUFB.
G4_AVX2 inline __m256i iq4_table() {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4Values)));
}

// VPSHUFB controls broadcasting int16 element a (0..7) to the low lane and element b to the high lane:
// a = b = j in row j (0..7); a = 2k, b = 2k + 1 in row 8 + k (k = 0..3).
struct ScaleCtrl {
  alignas(32) uint8_t v[12][32];
  constexpr ScaleCtrl() : v{} {
    for (int i = 0; i < 12; ++i) {
      const int a = i < 8 ? i : 2 * (i - 8), b = i < 8 ? i : 2 * (i - 8) + 1;
      for (int k = 0; k < 16; k += 2) {
        v[i][k] = uint8_t(2 * a), v[i][k + 1] = uint8_t(2 * a + 1);
        v[i][16 + k] = uint8_t(2 * b), v[i][16 + k + 1] = uint8_t(2 * b + 1);
      }
    }
  }
};
inline constexpr ScaleCtrl kScaleCtrl;
G4_AVX2 inline __m256i bcast16_ctrl(int a, int b) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(kScaleCtrl.v[a == b ? a : 8 + a / 2]));
}

// Σ w·x in int16 pairs for signed w (-128..127) and x (-127..127): |w| · (x with w's sign).
G4_AVX2 inline __m256i maddubs_signed(__m256i w, __m256i x) {
  return _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

// Software prefetch of a weight stream a fixed distance ahead: with four row streams in flight the
// hardware prefetchers alone left about a third of one thread's DRAM bandwidth unused (Q4_0, Q4_K).
// The address is formed as an integer since it may lie past the end of the row (prefetch never faults).
constexpr uintptr_t kPrefetchAhead = 512;
template <size_t Bytes>
G4_AVX2 inline void prefetch_ahead(const uint8_t* p) {
  for (size_t off = 0; off < Bytes; off += 64)
    _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(p) + kPrefetchAhead + off), _MM_HINT_T0);
}

// ---- 32-element blocks ----

template <DType T>
constexpr int kOffset = T == DType::Q4_0 ? 8 : T == DType::Q5_0 ? 16 : 0;
template <DType T>
constexpr bool kHasMin = T == DType::Q4_1 || T == DType::Q5_1;
template <DType T>
constexpr size_t kBlockBytes = T == DType::Q4_0 ? sizeof(BlockQ4_0) : T == DType::Q4_1 ? sizeof(BlockQ4_1)
                             : T == DType::Q5_0 ? sizeof(BlockQ5_0) : T == DType::Q5_1 ? sizeof(BlockQ5_1)
                             : T == DType::Q8_0 ? sizeof(BlockQ8_0) : sizeof(BlockIQ4_NL);

// The 32 nibbles of 16 bytes in element order: low nibbles (elements 0..15), then high (16..31).
G4_AVX2 inline __m256i nibbles32(const uint8_t* q) {
  const __m256i v = _mm256_broadcastsi128_si256(loadu128(q));
  return _mm256_and_si256(_mm256_srlv_epi64(v, _mm256_set_epi64x(4, 4, 0, 0)), _mm256_set1_epi8(0x0F));
}

// 0x10 in byte e where bit e of the 32-bit qh is set (the fifth bit of Q5_0 / Q5_1 element e).
G4_AVX2 inline __m256i fifth_bits(const uint8_t* qh) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
  const __m256i b = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(int(ld32(qh))), spread), bit);
  return _mm256_and_si256(_mm256_cmpeq_epi8(b, bit), _mm256_set1_epi8(0x10));
}

// One block's Σ u·x (u = q + kOffset<T>, or q itself for Q8_0 / IQ4_NL) as 8 int32 partial sums.
template <DType T>
G4_AVX2 inline __m256i block_dot(const uint8_t* blk, __m256i xq) {
  __m256i p;
  if constexpr (T == DType::Q8_0) {
    p = maddubs_signed(loadu256(blk + 2), xq);
  } else if constexpr (T == DType::IQ4_NL) {
    p = maddubs_signed(_mm256_shuffle_epi8(iq4_table(), nibbles32(blk + 2)), xq);
  } else if constexpr (T == DType::Q4_0) {
    p = _mm256_maddubs_epi16(nibbles32(blk + 2), xq);
  } else if constexpr (T == DType::Q4_1) {
    p = _mm256_maddubs_epi16(nibbles32(blk + 4), xq);
  } else {  // Q5_0 (qh at 2, qs at 6) and Q5_1 (qh at 4, qs at 8)
    constexpr int h = T == DType::Q5_0 ? 2 : 4;
    p = _mm256_maddubs_epi16(_mm256_or_si256(nibbles32(blk + h + 4), fifth_bits(blk + h)), xq);
  }
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

template <DType T>
G4_AVX2 void qdot32(const void* const w[4], const BlockQ8_0x* x, size_t n, float out[4]) {
  constexpr size_t bb = kBlockBytes<T>;
  const size_t nb = n / kQK;
  const uint8_t* const r0 = static_cast<const uint8_t*>(w[0]);
  const uint8_t* const r1 = static_cast<const uint8_t*>(w[1]);
  const uint8_t* const r2 = static_cast<const uint8_t*>(w[2]);
  const uint8_t* const r3 = static_cast<const uint8_t*>(w[3]);
  const uint8_t* const row[4] = {r0, r1, r2, r3};
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  __m256 bias = _mm256_setzero_ps();  // rows' min terms (lane 2r+1) or offset terms (lane r)
  for (size_t b = 0; b < nb; ++b) {
    const BlockQ8_0x& xb = x[b];
    const __m256i xq = loadu256(xb.qs);
    const size_t o = b * bb;
    // The four rows' scales d_w · d_x, row r at lane kStride·r.
    __m256 sc;
    constexpr int kStride = kHasMin<T> ? 2 : 1;
    if constexpr (kHasMin<T>) {  // (d, m) of each row: [d0 m0 d1 m1 d2 m2 d3 m3]
      const __m128i a = _mm_unpacklo_epi32(_mm_cvtsi32_si128(int(ld32(r0 + o))), _mm_cvtsi32_si128(int(ld32(r1 + o))));
      const __m128i c = _mm_unpacklo_epi32(_mm_cvtsi32_si128(int(ld32(r2 + o))), _mm_cvtsi32_si128(int(ld32(r3 + o))));
      const float xs = xb.d * float(xb.sum);
      sc = _mm256_mul_ps(_mm256_cvtph_ps(_mm_unpacklo_epi64(a, c)), _mm256_setr_ps(xb.d, xs, xb.d, xs, xb.d, xs, xb.d, xs));
      bias = _mm256_add_ps(bias, sc);
    } else {  // d of each row (the first 2 of 4 bytes read; every block is longer)
      const __m128i a = _mm_unpacklo_epi16(_mm_cvtsi32_si128(int(ld32(r0 + o))), _mm_cvtsi32_si128(int(ld32(r1 + o))));
      const __m128i c = _mm_unpacklo_epi16(_mm_cvtsi32_si128(int(ld32(r2 + o))), _mm_cvtsi32_si128(int(ld32(r3 + o))));
      const __m128 s4 = _mm_mul_ps(_mm_cvtph_ps(_mm_unpacklo_epi32(a, c)), _mm_set1_ps(xb.d));
      if constexpr (kOffset<T> != 0) {
        bias = _mm256_fmadd_ps(_mm256_castps128_ps256(s4), _mm256_set1_ps(float(-kOffset<T> * xb.sum)), bias);
      }
      sc = _mm256_castps128_ps256(s4);
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      prefetch_ahead<1>(row[r] + o);
      const __m256 s = _mm256_permutevar8x32_ps(sc, _mm256_set1_epi32(kStride * r));
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_dot<T>(row[r] + o, xq)), s, acc[r]);
    }
  }
  alignas(32) float bl[8];
  _mm256_store_ps(bl, bias);
  for (int r = 0; r < 4; ++r) {
    out[r] = hsum(acc[r]);
    if constexpr (kHasMin<T>) out[r] += bl[2 * r + 1];
    if constexpr (kOffset<T> != 0) out[r] += bl[r];
  }
}

// ---- 256-element super-blocks ----

template <DType T>  // Q4_K or Q5_K
G4_AVX2 void qdot_q45k(const void* const w[4], const BlockQ8_K* x, size_t n, float out[4]) {
  constexpr bool five = T == DType::Q5_K;
  constexpr size_t bb = five ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const size_t nb = n / kQKK;
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  __m128 accm[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
  const __m256i lo4 = _mm256_set1_epi8(0x0F), b4 = _mm256_set1_epi8(0x10);
  for (size_t b = 0; b < nb; ++b) {
    const BlockQ8_K& xb = x[b];
    // Σx per 32-element sub-block, for the mins.
    const __m128i bs32 = _mm_hadd_epi16(loadu128(xb.bsums), loadu128(xb.bsums + 8));
    const __m128 xd = _mm_set1_ps(xb.d);
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      const uint8_t* blk = static_cast<const uint8_t*>(w[r]) + b * bb;
      prefetch_ahead<bb>(blk);
      // [d·d_x, dmin·d_x, ...]
      const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(int(ld32(blk)))), xd);
      uint32_t sm[4];
      k_scales_words(blk + 4, sm);
      // The 8 scales as int16 in both lanes; the 8 mins as int16.
      const __m256i sc = _mm256_cvtepu8_epi16(_mm_set1_epi64x(int64_t(sm[0] | uint64_t(sm[1]) << 32)));
      const __m128i mins = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(int64_t(sm[2] | uint64_t(sm[3]) << 32)));
      const uint8_t* qs = blk + 16 + (five ? 32 : 0);
      __m256i hb = five ? loadu256(blk + 16) : _mm256_setzero_si256();  // bit j of qh[l]: sub-block j
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {  // sub-blocks 2j (low nibbles) and 2j+1 (high nibbles)
        const __m256i q = loadu256(qs + 32 * j);
        __m256i ulo = _mm256_and_si256(q, lo4), uhi = _mm256_and_si256(_mm256_srli_epi16(q, 4), lo4);
        if constexpr (five) {
          ulo = _mm256_or_si256(ulo, _mm256_and_si256(_mm256_slli_epi16(hb, 4), b4));
          uhi = _mm256_or_si256(uhi, _mm256_and_si256(_mm256_slli_epi16(hb, 3), b4));
          hb = _mm256_srli_epi16(hb, 2);
        }
        const __m256i plo = _mm256_maddubs_epi16(ulo, loadu256(xb.qs + 64 * j));
        const __m256i phi = _mm256_maddubs_epi16(uhi, loadu256(xb.qs + 64 * j + 32));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(plo, _mm256_shuffle_epi8(sc, bcast16_ctrl(2 * j, 2 * j))));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(phi, _mm256_shuffle_epi8(sc, bcast16_ctrl(2 * j + 1, 2 * j + 1))));
      }
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), _mm256_broadcastss_ps(dd), acc[r]);
      accm[r] = _mm_fmadd_ps(_mm_cvtepi32_ps(_mm_madd_epi16(mins, bs32)), _mm_permute_ps(dd, 0x55), accm[r]);
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = hsum(acc[r]) - hsum(accm[r]);
}

G4_AVX2 void qdot_q6k(const void* const w[4], const BlockQ8_K* x, size_t n, float out[4]) {
  constexpr size_t bb = sizeof(BlockQ6_K);
  const size_t nb = n / kQKK;
  float accs[4] = {0, 0, 0, 0};
  const __m256i lo4 = _mm256_set1_epi8(0x0F), b45 = _mm256_set1_epi8(0x30);
  for (size_t b = 0; b < nb; ++b) {
    const BlockQ8_K& xb = x[b];
    const __m256i bsums = loadu256(xb.bsums);
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      const auto* blk = reinterpret_cast<const BlockQ6_K*>(static_cast<const uint8_t*>(w[r]) + b * bb);
      prefetch_ahead<bb>(reinterpret_cast<const uint8_t*>(blk));
      const __m256i sc16 = _mm256_cvtepi8_epi16(loadu128(blk->scales));
      // Scales 0..7 (first half) and 8..15 (second half) as int16 in both lanes.
      const __m256i sch[2] = {_mm256_permute4x64_epi64(sc16, 0x44), _mm256_permute4x64_epi64(sc16, 0xEE)};
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const __m256i l0 = loadu256(blk->ql + 64 * h), l1 = loadu256(blk->ql + 64 * h + 32);
        const __m256i qh = loadu256(blk->qh + 32 * h);
        // u = q + 32 (0..63) of the half's four 32-element runs; bits 2k, 2k+1 of qh are run k's.
        const __m256i u[4] = {
            _mm256_or_si256(_mm256_and_si256(l0, lo4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), b45)),
            _mm256_or_si256(_mm256_and_si256(l1, lo4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), b45)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), lo4), _mm256_and_si256(qh, b45)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), lo4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), b45)),
        };
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {  // run k: groups 2k (low lane) and 2k+1 (high lane) of the half
          const __m256i p = _mm256_maddubs_epi16(u[k], loadu256(xb.qs + 128 * h + 32 * k));
          const __m256i d = _mm256_madd_epi16(p, _mm256_shuffle_epi8(sch[h], bcast16_ctrl(2 * k, 2 * k + 1)));
          if (k % 2 == 0) s0 = _mm256_add_epi32(s0, d);
          else s1 = _mm256_add_epi32(s1, d);
        }
      }
      // The weights were read as q + 32: take 32 · Σ scale_g · Σx_g back.
      const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bsums), 5);
      const __m256i isum = _mm256_sub_epi32(_mm256_add_epi32(s0, s1), corr);
      // Summed as an integer first: the lanes hold large values of both signs (the u·x sums and the
      // offset correction) that would cancel in floats, losing ~1e-4 relative.
      const float d = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(ld16(reinterpret_cast<const uint8_t*>(&blk->d)))));
      accs[r] += xb.d * (d * float(hsum_i32(isum)));
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = accs[r];
}

G4_AVX2 void qdot_iq4xs(const void* const w[4], const BlockQ8_K* x, size_t n, float out[4]) {
  constexpr size_t bb = sizeof(BlockIQ4_XS);
  const size_t nb = n / kQKK;
  const __m256i tab = iq4_table(), lo4 = _mm256_set1_epi8(0x0F);
  const __m256i shl = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28), shh = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (size_t b = 0; b < nb; ++b) {
    const BlockQ8_K& xb = x[b];
    // The activation in the order the weights unpack: for sub-block pair p, [x 64p..+15 | x 64p+32..+47]
    // (low nibbles) and [x 64p+16..+31 | x 64p+48..+63] (high nibbles).
    __m256i xs[8];
    for (int p = 0; p < 4; ++p) {
      const __m256i a = loadu256(xb.qs + 64 * p), c = loadu256(xb.qs + 64 * p + 32);
      xs[2 * p] = _mm256_permute2x128_si256(a, c, 0x20);
      xs[2 * p + 1] = _mm256_permute2x128_si256(a, c, 0x31);
    }
    const __m128 xd = _mm_set1_ps(xb.d);
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      const auto* blk = reinterpret_cast<const BlockIQ4_XS*>(static_cast<const uint8_t*>(w[r]) + b * bb);
      const uint8_t* raw = reinterpret_cast<const uint8_t*>(blk);
      prefetch_ahead<bb>(raw);
      // ls_j - 32 for j = 0..7 as int32, then as int16 in both lanes.
      const __m256i lo = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(int(ld32(raw + 4))), shl), _mm256_set1_epi32(15));
      const __m256i hi = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(ld16(raw + 2)), shh), _mm256_set1_epi32(3));
      const __m256i ls32 = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), _mm256_set1_epi32(32));
      const __m256i ls = _mm256_permute4x64_epi64(_mm256_packs_epi32(ls32, ls32), 0x88);
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {  // sub-blocks 2p (low lane) and 2p+1 (high lane)
        const __m256i q = loadu256(blk->qs + 32 * p);
        const __m256i vlo = _mm256_shuffle_epi8(tab, _mm256_and_si256(q, lo4));
        const __m256i vhi = _mm256_shuffle_epi8(tab, _mm256_and_si256(_mm256_srli_epi16(q, 4), lo4));
        const __m256i s = _mm256_shuffle_epi8(ls, bcast16_ctrl(2 * p, 2 * p + 1));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(maddubs_signed(vlo, xs[2 * p]), s));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(maddubs_signed(vhi, xs[2 * p + 1]), s));
      }
      const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(ld16(raw))), xd);
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), _mm256_broadcastss_ps(dd), acc[r]);
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = hsum(acc[r]);
}

// ---- activation quantization ----

// q = round-to-even(x · id) of 32 floats: the bytes in element order, and Σq as 8 int32 lanes in *sum.
G4_AVX2 inline __m256i quant32(const float* x, __m256 iv, __m256i* sum) {
  const __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), iv));
  const __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), iv));
  const __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), iv));
  const __m256i q3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), iv));
  sum[0] = _mm256_add_epi32(q0, q1);
  sum[1] = _mm256_add_epi32(q2, q3);
  // packs interleave the lanes: dwords come out as q0[0..3] q1[0..3] q2[0..3] q3[0..3] | q0[4..7] ...
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

G4_AVX2 inline __m256 abs_max(const float* x, int count) {
  const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 m = _mm256_setzero_ps();
  for (int i = 0; i < count; i += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + i), absm));
  return m;
}

G4_AVX2 void quantize_act32(const float* x, BlockQ8_0x* out, size_t n) {
  for (size_t b = 0; b < n / kQK; ++b, x += kQK) {
    const float amax = hmax(abs_max(x, kQK));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    __m256i s[2];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs), quant32(x, _mm256_set1_ps(id), s));
    out[b].sum = hsum_i32(_mm256_add_epi32(s[0], s[1]));
    out[b].d = d;
  }
}

G4_AVX2 void quantize_actk(const float* x, BlockQ8_K* out, size_t n) {
  for (size_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    const float amax = hmax(abs_max(x, kQKK));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 iv = _mm256_set1_ps(id);
    for (int c = 0; c < kQKK / 32; ++c) {
      __m256i s[2];
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs + 32 * c), quant32(x + 32 * c, iv, s));
      out[b].bsums[2 * c] = int16_t(hsum_i32(s[0]));
      out[b].bsums[2 * c + 1] = int16_t(hsum_i32(s[1]));
    }
    out[b].d = d;
  }
}

}  // namespace

bool qdot_4x1_avx2(DType t, const void* const w[4], const void* act, size_t n, float out[4]) {
  const auto* a32 = static_cast<const BlockQ8_0x*>(act);
  const auto* ak = static_cast<const BlockQ8_K*>(act);
  switch (t) {
    case DType::Q4_0: qdot32<DType::Q4_0>(w, a32, n, out); return true;
    case DType::Q4_1: qdot32<DType::Q4_1>(w, a32, n, out); return true;
    case DType::Q5_0: qdot32<DType::Q5_0>(w, a32, n, out); return true;
    case DType::Q5_1: qdot32<DType::Q5_1>(w, a32, n, out); return true;
    case DType::Q8_0: qdot32<DType::Q8_0>(w, a32, n, out); return true;
    case DType::IQ4_NL: qdot32<DType::IQ4_NL>(w, a32, n, out); return true;
    case DType::Q4_K: qdot_q45k<DType::Q4_K>(w, ak, n, out); return true;
    case DType::Q5_K: qdot_q45k<DType::Q5_K>(w, ak, n, out); return true;
    case DType::Q6_K: qdot_q6k(w, ak, n, out); return true;
    case DType::IQ4_XS: qdot_iq4xs(w, ak, n, out); return true;
    default: return false;
  }
}

bool quantize_act_avx2(DType weight, const float* x, void* act, size_t n) {
  if (act_kind(weight) == ActKind::kAct32) quantize_act32(x, static_cast<BlockQ8_0x*>(act), n);
  else quantize_actk(x, static_cast<BlockQ8_K*>(act), n);
  return true;
}

#else
bool qdot_4x1_avx2(DType, const void* const[4], const void*, size_t, float[4]) { return false; }
bool quantize_act_avx2(DType, const float*, void*, size_t) { return false; }
#endif

}  // namespace g4::cpu
