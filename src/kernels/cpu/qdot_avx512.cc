// AVX-512 (F, BW, VL, DQ) + VNNI versions of the quantized-activation kernels. VPDPBUSD multiplies
// unsigned weight bytes by signed activation bytes, so every type is unpacked to u = q + offset
// (0..255) and the offset is taken back with the activation block sums, folded into the initial
// accumulator. See qdot.h for the formats and qdot_ref.cc for the definitions.
#include <cstring>

#include "kernels/cpu/qdot.h"
#include "kernels/cpu/qdot_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// GCC 12 reports the deliberately undefined upper halves in _mm512_cast* as (maybe-)uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace g4::cpu {

#if defined(__x86_64__)
#define G4_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,f16c,fma")))

using namespace quant;

namespace {

G4_AVX512 inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// Software prefetch a fixed distance ahead of each of the four row streams: the hardware prefetchers
// alone leave a good part of the bandwidth unused with four streams per thread. The address is formed
// as an integer since it may lie past the end of the row (a prefetch never faults).
constexpr uintptr_t kPrefetchAhead = 1024;
template <size_t Bytes>
G4_AVX512 inline void prefetch_ahead(const uint8_t* p) {
  for (size_t off = 0; off < Bytes; off += 64)
    _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(p) + kPrefetchAhead + off), _MM_HINT_T0);
}

G4_AVX512 inline __m512i nibbles_pair(const uint8_t* qa, const uint8_t* qb) {
  // [a.qs | b.qs] -> low nibbles then high nibbles of each, in element order [a0..31, b0..31].
  const __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i*)qa)),
                                            _mm_loadu_si128((const __m128i*)qb), 1);
  __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1);
  z = _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
  return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
}

template <DType T>
constexpr int kOffset = T == DType::Q4_0 ? 8 : T == DType::Q5_0 ? 16 : (T == DType::Q8_0 || T == DType::IQ4_NL) ? 128 : 0;
template <DType T>
constexpr bool kHasMin = T == DType::Q4_1 || T == DType::Q5_1;

// The 64 weights of blocks a and b as u = q + kOffset<T>, in element order, for the 5-bit types (the
// other 32-element types take the several-blocks-a-step kernel below).
// Q5_0 (qh at 2, qs at 6) and Q5_1 (qh at 4, qs at 8): bit e of qh is element e's fifth bit.
template <DType T>
G4_AVX512 inline __m512i unpack_pair(const uint8_t* a, const uint8_t* b) {
  static_assert(T == DType::Q5_0 || T == DType::Q5_1);
  constexpr int h = T == DType::Q5_0 ? 2 : 4;
  uint32_t ha, hb;
  std::memcpy(&ha, a + h, 4);
  std::memcpy(&hb, b + h, 4);
  const __m512i z = nibbles_pair(a + h + 4, b + h + 4);
  const __mmask64 hi = __mmask64(ha) | (__mmask64(hb) << 32);
  return _mm512_or_si512(z, _mm512_maskz_mov_epi8(hi, _mm512_set1_epi8(0x10)));
}

