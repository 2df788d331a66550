// Reference quantizers for the k-quants Q4_K, Q5_K and Q6_K: the same bytes as llama.cpp's
// quantize_row_q{4,5,6}_K_ref (what llama-quantize writes without an importance matrix).
//
// Each super-block of 256 is cut into sub-blocks; each sub-block gets a float scale (and, for Q4_K /
// Q5_K, a min) from a small search, then those floats are themselves quantized to 6 bits (8 bits for
// Q6_K) against one f16 super-scale, and the elements are re-quantized against the scales as stored.
// Every float operation keeps llama.cpp's order and single-precision rounding, because the searches
// compare errors and a last-bit difference can flip a choice.
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

constexpr int kSub = 32;  // sub-block of Q4_K / Q5_K

// Fits x[i] ~ scale * L[i] - the_min with L in 0..nmax (weighted least squares), searching over
// nstep + 1 candidate inverse scales (nmax + rmin + rdelta*k) / (max - min) around the plain
// min/max fit and keeping the candidate with the smallest weighted squared error. The min is
// never positive (a block of all-positive values is fitted from 0). Returns the scale.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min, float rmin,
                    float rdelta, int nstep) {
  float lo = x[0], hi = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (lo > 0) lo = 0;
  if (hi == lo) {
    std::fill(L, L + n, uint8_t(0));
    *the_min = -lo;
    return 0.0f;
  }
  float iscale = float(nmax) / (hi - lo);
  float scale = 1 / iscale;
  float best_err = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = uint8_t(std::clamp(nearest_int(iscale * (x[i] - lo)), 0, nmax));
    const float diff = scale * float(L[i]) + lo - x[i];
    best_err += w[i] * (diff * diff);
  }
  uint8_t trial[kSub];
  for (int k = 0; k <= nstep; ++k) {
    iscale = (rmin + rdelta * float(k) + float(nmax)) / (hi - lo);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * (x[i] - lo)), 0, nmax);
      trial[i] = uint8_t(l);
      const float wl = w[i] * float(l);
      sum_l += wl;
      sum_l2 += wl * float(l);
      sum_xl += wl * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float s = (sum_w * sum_xl - sum_x * sum_l) / det;
    float m = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (m > 0) {  // a positive offset is not representable: refit the scale through 0
      m = 0;
      s = sum_xl / sum_l2;
    }
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = s * float(trial[i]) + m - x[i];
      err += w[i] * (diff * diff);
    }
    if (err < best_err) {
      std::copy(trial, trial + n, L);
      best_err = err;
      scale = s;
      lo = m;
    }
  }
  *the_min = -lo;
  return scale;
}

// Symmetric fit x[i] ~ scale * (L[i] - nmax), L in 0..2*nmax-1, weighted by x^2: starts from the
// scale that maps the largest-magnitude element to -nmax, then tries 18 nearby inverse scales
// (nmax + 0.1*k for k = -9..9, k != 0) and keeps the one with the best least-squares fit.
float fit_symmetric(int n, int nmax, const float* x, int8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < 1e-15f) {
    std::fill(L, L + n, int8_t(0));
    return 0.0f;
  }
  // Sums of w*x*l and w*l*l for one inverse scale; also the levels when `levels` is non-null.
  auto sums = [&](float iscale, float* sumlx, float* suml2, int8_t* levels) {
    *sumlx = *suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      if (levels) levels[i] = int8_t(l + nmax);
      const float w = x[i] * x[i];
      *sumlx += (w * x[i]) * float(l);
      *suml2 += (w * float(l)) * float(l);
    }
  };
  float sumlx, suml2;
  sums(float(-nmax) / max, &sumlx, &suml2, L);
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    const float iscale = -(float(nmax) + 0.1f * float(k)) / max;
    sums(iscale, &sumlx, &suml2, nullptr);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      sums(iscale, &sumlx, &suml2, L);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Writes the eight 6-bit scales and mins of a Q4_K / Q5_K super-block: sub-blocks 0..3 use the low
// 6 bits of bytes 0..3 (scales) and 4..7 (mins); sub-blocks 4..7 keep their low 4 bits in bytes
// 8..11 (scale low nibble, min high nibble) and their top 2 bits in the spare top bits of bytes 0..7.
// The inverse of k_scale_min in blocks.h.
void pack_scales_mins(const uint8_t* ls, const uint8_t* lm, uint8_t* out) {
  std::memset(out, 0, kScaleBytesK);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      out[j] |= ls[j];
      out[j + 4] |= lm[j];
    } else {
      out[j + 4] = uint8_t((ls[j] & 0xF) | (lm[j] & 0xF) << 4);
      out[j - 4] |= uint8_t((ls[j] >> 4) << 6);
      out[j] |= uint8_t((lm[j] >> 4) << 6);
    }
  }
}

