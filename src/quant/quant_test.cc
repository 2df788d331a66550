// Tests of the reference (de)quantizers against fixtures made by gguf.quants and llama.cpp
// (tools/reference/make_quant_goldens.py; see tests/data/quant/PROVENANCE.md): bit-exact
// dequantization, byte-exact quantization, round-trip error bounds and block layouts.
#include "quant/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/gguf.h"
#include "quant/blocks.h"
#include "quant/quantize_internal.h"
#include "testing/fixtures.h"

namespace g4::quant {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes unhex(const std::string& s) {
  Bytes out(s.size() / 2);
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(nib(s[2 * i]) << 4 | nib(s[2 * i + 1]));
  return out;
}

std::vector<float> floats(const std::string& hex) {
  const Bytes b = unhex(hex);
  std::vector<float> f(b.size() / 4);
  std::memcpy(f.data(), b.data(), f.size() * 4);
  return f;
}

struct Golden {
  int64_t n_per_row = 0;
  std::vector<std::string> row_names;
  std::vector<float> inputs;
  std::vector<float> extra_inputs;  // more rows, with only their quantized bytes stored
  nlohmann::json types;
};

const Golden& golden() {
  static const Golden g = [] {
    std::ifstream in(g4::testing::fixture("quant/goldens.json"));
    std::stringstream ss;
    ss << in.rdbuf();
    const nlohmann::json j = nlohmann::json::parse(ss.str());
    Golden r;
    r.n_per_row = j.at("n_per_row").get<int64_t>();
    r.row_names = j.at("row_names").get<std::vector<std::string>>();
    r.inputs = floats(j.at("inputs").get<std::string>());
    r.extra_inputs = floats(j.at("extra_inputs").get<std::string>());
    r.types = j.at("types");
    return r;
  }();
  return g;
}

DType type_named(const std::string& name) {
  DType t{};
  EXPECT_TRUE(dtype_from_name(name, &t)) << name;
  return t;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Same float bit for bit, or both NaN (gguf.quants and the CPU may quiet a NaN differently).
::testing::AssertionResult same_floats(const std::vector<float>& want, const std::vector<float>& got) {
  if (want.size() != got.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  int bad = 0;
  std::ostringstream msg;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]) && std::isnan(got[i])) continue;
    if (bits(want[i]) == bits(got[i])) continue;
    if (bad++ < 5) msg << "\n  [" << i << "] want " << want[i] << " got " << got[i];
  }
  if (!bad) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << want.size() << " floats differ:" << msg.str();
}

void check_dequantize(const std::string& name) {
  SCOPED_TRACE(name);
  const DType t = type_named(name);
  const nlohmann::json& e = golden().types.at(name);
  // Random bytes: every bit pattern of the quants and scales.
  const Bytes blocks = unhex(e.at("random_blocks").get<std::string>());
  const std::vector<float> want = floats(e.at("random_dequant").get<std::string>());
  ASSERT_EQ(dtype_row_bytes(t, int64_t(want.size())), blocks.size());
  std::vector<float> got(want.size());
  dequantize(t, blocks.data(), got.data(), int64_t(got.size()));
  EXPECT_TRUE(same_floats(want, got)) << "random blocks";
  if (!e.contains("quant")) return;
  // What quantizing the input rows gave.
  const Bytes q = unhex(e.at("quant").get<std::string>());
  const std::vector<float> want_q = floats(e.at("dequant").get<std::string>());
  std::vector<float> got_q(want_q.size());
  ASSERT_EQ(dtype_row_bytes(t, int64_t(want_q.size())), q.size());
  dequantize(t, q.data(), got_q.data(), int64_t(got_q.size()));
  EXPECT_TRUE(same_floats(want_q, got_q)) << "quantized rows";
}

