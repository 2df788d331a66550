// Reference quantizers for IQ4_NL and IQ4_XS: the bytes llama.cpp's quantize_iq4_nl / quantize_iq4_xs
// write without an importance matrix (what llama-quantize does), i.e. a 15-step scale search.
//
// Both map each element to the nearest of 16 fixed non-uniform levels (kIq4Values) times a block
// scale. IQ4_NL stores that scale as f16 per 32 elements. IQ4_XS fits the eight 32-element scales
// the same way, then stores them as 6-bit multiples of one f16 super-scale and re-picks the levels.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/quantize_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")  // a*b+c must round twice, as in the reference
#endif

namespace g4::quant::detail {

namespace {

constexpr int kTries = 7;  // llama.cpp's ntry when no importance matrix is given

// Index of the level closest to v (the lower one when v is exactly halfway), by bisection.
int nearest_level(float v) {
  const int8_t* lv = kIq4Values;
  if (v <= lv[0]) return 0;
  if (v >= lv[15]) return 15;
  int lo = 0, hi = 15;  // lv[lo] <= v < lv[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (v < lv[mid]) hi = mid; else lo = mid;
  }
  return v - float(lv[hi - 1]) < float(lv[hi]) - v ? hi - 1 : hi;
}

// Weighted (w = x^2) least-squares scale for 32 elements: first with d such that the largest-|x|
// element maps to level -127, then with inverse scales (k - 127)/max, k = -kTries..kTries, keeping
// whichever fits best. Returns 0 for a (near) all-zero block. The caller picks the levels for the
// final scale.
float fit_block(const float* x) {
  float amax = 0, max = 0;
  for (int j = 0; j < kQK; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  if (amax < 1e-15f) return 0.0f;
  auto sums = [&](float id, float* sumqx, float* sumq2) {
    *sumqx = *sumq2 = 0;
    for (int j = 0; j < kQK; ++j) {
      const int l = nearest_level(id * x[j]);
      const float q = float(kIq4Values[l]);
      const float wq = (x[j] * x[j]) * q;
      *sumqx += wq * x[j];
      *sumq2 += wq * q;
    }
  };
  float sumqx, sumq2;
  const float d0 = -max / float(kIq4Values[0]);
  sums(1 / d0, &sumqx, &sumq2);
  float d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
  float best = d * sumqx;
  for (int k = -kTries; k <= kTries; ++k) {
    sums(float(k + kIq4Values[0]) / max, &sumqx, &sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

// Element j of a 32-block in the low nibble of byte j (j < 16) or the high nibble of byte j - 16.
void pack32(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = uint8_t(L[j] | L[j + 16] << 4);
}

}  // namespace

void quantize_iq4_nl(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockIQ4_NL b;
    uint8_t L[kQK];
    const float d = fit_block(x);
    b.d = f32_to_f16(d);
    // The levels are picked against the unrounded scale, not the stored f16.
    const float id = d != 0 ? 1 / d : 0.0f;
    for (int j = 0; j < kQK; ++j) L[j] = uint8_t(nearest_level(id * x[j]));
    pack32(L, b.qs);
    std::memcpy(static_cast<BlockIQ4_NL*>(dst) + i, &b, sizeof b);
  }
}

void quantize_iq4_xs(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
    BlockIQ4_XS b{};
    float scales[8];
    float max_scale = 0, amax_scale = 0;
    for (int s = 0; s < 8; ++s) {
      scales[s] = fit_block(x + 32 * s);
      if (std::fabs(scales[s]) > amax_scale) {
        amax_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    // Sub-block scales become d * (l - 32), l in 0..63, with d = max_scale / -32 so the largest one
    // maps to l = 0. Like llama.cpp, the levels are picked against the unrounded d.
    const float d = -max_scale / 32;
    b.d = f32_to_f16(d);
    const float id = d != 0 ? 1 / d : 0.0f;
    for (int s = 0; s < 8; ++s) {
      int l = std::max(-32, std::min(31, nearest_int(id * scales[s])));
      const float dl = d * float(l);
      const float idl = dl != 0 ? 1 / dl : 0.0f;
      uint8_t L[32];
      for (int j = 0; j < 32; ++j) L[j] = uint8_t(nearest_level(idl * x[32 * s + j]));
      pack32(L, b.qs + 16 * s);
      l += 32;
      b.scales_l[s / 2] |= uint8_t((l & 0xF) << (4 * (s % 2)));
      b.scales_h |= uint16_t((l >> 4) << (2 * s));
    }
    std::memcpy(static_cast<BlockIQ4_XS*>(dst) + i, &b, sizeof b);
  }
}

}  // namespace g4::quant::detail
