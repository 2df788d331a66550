// Reference quantizers for the 32-element types Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0: the same bytes as
// llama.cpp's quantize_row_*_ref (and gguf.quants, written to match them).
//
// Symmetric types take d = (the signed element of largest magnitude) / -2^(bits-1), so that element
// lands exactly on the lowest level; offset types take d = (max - min) / (2^bits - 1) and m = min.
// The quants are truncations of x/d + offset + 0.5, i.e. rounding half up.
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

// The element with the largest |x| (the first one on ties), keeping its sign.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* lo, float* hi) {
  float mn = 3.402823466e38f, mx = -3.402823466e38f;
  for (int j = 0; j < n; ++j) {
    if (x[j] < mn) mn = x[j];
    if (x[j] > mx) mx = x[j];
  }
  *lo = mn;
  *hi = mx;
}

// Truncation toward zero of a value known to lie in [0, 64); the clamp only keeps NaN or an
// out-of-range input from being undefined behaviour.
int trunc_small(float v) { return v >= 0.0f && v < 64.0f ? int(v) : 0; }

template <class Block>
Block* out_block(void* dst, int64_t i) { return static_cast<Block*>(dst) + i; }

// Packs 32 quants of 0..15 (after masking) two to a byte: element j in the low nibble of byte j,
// element j + 16 in the high nibble.
void pack_nibbles(const int* q, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = uint8_t((q[j] & 0xF) | (q[j + kQK / 2] & 0xF) << 4);
}

// The fifth bits of 32 quants as a little-endian 32-bit mask (bit j = element j).
void pack_high_bits(const int* q, uint8_t* qh) {
  uint32_t bits = 0;
  for (int j = 0; j < kQK; ++j) bits |= uint32_t((q[j] >> 4) & 1) << j;
  for (int k = 0; k < 4; ++k) qh[k] = uint8_t(bits >> (8 * k));
}

}  // namespace

void quantize_q8_0(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ8_0 b;
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    // roundf: halves away from zero (not nearest_int's ties-to-even).
    for (int j = 0; j < kQK; ++j) b.qs[j] = int8_t(std::round(x[j] * id));
    std::memcpy(out_block<BlockQ8_0>(dst, i), &b, sizeof b);
  }
}

void quantize_q4_0(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ4_0 b;
    const float d = signed_absmax(x, kQK) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    int q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = std::min(15, trunc_small(x[j] * id + 8.5f));
    pack_nibbles(q, b.qs);
    std::memcpy(out_block<BlockQ4_0>(dst, i), &b, sizeof b);
  }
}

void quantize_q5_0(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ5_0 b;
    const float d = signed_absmax(x, kQK) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    int q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = std::min(31, trunc_small(x[j] * id + 16.5f));
    pack_nibbles(q, b.qs);
    pack_high_bits(q, b.qh);
    std::memcpy(out_block<BlockQ5_0>(dst, i), &b, sizeof b);
  }
}

void quantize_q4_1(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ4_1 b;
    float mn, mx;
    min_max(x, kQK, &mn, &mx);
    const float d = (mx - mn) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    b.m = f32_to_f16(mn);
    int q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = std::min(15, trunc_small((x[j] - mn) * id + 0.5f));
    pack_nibbles(q, b.qs);
    std::memcpy(out_block<BlockQ4_1>(dst, i), &b, sizeof b);
  }
}

void quantize_q5_1(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ5_1 b;
    float mn, mx;
    min_max(x, kQK, &mn, &mx);
    const float d = (mx - mn) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    b.m = f32_to_f16(mn);
    int q[kQK];
    // (x - min) / d never exceeds 31 + rounding, so no clamp is needed (llama.cpp has none here).
    for (int j = 0; j < kQK; ++j) q[j] = trunc_small((x[j] - mn) * id + 0.5f);
    pack_nibbles(q, b.qs);
    pack_high_bits(q, b.qh);
    std::memcpy(out_block<BlockQ5_1>(dst, i), &b, sizeof b);
  }
}

}  // namespace g4::quant::detail
