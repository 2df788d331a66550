// The quantized-activation kernels: the scalar reference against the dequantized weights (so the
// bit layouts agree with quant/dequantize.cc, which is checked against gguf.quants), and every SIMD
// version on this CPU against the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/qdot.h"
#include "quant/quant.h"
#include "testing/quant_blocks.h"

namespace g4::cpu {
namespace {

using testing::scale_fields;
constexpr auto& kTypes = testing::kBlockTypes;

std::vector<float> random_x(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> nd;
  std::vector<float> x(n);
  for (auto& v : x) v = nd(rng);
  x[n / 3] = 0;  // a zero and an outlier, as activations have
  x[n / 2] = 12.0f;
  return x;
}

// The activation's values, as the kernels see them.
std::vector<float> act_values(DType t, const void* act, size_t n) {
  std::vector<float> v(n);
  if (act_kind(t) == ActKind::kAct32) {
    auto* a = static_cast<const quant::BlockQ8_0x*>(act);
    for (size_t i = 0; i < n; ++i) v[i] = a[i / 32].d * float(a[i / 32].qs[i % 32]);
  } else {
    auto* a = static_cast<const quant::BlockQ8_K*>(act);
    for (size_t i = 0; i < n; ++i) v[i] = a[i / 256].d * float(a[i / 256].qs[i % 256]);
  }
  return v;
}

TEST(QDot, ActivationQuantizationReference) {
  std::mt19937 rng(5);
  for (DType t : {DType::Q4_0, DType::Q4_K}) {
    const size_t n = 512;
    auto x = random_x(n, rng);
    std::vector<uint8_t> act(act_bytes(t, n));
    quantize_act_ref(t, x.data(), act.data(), n);
    auto v = act_values(t, act.data(), n);
    const size_t blk = act_kind(t) == ActKind::kAct32 ? 32 : 256;
    for (size_t b = 0; b < n / blk; ++b) {
      float amax = 0;
      for (size_t i = b * blk; i < (b + 1) * blk; ++i) amax = std::max(amax, std::fabs(x[i]));
      for (size_t i = b * blk; i < (b + 1) * blk; ++i) EXPECT_LE(std::fabs(v[i] - x[i]), amax / 254 * 1.0001f) << i;
    }
    if (act_kind(t) == ActKind::kAct32) {
      auto* a = reinterpret_cast<const quant::BlockQ8_0x*>(act.data());
      int sum = 0;
      for (int i = 0; i < 32; ++i) sum += a[0].qs[i];
      EXPECT_EQ(a[0].sum, sum);
    } else {
      auto* a = reinterpret_cast<const quant::BlockQ8_K*>(act.data());
      int sum = 0;
      for (int i = 16; i < 32; ++i) sum += a[0].qs[i];
      EXPECT_EQ(a[0].bsums[1], sum);
    }
  }
}

TEST(QDot, ReferenceEqualsDequantizedDot) {
  std::mt19937 rng(7);
  for (DType t : kTypes) {
    const size_t n = 512;
    auto w = testing::random_blocks(t, 4, n, rng);
    auto x = random_x(n, rng);
    std::vector<uint8_t> act(act_bytes(t, n));
    quantize_act_ref(t, x.data(), act.data(), n);
    auto xv = act_values(t, act.data(), n);
    const size_t rb = dtype_row_bytes(t, int64_t(n));
    const void* rows[4] = {&w[0], &w[rb], &w[2 * rb], &w[3 * rb]};
    float out[4];
    qdot_4x1_ref(t, rows, act.data(), n, out);
    for (int r = 0; r < 4; ++r) {
      std::vector<float> wf(n);
      quant::dequantize(t, rows[r], wf.data(), int64_t(n));
      double exact = 0, mag = 0;
      for (size_t i = 0; i < n; ++i) exact += double(wf[i]) * xv[i], mag += std::fabs(double(wf[i]) * xv[i]);
      EXPECT_NEAR(out[r], exact, 1e-5 * mag) << dtype_name(t) << " row " << r;
    }
  }
}

TEST(QDot, SimdMatchesReference) {
  std::mt19937 rng(11);
  int checked = 0;
  for (QdotIsa isa : {QdotIsa::kAvx2, QdotIsa::kAvx512Vnni}) {
    for (DType t : kTypes) {
      for (size_t n : {size_t(256), size_t(512 + 32 * (act_kind(t) == ActKind::kAct32)), size_t(3840)}) {
        if (n % size_t(dtype_block(t))) continue;
        auto w = testing::random_blocks(t, 4, n, rng);
        auto x = random_x(n, rng);
        std::vector<uint8_t> act(act_bytes(t, n)), act_simd(act_bytes(t, n));
        quantize_act_ref(t, x.data(), act.data(), n);
        if (quantize_act_isa(isa, t, x.data(), act_simd.data(), n)) {
          EXPECT_EQ(0, std::memcmp(act.data(), act_simd.data(), act.size())) << dtype_name(t) << " n=" << n;
        }
        const size_t rb = dtype_row_bytes(t, int64_t(n));
        const void* rows[4] = {&w[0], &w[rb], &w[2 * rb], &w[3 * rb]};
        float ref[4], simd[4];
        qdot_4x1_ref(t, rows, act.data(), n, ref);
        if (!qdot_4x1_isa(isa, t, rows, act.data(), n, simd)) continue;
        ++checked;
        for (int r = 0; r < 4; ++r) {
          float mag = 0;
          for (float v : ref) mag = std::max(mag, std::fabs(v));
          EXPECT_NEAR(simd[r], ref[r], 2e-5f * mag + 1e-6f) << dtype_name(t) << " isa " << int(isa) << " n=" << n;
        }
      }
    }
  }
  if (qdot_has_simd(DType::Q4_0)) {
    EXPECT_GT(checked, 0);
  }
}

// Weight bytes and activations at the extremes (every activation ±127, weight bytes from the edges
// of their ranges), where int16 pair sums in the SIMD versions would saturate if an operand's range
// were exceeded.
TEST(QDot, SimdMatchesReferenceAtExtremes) {
  std::mt19937 rng(13);
  const uint8_t edge[] = {0x00, 0xFF, 0x80, 0x7F, 0x0F, 0xF0, 0x88, 0x77};
  for (QdotIsa isa : {QdotIsa::kAvx2, QdotIsa::kAvx512Vnni}) {
    for (DType t : kTypes) {
      const size_t n = 512;
      for (int pattern = 0; pattern < 3; ++pattern) {
        auto w = testing::random_blocks(t, 4, n, rng);
        const size_t bb = dtype_block_bytes(t);
        std::vector<bool> is_scale(bb, false);
        for (size_t off : scale_fields(t)) is_scale[off] = is_scale[off + 1] = true;
        std::uniform_int_distribution<int> pick(0, int(sizeof(edge)) - 1);
        for (size_t i = 0; i < w.size(); ++i) {
          if (is_scale[i % bb]) continue;
          // pattern 0: one edge byte everywhere per row; 1: random edge bytes; 2: alternating 0x80 / 0xFF.
          const uint8_t row_edge[4] = {0x80, 0xFF, 0x7F, 0x88};
          w[i] = pattern == 0 ? row_edge[i / (w.size() / 4)] : pattern == 1 ? edge[pick(rng)] : (i % 2 ? 0x80 : 0xFF);
        }
        std::vector<float> x(n);
        for (size_t i = 0; i < n; ++i) x[i] = (pattern != 1 || rng() % 2) ? -1.0f : 1.0f;
        std::vector<uint8_t> act(act_bytes(t, n));
        quantize_act_ref(t, x.data(), act.data(), n);
        const size_t rb = dtype_row_bytes(t, int64_t(n));
        const void* rows[4] = {&w[0], &w[rb], &w[2 * rb], &w[3 * rb]};
        float ref[4], simd[4];
        qdot_4x1_ref(t, rows, act.data(), n, ref);
        if (!qdot_4x1_isa(isa, t, rows, act.data(), n, simd)) continue;
        float mag = 0;
        for (float v : ref) mag = std::max(mag, std::fabs(v));
        for (int r = 0; r < 4; ++r)
          EXPECT_NEAR(simd[r], ref[r], 2e-5f * mag + 1e-6f) << dtype_name(t) << " isa " << int(isa) << " pattern " << pattern;
      }
    }
  }
}

}  // namespace
}  // namespace g4::cpu