// Q4_K and Q5_K share everything but the number of levels and the search range; L receives one quant
// (0..nmax) per element. Returns the f16 d and dmin through the block's fields.
template <class Block>
void quantize_k_min(const float* x, Block* b, uint8_t* L, int nmax, float rmin, int nstep) {
  float scales[8], mins[8];
  float max_scale = 0, max_min = 0;
  float w[kSub];
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + kSub * j;
    float sum_x2 = 0;
    for (int l = 0; l < kSub; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / kSub);
    for (int l = 0; l < kSub; ++l) w[l] = av_x + std::fabs(xs[l]);
    scales[j] = fit_scale_min(kSub, nmax, xs, w, L + kSub * j, &mins[j], rmin, 0.1f, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    // llama.cpp narrows to uint8 before clamping; kept for identical bytes on odd inputs.
    ls[j] = std::min<uint8_t>(63, uint8_t(nearest_int(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, uint8_t(nearest_int(inv_min * mins[j])));
  }
  pack_scales_mins(ls, lm, b->scales);
  b->d = f32_to_f16(max_scale / 63.f);
  b->dmin = f32_to_f16(max_min / 63.f);

  // Re-quantize against the scales as stored; a sub-block whose stored scale is 0 keeps its fit.
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    k_scale_min(j, b->scales, &sc, &m);
    const float d = f16_to_f32(b->d) * float(sc);
    if (d == 0) continue;
    const float dm = f16_to_f32(b->dmin) * float(m);
    for (int l = 0; l < kSub; ++l) L[kSub * j + l] = uint8_t(std::clamp(nearest_int((x[kSub * j + l] + dm) / d), 0, nmax));
  }
}

}  // namespace

void quantize_q4_k(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
    BlockQ4_K b{};
    uint8_t L[kQKK];
    quantize_k_min(x, &b, L, 15, -1.0f, 20);
    // Sub-blocks 2c and 2c+1 share bytes qs[32c .. 32c+32): low and high nibbles.
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) b.qs[32 * c + l] = uint8_t(L[64 * c + l] | L[64 * c + 32 + l] << 4);
    std::memcpy(static_cast<BlockQ4_K*>(dst) + i, &b, sizeof b);
  }
}

void quantize_q5_k(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
    BlockQ5_K b{};
    uint8_t L[kQKK];
    quantize_k_min(x, &b, L, 31, -0.5f, 15);
    // As Q4_K for the low 4 bits; bit 4 of sub-block s's element l goes to bit s of qh[l].
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int a = L[64 * c + l], z = L[64 * c + 32 + l];
        b.qs[32 * c + l] = uint8_t((a & 0xF) | (z & 0xF) << 4);
        b.qh[l] |= uint8_t((a >> 4) << (2 * c) | (z >> 4) << (2 * c + 1));
      }
    }
    std::memcpy(static_cast<BlockQ5_K*>(dst) + i, &b, sizeof b);
  }
}

void quantize_q6_k(const float* x, void* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
    BlockQ6_K b{};
    int8_t L[kQKK];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = fit_symmetric(16, 32, x + 16 * s, L + 16 * s);
      if (std::fabs(scales[s]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    if (!(max_abs_scale < 1e-15f)) {
      // The sub-block scales are stored as int8 against d = max_scale / -128.
      const float iscale = -128.f / max_scale;
      b.d = f32_to_f16(1 / iscale);
      for (int s = 0; s < 16; ++s) b.scales[s] = int8_t(std::min(127, nearest_int(iscale * scales[s])));
      for (int s = 0; s < 16; ++s) {
        const float d = f16_to_f32(b.d) * float(b.scales[s]);
        if (d == 0) continue;  // keeps the fit's levels, like the reference
        for (int l = 0; l < 16; ++l) L[16 * s + l] = int8_t(std::clamp(nearest_int(x[16 * s + l] / d), -32, 31) + 32);
      }
      // Two halves of 128: quants e, e+32, e+64, e+96 (e < 32) of a half share ql[e], ql[e+32]
      // (low nibbles of the first two, high nibbles of the last two) and qh[e] (two bits each).
      for (int h = 0; h < 2; ++h) {
        const int8_t* Lh = L + 128 * h;
        uint8_t* ql = b.ql + 64 * h;
        uint8_t* qh = b.qh + 32 * h;
        for (int e = 0; e < 32; ++e) {
          ql[e] = uint8_t((Lh[e] & 0xF) | (Lh[e + 64] & 0xF) << 4);
          ql[e + 32] = uint8_t((Lh[e + 32] & 0xF) | (Lh[e + 96] & 0xF) << 4);
          qh[e] = uint8_t((Lh[e] >> 4) | (Lh[e + 32] >> 4) << 2 | (Lh[e + 64] >> 4) << 4 | (Lh[e + 96] >> 4) << 6);
        }
      }
    }  // else: an all-zero block, d included
    std::memcpy(static_cast<BlockQ6_K*>(dst) + i, &b, sizeof b);
  }
}

}  // namespace g4::quant::detail
