#include "kernels/cpu/activation.h"

#include <cmath>

#include "kernels/cpu/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// GCC 12 reports the deliberately undefined operands inside some AVX-512 intrinsics as uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace g4::cpu {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;

// exp(x) on [kExpLo, kExpHi] (inputs are clamped): x = n·ln2 + r, |r| ≤ ln2/2, exp(r) by a degree-7
// polynomial (Cephes' expf coefficients), 2^n put into the exponent bits. Above kExpHi the result is
// +inf or near FLT_MAX, below kExpLo about 1e-38: tanh is then ±1 exactly.
constexpr float kExpHi = 88.3762626647949f, kExpLo = -87.0f;
constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

float gelu_mul_scalar(float z, float b) {
  return 0.5f * z * (1.0f + std::tanh(kSqrt2OverPi * (z + kCubic * z * z * z))) * b;
}

// tanh as Cephes' tanhf evaluates it: an odd polynomial below |x| = 0.625, above that
// 1 - 2 / (exp(2|x|) + 1) with x's sign. About 1 ulp, like the libm and SLEEF tanh the reference uses.
constexpr float kTanhSmall = 0.625f;
constexpr float kT0 = -5.70498872745e-3f, kT1 = 2.06390887954e-2f, kT2 = -5.37397155531e-2f, kT3 = 1.33314422036e-1f,
                kT4 = -3.33332819422e-1f;

#if defined(__x86_64__)
#define G4_AVX2 __attribute__((target("avx2,fma")))
#define G4_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))

G4_AVX2 inline __m256 exp_avx2(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kExpLo)), _mm256_set1_ps(kExpHi));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kP0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP5));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

G4_AVX2 inline __m256 tanh_avx2(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 ax = _mm256_andnot_ps(sign, x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(kT0);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kT1));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kT2));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kT3));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kT4));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  const __m256 e = exp_avx2(_mm256_add_ps(ax, ax));
  const __m256 big = _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
  const __m256 big_signed = _mm256_or_ps(big, _mm256_and_ps(x, sign));
  return _mm256_blendv_ps(big_signed, small, _mm256_cmp_ps(ax, _mm256_set1_ps(kTanhSmall), _CMP_LT_OQ));
}

G4_AVX2 void gelu_tanh_mul_avx2(float* a, const float* b, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 z = _mm256_loadu_ps(a + i);
    const __m256 z3 = _mm256_mul_ps(_mm256_mul_ps(z, z), z);
    const __m256 u = _mm256_mul_ps(_mm256_set1_ps(kSqrt2OverPi), _mm256_add_ps(z, _mm256_mul_ps(_mm256_set1_ps(kCubic), z3)));
    const __m256 g = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), z), _mm256_add_ps(_mm256_set1_ps(1.0f), tanh_avx2(u)));
    _mm256_storeu_ps(a + i, _mm256_mul_ps(g, _mm256_loadu_ps(b + i)));
  }
  for (; i < n; ++i) a[i] = gelu_mul_scalar(a[i], b[i]);
}

G4_AVX512 inline __m512 exp_avx512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kExpLo)), _mm512_set1_ps(kExpHi));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kP0);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP5));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);  // p · 2^n
}

G4_AVX512 inline __m512 tanh_avx512(__m512 x) {
  const __m512 ax = _mm512_abs_ps(x);
  const __m512 z = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(kT0);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(kT1));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(kT2));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(kT3));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(kT4));
  const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
  const __m512 e = exp_avx512(_mm512_add_ps(ax, ax));
  const __m512 big = _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
  const __m512 big_signed = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_castps_si512(big), _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x80000000u)))));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(kTanhSmall), _CMP_LT_OQ), big_signed, small);
}

G4_AVX512 void gelu_tanh_mul_avx512(float* a, const float* b, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 z = _mm512_loadu_ps(a + i);
    const __m512 z3 = _mm512_mul_ps(_mm512_mul_ps(z, z), z);
    const __m512 u = _mm512_mul_ps(_mm512_set1_ps(kSqrt2OverPi), _mm512_add_ps(z, _mm512_mul_ps(_mm512_set1_ps(kCubic), z3)));
    const __m512 g = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), z), _mm512_add_ps(_mm512_set1_ps(1.0f), tanh_avx512(u)));
    _mm512_storeu_ps(a + i, _mm512_mul_ps(g, _mm512_loadu_ps(b + i)));
  }
  for (; i < n; ++i) a[i] = gelu_mul_scalar(a[i], b[i]);
}
#endif

}  // namespace

void gelu_tanh_mul_ref(float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; ++i) a[i] = gelu_mul_scalar(a[i], b[i]);
}

bool gelu_tanh_mul_isa(ActIsa isa, float* a, const float* b, size_t n) {
  switch (isa) {
    case ActIsa::kScalar:
      gelu_tanh_mul_ref(a, b, n);
      return true;
#if defined(__x86_64__)
    case ActIsa::kAvx2:
      if (!cpu_features().avx2) return false;
      gelu_tanh_mul_avx2(a, b, n);
      return true;
    case ActIsa::kAvx512:
      if (!cpu_features().avx512) return false;
      gelu_tanh_mul_avx512(a, b, n);
      return true;
#endif
    default:
      return false;
  }
}

void gelu_tanh_mul(float* a, const float* b, size_t n) {
  static const ActIsa best = cpu_features().avx512 ? ActIsa::kAvx512 : cpu_features().avx2 ? ActIsa::kAvx2 : ActIsa::kScalar;
  gelu_tanh_mul_isa(best, a, b, n);
}

}  // namespace g4::cpu
