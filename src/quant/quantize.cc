// quantize() and can_quantize(): dispatch to the per-format reference quantizers
// (quantize_legacy.cc, quantize_k.cc, quantize_iq4.cc) and the plain float types.
#include <cstring>

#include "quant/quant.h"
#include "quant/quantize_internal.h"

namespace g4::quant {

bool can_quantize(DType t) {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16:
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q8_0:
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::IQ4_NL: case DType::IQ4_XS:
      return true;
    default:
      return false;
  }
}

void quantize(DType t, const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  switch (t) {
    case DType::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_f16(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_bf16(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    case DType::Q4_0: detail::quantize_q4_0(src, dst, n); return;
    case DType::Q4_1: detail::quantize_q4_1(src, dst, n); return;
    case DType::Q5_0: detail::quantize_q5_0(src, dst, n); return;
    case DType::Q5_1: detail::quantize_q5_1(src, dst, n); return;
    case DType::Q8_0: detail::quantize_q8_0(src, dst, n); return;
    case DType::Q4_K: detail::quantize_q4_k(src, dst, n); return;
    case DType::Q5_K: detail::quantize_q5_k(src, dst, n); return;
    case DType::Q6_K: detail::quantize_q6_k(src, dst, n); return;
    case DType::IQ4_NL: detail::quantize_iq4_nl(src, dst, n); return;
    case DType::IQ4_XS: detail::quantize_iq4_xs(src, dst, n); return;
    default: return;  // not quantizable: can_quantize(t) is false
  }
}

}  // namespace g4::quant