// Q5_0 and Q5_1, two blocks a step.
template <DType T>
G4_AVX512 void qdot32(const void* const w[4], const BlockQ8_0x* x, size_t n, float out[4]) {
  const size_t bb = dtype_block_bytes(T), nb = n / kQK;
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  float bias[4] = {0, 0, 0, 0};
  const uint8_t* row[4];
  for (int r = 0; r < 4; ++r) row[r] = static_cast<const uint8_t*>(w[r]);
  size_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const BlockQ8_0x &xa = x[b], &xb = x[b + 1];
    const __m512i xq = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)xa.qs)),
                                          _mm256_loadu_si256((const __m256i*)xb.qs), 1);
    // -offset * Σx of each block, in the first lane of its half: the dot's starting value.
    const __m512i corr = _mm512_inserti32x4(_mm512_castsi128_si512(_mm_cvtsi32_si128(-kOffset<T> * xa.sum)),
                                            _mm_cvtsi32_si128(-kOffset<T> * xb.sum), 2);
    for (int r = 0; r < 4; ++r) {
      const uint8_t* pa = row[r] + b * bb;
      const uint8_t* pb = pa + bb;
      prefetch_ahead<64>(pa);
      const __m512i dp = _mm512_dpbusd_epi32(corr, unpack_pair<T>(pa, pb), xq);
      uint16_t da, db;
      std::memcpy(&da, pa, 2);
      std::memcpy(&db, pb, 2);
      const __m512 s = _mm512_insertf32x8(_mm512_set1_ps(h2f(da) * xa.d), _mm256_set1_ps(h2f(db) * xb.d), 1);
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), s, acc[r]);
      if constexpr (kHasMin<T>) {
        uint16_t ma, mb;
        std::memcpy(&ma, pa + 2, 2);
        std::memcpy(&mb, pb + 2, 2);
        bias[r] += h2f(ma) * xa.d * float(xa.sum) + h2f(mb) * xb.d * float(xb.sum);
      }
    }
  }
  for (int r = 0; r < 4; ++r) {
    out[r] = _mm512_reduce_add_ps(acc[r]) + bias[r];
    if (b < nb) out[r] += qdot_row_ref(T, row[r] + b * bb, x + b, n - b * kQK);
  }
}

// ---- 32-element blocks, several per step, scales of a step converted together ----
// A step covers G blocks of one row (G * bb bytes, at most 128) with two 64-byte loads: A at the step's
// start and B ending at the step's end. VPERMT2W then gathers the quants (all at even offsets) into one
// register and VPERMW the G f16 scales (and mins), each repeated over its block's lanes.

// Word index into the pair (A, B) of word w of the step, B starting at byte boff.
constexpr uint16_t pair_word(int w, int boff) { return uint16_t(w < 32 ? w : 32 + w - boff / 2); }

template <int Bb, int QsOff, int G>
struct StepIdx {  // per output word: the quant words (32), the scale and min words (16 lanes)
  alignas(64) uint16_t qs[32];
  alignas(64) uint16_t d[32];
  alignas(64) uint16_t m[32];
  constexpr StepIdx() : qs{}, d{}, m{} {
    constexpr int boff = G * Bb - 64;
    constexpr int per = 32 / G;  // quant words per block
    for (int j = 0; j < 32; ++j) qs[j] = pair_word((Bb * (j / per) + QsOff) / 2 + j % per, boff);
    for (int j = 0; j < 16; ++j) d[j] = uint16_t(Bb * (j / (16 / G)) / 2), m[j] = uint16_t(d[j] + 1);
  }
};

template <DType T>
constexpr int kBb = T == DType::Q4_1 ? 20 : T == DType::Q8_0 ? 34 : 18;
template <DType T>
constexpr int kGroup = T == DType::Q8_0 ? 2 : 4;
template <DType T>
inline constexpr StepIdx<kBb<T>, T == DType::Q4_1 ? 4 : 2, kGroup<T>> kStepIdx;

G4_AVX512 inline __m512i load_idx(const uint16_t* p) { return _mm512_load_si512(p); }

