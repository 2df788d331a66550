// Scalar attention inner loops: the reference for the SIMD versions, and the fallback.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/attention_kernels.h"
#include "quant/blocks.h"

namespace g4::cpu::attn {

namespace {

void load(DType t, const uint8_t* src, float* dst, int n) {
  if (t == DType::F32) {
    std::memcpy(dst, src, size_t(n) * 4);
  } else if (t == DType::F16) {
    for (int i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = f16_to_f32(h);
    }
  } else {  // Q8_0
    for (int b = 0; b < n / quant::kQK; ++b) {
      quant::BlockQ8_0 blk;
      std::memcpy(&blk, src + size_t(b) * sizeof blk, sizeof blk);
      const float d = f16_to_f32(blk.d);
      for (int i = 0; i < quant::kQK; ++i) dst[b * quant::kQK + i] = d * float(blk.qs[i]);
    }
  }
}

void store(DType t, const float* src, uint8_t* dst, int n) {
  if (t == DType::F32) {
    std::memcpy(dst, src, size_t(n) * 4);
  } else if (t == DType::F16) {
    for (int i = 0; i < n; ++i) {
      const uint16_t h = f32_to_f16(src[i]);
      std::memcpy(dst + 2 * i, &h, 2);
    }
  } else {  // Q8_0
    for (int b = 0; b < n / quant::kQK; ++b) {
      const float* x = src + b * quant::kQK;
      float amax = 0;
      for (int i = 0; i < quant::kQK; ++i) amax = std::max(amax, std::fabs(x[i]));
      const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
      quant::BlockQ8_0 blk;
      blk.d = f32_to_f16(d);
      for (int i = 0; i < quant::kQK; ++i) blk.qs[i] = int8_t(std::round(x[i] * id));
      std::memcpy(dst + size_t(b) * sizeof blk, &blk, sizeof blk);
    }
  }
}

void scores(const float* q, int rows, const float* k, int nk, int hd, float* s, int s_stride) {
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < nk; ++j) {
      float acc = 0;
      for (int i = 0; i < hd; ++i) acc += q[size_t(r) * size_t(hd) + size_t(i)] * k[size_t(j) * size_t(hd) + size_t(i)];
      s[size_t(r) * size_t(s_stride) + size_t(j)] = acc;
    }
}

float exp_sum(float* s, int n, float m) {
  float sum = 0;
  for (int j = 0; j < n; ++j) sum += s[j] = std::exp(s[j] - m);
  return sum;
}

void pv(const float* p, int p_stride, int rows, const float* v, int nk, int hd, float* o) {
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < nk; ++j) {
      const float w = p[size_t(r) * size_t(p_stride) + size_t(j)];
      if (w == 0.0f) continue;
      for (int i = 0; i < hd; ++i) o[size_t(r) * size_t(hd) + size_t(i)] += w * v[size_t(j) * size_t(hd) + size_t(i)];
    }
}

}  // namespace

const Kernels& kernels_scalar() {
  static const Kernels k{load, store, scores, exp_sum, pv};
  return k;
}

}  // namespace g4::cpu::attn
