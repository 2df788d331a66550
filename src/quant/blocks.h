// ggml's quantized block layouts, byte for byte as GGUF files store them. Each block holds
// dtype_block(t) consecutive elements of one row. Scales are f16 bit patterns (util/dtype.h).
// What the bits mean is in quant/dequantize.cc (the reference) and the kernels that read them.
#pragma once

#include <cstdint>
#include <cstring>

#include "util/dtype.h"

namespace g4::quant {

constexpr int kQK = 32;    // elements per block of the 32-blocks (Q4_0 .. Q8_0, IQ4_NL)
constexpr int kQKK = 256;  // elements per super-block of the k-quants and IQ4_XS
constexpr int kScaleBytesK = 12;  // Q4_K / Q5_K: 8 six-bit scales and 8 six-bit mins, packed

struct BlockQ4_0 { uint16_t d; uint8_t qs[kQK / 2]; };
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[kQK / 2]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[kQK]; };
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[kScaleBytesK]; uint8_t qs[kQKK / 2]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[kScaleBytesK]; uint8_t qh[kQKK / 8]; uint8_t qs[kQKK / 2]; };
struct BlockQ6_K { uint8_t ql[kQKK / 2]; uint8_t qh[kQKK / 4]; int8_t scales[kQKK / 16]; uint16_t d; };
struct BlockIQ4_NL { uint16_t d; uint8_t qs[kQK / 2]; };
struct BlockIQ4_XS { uint16_t d; uint16_t scales_h; uint8_t scales_l[kQKK / 64]; uint8_t qs[kQKK / 2]; };

// Activations for the integer dot products (never stored in files): Q8_0-like blocks of 32 with an
// f32 scale and the sum of the quants, and ggml's Q8_K super-blocks with per-16 sums.
struct BlockQ8_0x { float d; int32_t sum; int8_t qs[kQK]; };
struct BlockQ8_K { float d; int8_t qs[kQKK]; int16_t bsums[kQKK / 16]; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136 && sizeof(BlockQ8_K) == 292);

// The 16 non-uniform levels of IQ4_NL and IQ4_XS.
inline constexpr int8_t kIq4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};

// kIq4Values + 128 (1..241): the unsigned form the integer kernels look up with PSHUFB.
alignas(16) inline constexpr uint8_t kIq4ValuesBiased[16] = {1,   24,  45,  63,  79,  93,  106, 118,
                                                             129, 141, 153, 166, 181, 197, 217, 241};
static_assert([] {
  for (int i = 0; i < 16; ++i)
    if (kIq4ValuesBiased[i] != kIq4Values[i] + 128) return false;
  return true;
}());

// All eight 6-bit scales and mins of a Q4_K / Q5_K super-block at once, as bytes: out[0..1] hold
// sc[0..7], out[2..3] m[0..7] (the word-wide form of k_scale_min below).
inline void k_scales_words(const uint8_t* q, uint32_t out[4]) {
  uint32_t w0, w1, w2;
  std::memcpy(&w0, q, 4);
  std::memcpy(&w1, q + 4, 4);
  std::memcpy(&w2, q + 8, 4);
  out[0] = w0 & 0x3f3f3f3f;
  out[1] = (w2 & 0x0f0f0f0f) | (((w0 >> 6) & 0x03030303) << 4);
  out[2] = w1 & 0x3f3f3f3f;
  out[3] = ((w2 >> 4) & 0x0f0f0f0f) | (((w1 >> 6) & 0x03030303) << 4);
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block.
inline void k_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace g4::quant
