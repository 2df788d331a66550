// The scheme rules on the 12B's naming and shapes: 48 layers, every sixth a full layer without
// attn_v (K = V). Expected types are listed by hand from the rules in docs/QUANTIZE.md.
#include "convert/quant_plan.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace g4::convert {
namespace {

constexpr int kLayers = 48, kHidden = 3840, kFfn = 15360, kHeads = 16;

std::vector<PlanTensor> gemma4_12b(bool tied = true) {
  std::vector<PlanTensor> t;
  auto add = [&](std::string n, std::vector<int64_t> s, DType d = DType::BF16) { t.push_back({n, s, d}); };
  add("token_embd.weight", {262144, kHidden});
  if (!tied) add("output.weight", {262144, kHidden});
  add("output_norm.weight", {kHidden}, DType::F32);
  add("rope_freqs.weight", {256}, DType::F32);
  for (int i = 0; i < kLayers; ++i) {
    const bool full = i % 6 == 5;
    const int hd = full ? 512 : 256, kv = full ? 1 : 8;
    std::string p = "blk." + std::to_string(i) + ".";
    add(p + "attn_q.weight", {kHeads * hd, kHidden});
    add(p + "attn_k.weight", {kv * hd, kHidden});
    if (!full) add(p + "attn_v.weight", {kv * hd, kHidden});
    add(p + "attn_output.weight", {kHidden, kHeads * hd});
    add(p + "ffn_gate.weight", {kFfn, kHidden});
    add(p + "ffn_up.weight", {kFfn, kHidden});
    add(p + "ffn_down.weight", {kHidden, kFfn});
    for (const char* n : {"attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm", "attn_q_norm", "attn_k_norm"})
      add(p + n + ".weight", {n[5] == 'q' || n[5] == 'k' ? hd : kHidden}, DType::F32);
    add(p + "layer_output_scale.weight", {1}, DType::F32);
  }
  return t;
}

std::map<std::string, DType> plan_of(const std::string& scheme, const std::vector<PlanTensor>& t) {
  auto s = scheme_from_name(scheme);
  EXPECT_TRUE(s.ok());
  auto p = plan_types(t, *s, kLayers, false);
  std::map<std::string, DType> out;
  for (size_t i = 0; i < t.size(); ++i) out[t[i].name] = p[i].type;
  return out;
}

int layer_of(const std::string& n) { return n.rfind("blk.", 0) == 0 ? std::stoi(n.substr(4)) : -1; }

TEST(QuantPlan, Q4_K_M_MixOnThe12BLayout) {
  auto t = gemma4_12b();
  auto p = plan_of("q4_k_m", t);
  // ffn_down: use_more_bits over the 48 layers.
  const std::set<int> down_q6 = {0, 1, 2, 3, 4, 5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35, 38, 41,
                                 42, 43, 44, 45, 46, 47};
  // attn_v: use_more_bits over the 40 sliding layers that have one, by rank; these are their layers.
  const std::set<int> v_q6 = {0, 1, 2, 3, 4, 8, 12, 15, 19, 22, 26, 30, 33, 37, 40, 42, 43, 44, 45, 46};
  std::map<DType, int> count;
  for (const auto& x : t) {
    DType want;
    const int l = layer_of(x.name);
    if (x.shape.size() == 1) want = x.source;
    else if (x.name == "token_embd.weight") want = DType::Q6_K;
    else if (x.name.find("ffn_down") != std::string::npos) want = down_q6.count(l) ? DType::Q6_K : DType::Q4_K;
    else if (x.name.find("attn_v") != std::string::npos) want = v_q6.count(l) ? DType::Q6_K : DType::Q4_K;
    else want = DType::Q4_K;
    EXPECT_EQ(p[x.name], want) << x.name << " got " << dtype_name(p[x.name]);
    ++count[p[x.name]];
  }
  EXPECT_EQ(count[DType::Q6_K], 1 + 24 + 20);
  EXPECT_EQ(count[DType::Q4_K], 48 * 6 + 40 - 24 - 20);
}

TEST(QuantPlan, Q8_0AndQ4_0) {
  auto t = gemma4_12b();
  auto q8 = plan_of("Q8_0", t), q4 = plan_of("Q4_0", t);
  for (const auto& x : t) {
    if (x.shape.size() == 1) {
      EXPECT_EQ(q8[x.name], DType::F32) << x.name;
      EXPECT_EQ(q4[x.name], DType::F32) << x.name;
      continue;
    }
    EXPECT_EQ(q8[x.name], DType::Q8_0) << x.name;
    EXPECT_EQ(q4[x.name], x.name == "token_embd.weight" ? DType::Q6_K : DType::Q4_0) << x.name;
  }
}

TEST(QuantPlan, UntiedOutputAndPureTypes) {
  auto t = gemma4_12b(/*tied=*/false);
  auto p = plan_of("Q4_K_M", t);
  EXPECT_EQ(p["output.weight"], DType::Q6_K);
  EXPECT_EQ(p["token_embd.weight"], DType::Q4_K);
  for (const char* s : {"Q4_K", "Q5_K", "Q6_K", "F16", "BF16"}) {
    auto pure = plan_of(s, t);
    DType want;
    ASSERT_TRUE(dtype_from_name(s, &want));
    for (const auto& x : t)
      EXPECT_EQ(pure[x.name], x.shape.size() == 1 ? x.source : want) << s << " " << x.name;
  }
}

TEST(QuantPlan, RowLengthFallbacks) {
  std::vector<PlanTensor> t = {{"blk.0.attn_q.weight", {64, 96}, DType::F32},
                               {"blk.0.attn_k.weight", {64, 100}, DType::F32},
                               {"token_embd.weight", {1024, 128}, DType::F32},
                               {"blk.0.ffn_down.weight", {64, 160}, DType::F32}};
  auto s = scheme_from_name("Q4_K_M");
  ASSERT_TRUE(s.ok());
  auto p = plan_types(t, *s, 1, false);
  EXPECT_EQ(p[0].type, DType::Q5_0);  // Q4_K -> Q5_0
  EXPECT_TRUE(p[0].fallback);
  EXPECT_EQ(p[1].type, DType::F16);   // not even 32 divides 100
  EXPECT_EQ(p[2].type, DType::Q8_0);  // Q6_K does not fit 128 -> Q8_0
  EXPECT_EQ(p[3].type, DType::Q8_0);  // layer 0 of 1 gets more bits: Q6_K -> Q8_0
  auto s6 = scheme_from_name("Q4_0");
  ASSERT_TRUE(s6.ok());
  auto p4 = plan_types(t, *s6, 1, true);
  EXPECT_EQ(p4[1].type, DType::F16);
  EXPECT_FALSE(p4[0].fallback);
  EXPECT_EQ(p4[0].type, DType::Q4_0);
}

TEST(QuantPlan, SchemeNames) {
  EXPECT_EQ(scheme_from_name("q4_k_m")->ftype, 15u);
  EXPECT_EQ(scheme_from_name("Q8_0")->ftype, 7u);
  EXPECT_EQ(scheme_from_name("Q4_0")->ftype, 2u);
  auto bad = scheme_from_name("Q3_K_XL");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown quantization type 'Q3_K_XL' (valid: Q8_0, Q4_0, Q4_K_M"),
            std::string::npos);
  EXPECT_TRUE(tensor_order_less("token_embd.weight", "blk.0.attn_q.weight"));
  EXPECT_TRUE(tensor_order_less("blk.2.ffn_up.weight", "blk.10.attn_k.weight"));
}

}  // namespace
}  // namespace g4::convert
