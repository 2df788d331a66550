// The inner loops of the CPU attention (attention.cc), one table per instruction set: converting
// cache rows, scores of a tile, the softmax exponentials and the weighted sum of values. The scalar
// table (attention_ref.cc) is the reference the SIMD tables are tested against.
#pragma once

#include <cstdint>

#include "util/dtype.h"

namespace g4::cpu::attn {

struct Kernels {
  // dst[0..n) = n elements of a cache row stored as t (F32, F16 or Q8_0; n a multiple of 32 for Q8_0).
  void (*load)(DType t, const uint8_t* src, float* dst, int n);
  // The n f32 elements of src stored as t: f16 rounded to nearest even, Q8_0 by llama.cpp's rule
  // (d = amax / 127, q = round(x * (1 / d)), halves away from zero, d stored as f16).
  void (*store)(DType t, const float* src, uint8_t* dst, int n);
  // s[r * s_stride + j] = q_r · k_j for rows q_r = q + r * hd (r < rows) and keys k_j = k + j * hd (j < nk).
  void (*scores)(const float* q, int rows, const float* k, int nk, int hd, float* s, int s_stride);
  // s[j] = exp(s[j] - m) for j < n, exactly 0 where s[j] is -inf; returns the sum.
  float (*exp_sum)(float* s, int n, float m);
  // o_r += Σ_j p[r * p_stride + j] * v_j for rows o_r = o + r * hd and values v_j = v + j * hd.
  void (*pv)(const float* p, int p_stride, int rows, const float* v, int nk, int hd, float* o);
};

const Kernels& kernels_scalar();
const Kernels* kernels_avx2();    // null when not built for x86-64
const Kernels* kernels_avx512();  // null when not built for x86-64

}  // namespace g4::cpu::attn
