// The prefill matrix product y[n, M] = x[n, K] · Wᵀ for many tokens at once: weight rows are packed
// (converted to f32 and transposed) into 16-row panels, one K-block at a time, and a 6-token × 16-row
// register tile accumulates with broadcast FMAs (the BLIS layout), so each weight element loaded from
// cache feeds six tokens and each x element sixteen rows.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/dtype.h"

namespace g4::cpu {

constexpr int kPanelRows = 16;
constexpr int kTileTokens = 6;
constexpr int kBlockK = 256;

// Computes rows [r0, r0 + 16) of y (rows beyond M are skipped) for all n tokens. `w` points at row 0
// of the weight, `row_bytes` apart; `pack` is scratch of kPanelRows * kBlockK floats.
void gemm_panel(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0, const float* x, int n,
                float* y, float* pack);
// Whether gemm_panel uses AVX-512 (12-token tiles) rather than AVX2 (6-token tiles).
bool have_avx512();

// One instruction set's version, for parity tests (it must be one the CPU has).
enum class GemmIsa { kScalar, kAvx2, kAvx512 };
void gemm_panel_isa(GemmIsa isa, DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0,
                    const float* x, int n, float* y, float* pack);
// Scalar version with the same contract, for parity tests and CPUs without AVX2.
void gemm_panel_ref(DType t, const uint8_t* w, size_t row_bytes, int64_t M, int64_t K, int64_t r0, const float* x,
                    int n, float* y, float* pack);

}  // namespace g4::cpu
