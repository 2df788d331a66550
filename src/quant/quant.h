// Reference conversions between f32 and ggml's block formats. These are the definitions the SIMD
// kernels are tested against; they are plain C++ and not meant to be fast.
#pragma once

#include <cstdint>

#include "util/dtype.h"

namespace g4::quant {

// dst[0..n) = the n elements (a multiple of dtype_block(t)) stored at src. Also accepts F32/F16/BF16.
// Bit-exact with the `gguf` Python package's dequantization.
void dequantize(DType t, const void* src, float* dst, int64_t n);

// Types `quantize` can write: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS (and
// F32/F16/BF16).
bool can_quantize(DType t);

// Writes dtype_row_bytes(t, n) bytes for n elements (a multiple of dtype_block(t)): the same bytes
// llama.cpp's reference quantizers write without an importance matrix (so also gguf.quants' where it
// has one).
void quantize(DType t, const float* src, void* dst, int64_t n);

}  // namespace g4::quant
