// The integer prefill product: activation quantization, weight panel packing, the scalar panel
// reference, and the driver that splits the work over threads (see qgemm.h).
#include "kernels/cpu/qgemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/qdot.h"
#include "quant/blocks.h"

namespace g4::cpu {

using namespace quant;

bool qgemm_pack_avx512(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t r0, int64_t u0, int64_t nu,
                       uint8_t* pack);
bool qgemm_panel_avx512(const uint8_t* pack, int64_t u0, int64_t nu, bool halves, const QAct& act, int t0, int nt,
                        int64_t M, int64_t r0, float* y, bool accumulate);

void qgemm_quantize(const float* x, int n, size_t K, QAct* act) {
  act->n = n;
  act->K = K;
  act->qs.resize(size_t(n) * K);
  act->d.resize(size_t(n) * K / 32);
  act->ds.resize(size_t(n) * K / 16);
  std::vector<BlockQ8_0x> blocks(K / 32);
  for (int t = 0; t < n; ++t) {
    // The 32-element activation format of the decode path, rearranged.
    quantize_act(DType::Q4_0, x + size_t(t) * K, blocks.data(), K);
    for (size_t b = 0; b < K / 32; ++b) {
      std::memcpy(&act->qs[size_t(t) * K + 32 * b], blocks[b].qs, 32);
      act->d[size_t(t) * (K / 32) + b] = blocks[b].d;
      int s0 = 0, s1 = 0;
      for (int i = 0; i < 16; ++i) s0 += blocks[b].qs[i], s1 += blocks[b].qs[16 + i];
      act->ds[size_t(t) * (K / 16) + 2 * b] = blocks[b].d * float(s0);
      act->ds[size_t(t) * (K / 16) + 2 * b + 1] = blocks[b].d * float(s1);
    }
  }
}

namespace {

// Unit i (32 elements) of a row as unsigned bytes u and per-half a, b with value = a·u − b.
void unpack_unit(DType t, const uint8_t* row, int64_t i, uint8_t u[32], float a[2], float b[2]) {
  switch (t) {
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q8_0: case DType::IQ4_NL: {
      const uint8_t* blk = row + size_t(i) * dtype_block_bytes(t);
      uint16_t dh;
      std::memcpy(&dh, blk, 2);
      const float d = f16_to_f32(dh);
      float m = 0;
      const uint8_t* qs = blk + 2;
      uint32_t qh = 0;
      if (t == DType::Q4_1 || t == DType::Q5_1) {
        std::memcpy(&dh, blk + 2, 2);
        m = f16_to_f32(dh);
        qs += 2;
      }
      if (t == DType::Q5_0 || t == DType::Q5_1) {
        std::memcpy(&qh, qs, 4);
        qs += 4;
      }
      if (t == DType::Q8_0) {
        for (int k = 0; k < 32; ++k) u[k] = uint8_t(int(int8_t(qs[k])) + 128);
      } else {
        for (int k = 0; k < 16; ++k) u[k] = qs[k] & 15, u[k + 16] = qs[k] >> 4;
        if (t == DType::Q5_0 || t == DType::Q5_1)
          for (int k = 0; k < 32; ++k) u[k] = uint8_t(u[k] | (((qh >> k) & 1) << 4));
        if (t == DType::IQ4_NL)
          for (int k = 0; k < 32; ++k) u[k] = kIq4ValuesBiased[u[k]];
      }
      const float off = t == DType::Q4_0 ? 8.0f : t == DType::Q5_0 ? 16.0f
                      : (t == DType::Q8_0 || t == DType::IQ4_NL) ? 128.0f : 0.0f;
      a[0] = a[1] = d;
      b[0] = b[1] = (t == DType::Q4_1 || t == DType::Q5_1) ? -m : off * d;
      return;
    }
    case DType::Q4_K: case DType::Q5_K: {
      const bool five = t == DType::Q5_K;
      const uint8_t* blk = row + size_t(i / 8) * dtype_block_bytes(t);
      const int j = int(i % 8);
      uint16_t dh[2];
      std::memcpy(dh, blk, 4);
      uint8_t sc, mn;
      k_scale_min(j, blk + 4, &sc, &mn);
      const uint8_t* qh = blk + 16;
      const uint8_t* q = blk + 16 + (five ? 32 : 0) + 32 * (j / 2);
      for (int l = 0; l < 32; ++l) {
        int v = (j % 2 == 0) ? (q[l] & 15) : (q[l] >> 4);
        if (five) v |= ((qh[l] >> j) & 1) << 4;
        u[l] = uint8_t(v);
      }
      a[0] = a[1] = f16_to_f32(dh[0]) * float(sc);
      b[0] = b[1] = f16_to_f32(dh[1]) * float(mn);
      return;
    }
    case DType::Q6_K: {
      const auto* blk = reinterpret_cast<const BlockQ6_K*>(row + size_t(i / 8) * sizeof(BlockQ6_K));
      const int j = int(i % 8), h = j / 4, part = j % 4;  // elements 128h + 32·part + l
      const uint8_t* ql = blk->ql + 64 * h;
      const uint8_t* qh = blk->qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        const uint8_t byte = ql[l + (part % 2 == 1 ? 32 : 0)];
        const int nib = part < 2 ? (byte & 15) : (byte >> 4);
        const int hb = (qh[l] >> (2 * part)) & 3;
        u[l] = uint8_t(nib | (hb << 4));
      }
      const float d = f16_to_f32(blk->d);
      for (int g = 0; g < 2; ++g) {
        a[g] = d * float(blk->scales[8 * h + 2 * part + g]);
        b[g] = 32.0f * a[g];
      }
      return;
    }
    case DType::IQ4_XS: {
      const auto* blk = reinterpret_cast<const BlockIQ4_XS*>(row + size_t(i / 8) * sizeof(BlockIQ4_XS));
      const int j = int(i % 8);
      const int ls = (((blk->scales_l[j / 2] >> (4 * (j % 2))) & 15) | (((blk->scales_h >> (2 * j)) & 3) << 4)) - 32;
      for (int l = 0; l < 16; ++l) {
        u[l] = kIq4ValuesBiased[blk->qs[16 * j + l] & 15];
        u[l + 16] = kIq4ValuesBiased[blk->qs[16 * j + l] >> 4];
      }
      a[0] = a[1] = f16_to_f32(blk->d) * float(ls);
      b[0] = b[1] = 128.0f * a[0];
      return;
    }
    default:
      std::memset(u, 0, 32);
      a[0] = a[1] = b[0] = b[1] = 0;
      return;
  }
}

}  // namespace

