// The scalar definitions of activation quantization and the integer dot products (see qdot.h).
// Integer sums are exact; only the order of the final float operations may differ in SIMD versions.
#include <cmath>
#include <cstring>

#include "kernels/cpu/qdot.h"
#include "kernels/cpu/qdot_internal.h"

namespace g4::cpu {

using namespace quant;

ActKind act_kind(DType weight) {
  switch (weight) {
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::IQ4_XS: return ActKind::kActK;
    default: return ActKind::kAct32;
  }
}

size_t act_bytes(DType weight, size_t n) {
  return act_kind(weight) == ActKind::kActK ? n / kQKK * sizeof(BlockQ8_K) : n / kQK * sizeof(BlockQ8_0x);
}

namespace {

// d = amax / 127 and the reciprocal used to scale; both versions compute them exactly like this.
inline void act_scale(float amax, float* d, float* id) {
  *d = amax / 127.0f;
  *id = *d != 0.0f ? 1.0f / *d : 0.0f;
}

}  // namespace

void quantize_act_ref(DType weight, const float* x, void* act, size_t n) {
  if (act_kind(weight) == ActKind::kAct32) {
    auto* out = static_cast<BlockQ8_0x*>(act);
    for (size_t b = 0; b < n / kQK; ++b, x += kQK) {
      float amax = 0, d, id;
      for (int i = 0; i < kQK; ++i) amax = std::fmax(amax, std::fabs(x[i]));
      act_scale(amax, &d, &id);
      int32_t sum = 0;
      for (int i = 0; i < kQK; ++i) {
        out[b].qs[i] = int8_t(std::nearbyint(x[i] * id));
        sum += out[b].qs[i];
      }
      out[b].d = d;
      out[b].sum = sum;
    }
    return;
  }
  auto* out = static_cast<BlockQ8_K*>(act);
  for (size_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    float amax = 0, d, id;
    for (int i = 0; i < kQKK; ++i) amax = std::fmax(amax, std::fabs(x[i]));
    act_scale(amax, &d, &id);
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int i = 16 * g; i < 16 * g + 16; ++i) {
        out[b].qs[i] = int8_t(std::nearbyint(x[i] * id));
        sum += out[b].qs[i];
      }
      out[b].bsums[g] = int16_t(sum);
    }
    out[b].d = d;
  }
}

