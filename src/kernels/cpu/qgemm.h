// The prefill matrix product y[n, M] = x[n, K] · Wᵀ for quantized weights, in 8-bit integers: tokens'
// activations are quantized per 32 elements (as for decode, kernels/cpu/qdot.h), weight rows are
// unpacked 16 at a time into unsigned bytes in the order VPDPBUSD consumes them (4 consecutive k of
// 16 rows per 64-byte register), and each 32-element unit contributes
//     Σ_half dx · (a_half · Σ u·q  −  b_half · Σ q)
// per row and token, where the weight's value is a·u − b (a, b per row and 16- or 32-element half;
// exact in f32 for every type). Only Q6_K needs two halves per unit (its scales are per 16).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/dtype.h"
#include "util/thread_pool.h"

namespace g4::cpu {

constexpr int kQRows = 16;   // rows per packed panel
constexpr int kQUnit = 32;   // elements per unit (a weight block or sub-block)
constexpr size_t kQUnitBytes = kQRows * kQUnit + 4 * kQRows * sizeof(float);  // u8 weights, a[2][16], b[2][16]

// n tokens' activations: per token K int8 quants; per 32-element block its scale, and per
// 16-element half the scale times the sum of its quants (what the b term multiplies).
struct QAct {
  int n = 0;
  size_t K = 0;
  std::vector<int8_t> qs;  // [n][K]
  std::vector<float> d;    // [n][K/32]
  std::vector<float> ds;   // [n][K/16]: d · Σ q over each half
};
// Same rounding as quantize_act_ref (d = amax/127, round to nearest even), K a multiple of 32.
void qgemm_quantize(const float* x, int n, size_t K, QAct* act);

// Packs rows [r0, r0+16) (rows at or past M are zero) and units [u0, u0+nu) of a weight of type t.
void qgemm_pack(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t r0, int64_t u0, int64_t nu,
                uint8_t* pack);
void qgemm_pack_ref(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t r0, int64_t u0, int64_t nu,
                    uint8_t* pack);

// y[t, r0..r0+16) for tokens [t0, t0+nt): the packed units [u0, u0+nu) times the activations,
// added to y when `accumulate`, else stored. Columns at or past M are left alone.
void qgemm_panel_ref(const uint8_t* pack, int64_t u0, int64_t nu, bool halves, const QAct& act, int t0, int nt,
                     int64_t M, int64_t r0, float* y, bool accumulate);
void qgemm_panel(const uint8_t* pack, int64_t u0, int64_t nu, bool halves, const QAct& act, int t0, int nt,
                 int64_t M, int64_t r0, float* y, bool accumulate);
bool qgemm_has_simd();

// The whole product on the pool's threads.
void qgemm(ThreadPool& pool, DType t, const void* w, int64_t M, int64_t K, const float* x, int n, float* y);

}  // namespace g4::cpu