// Σ over the step's blocks of d_w·d_x·(q·x), as 16 lanes (of the row) to be summed; min rows also add
// m·d_x·Σx into bias. Blocks of 32 as G = 4 (nibble types: lanes 4k..4k+3 hold block k) or G = 2 (Q8_0:
// lanes 8k..8k+7).
template <DType T>
G4_AVX512 void qdot32_steps(const void* const w[4], const BlockQ8_0x* x, size_t n, float out[4]) {
  constexpr int G = kGroup<T>, bb = kBb<T>, boff = G * bb - 64;
  const auto& ix = kStepIdx<T>;
  const size_t nb = n / kQK, steps = nb / G;
  const __m512i qidx = load_idx(ix.qs), didx = load_idx(ix.d), midx = load_idx(ix.m);
  const __m512i lo4 = _mm512_set1_epi8(0x0F);
  // Lane j belongs to block j / lanes of the step; the first lane of each block is in `first`.
  const __m512i lane_blk = G == 2 ? _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)
                                  : _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const __mmask16 first = G == 2 ? 0x0101 : 0x1111;
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  __m512 bias[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  const uint8_t* row[4];
  for (int r = 0; r < 4; ++r) row[r] = static_cast<const uint8_t*>(w[r]);
  for (size_t s = 0; s < steps; ++s) {
    const BlockQ8_0x* xs = x + s * G;
    // Per lane: the activation scale of its block; in each block's first lane the offset correction
    // -offset·Σx (the dot's starting value) and, for min types, d_x·Σx.
    const __m128 d4 = G == 2 ? _mm_setr_ps(xs[0].d, xs[1].d, 0, 0) : _mm_setr_ps(xs[0].d, xs[1].d, xs[2].d, xs[3].d);
    const __m128i s4 = G == 2 ? _mm_setr_epi32(xs[0].sum, xs[1].sum, 0, 0)
                              : _mm_setr_epi32(xs[0].sum, xs[1].sum, xs[2].sum, xs[3].sum);
    const __m512 xdv = _mm512_permutexvar_ps(lane_blk, _mm512_castps128_ps512(d4));
    const __m512i cv = _mm512_maskz_permutexvar_epi32(
        first, lane_blk, _mm512_castsi128_si512(_mm_mullo_epi32(s4, _mm_set1_epi32(-kOffset<T>))));
    __m512 xsum = _mm512_setzero_ps();
    if constexpr (kHasMin<T>)
      xsum = _mm512_maskz_permutexvar_ps(first, lane_blk, _mm512_castps128_ps512(_mm_mul_ps(d4, _mm_cvtepi32_ps(s4))));
    __m512i xa, xb;  // the activation bytes in the order of the unpacked weights
    if constexpr (G == 2) {
      xa = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)xs[0].qs)),
                              _mm256_loadu_si256((const __m256i*)xs[1].qs), 1);
      xb = xa;
    } else {  // low nibbles are elements 0..15 of each block, high nibbles 16..31
      const __m512i x01 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)xs[0].qs)),
                                             _mm256_loadu_si256((const __m256i*)xs[1].qs), 1);
      const __m512i x23 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)xs[2].qs)),
                                             _mm256_loadu_si256((const __m256i*)xs[3].qs), 1);
      xa = _mm512_permutex2var_epi64(x01, _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13), x23);
      xb = _mm512_permutex2var_epi64(x01, _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15), x23);
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      const uint8_t* p = row[r] + s * (G * bb);
      prefetch_ahead<128>(p);
      const __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + boff);
      const __m512i q = _mm512_permutex2var_epi16(a, qidx, b);
      __m512i dp;
      if constexpr (G == 2) {  // Q8_0: u = q + 128
        dp = _mm512_dpbusd_epi32(cv, _mm512_xor_si512(q, _mm512_set1_epi8(char(0x80))), xa);
      } else {
        __m512i lo = _mm512_and_si512(q, lo4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), lo4);
        if constexpr (T == DType::IQ4_NL) {
          const __m512i tbl = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i*)kIq4ValuesBiased));
          lo = _mm512_shuffle_epi8(tbl, lo), hi = _mm512_shuffle_epi8(tbl, hi);
        }
        dp = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(cv, lo, xa), hi, xb);
      }
      const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(didx, a)));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), _mm512_mul_ps(dw, xdv), acc[r]);
      if constexpr (kHasMin<T>) {
        const __m512 mw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(midx, a)));
        bias[r] = _mm512_fmadd_ps(mw, xsum, bias[r]);
      }
    }
  }
  const size_t done = steps * G;
  for (int r = 0; r < 4; ++r) {
    out[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r], bias[r]));
    if (done < nb) out[r] += qdot_row_ref(T, row[r] + done * bb, x + done, n - done * kQK);
  }
}