void qgemm_pack(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t r0, int64_t u0, int64_t nu,
                uint8_t* pack) {
  if (qgemm_has_simd() && qgemm_pack_avx512(t, w, row_bytes, M, r0, u0, nu, pack)) return;
  qgemm_pack_ref(t, w, row_bytes, M, r0, u0, nu, pack);
}

void qgemm_pack_ref(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t r0, int64_t u0, int64_t nu,
                    uint8_t* pack) {
  for (int64_t i = 0; i < nu; ++i) {
    uint8_t* unit = pack + size_t(i) * kQUnitBytes;
    float* a = reinterpret_cast<float*>(unit + kQRows * kQUnit);
    float* b = a + 2 * kQRows;
    for (int r = 0; r < kQRows; ++r) {
      uint8_t u[32];
      float ar[2], br[2];
      if (r0 + r < M) {
        unpack_unit(t, w + size_t(r0 + r) * row_bytes, u0 + i, u, ar, br);
      } else {
        std::memset(u, 0, 32);
        ar[0] = ar[1] = br[0] = br[1] = 0;
      }
      for (int q = 0; q < 8; ++q) std::memcpy(unit + 64 * q + 4 * r, u + 4 * q, 4);
      for (int h = 0; h < 2; ++h) a[h * kQRows + r] = ar[h], b[h * kQRows + r] = br[h];
    }
  }
}