void check_quantize(const std::string& name) {
  SCOPED_TRACE(name);
  const DType t = type_named(name);
  ASSERT_TRUE(can_quantize(t));
  const Golden& g = golden();
  const Bytes want = unhex(g.types.at(name).at("quant").get<std::string>());
  const int64_t n = g.n_per_row;
  const size_t row_bytes = dtype_row_bytes(t, n);
  ASSERT_EQ(want.size(), row_bytes * g.row_names.size());
  // Row by row, so a failure names the kind of input that broke.
  for (size_t r = 0; r < g.row_names.size(); ++r) {
    Bytes got(row_bytes, 0xAA);
    quantize(t, g.inputs.data() + r * n, got.data(), n);
    size_t first = row_bytes;
    for (size_t i = 0; i < row_bytes && first == row_bytes; ++i)
      if (got[i] != want[r * row_bytes + i]) first = i;
    EXPECT_EQ(first, row_bytes) << "row '" << g.row_names[r] << "' first differs at byte " << first
                                << " (block " << first / dtype_block_bytes(t) << ")";
  }
  // All rows in one call give the same bytes.
  Bytes all(want.size());
  quantize(t, g.inputs.data(), all.data(), n * int64_t(g.row_names.size()));
  EXPECT_TRUE(all == want);
  if (!g.types.at(name).contains("extra_quant")) return;
  const Bytes want_extra = unhex(g.types.at(name).at("extra_quant").get<std::string>());
  Bytes extra(want_extra.size());
  ASSERT_EQ(extra.size(), dtype_row_bytes(t, int64_t(g.extra_inputs.size())));
  quantize(t, g.extra_inputs.data(), extra.data(), int64_t(g.extra_inputs.size()));
  size_t differ = 0;
  for (size_t i = 0; i < extra.size(); ++i) differ += extra[i] != want_extra[i];
  EXPECT_EQ(differ, 0u) << "bytes differ on the extra random rows";
}