// The 16 lanes' scale indices for sub-blocks (i, i+1) (8 lanes each) or groups (i..i+3) (4 lanes each).
G4_AVX512 inline __m512i idx_pairs(int i) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(i)), _mm256_set1_epi32(i + 1), 1);
}
G4_AVX512 inline __m512i idx_quads(int i) {
  return _mm512_setr_epi32(i, i, i, i, i + 1, i + 1, i + 1, i + 1, i + 2, i + 2, i + 2, i + 2, i + 3, i + 3, i + 3, i + 3);
}

template <DType T>  // Q4_K or Q5_K
G4_AVX512 void qdot_q45k(const void* const w[4], const BlockQ8_K* x, size_t n, float out[4]) {
  constexpr bool five = T == DType::Q5_K;
  const size_t bb = dtype_block_bytes(T), nb = n / kQKK;
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  float bias[4] = {0, 0, 0, 0};
  const __m512i lo4 = _mm512_set1_epi8(0x0F);
  for (size_t b = 0; b < nb; ++b) {
    const BlockQ8_K& xb = x[b];
    // Σx per 32-element sub-block, for the mins.
    const __m128i bs16 = _mm_hadd_epi16(_mm_loadu_si128((const __m128i*)xb.bsums),
                                        _mm_loadu_si128((const __m128i*)(xb.bsums + 8)));
    for (int r = 0; r < 4; ++r) {
      const uint8_t* blk = static_cast<const uint8_t*>(w[r]) + b * bb;
      prefetch_ahead<192>(blk);
      uint16_t dh[2];
      std::memcpy(dh, blk, 4);
      uint32_t sm[4];
      k_scales_words(blk + 4, sm);
      const __m512i sc = _mm512_cvtepu8_epi32(_mm_setr_epi32(int(sm[0]), int(sm[1]), 0, 0));
      const __m128i mins = _mm_cvtepu8_epi16(_mm_setr_epi32(int(sm[2]), int(sm[3]), 0, 0));
      const uint8_t* qh = blk + 16;
      const uint8_t* qs = blk + 16 + (five ? 32 : 0);
      __m256i hbits;
      if constexpr (five) hbits = _mm256_loadu_si256((const __m256i*)qh);
      __m512i isum = _mm512_setzero_si512();
      for (int j = 0; j < 4; ++j) {
        const __m256i q = _mm256_loadu_si256((const __m256i*)(qs + 32 * j));
        __m512i u = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), lo4);
        if constexpr (five) {  // bit 2j of qh[l] for element l, bit 2j+1 for element 32+l
          const __m256i h0 = _mm256_srli_epi16(hbits, 2 * j);
          const __m512i h = _mm512_inserti64x4(_mm512_castsi256_si512(h0), _mm256_srli_epi16(h0, 1), 1);
          u = _mm512_or_si512(u, _mm512_and_si512(_mm512_slli_epi16(h, 4), _mm512_set1_epi8(0x10)));
        }
        const __m512i dp = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, _mm512_loadu_si512(xb.qs + 64 * j));
        isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(dp, _mm512_permutexvar_epi32(idx_pairs(2 * j), sc)));
      }
      const __m128i mprod = _mm_madd_epi16(mins, bs16);
      const int32_t msum = _mm_extract_epi32(mprod, 0) + _mm_extract_epi32(mprod, 1) + _mm_extract_epi32(mprod, 2) +
                           _mm_extract_epi32(mprod, 3);
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(xb.d * h2f(dh[0])), acc[r]);
      bias[r] -= xb.d * h2f(dh[1]) * float(msum);
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = _mm512_reduce_add_ps(acc[r]) + bias[r];
}

