// Pieces shared by the reference quantizers (quantize_*.cc): the rounding llama.cpp uses and the
// per-type row quantizers that quantize.cc dispatches to. Not part of the public API.
#pragma once

#include <cstdint>
#include <cstring>

namespace g4::quant::detail {

// llama.cpp rounds with a float trick rather than lroundf: adding 1.5 * 2^23 pushes the fraction out of
// the mantissa, so the FPU's round-to-nearest-even decides ties (2.5 -> 2, not 3). The low 23 bits then
// hold the integer offset by 2^22. Outside |v| < 2^22 the result is garbage, but the same garbage
// llama.cpp writes, which is what the byte-exact goldens need.
inline int nearest_int(float v) {
  float shifted = v + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x007fffff) - 0x00400000;
}

// Each writes n / block elements' worth of blocks (n a multiple of the block size).
void quantize_q4_0(const float* x, void* dst, int64_t n);
void quantize_q4_1(const float* x, void* dst, int64_t n);
void quantize_q5_0(const float* x, void* dst, int64_t n);
void quantize_q5_1(const float* x, void* dst, int64_t n);
void quantize_q8_0(const float* x, void* dst, int64_t n);
void quantize_q4_k(const float* x, void* dst, int64_t n);
void quantize_q5_k(const float* x, void* dst, int64_t n);
void quantize_q6_k(const float* x, void* dst, int64_t n);
void quantize_iq4_nl(const float* x, void* dst, int64_t n);
void quantize_iq4_xs(const float* x, void* dst, int64_t n);

}  // namespace g4::quant::detail
