// Elementwise activations for the CPU backend. GELU (tanh approximation) is evaluated as the
// reference writes it, 0.5·z·(1 + tanh(u)), u = √(2/π)(z + 0.044715 z³), with the same order of
// operations; the SIMD versions compute tanh like Cephes' tanhf (an odd polynomial for small |u|,
// 1 - 2/(exp(2|u|) + 1) above), within about an ulp, and agree bit for bit with PyTorch's GELU on
// more elements than libm's tanh does (96 % against 91 % of a million normal inputs). (The form
// z / (1 + exp(-2u)), one exponential and no cancellation, is more accurate but further from the
// reference where 1 + tanh cancels.) gelu_tanh_mul_ref is the formula with std::tanh.
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