#define G4_QUANT_TYPE_TESTS(T)                    \
  TEST(Quant, Dequantize##T) { check_dequantize(#T); } \
  TEST(Quant, Quantize##T) { check_quantize(#T); }

G4_QUANT_TYPE_TESTS(Q8_0)
G4_QUANT_TYPE_TESTS(Q4_0)
G4_QUANT_TYPE_TESTS(Q4_1)
G4_QUANT_TYPE_TESTS(Q5_0)
G4_QUANT_TYPE_TESTS(Q5_1)
G4_QUANT_TYPE_TESTS(Q4_K)
G4_QUANT_TYPE_TESTS(Q5_K)
G4_QUANT_TYPE_TESTS(Q6_K)
G4_QUANT_TYPE_TESTS(IQ4_NL)
G4_QUANT_TYPE_TESTS(IQ4_XS)
G4_QUANT_TYPE_TESTS(F16)
G4_QUANT_TYPE_TESTS(BF16)

TEST(Quant, DequantizeF32) { check_dequantize("F32"); }

TEST(Quant, CanQuantize) {
  for (const char* n : {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K",
                        "IQ4_NL", "IQ4_XS"})
    EXPECT_TRUE(can_quantize(type_named(n))) << n;
  for (DType t : {DType::I32, DType::I64, DType::U8, DType::I8, DType::F64}) EXPECT_FALSE(can_quantize(t));
}

// llama.cpp's rounding: ties to even (unlike roundf), exact for |v| < 2^22.
TEST(Quant, NearestIntRoundsTiesToEven) {
  EXPECT_EQ(detail::nearest_int(2.5f), 2);
  EXPECT_EQ(detail::nearest_int(3.5f), 4);
  EXPECT_EQ(detail::nearest_int(-2.5f), -2);
  EXPECT_EQ(detail::nearest_int(-0.5f), 0);
  EXPECT_EQ(detail::nearest_int(0.49999997f), 0);
  EXPECT_EQ(detail::nearest_int(-7.6f), -8);
  EXPECT_EQ(detail::nearest_int(4194303.0f), 4194303);
}

// Relative RMS error |x - deq(q(x))| / |x| on normal rows stays under what each format can do
// (a format that silently degrades fails here even where no fixture covers the input).
TEST(Quant, RoundTripError) {
  const std::map<std::string, double> bound = {
      {"Q8_0", 0.006}, {"Q4_0", 0.12}, {"Q4_1", 0.10}, {"Q5_0", 0.06}, {"Q5_1", 0.05}, {"Q4_K", 0.10},
      {"Q5_K", 0.05},  {"Q6_K", 0.025}, {"IQ4_NL", 0.10}, {"IQ4_XS", 0.10}, {"F16", 0.0005}, {"BF16", 0.004}};
  const int64_t n = 4096;
  std::vector<float> x(n);
  uint64_t s = 12345;
  for (int64_t i = 0; i < n; i += 2) {  // Box-Muller on a fixed LCG: the same rows everywhere
    auto u = [&] {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      return (double(s >> 11) + 0.5) / 9007199254740992.0;
    };
    const double r = std::sqrt(-2 * std::log(u())), a = 6.283185307179586 * u();
    x[i] = float(r * std::cos(a) * 0.05);
    x[i + 1] = float(r * std::sin(a) * 0.05);
  }
  for (const auto& [name, limit] : bound) {
    const DType t = type_named(name);
    Bytes q(dtype_row_bytes(t, n));
    std::vector<float> y(n);
    quantize(t, x.data(), q.data(), n);
    dequantize(t, q.data(), y.data(), n);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; ++i) {
      err += double(x[i] - y[i]) * double(x[i] - y[i]);
      ref += double(x[i]) * double(x[i]);
    }
    const double rel = std::sqrt(err / ref);
    EXPECT_LT(rel, limit) << name;
    EXPECT_GT(rel, limit / 20) << name << ": suspiciously exact; is the bound stale?";
  }
}

// All-zero input must stay exactly zero after a round trip, for every type.
TEST(Quant, ZerosStayZero) {
  for (const char* name : {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"}) {
    const DType t = type_named(name);
    std::vector<float> x(512, 0.0f), y(512, 1.0f);
    Bytes q(dtype_row_bytes(t, 512));
    quantize(t, x.data(), q.data(), 512);
    dequantize(t, q.data(), y.data(), 512);
    // IQ4 has no zero level: its closest level is 1, times a zero scale.
    for (float v : y) ASSERT_EQ(v, 0.0f) << name;
  }
}

TEST(Quant, BlockLayoutsAgree) {
  struct Layout { DType t; size_t bytes; int64_t elems; };
  const Layout layouts[] = {
      {DType::Q4_0, sizeof(BlockQ4_0), kQK},   {DType::Q4_1, sizeof(BlockQ4_1), kQK},
      {DType::Q5_0, sizeof(BlockQ5_0), kQK},   {DType::Q5_1, sizeof(BlockQ5_1), kQK},
      {DType::Q8_0, sizeof(BlockQ8_0), kQK},   {DType::Q4_K, sizeof(BlockQ4_K), kQKK},
      {DType::Q5_K, sizeof(BlockQ5_K), kQKK},  {DType::Q6_K, sizeof(BlockQ6_K), kQKK},
      {DType::IQ4_NL, sizeof(BlockIQ4_NL), kQK}, {DType::IQ4_XS, sizeof(BlockIQ4_XS), kQKK},
  };
  for (const Layout& l : layouts) {
    SCOPED_TRACE(std::string(dtype_name(l.t)));
    EXPECT_TRUE(dtype_is_block(l.t));
    EXPECT_EQ(dtype_block(l.t), l.elems);
    EXPECT_EQ(dtype_block_bytes(l.t), l.bytes);
    EXPECT_EQ(dtype_row_bytes(l.t, 4 * l.elems), 4 * l.bytes);
    const int id = ggml_type_id(l.t);
    ASSERT_GE(id, 0);
    uint32_t block = 0, size = 0;
    ASSERT_TRUE(ggml_type_layout(uint32_t(id), &block, &size));
    EXPECT_EQ(int64_t(block), l.elems);
    EXPECT_EQ(size_t(size), l.bytes);
  }
}

// The fixtures cover every type and every input kind named in the provenance notes.
TEST(Quant, GoldensCoverEveryType) {
  const Golden& g = golden();
  EXPECT_EQ(g.inputs.size(), size_t(g.n_per_row) * g.row_names.size());
  for (const char* name : {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS",
                           "F16", "BF16", "F32"})
    EXPECT_TRUE(g.types.contains(name)) << name;
}

}  // namespace
}  // namespace g4::quant
