// Random quantized weights for kernel tests: random bytes (so every quant bit pattern occurs) with
// each block's f16 scale fields set to small finite values.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "util/dtype.h"

namespace g4::testing {

inline constexpr DType kBlockTypes[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                                        DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS};

// Byte offsets of a block's f16 scale fields.
inline std::vector<size_t> scale_fields(DType t) {
  switch (t) {
    case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K: return {0, 2};
    case DType::Q6_K: return {208};
    default: return {0};
  }
}

// `rows` rows of n elements of type t; scales uniform in [-0.02, 0.02].
inline std::vector<uint8_t> random_blocks(DType t, size_t rows, size_t n, std::mt19937& rng) {
  const size_t bb = dtype_block_bytes(t), nb = n / size_t(dtype_block(t));
  std::vector<uint8_t> w(rows * nb * bb);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
  for (auto& b : w) b = uint8_t(byte(rng));
  for (size_t blk = 0; blk < rows * nb; ++blk)
    for (size_t off : scale_fields(t)) {
      const uint16_t h = f32_to_f16(scale(rng));
      std::memcpy(&w[blk * bb + off], &h, 2);
    }
  return w;
}

}  // namespace g4::testing