namespace {

// The 32 integer weights of a 32-element block, and whether the type has a min (Q4_1, Q5_1).
void block32_ints(DType t, const uint8_t* blk, int8_t q[32], float* d, float* m) {
  *m = 0;
  switch (t) {
    case DType::Q4_0: {
      auto* b = reinterpret_cast<const BlockQ4_0*>(blk);
      *d = f16_to_f32(b->d);
      for (int i = 0; i < 16; ++i) q[i] = int8_t((b->qs[i] & 15) - 8), q[i + 16] = int8_t((b->qs[i] >> 4) - 8);
      return;
    }
    case DType::Q4_1: {
      auto* b = reinterpret_cast<const BlockQ4_1*>(blk);
      *d = f16_to_f32(b->d), *m = f16_to_f32(b->m);
      for (int i = 0; i < 16; ++i) q[i] = int8_t(b->qs[i] & 15), q[i + 16] = int8_t(b->qs[i] >> 4);
      return;
    }
    case DType::Q5_0: case DType::Q5_1: {
      const bool has_min = t == DType::Q5_1;
      const uint8_t* qh = has_min ? reinterpret_cast<const BlockQ5_1*>(blk)->qh : reinterpret_cast<const BlockQ5_0*>(blk)->qh;
      const uint8_t* qs = has_min ? reinterpret_cast<const BlockQ5_1*>(blk)->qs : reinterpret_cast<const BlockQ5_0*>(blk)->qs;
      uint32_t h;
      std::memcpy(&h, qh, 4);
      uint16_t dh;
      std::memcpy(&dh, blk, 2);
      *d = f16_to_f32(dh);
      if (has_min) *m = f16_to_f32(reinterpret_cast<const BlockQ5_1*>(blk)->m);
      const int off = has_min ? 0 : 16;
      for (int i = 0; i < 16; ++i) {
        q[i] = int8_t(((qs[i] & 15) | (((h >> i) & 1) << 4)) - off);
        q[i + 16] = int8_t(((qs[i] >> 4) | (((h >> (i + 16)) & 1) << 4)) - off);
      }
      return;
    }
    case DType::Q8_0: {
      auto* b = reinterpret_cast<const BlockQ8_0*>(blk);
      *d = f16_to_f32(b->d);
      std::memcpy(q, b->qs, 32);
      return;
    }
    case DType::IQ4_NL: {
      auto* b = reinterpret_cast<const BlockIQ4_NL*>(blk);
      *d = f16_to_f32(b->d);
      for (int i = 0; i < 16; ++i) q[i] = kIq4Values[b->qs[i] & 15], q[i + 16] = kIq4Values[b->qs[i] >> 4];
      return;
    }
    default: *d = 0; std::memset(q, 0, 32); return;
  }
}

float dot_row32_ref(DType t, const uint8_t* w, const BlockQ8_0x* x, size_t n) {
  const size_t bb = dtype_block_bytes(t);
  float acc = 0;
  for (size_t b = 0; b < n / kQK; ++b) {
    int8_t q[32];
    float d, m;
    block32_ints(t, w + b * bb, q, &d, &m);
    int32_t isum = 0;
    for (int i = 0; i < 32; ++i) isum += int32_t(q[i]) * x[b].qs[i];
    acc += d * x[b].d * float(isum);
    if (t == DType::Q4_1 || t == DType::Q5_1) acc += m * x[b].d * float(x[b].sum);
  }
  return acc;
}

// One super-block's integer dot with per-sub-block scales applied: returns Σ scale_j · Σ q·x and,
// for Q4_K / Q5_K, the min term Σ m_j · Σ x in *mins.
int32_t superblock_ints(DType t, const uint8_t* blk, const BlockQ8_K& x, float* d, float* dmin, int32_t* mins) {
  *mins = 0;
  *dmin = 0;
  int32_t sumi = 0;
  switch (t) {
    case DType::Q4_K: case DType::Q5_K: {
      const bool five = t == DType::Q5_K;
      const uint8_t* scales = five ? reinterpret_cast<const BlockQ5_K*>(blk)->scales : reinterpret_cast<const BlockQ4_K*>(blk)->scales;
      const uint8_t* qs = five ? reinterpret_cast<const BlockQ5_K*>(blk)->qs : reinterpret_cast<const BlockQ4_K*>(blk)->qs;
      const uint8_t* qh = five ? reinterpret_cast<const BlockQ5_K*>(blk)->qh : nullptr;
      uint16_t dh[2];
      std::memcpy(dh, blk, 4);
      *d = f16_to_f32(dh[0]), *dmin = f16_to_f32(dh[1]);
      for (int j = 0; j < 8; ++j) {  // sub-block j: 32 elements from the low (even j) or high nibbles
        uint8_t sc, m;
        k_scale_min(j, scales, &sc, &m);
        const uint8_t* q = qs + 32 * (j / 2);
        int32_t s = 0;
        for (int l = 0; l < 32; ++l) {
          int v = (j % 2 == 0) ? (q[l] & 15) : (q[l] >> 4);
          if (five) v |= ((qh[l] >> j) & 1) << 4;
          s += v * x.qs[32 * j + l];
        }
        sumi += int32_t(sc) * s;
        *mins += int32_t(m) * (x.bsums[2 * j] + x.bsums[2 * j + 1]);
      }
      return sumi;
    }
    case DType::Q6_K: {
      auto* b = reinterpret_cast<const BlockQ6_K*>(blk);
      *d = f16_to_f32(b->d);
      for (int half = 0; half < 2; ++half) {
        const uint8_t* ql = b->ql + 64 * half;
        const uint8_t* qh = b->qh + 32 * half;
        const int8_t* sc = b->scales + 8 * half;
        const int8_t* xq = x.qs + 128 * half;
        int32_t s[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // per 16-element group of this half
        for (int l = 0; l < 32; ++l) {
          const int q1 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
          const int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
          const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
          const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
          s[0 + l / 16] += q1 * xq[l];
          s[2 + l / 16] += q2 * xq[l + 32];
          s[4 + l / 16] += q3 * xq[l + 64];
          s[6 + l / 16] += q4 * xq[l + 96];
        }
        for (int g = 0; g < 8; ++g) sumi += int32_t(sc[g]) * s[g];
      }
      return sumi;
    }
    case DType::IQ4_XS: {
      auto* b = reinterpret_cast<const BlockIQ4_XS*>(blk);
      *d = f16_to_f32(b->d);
      for (int j = 0; j < 8; ++j) {
        const int ls = (((b->scales_l[j / 2] >> (4 * (j % 2))) & 15) | (((b->scales_h >> (2 * j)) & 3) << 4)) - 32;
        const uint8_t* q = b->qs + 16 * j;
        int32_t s = 0;
        for (int l = 0; l < 16; ++l)
          s += kIq4Values[q[l] & 15] * x.qs[32 * j + l] + kIq4Values[q[l] >> 4] * x.qs[32 * j + 16 + l];
        sumi += ls * s;
      }
      return sumi;
    }
    default: *d = 0; return 0;
  }
}

float dot_rowk_ref(DType t, const uint8_t* w, const BlockQ8_K* x, size_t n) {
  const size_t bb = dtype_block_bytes(t);
  float acc = 0;
  for (size_t b = 0; b < n / kQKK; ++b) {
    float d, dmin;
    int32_t mins;
    const int32_t sumi = superblock_ints(t, w + b * bb, x[b], &d, &dmin, &mins);
    acc += x[b].d * (d * float(sumi) - dmin * float(mins));
  }
  return acc;
}

}  // namespace

float qdot_row_ref(DType t, const uint8_t* w, const void* act, size_t n) {
  return act_kind(t) == ActKind::kAct32 ? dot_row32_ref(t, w, static_cast<const BlockQ8_0x*>(act), n)
                                        : dot_rowk_ref(t, w, static_cast<const BlockQ8_K*>(act), n);
}

void qdot_4x1_ref(DType t, const void* const w[4], const void* act, size_t n, float out[4]) {
  for (int r = 0; r < 4; ++r) out[r] = qdot_row_ref(t, static_cast<const uint8_t*>(w[r]), act, n);
}

}  // namespace g4::cpu
