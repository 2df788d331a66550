// GELU-tanh times a gate: every version against the formula evaluated in double precision, over
// the range activations take and beyond (including where tanh saturates and where exp would over-
// or underflow), and the float reference against the same.
#include "kernels/cpu/activation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace g4::cpu {
namespace {

double gelu_exact(double z) {
  return 0.5 * z * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (z + 0.044715 * z * z * z)));
}

std::vector<float> inputs() {
  std::vector<float> z;
  for (float v = -30.0f; v <= 30.0f; v += 0.01f) z.push_back(v);  // dense over the useful range
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-6f, -1e-6f, 100.0f, -100.0f, 1e4f, -1e4f, 3e12f, -3e12f})
    z.push_back(v);
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (int i = 0; i < 10000; ++i) z.push_back(nd(rng));
  z.push_back(0.5f);  // an odd length leaves a scalar tail
  return z;
}

TEST(Activation, GeluTanhMulMatchesFormula) {
  const auto z = inputs();
  std::vector<float> gate(z.size());
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> ud(-2.0f, 2.0f);
  for (auto& g : gate) g = ud(rng);
  int checked = 0;
  for (ActIsa isa : {ActIsa::kScalar, ActIsa::kAvx2, ActIsa::kAvx512}) {
    std::vector<float> a = z;
    if (!gelu_tanh_mul_isa(isa, a.data(), gate.data(), a.size())) continue;
    ++checked;
    for (size_t i = 0; i < z.size(); ++i) {
      const double want = gelu_exact(double(z[i])) * double(gate[i]);
      // A few ulp of the result, or of the gate-scaled input where the result is tiny.
      const double tol = 4e-7 * std::fabs(want) + 1e-7 * std::fabs(double(gate[i])) * std::min(1.0, std::fabs(double(z[i])));
      ASSERT_NEAR(a[i], want, tol) << "isa " << int(isa) << " z=" << z[i];
      ASSERT_FALSE(std::isnan(a[i]));
    }
  }
  EXPECT_GE(checked, 1);
  std::vector<float> ref = z;
  gelu_tanh_mul_ref(ref.data(), gate.data(), ref.size());
  for (size_t i = 0; i < z.size(); ++i)
    ASSERT_NEAR(ref[i], gelu_exact(double(z[i])) * double(gate[i]), 1e-6 * std::fabs(double(z[i] * gate[i])) + 1e-7);
}

}  // namespace
}  // namespace g4::cpu
