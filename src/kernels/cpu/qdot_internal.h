// The per-ISA entry points behind kernels/cpu/qdot.h's dispatch (each file is compiled for its ISA
// with function target attributes, so the library still runs on CPUs without it).
#pragma once

#include <cstddef>

#include <cstdint>

#include "util/dtype.h"

namespace g4::cpu {

// The reference dot of one row with an activation (for the tails SIMD loops leave).
float qdot_row_ref(DType t, const uint8_t* w, const void* act, size_t n);

// Return false when the type has no version for that ISA.
bool qdot_4x1_avx512(DType t, const void* const w[4], const void* act, size_t n, float out[4]);
bool quantize_act_avx512(DType weight, const float* x, void* act, size_t n);
bool qdot_4x1_avx2(DType t, const void* const w[4], const void* act, size_t n, float out[4]);
bool quantize_act_avx2(DType weight, const float* x, void* act, size_t n);

}  // namespace g4::cpu
