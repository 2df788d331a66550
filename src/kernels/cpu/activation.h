// Elementwise activations for the CPU backend. GELU (tanh approximation) is evaluated as
// z·σ(2u) = z / (1 + exp(-2u)), u = √(2/π)(z + 0.044715 z³), which equals 0.5·z·(1 + tanh(u)) and
// needs one exponential; the SIMD versions use a polynomial exp accurate to a few ulp. The
// reference is the formula as written, with std::tanh.
#pragma once

#include <cstddef>

namespace g4::cpu {

// a[i] = gelu_tanh(a[i]) * b[i] for i < n.
void gelu_tanh_mul_ref(float* a, const float* b, size_t n);
void gelu_tanh_mul(float* a, const float* b, size_t n);

// One instruction set's version, for parity tests; false if the CPU lacks it.
enum class ActIsa { kScalar, kAvx2, kAvx512 };
bool gelu_tanh_mul_isa(ActIsa isa, float* a, const float* b, size_t n);

}  // namespace g4::cpu
