#include "util/dtype.h"

#include <cctype>

namespace g4 {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
    case DType::I8: return "I8";
    case DType::F64: return "F64";
    case DType::Q4_0: return "Q4_0";
    case DType::Q4_1: return "Q4_1";
    case DType::Q5_0: return "Q5_0";
    case DType::Q5_1: return "Q5_1";
    case DType::Q8_0: return "Q8_0";
    case DType::Q4_K: return "Q4_K";
    case DType::Q5_K: return "Q5_K";
    case DType::Q6_K: return "Q6_K";
    case DType::IQ4_NL: return "IQ4_NL";
    case DType::IQ4_XS: return "IQ4_XS";
  }
  return "?";
}

bool dtype_from_name(std::string_view name, DType* out) {
  for (int i = 0; i <= int(DType::IQ4_XS); ++i) {
    std::string_view n = dtype_name(DType(i));
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t j = 0; j < n.size() && same; ++j) same = std::toupper((unsigned char)name[j]) == n[j];
    if (same) {
      *out = DType(i);
      return true;
    }
  }
  return false;
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: return 2;
    case DType::I64: case DType::F64: return 8;
    case DType::U8: case DType::I8: return 1;
    default: return 0;
  }
}

bool dtype_is_block(DType t) { return dtype_block(t) > 1; }

int64_t dtype_block(DType t) {
  switch (t) {
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q8_0:
    case DType::IQ4_NL: return 32;
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::IQ4_XS: return 256;
    default: return 1;
  }
}

size_t dtype_block_bytes(DType t) {
  switch (t) {
    case DType::Q4_0: return 2 + 16;
    case DType::Q4_1: return 2 + 2 + 16;
    case DType::Q5_0: return 2 + 4 + 16;
    case DType::Q5_1: return 2 + 2 + 4 + 16;
    case DType::Q8_0: return 2 + 32;
    case DType::Q4_K: return 2 + 2 + 12 + 128;
    case DType::Q5_K: return 2 + 2 + 12 + 32 + 128;
    case DType::Q6_K: return 128 + 64 + 16 + 2;
    case DType::IQ4_NL: return 2 + 16;
    case DType::IQ4_XS: return 2 + 2 + 4 + 128;
    default: return dtype_size(t);
  }
}

uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}

uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000;
  uint32_t absu = u & 0x7fffffffu;
  if (absu > 0x7f800000u) return uint16_t(sign | 0x7e00);        // NaN
  if (absu >= 0x477ff000u) return uint16_t(sign | 0x7c00);       // overflow -> inf
  if (absu < 0x38800000u) {                                       // subnormal or zero
    float a;
    std::memcpy(&a, &absu, 4);
    // a * 2^24 rounded to nearest even gives the subnormal mantissa.
    float scaled = a * 16777216.0f;
    uint32_t m = uint32_t(scaled);
    float rem = scaled - float(m);
    if (rem > 0.5f || (rem == 0.5f && (m & 1))) ++m;
    return uint16_t(sign | m);
  }
  uint32_t exp = (absu >> 23) - 127 + 15;
  uint32_t mant = absu & 0x7fffff;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;
  return uint16_t(sign | h);
}

}  // namespace g4