G4_AVX512 void qdot_q6k(const void* const w[4], const BlockQ8_K* x, size_t n, float out[4]) {
  const size_t bb = sizeof(BlockQ6_K), nb = n / kQKK;
  float accs[4] = {0, 0, 0, 0};
  const __m512i lo4 = _mm512_set1_epi8(0x0F), b45 = _mm512_set1_epi8(0x30);
  for (size_t b = 0; b < nb; ++b) {
    const BlockQ8_K& xb = x[b];
    const __m256i bsums = _mm256_loadu_si256((const __m256i*)xb.bsums);
    for (int r = 0; r < 4; ++r) {
      const auto* blk = reinterpret_cast<const BlockQ6_K*>(static_cast<const uint8_t*>(w[r]) + b * bb);
      prefetch_ahead<256>(reinterpret_cast<const uint8_t*>(blk));
      const __m128i sc8 = _mm_loadu_si128((const __m128i*)blk->scales);
      const __m512i sc = _mm512_cvtepi8_epi32(sc8);
      __m512i isum = _mm512_setzero_si512();
      for (int h = 0; h < 2; ++h) {
        const __m512i l = _mm512_loadu_si512(blk->ql + 64 * h);
        const __m256i qh = _mm256_loadu_si256((const __m256i*)(blk->qh + 32 * h));
        const __m512i hh = _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
        const __m512i ulo = _mm512_or_si512(_mm512_and_si512(l, lo4), _mm512_and_si512(_mm512_slli_epi16(hh, 4), b45));
        const __m512i uhi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), lo4), _mm512_and_si512(hh, b45));
        const __m512i dlo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ulo, _mm512_loadu_si512(xb.qs + 128 * h));
        const __m512i dhi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), uhi, _mm512_loadu_si512(xb.qs + 128 * h + 64));
        isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(dlo, _mm512_permutexvar_epi32(idx_quads(8 * h), sc)));
        isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(dhi, _mm512_permutexvar_epi32(idx_quads(8 * h + 4), sc)));
      }
      // The weights were read as q + 32: take 32 · Σ scale_g · Σx_g back.
      const __m256i corr = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), bsums);
      const __m512i corr32 = _mm512_castsi256_si512(_mm256_slli_epi32(corr, 5));
      isum = _mm512_sub_epi32(isum, corr32);
      // Summed as an integer first: the lanes hold large values of both signs (the u·x sums and the
      // offset correction) that would cancel in floats, losing ~1e-4 relative.
      accs[r] += xb.d * (h2f(blk->d) * float(_mm512_reduce_add_epi32(isum)));
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = accs[r];
}

G4_AVX512 void qdot_iq4xs(const void* const w[4], const BlockQ8_K* x, size_t n, float out[4]) {
  const size_t bb = sizeof(BlockIQ4_XS), nb = n / kQKK;
  const __m512i tab = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i*)kIq4ValuesBiased));
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (size_t b = 0; b < nb; ++b) {
    const BlockQ8_K& xb = x[b];
    const __m128i bs32 = _mm_hadd_epi16(_mm_loadu_si128((const __m128i*)xb.bsums),
                                        _mm_loadu_si128((const __m128i*)(xb.bsums + 8)));
    for (int r = 0; r < 4; ++r) {
      const auto* blk = reinterpret_cast<const BlockIQ4_XS*>(static_cast<const uint8_t*>(w[r]) + b * bb);
      prefetch_ahead<192>(reinterpret_cast<const uint8_t*>(blk));
      alignas(64) int32_t ls[16] = {};
      alignas(16) int16_t ls16[8];
      for (int j = 0; j < 8; ++j) {
        ls[j] = (((blk->scales_l[j / 2] >> (4 * (j % 2))) & 15) | (((blk->scales_h >> (2 * j)) & 3) << 4)) - 32;
        ls16[j] = int16_t(ls[j]);
      }
      const __m512i sc = _mm512_load_si512(ls);
      __m512i isum = _mm512_setzero_si512();
      for (int p = 0; p < 4; ++p) {  // sub-blocks 2p and 2p+1
        const __m512i u = _mm512_shuffle_epi8(tab, nibbles_pair(blk->qs + 32 * p, blk->qs + 32 * p + 16));
        const __m512i dp = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, _mm512_loadu_si512(xb.qs + 64 * p));
        isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(dp, _mm512_permutexvar_epi32(idx_pairs(2 * p), sc)));
      }
      // The values were read as kv + 128: take 128 · Σ ls_j · Σx_j back.
      const __m128i corr = _mm_madd_epi16(_mm_load_si128((const __m128i*)ls16), bs32);
      const int32_t c = _mm_extract_epi32(corr, 0) + _mm_extract_epi32(corr, 1) + _mm_extract_epi32(corr, 2) +
                        _mm_extract_epi32(corr, 3);
      isum = _mm512_sub_epi32(isum, _mm512_castsi128_si512(_mm_cvtsi32_si128(c * 128)));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(xb.d * h2f(blk->d)), acc[r]);
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = _mm512_reduce_add_ps(acc[r]);
}

