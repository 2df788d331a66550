// Element types of stored tensors and their conversions to f32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace g4 {

// Our own ids; GGML ids are mapped in io/gguf.cc. The block types are ggml's weight quantizations:
// a row is a sequence of blocks of dtype_block(t) elements, dtype_block_bytes(t) bytes each
// (layouts in quant/blocks.h).
enum class DType : uint8_t {
  F32, F16, BF16, I32, I64, U8, I8, F64,
  Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS,
};

std::string_view dtype_name(DType t);
// The type named `name` (case-insensitive, "q4_k" == "Q4_K"), if any.
bool dtype_from_name(std::string_view name, DType* out);
size_t dtype_size(DType t);         // bytes per element; 0 for block types
bool dtype_is_block(DType t);       // a quantized block type
int64_t dtype_block(DType t);       // elements per block (1 for plain types)
size_t dtype_block_bytes(DType t);  // bytes per block (the element size for plain types)
// Bytes of n elements; n must be a multiple of dtype_block(t).
inline size_t dtype_row_bytes(DType t, int64_t n) { return size_t(n / dtype_block(t)) * dtype_block_bytes(t); }

inline float bf16_to_f32(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do { ++e; mant <<= 1; } while (!(mant & 0x400));
      u = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | mant << 13;
  } else {
    u = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round-to-nearest-even f32 -> f16 / bf16 (used for caches and writers).
uint16_t f32_to_f16(float f);
uint16_t f32_to_bf16(float f);

}  // namespace g4
