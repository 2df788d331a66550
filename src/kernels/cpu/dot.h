// Row kernels for the CPU backend: converting stored rows to f32 and f32 dot products.
// Each has a plain scalar reference (dot_ref, to_f32_ref) that the SIMD versions are tested against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/dtype.h"

namespace g4::cpu {

float dot_ref(const float* a, const float* b, size_t n);
void to_f32_ref(DType t, const void* src, float* dst, size_t n);

// Dispatch to the best version the CPU supports (AVX2+FMA+F16C or scalar), chosen once at startup.
float dot(const float* a, const float* b, size_t n);
void to_f32(DType t, const void* src, float* dst, size_t n);

// out[r] = dot(row r of type t, x) for 4 rows of n elements stored as `t`, converted in registers:
// the decode (matrix-vector) kernel, which must stream weights at memory speed.
void dot_4x1_ref(DType t, const void* const w[4], const float* x, size_t n, float out[4]);
void dot_4x1(DType t, const void* const w[4], const float* x, size_t n, float out[4]);

// y += a * x over n elements (attention's weighted sum of values).
void axpy_ref(float a, const float* x, float* y, size_t n);
void axpy(float a, const float* x, float* y, size_t n);

bool have_avx2();  // what dispatch picked, for reports and tests

}  // namespace g4::cpu
