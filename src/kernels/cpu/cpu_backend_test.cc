// The CPU backend's ops against plain double-precision formulas of the spec.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/backend.h"

namespace g4 {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

class CpuBackendTest : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> be = make_cpu_backend(2);
};

class MatmulTest : public CpuBackendTest, public ::testing::WithParamInterface<std::tuple<int, int>> {};

// Every weight type against a double-precision product; n = 1 is the decode path (rows walked in
// four distant streams), n > 1 the prefill path; row counts that are not multiples of 4 or of the
// thread split exercise the tails.
TEST_P(MatmulTest, AllWeightTypes) {
  const auto [rows, n] = GetParam();
  const int cols = 70;
  auto w32 = randn(size_t(rows * cols), 1);
  std::vector<uint16_t> w16(w32.size()), wb(w32.size());
  for (size_t i = 0; i < w32.size(); ++i) {
    w16[i] = f32_to_f16(w32[i]);
    wb[i] = f32_to_bf16(w32[i]);
  }
  auto x = randn(size_t(n * cols), 2);
  struct Case { DType t; const void* data; };
  for (Case c : {Case{DType::F32, w32.data()}, Case{DType::F16, w16.data()}, Case{DType::BF16, wb.data()}}) {
    Weight W{c.t, rows, cols, c.data};
    std::vector<float> y(size_t(n * rows));
    be->matmul(W, x.data(), n, y.data());
    for (int t = 0; t < n; ++t)
      for (int r = 0; r < rows; ++r) {
        double ref = 0;
        for (int k = 0; k < cols; ++k) {
          float w = c.t == DType::F32 ? w32[size_t(r * cols + k)]
                  : c.t == DType::F16 ? f16_to_f32(w16[size_t(r * cols + k)]) : bf16_to_f32(wb[size_t(r * cols + k)]);
          ref += double(w) * x[size_t(t * cols + k)];
        }
        EXPECT_NEAR(y[size_t(t * rows + r)], ref, 1e-4) << dtype_name(c.t) << " row " << r << " token " << t;
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatmulTest,
                         ::testing::Combine(::testing::Values(1, 3, 4, 37, 64, 203), ::testing::Values(1, 2, 5, 6, 13)));

TEST_F(CpuBackendTest, RmsNormWithAndWithoutWeight) {
  const int rows = 3, dim = 33;
  auto x = randn(size_t(rows * dim), 3), w = randn(size_t(dim), 4);
  std::vector<float> y(x.size()), y0(x.size());
  be->rms_norm(x.data(), w.data(), rows, dim, 1e-6f, y.data());
  be->rms_norm(x.data(), nullptr, rows, dim, 1e-6f, y0.data());
  for (int r = 0; r < rows; ++r) {
    double ss = 0;
    for (int i = 0; i < dim; ++i) ss += double(x[size_t(r * dim + i)]) * x[size_t(r * dim + i)];
    double inv = 1.0 / std::sqrt(ss / dim + 1e-6);
    for (int i = 0; i < dim; ++i) {
      EXPECT_NEAR(y[size_t(r * dim + i)], x[size_t(r * dim + i)] * inv * w[size_t(i)], 1e-5);
      EXPECT_NEAR(y0[size_t(r * dim + i)], x[size_t(r * dim + i)] * inv, 1e-5);
    }
  }
}

TEST_F(CpuBackendTest, RopeRotatesHalvesAndLeavesZeroFrequenciesAlone) {
  const int T = 3, heads = 2, hd = 8;
  auto x = randn(size_t(T * heads * hd), 5);
  auto y = x;
  std::vector<float> inv = {1.0f, 0.1f, 0.0f, 0.0f};  // two rotated pairs, two left alone
  std::vector<int32_t> pos = {0, 7, 1000};
  be->rope(y.data(), T, heads, hd, pos.data(), inv.data());
  for (int t = 0; t < T; ++t)
    for (int h = 0; h < heads; ++h)
      for (int i = 0; i < hd / 2; ++i) {
        size_t b = size_t((t * heads + h) * hd);
        double a = double(pos[size_t(t)]) * inv[size_t(i)];
        double x1 = x[b + size_t(i)], x2 = x[b + size_t(i + hd / 2)];
        EXPECT_NEAR(y[b + size_t(i)], x1 * std::cos(a) - x2 * std::sin(a), 2e-4);
        EXPECT_NEAR(y[b + size_t(i + hd / 2)], x2 * std::cos(a) + x1 * std::sin(a), 2e-4);
      }
}

// Attention against a direct softmax over the visible keys, for GQA, MQA, windows and ring caches.
TEST_F(CpuBackendTest, AttentionMatchesReference) {
  struct Case { int nh, nkv, hd, window, cap; bool ring; int pos0, n; };
  for (Case c : {Case{4, 2, 16, 0, 64, false, 0, 20}, Case{4, 1, 32, 0, 64, false, 10, 7},
                 Case{4, 2, 16, 8, 8 + 16, true, 30, 16}, Case{8, 2, 8, 5, 5 + 4, true, 100, 4}}) {
    const int kvw = c.nkv * c.hd, qw = c.nh * c.hd, last = c.pos0 + c.n - 1;
    // Keys/values for every position up to `last`, as the cache would hold them.
    auto K = randn(size_t((last + 1) * kvw), 6), V = randn(size_t((last + 1) * kvw), 7);
    auto q = randn(size_t(c.n * qw), 8, 0.3f);
    std::vector<float> kc(size_t(c.cap * kvw)), vc(size_t(c.cap * kvw));
    KvView kv{DType::F32, reinterpret_cast<uint8_t*>(kc.data()), reinterpret_cast<uint8_t*>(vc.data()),
              size_t(kvw) * 4, c.cap, c.ring};
    for (int p = c.ring ? std::max(0, last - c.cap + 1) : 0; p <= last; ++p)
      be->kv_write(kv, kvw, p, 1, K.data() + size_t(p * kvw), V.data() + size_t(p * kvw));
    std::vector<float> out(size_t(c.n * qw));
    AttnShape s{c.nh, c.nkv, c.hd, c.window, 1.0f};
    be->attention(s, AttnSegment{0, c.n, c.pos0, kv}, q.data(), qw, out.data(), qw);
    for (int t = 0; t < c.n; ++t)
      for (int h = 0; h < c.nh; ++h) {
        const int p = c.pos0 + t, kvh = h / (c.nh / c.nkv);
        const int lo = c.window ? std::max(0, p - c.window + 1) : 0;
        std::vector<double> sc;
        double mx = -1e300;
        for (int j = lo; j <= p; ++j) {
          double d = 0;
          for (int i = 0; i < c.hd; ++i)
            d += double(q[size_t(t * qw + h * c.hd + i)]) * K[size_t(j * kvw + kvh * c.hd + i)];
          sc.push_back(d);
          mx = std::max(mx, d);
        }
        double sum = 0;
        for (auto& v : sc) sum += v = std::exp(v - mx);
        for (int i = 0; i < c.hd; ++i) {
          double o = 0;
          for (int j = lo; j <= p; ++j) o += sc[size_t(j - lo)] / sum * V[size_t(j * kvw + kvh * c.hd + i)];
          EXPECT_NEAR(out[size_t(t * qw + h * c.hd + i)], o, 1e-5);
        }
      }
  }
}

TEST_F(CpuBackendTest, GeluMulSoftcapEmbed) {
  std::vector<float> a = {-3.0f, -0.5f, 0.0f, 0.7f, 4.0f}, b = {1.0f, 2.0f, 3.0f, -1.0f, 0.5f};
  auto g = a;
  be->gelu_mul(g.data(), b.data(), g.size());
  for (size_t i = 0; i < a.size(); ++i) {
    double z = a[i];
    double ref = 0.5 * z * (1 + std::tanh(std::sqrt(2 / M_PI) * (z + 0.044715 * z * z * z))) * b[i];
    EXPECT_NEAR(g[i], ref, 1e-6);
  }
  std::vector<float> l = {-100.0f, -1.0f, 0.0f, 29.0f, 1000.0f};
  auto sc = l;
  be->softcap(sc.data(), 30.0f, sc.size());
  for (size_t i = 0; i < l.size(); ++i) EXPECT_NEAR(sc[i], 30.0 * std::tanh(l[i] / 30.0), 1e-5);
  std::vector<uint16_t> E = {f32_to_bf16(1.0f), f32_to_bf16(-2.0f), f32_to_bf16(0.5f), f32_to_bf16(4.0f)};
  Weight W{DType::BF16, 2, 2, E.data()};
  int32_t ids[] = {1, 0};
  std::vector<float> out(4);
  be->embed(W, ids, 2, 62.0f, out.data());
  EXPECT_EQ(out, (std::vector<float>{31.0f, 248.0f, 62.0f, -124.0f}));
}

}  // namespace
}  // namespace g4