G4_AVX512 void quantize_act32(const float* x, BlockQ8_0x* out, size_t n) {
  for (size_t b = 0; b < n / kQK; ++b, x += kQK) {
    const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m512 iv = _mm512_set1_ps(id);
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, iv)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, iv));
    _mm_storeu_si128((__m128i*)out[b].qs, _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128((__m128i*)(out[b].qs + 16), _mm512_cvtepi32_epi8(q1));
    out[b].sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    out[b].d = d;
  }
}

G4_AVX512 void quantize_actk(const float* x, BlockQ8_K* out, size_t n) {
  for (size_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    __m512 m = _mm512_setzero_ps();
    for (int i = 0; i < kQKK; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
    const float amax = _mm512_reduce_max_ps(m);
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m512 iv = _mm512_set1_ps(id);
    for (int g = 0; g < kQKK / 16; ++g) {
      const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * g), iv));
      _mm_storeu_si128((__m128i*)(out[b].qs + 16 * g), _mm512_cvtepi32_epi8(q));
      out[b].bsums[g] = int16_t(_mm512_reduce_add_epi32(q));
    }
    out[b].d = d;
  }
}

}  // namespace

bool qdot_4x1_avx512(DType t, const void* const w[4], const void* act, size_t n, float out[4]) {
  const auto* a32 = static_cast<const BlockQ8_0x*>(act);
  const auto* ak = static_cast<const BlockQ8_K*>(act);
  switch (t) {
    case DType::Q4_0: qdot32_steps<DType::Q4_0>(w, a32, n, out); return true;
    case DType::Q4_1: qdot32_steps<DType::Q4_1>(w, a32, n, out); return true;
    case DType::Q5_0: qdot32<DType::Q5_0>(w, a32, n, out); return true;
    case DType::Q5_1: qdot32<DType::Q5_1>(w, a32, n, out); return true;
    case DType::Q8_0: qdot32_steps<DType::Q8_0>(w, a32, n, out); return true;
    case DType::IQ4_NL: qdot32_steps<DType::IQ4_NL>(w, a32, n, out); return true;
    case DType::Q4_K: qdot_q45k<DType::Q4_K>(w, ak, n, out); return true;
    case DType::Q5_K: qdot_q45k<DType::Q5_K>(w, ak, n, out); return true;
    case DType::Q6_K: qdot_q6k(w, ak, n, out); return true;
    case DType::IQ4_XS: qdot_iq4xs(w, ak, n, out); return true;
    default: return false;
  }
}

bool quantize_act_avx512(DType weight, const float* x, void* act, size_t n) {
  if (act_kind(weight) == ActKind::kAct32) quantize_act32(x, static_cast<BlockQ8_0x*>(act), n);
  else quantize_actk(x, static_cast<BlockQ8_K*>(act), n);
  return true;
}

#else
bool qdot_4x1_avx512(DType, const void* const[4], const void*, size_t, float[4]) { return false; }
bool quantize_act_avx512(DType, const float*, void*, size_t) { return false; }
#endif

}  // namespace g4::cpu