void qgemm_panel_ref(const uint8_t* pack, int64_t u0, int64_t nu, bool halves, const QAct& act, int t0, int nt,
                     int64_t M, int64_t r0, float* y, bool accumulate) {
  const size_t K = act.K;
  for (int t = t0; t < t0 + nt; ++t) {
    const int8_t* xq = act.qs.data() + size_t(t) * K;
    const float* dx = act.d.data() + size_t(t) * (K / 32);
    const float* ds = act.ds.data() + size_t(t) * (K / 16);
    for (int r = 0; r < kQRows && r0 + r < M; ++r) {
      float acc = 0;
      for (int64_t i = 0; i < nu; ++i) {
        const uint8_t* unit = pack + size_t(i) * kQUnitBytes;
        const float* a = reinterpret_cast<const float*>(unit + kQRows * kQUnit);
        const float* b = a + 2 * kQRows;
        const int64_t ui = u0 + i;
        int32_t s[2] = {0, 0};
        for (int k = 0; k < 32; ++k) s[k / 16] += int32_t(unit[64 * (k / 4) + 4 * r + k % 4]) * xq[32 * ui + k];
        if (halves) {
          for (int h = 0; h < 2; ++h) acc += float(s[h]) * (a[h * kQRows + r] * dx[ui]) - b[h * kQRows + r] * ds[2 * ui + h];
        } else {
          acc += float(s[0] + s[1]) * (a[r] * dx[ui]) - b[r] * (ds[2 * ui] + ds[2 * ui + 1]);
        }
      }
      float& out = y[size_t(t) * size_t(M) + size_t(r0 + r)];
      out = accumulate ? out + acc : acc;
    }
  }
}

bool qgemm_has_simd() { return cpu_features().avx512_vnni; }

void qgemm_panel(const uint8_t* pack, int64_t u0, int64_t nu, bool halves, const QAct& act, int t0, int nt,
                 int64_t M, int64_t r0, float* y, bool accumulate) {
  if (qgemm_has_simd() && qgemm_panel_avx512(pack, u0, nu, halves, act, t0, nt, M, r0, y, accumulate)) return;
  qgemm_panel_ref(pack, u0, nu, halves, act, t0, nt, M, r0, y, accumulate);
}

void qgemm(ThreadPool& pool, DType t, const void* w, int64_t M, int64_t K, const float* x, int n, float* y) {
  QAct act;
  qgemm_quantize(x, n, size_t(K), &act);
  const size_t rb = dtype_row_bytes(t, K);
  const bool halves = t == DType::Q6_K;
  const auto* base = static_cast<const uint8_t*>(w);
  // Blocking: a task owns kGroup panels (64 rows); per K-block of kBlockUnits units it packs them
  // once (~200 KB, L2) and runs every token tile over them, whose activations (8 tokens × 2 KB) stay
  // in L1 across the panels.
  constexpr int kGroup = 4, kTile = 8;
  constexpr int64_t kBlockUnits = 64;
  const int64_t units = K / kQUnit, panels = (M + kQRows - 1) / kQRows, groups = (panels + kGroup - 1) / kGroup;
  pool.parallel_for(groups, 1, [&](int64_t g0, int64_t g1) {
    std::vector<uint8_t> pack(size_t(kGroup) * size_t(kBlockUnits) * kQUnitBytes);
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t p0 = g * kGroup, np = std::min<int64_t>(kGroup, panels - p0);
      for (int64_t ub = 0; ub < units; ub += kBlockUnits) {
        const int64_t nu = std::min(kBlockUnits, units - ub);
        for (int64_t p = 0; p < np; ++p)
          qgemm_pack(t, base, rb, M, (p0 + p) * kQRows, ub, nu, pack.data() + size_t(p) * size_t(kBlockUnits) * kQUnitBytes);
        for (int t0 = 0; t0 < n; t0 += kTile) {
          const int nt = std::min(kTile, n - t0);
          for (int64_t p = 0; p < np; ++p)
            qgemm_panel(pack.data() + size_t(p) * size_t(kBlockUnits) * kQUnitBytes, ub, nu, halves, act, t0, nt, M,
                        (p0 + p) * kQRows, y, ub > 0);
        }
      }
    }
  });
}

}  // namespace g4::cpu
