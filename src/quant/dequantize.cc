// Reference dequantization of ggml's block formats (and F32/F16/BF16) to f32.
//
// Bit-exactness with gguf.quants depends on doing the same float32 operations in the same order:
// the per-sub-block scale is formed first (d * sc) and only then multiplied by the quant, and the
// offset types compute d * q + m, never a fused multiply-add. Each formula below says its order.
#include <cstring>

#include "quant/blocks.h"
#include "quant/quant.h"

namespace g4::quant {

namespace {

// Blocks are copied out rather than cast in place: a row inside a mapped file need not be aligned.
template <class Block>
Block load(const void* src, int64_t i) {
  Block b;
  std::memcpy(&b, static_cast<const uint8_t*>(src) + i * int64_t(sizeof(Block)), sizeof(Block));
  return b;
}

// The 4-bit quant of element j (0..31) of a 32-block: low nibbles hold the first half, high the second.
inline int nibble32(const uint8_t* qs, int j) { return j < 16 ? qs[j] & 0xF : qs[j - 16] >> 4; }

// Bit j of Q5_0 / Q5_1's 32-bit qh, stored little-endian.
inline int high_bit32(const uint8_t* qh, int j) { return (qh[j / 8] >> (j % 8)) & 1; }

void deq_q4_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = load<BlockQ4_0>(src, i);
    const float d = f16_to_f32(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = d * float(nibble32(b.qs, j) - 8);
  }
}

void deq_q4_1(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = load<BlockQ4_1>(src, i);
    const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
    for (int j = 0; j < kQK; ++j) {
      const float scaled = d * float(nibble32(b.qs, j));  // rounded before the add: no FMA
      y[j] = scaled + m;
    }
  }
}

void deq_q5_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = load<BlockQ5_0>(src, i);
    const float d = f16_to_f32(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = d * float((nibble32(b.qs, j) | high_bit32(b.qh, j) << 4) - 16);
  }
}

void deq_q5_1(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = load<BlockQ5_1>(src, i);
    const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
    for (int j = 0; j < kQK; ++j) {
      const float scaled = d * float(nibble32(b.qs, j) | high_bit32(b.qh, j) << 4);
      y[j] = scaled + m;
    }
  }
}

void deq_q8_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = load<BlockQ8_0>(src, i);
    const float d = f16_to_f32(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = float(b.qs[j]) * d;
  }
}

// Q4_K and Q5_K: sub-block s (32 elements) sits in the low (s even) or high (s odd) nibbles of the
// 32 bytes qs[32*(s/2) ..]. Q5_K adds bit s of qh[l] as the fifth bit of element l.
template <bool kFiveBit, class Block>
void deq_k_min(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const auto b = load<Block>(src, i);
    const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
    for (int s = 0; s < 8; ++s, y += 32) {
      uint8_t sc, m;
      k_scale_min(s, b.scales, &sc, &m);
      const float ds = d * float(sc);  // per-sub-block scale first, as gguf.quants does
      const float ms = dmin * float(m);
      const uint8_t* qs = b.qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      for (int l = 0; l < 32; ++l) {
        int q = (qs[l] >> shift) & 0xF;
        if constexpr (kFiveBit) q |= ((b.qh[l] >> s) & 1) << 4;
        const float scaled = ds * float(q);
        y[l] = scaled - ms;
      }
    }
  }
}

// Q6_K: two halves of 128. In half h, element e = 32*k + l (k = 0..3) takes its low nibble from
// ql[64h + l + 32*(k%2)] (low nibble for k < 2, high for k >= 2) and its top two bits from
// qh[32h + l] >> 2k. Scale index is element / 16; quants are stored offset by +32.
void deq_q6_k(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const auto b = load<BlockQ6_K>(src, i);
    const float d = f16_to_f32(b.d);
    for (int e = 0; e < kQKK; ++e) {
      const int h = e / 128, k = (e % 128) / 32, l = e % 32;
      const int lo = (b.ql[64 * h + l + 32 * (k % 2)] >> (4 * (k / 2))) & 0xF;
      const int hi = (b.qh[32 * h + l] >> (2 * k)) & 3;
      const float ds = d * float(b.scales[e / 16]);
      y[e] = ds * float((lo | hi << 4) - 32);
    }
  }
}

void deq_iq4_nl(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = load<BlockIQ4_NL>(src, i);
    const float d = f16_to_f32(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = d * float(kIq4Values[nibble32(b.qs, j)]);
  }
}

// IQ4_XS: sub-block s has a 6-bit scale (low 4 bits in scales_l, nibble s%2 of byte s/2; high 2 bits
// at bit 2s of scales_h), stored offset by +32; its quants are laid out like an IQ4_NL block.
void deq_iq4_xs(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const auto b = load<BlockIQ4_XS>(src, i);
    const float d = f16_to_f32(b.d);
    for (int s = 0; s < 8; ++s, y += 32) {
      const int lo = (b.scales_l[s / 2] >> (4 * (s % 2))) & 0xF;
      const int hi = (b.scales_h >> (2 * s)) & 3;
      const float ds = d * float((lo | hi << 4) - 32);
      for (int j = 0; j < 32; ++j) y[j] = ds * float(kIq4Values[nibble32(b.qs + 16 * s, j)]);
    }
  }
}

}  // namespace

void dequantize(DType t, const void* src, float* dst, int64_t n) {
  const int64_t nb = n / dtype_block(t);
  const auto* bytes = static_cast<const uint8_t*>(src);
  switch (t) {
    case DType::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        dst[i] = f16_to_f32(h);
      }
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
      }
      return;
    case DType::Q4_0: deq_q4_0(src, dst, nb); return;
    case DType::Q4_1: deq_q4_1(src, dst, nb); return;
    case DType::Q5_0: deq_q5_0(src, dst, nb); return;
    case DType::Q5_1: deq_q5_1(src, dst, nb); return;
    case DType::Q8_0: deq_q8_0(src, dst, nb); return;
    case DType::Q4_K: deq_k_min<false, BlockQ4_K>(src, dst, nb); return;
    case DType::Q5_K: deq_k_min<true, BlockQ5_K>(src, dst, nb); return;
    case DType::Q6_K: deq_q6_k(src, dst, nb); return;
    case DType::IQ4_NL: deq_iq4_nl(src, dst, nb); return;
    case DType::IQ4_XS: deq_iq4_xs(src, dst, nb); return;
    default: break;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f;  // no f32 meaning (integer types): callers check first
}

}  // namespace g4::quant
