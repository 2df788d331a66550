#include "kernels/cpu/dot.h"

#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "quant/quant.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace g4::cpu {

float dot_ref(const float* a, const float* b, size_t n) {
  // Eight partial sums, like the SIMD version, so the two agree closely.
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  float r = 0;
  for (; i < n; ++i) r += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + r;
}

void to_f32_ref(DType t, const void* src, float* dst, size_t n) {
  switch (t) {
    case DType::F32: std::memcpy(dst, src, n * 4); return;
    case DType::F16: {
      const uint16_t* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    case DType::BF16: {
      const uint16_t* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    default: quant::dequantize(t, src, dst, int64_t(n)); return;  // block types (n whole blocks)
  }
}

void dot_4x1_ref(DType t, const void* const w[4], const float* x, size_t n, float out[4]) {
  std::vector<float> row(n);
  for (int r = 0; r < 4; ++r) {
    to_f32_ref(t, w[r], row.data(), n);
    out[r] = dot_ref(row.data(), x, n);
  }
}

void axpy_ref(float a, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

#if defined(__x86_64__)
namespace {

// Multiply, then add (not fused): rounds exactly like the scalar reference.
__attribute__((target("avx2"))) void axpy_avx2(float a, const float* x, float* y, size_t n) {
  const __m256 av = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(av, _mm256_loadu_ps(x + i))));
  for (; i < n; ++i) y[i] += a * x[i];
}

// Eight elements of a row as f32.
__attribute__((target("avx2,fma,f16c"))) inline __m256 load8(DType t, const void* p, size_t i) {
  if (t == DType::F32) return _mm256_loadu_ps(static_cast<const float*>(p) + i);
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i));
  if (t == DType::F16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

template <DType T>
__attribute__((target("avx2,fma,f16c"))) void dot_4x1_avx2_t(const void* const w[4], const float* x, size_t n,
                                                              float out[4]) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    for (int r = 0; r < 4; ++r) acc[r] = _mm256_fmadd_ps(load8(T, w[r], i), xv, acc[r]);
  }
  for (int r = 0; r < 4; ++r) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    float v = _mm_cvtss_f32(s);
    if (i < n) {
      float tail[8];
      to_f32_ref(T, static_cast<const uint8_t*>(w[r]) + i * dtype_size(T), tail, n - i);
      for (size_t j = i; j < n; ++j) v += tail[j - i] * x[j];
    }
    out[r] = v;
  }
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  acc0 = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  float r = _mm_cvtss_f32(s);
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

__attribute__((target("avx2,f16c"))) void to_f32_avx2(DType t, const void* src, float* dst, size_t n) {
  size_t i = 0;
  const uint16_t* s = static_cast<const uint16_t*>(src);
  if (t == DType::F16) {
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
  } else if (t == DType::BF16) {
    for (; i + 8 <= n; i += 8) {
      __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)));
      _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
    }
  } else {
    to_f32_ref(t, src, dst, n);
    return;
  }
  if (i < n) to_f32_ref(t, s + i, dst + i, n - i);
}

const bool kAvx2 = cpu_features().avx2;

}  // namespace

bool have_avx2() { return kAvx2; }
void axpy(float a, const float* x, float* y, size_t n) {
  if (kAvx2) axpy_avx2(a, x, y, n);
  else axpy_ref(a, x, y, n);
}
void dot_4x1(DType t, const void* const w[4], const float* x, size_t n, float out[4]) {
  if (!kAvx2) return dot_4x1_ref(t, w, x, n, out);
  switch (t) {
    case DType::F32: return dot_4x1_avx2_t<DType::F32>(w, x, n, out);
    case DType::F16: return dot_4x1_avx2_t<DType::F16>(w, x, n, out);
    case DType::BF16: return dot_4x1_avx2_t<DType::BF16>(w, x, n, out);
    default: return dot_4x1_ref(t, w, x, n, out);
  }
}
float dot(const float* a, const float* b, size_t n) { return kAvx2 ? dot_avx2(a, b, n) : dot_ref(a, b, n); }
void to_f32(DType t, const void* src, float* dst, size_t n) {
  if (kAvx2) to_f32_avx2(t, src, dst, n);
  else to_f32_ref(t, src, dst, n);
}
#else
bool have_avx2() { return false; }
void axpy(float a, const float* x, float* y, size_t n) { axpy_ref(a, x, y, n); }
void dot_4x1(DType t, const void* const w[4], const float* x, size_t n, float out[4]) { dot_4x1_ref(t, w, x, n, out); }
float dot(const float* a, const float* b, size_t n) { return dot_ref(a, b, n); }
void to_f32(DType t, const void* src, float* dst, size_t n) { to_f32_ref(t, src, dst, n); }
#endif

}  // namespace g4::cpu
