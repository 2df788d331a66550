// Parity of the dispatched (SIMD) row kernels against their scalar references.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "kernels/cpu/dot.h"

namespace g4::cpu {
namespace {

TEST(Dot, MatchesReferenceOnAllLengths) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  for (size_t n : {0, 1, 7, 8, 15, 16, 17, 31, 64, 255, 256, 1000, 4096}) {
    std::vector<float> a(n), b(n);
    for (auto& x : a) x = nd(rng);
    for (auto& x : b) x = nd(rng);
    double exact = 0, mag = 0;
    for (size_t i = 0; i < n; ++i) exact += double(a[i]) * b[i], mag += std::fabs(double(a[i]) * b[i]);
    EXPECT_NEAR(dot(a.data(), b.data(), n), exact, 1e-5 * (mag + 1)) << n;
    EXPECT_NEAR(dot_ref(a.data(), b.data(), n), exact, 1e-5 * (mag + 1)) << n;
  }
}

TEST(Dot4x1, AllTypesMatchReference) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  for (size_t n : {1, 7, 8, 9, 64, 1000}) {
    std::vector<float> x(n);
    for (auto& e : x) e = nd(rng);
    std::vector<std::vector<float>> f(4, std::vector<float>(n));
    std::vector<std::vector<uint16_t>> h(4, std::vector<uint16_t>(n)), b(4, std::vector<uint16_t>(n));
    for (int r = 0; r < 4; ++r)
      for (size_t i = 0; i < n; ++i) {
        f[size_t(r)][i] = nd(rng);
        h[size_t(r)][i] = f32_to_f16(f[size_t(r)][i]);
        b[size_t(r)][i] = f32_to_bf16(f[size_t(r)][i]);
      }
    for (DType t : {DType::F32, DType::F16, DType::BF16}) {
      const void* w[4];
      for (int r = 0; r < 4; ++r)
        w[r] = t == DType::F32 ? static_cast<const void*>(f[size_t(r)].data())
             : t == DType::F16 ? static_cast<const void*>(h[size_t(r)].data()) : b[size_t(r)].data();
      float a[4], e[4];
      dot_4x1(t, w, x.data(), n, a);
      dot_4x1_ref(t, w, x.data(), n, e);
      for (int r = 0; r < 4; ++r) EXPECT_NEAR(a[r], e[r], 1e-4 * (1 + std::fabs(e[r]))) << dtype_name(t) << " " << n;
    }
  }
}

TEST(Axpy, MatchesReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (size_t n : {1, 7, 8, 9, 64, 513}) {
    std::vector<float> x(n), y(n);
    for (auto& v : x) v = nd(rng);
    for (auto& v : y) v = nd(rng);
    auto a = y, b = y;
    axpy(0.37f, x.data(), a.data(), n);
    axpy_ref(0.37f, x.data(), b.data(), n);
    EXPECT_EQ(a, b) << n;  // same rounding as the reference, bit for bit
  }
}

std::vector<uint16_t> edge_halves() {
  std::vector<uint16_t> v;
  for (uint32_t i = 0; i < 65536; i += 7) v.push_back(uint16_t(i));
  for (uint16_t x : {0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3c00})
    v.push_back(x);
  return v;
}

TEST(ToF32, F16AndBF16MatchScalarReferenceBitForBit) {
  auto h = edge_halves();
  for (DType t : {DType::F16, DType::BF16}) {
    std::vector<float> a(h.size()), b(h.size());
    to_f32(t, h.data(), a.data(), h.size());
    to_f32_ref(t, h.data(), b.data(), h.size());
    for (size_t i = 0; i < h.size(); ++i) {
      if (std::isnan(b[i])) {
        EXPECT_TRUE(std::isnan(a[i]));
      } else {
        EXPECT_EQ(std::memcmp(&a[i], &b[i], 4), 0) << dtype_name(t) << " " << h[i];
      }
    }
  }
}

TEST(ToF32, KnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0x4278), 62.0f);
}

TEST(FromF32, RoundToNearestEvenAndRoundTrip) {
  for (uint32_t i = 0; i < 65536; ++i) {
    uint16_t h = uint16_t(i);
    float f = f16_to_f32(h);
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), h) << i;
    float b = bf16_to_f32(h);
    if (!std::isnan(b)) {
      EXPECT_EQ(f32_to_bf16(b), h) << i;
    }
  }
  // sqrt(3840) rounds to 62.0 in bf16 (the 12B's embedding scale).
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(std::sqrt(3840.0f))), 62.0f);
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);  // overflow to inf
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
}

}  // namespace
}  // namespace g4::cpu
