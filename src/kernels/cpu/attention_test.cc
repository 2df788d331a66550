// The CPU attention kernels (every instruction set) against a plain double-precision softmax over the
// values the cache actually stores, and the cache writers against the f16 and q8_0 references.
#include "kernels/cpu/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "quant/quant.h"

namespace g4::cpu {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

std::vector<AttnIsa> isas() {
  std::vector<AttnIsa> v = {AttnIsa::kScalar};
  if (attn_isa_available(AttnIsa::kAvx2)) v.push_back(AttnIsa::kAvx2);
  if (attn_isa_available(AttnIsa::kAvx512)) v.push_back(AttnIsa::kAvx512);
  return v;
}
const char* isa_name(AttnIsa i) { return i == AttnIsa::kScalar ? "scalar" : i == AttnIsa::kAvx2 ? "avx2" : "avx512"; }

struct Case {
  int nh, nkv, hd, window, n, pos0, max_chunk;  // window 0: a full (growing) layer, else a ring
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.nh << "/" << c.nkv << " heads, hd " << c.hd << ", window " << c.window << ", " << c.n << " tokens at "
      << c.pos0;
}

class AttentionTest : public ::testing::TestWithParam<Case> {};

TEST_P(AttentionTest, MatchesDoubleReference) {
  const Case c = GetParam();
  const int kvw = c.nkv * c.hd, qw = c.nh * c.hd, last = c.pos0 + c.n - 1, G = c.nh / c.nkv;
  const bool ring = c.window > 0;
  const int cap = ring ? c.window + c.max_chunk : last + 1;
  const int first_held = ring ? std::max(0, last - cap + 1) : 0;
  auto K = randn(size_t(last + 1) * size_t(kvw), 1), V = randn(size_t(last + 1) * size_t(kvw), 2);
  auto q = randn(size_t(c.n) * size_t(qw), 3, 0.3f);
  ThreadPool pool(3);
  for (DType t : {DType::F32, DType::F16, DType::Q8_0}) {
    const size_t stride = kv_row_stride(t, kvw);
    std::vector<uint8_t> kc(size_t(cap) * stride), vc(size_t(cap) * stride);
    KvView kv{t, kc.data(), vc.data(), stride, cap, ring};
    kv_write(kv, kvw, first_held, last + 1 - first_held, K.data() + size_t(first_held) * size_t(kvw),
             V.data() + size_t(first_held) * size_t(kvw));
    // What the cache holds, decoded by the format reference.
    auto stored = [&](const std::vector<uint8_t>& buf, int p) {
      std::vector<float> row(static_cast<size_t>(kvw));
      quant::dequantize(t, buf.data() + size_t(ring ? p % cap : p) * stride, row.data(), kvw);
      return row;
    };
    std::vector<double> ref(size_t(c.n) * size_t(qw));
    for (int tk = 0; tk < c.n; ++tk) {
      const int p = c.pos0 + tk, lo = c.window ? std::max(0, p - c.window + 1) : 0;
      std::vector<std::vector<float>> ks, vs;
      for (int j = lo; j <= p; ++j) {
        ks.push_back(stored(kc, j));
        vs.push_back(stored(vc, j));
      }
      for (int h = 0; h < c.nh; ++h) {
        const size_t ho = size_t(h / G) * size_t(c.hd);
        std::vector<double> sc(ks.size());
        double mx = -1e300, sum = 0;
        for (size_t j = 0; j < ks.size(); ++j) {
          double d = 0;
          for (int i = 0; i < c.hd; ++i) d += double(q[size_t(tk) * size_t(qw) + size_t(h * c.hd + i)]) * ks[j][ho + size_t(i)];
          mx = std::max(mx, sc[j] = d);
        }
        for (auto& x : sc) sum += x = std::exp(x - mx);
        for (int i = 0; i < c.hd; ++i) {
          double o = 0;
          for (size_t j = 0; j < ks.size(); ++j) o += sc[j] * vs[j][ho + size_t(i)];
          ref[size_t(tk) * size_t(qw) + size_t(h * c.hd + i)] = o / sum;
        }
      }
    }
    for (AttnIsa isa : isas()) {
      // Rows 2.. of a larger batch matrix, with strides wider than the rows.
      const int row0 = 2, stride_q = qw + 16;
      std::vector<float> qb(size_t(row0 + c.n) * size_t(stride_q)), out(size_t(row0 + c.n) * size_t(stride_q), -7.0f);
      for (int tk = 0; tk < c.n; ++tk)
        std::copy_n(q.data() + size_t(tk) * size_t(qw), qw, qb.data() + size_t(row0 + tk) * size_t(stride_q));
      AttnShape s{c.nh, c.nkv, c.hd, c.window, 1.0f};
      attention(pool, s, AttnSegment{row0, c.n, c.pos0, kv}, qb.data(), stride_q, out.data(), stride_q, isa);
      double worst = 0;
      for (int tk = 0; tk < c.n; ++tk)
        for (int i = 0; i < qw; ++i)
          worst = std::max(worst, std::fabs(out[size_t(row0 + tk) * size_t(stride_q) + size_t(i)] -
                                            ref[size_t(tk) * size_t(qw) + size_t(i)]));
      // f32 sums over up to 512 dims of scores of magnitude ~7 round to ~4e-5 in the output (values
      // ~1); a wrong mask or slot is off by ~1e-1.
      EXPECT_LE(worst, 1e-4) << dtype_name(t) << " " << isa_name(isa);
      EXPECT_EQ(out[size_t(row0) * size_t(stride_q) - 1], -7.0f);  // rows before the segment untouched
      EXPECT_EQ(out[size_t(row0) * size_t(stride_q) + size_t(qw)], -7.0f);  // and the padding
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(
        // Sliding-layer geometry (GQA 2:1, hd 256) on a ring: decode, short and long chunks, positions
        // crossing the window, wrap-around.
        Case{4, 2, 256, 32, 1, 0, 8}, Case{4, 2, 256, 32, 7, 29, 8}, Case{4, 2, 256, 64, 1, 1000, 8},
        Case{4, 2, 256, 64, 64, 130, 64}, Case{4, 2, 256, 32, 300, 400, 300},
        // Full-layer geometry (MQA 16:1, hd 512): decode at length (split-KV), chunks.
        Case{16, 1, 512, 0, 1, 0, 1}, Case{16, 1, 512, 0, 1, 700, 1}, Case{16, 1, 512, 0, 7, 40, 7},
        Case{16, 1, 512, 0, 64, 0, 64},
        // The other pairings: GQA 2:1 at hd 512 and 16:1 at hd 256, with and without a window.
        Case{4, 2, 512, 0, 300, 0, 300}, Case{4, 2, 512, 24, 7, 30, 7}, Case{16, 1, 256, 100, 64, 80, 64},
        Case{16, 1, 256, 0, 1, 333, 1}));

// f16 rows round to nearest even like f32_to_f16; q8_0 rows are llama.cpp's bytes (quant::quantize),
// including halfway values, an all-zero block and tiny values.
TEST(KvWrite, MatchesFormatReferences) {
  const int width = 256;
  auto x = randn(size_t(width), 9, 3.0f);
  for (int i = 0; i < 32; ++i) x[size_t(32 + i)] = 0.0f;                    // a zero block
  for (int i = 0; i < 32; ++i) x[size_t(64 + i)] = float(i - 16) * 0.5f;     // halves after scaling
  x[64] = 127.0f;  // amax 127: d = 1, so the halves stay halfway
  for (int i = 0; i < 32; ++i) x[size_t(96 + i)] = float(i) * 1e-6f - 1e-5f;  // f16 subnormals
  for (AttnIsa isa : isas())
    for (DType t : {DType::F16, DType::Q8_0}) {
      const size_t stride = kv_row_stride(t, width);
      std::vector<uint8_t> k(stride), v(stride), want(dtype_row_bytes(t, width));
      KvView kv{t, k.data(), v.data(), stride, 1, false};
      kv_write(kv, width, 0, 1, x.data(), x.data(), isa);
      quant::quantize(t, x.data(), want.data(), width);
      EXPECT_EQ(0, std::memcmp(k.data(), want.data(), want.size())) << dtype_name(t) << " " << isa_name(isa);
      EXPECT_EQ(0, std::memcmp(v.data(), want.data(), want.size())) << dtype_name(t) << " " << isa_name(isa);
    }
}

}  // namespace
}  // namespace g4::cpu
