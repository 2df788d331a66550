// Reading the model geometry from HF config.json and GGUF metadata, and rejecting bad configs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/gguf.h"
#include "model/config.h"
#include "model/loader.h"
#include "model/weights.h"
#include "testing/fixtures.h"

namespace g4 {
namespace {

using json = nlohmann::json;

json tiny_a_json() {
  std::ifstream f(std::string(G4_TEST_DATA) + "/tiny-a/config.json");
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

Result<ModelConfig> parse(const json& j) { return config_from_hf_json(j.dump(), "config.json"); }

TEST(Config, TinyAGeometryFromPerLayerConfig) {
  auto c = parse(tiny_a_json());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->n_layers, 6);
  EXPECT_EQ(c->hidden, 128);
  EXPECT_EQ(c->sliding_window, 8);
  EXPECT_FLOAT_EQ(c->final_softcap, 30.0f);
  EXPECT_FLOAT_EQ(c->embed_scale, std::sqrt(128.0f));
  const auto& s = c->layers[0];
  const auto& f = c->layers[2];
  EXPECT_EQ(s.kind, AttnKind::kSliding);
  EXPECT_EQ(s.head_dim, 64);
  EXPECT_EQ(s.n_kv_heads, 2);
  EXPECT_FALSE(s.k_eq_v);
  EXPECT_EQ(s.window, 8);
  EXPECT_EQ(f.kind, AttnKind::kFull);
  EXPECT_EQ(f.head_dim, 128);
  EXPECT_EQ(f.n_kv_heads, 1);
  EXPECT_TRUE(f.k_eq_v);
  EXPECT_EQ(f.window, 0);
  // Default RoPE on sliding layers: all 32 pairs, theta 1e4 over 64 dims.
  ASSERT_EQ(s.rope_inv_freq.size(), 32u);
  EXPECT_NEAR(s.rope_inv_freq[5], std::pow(1e4, -10.0 / 64), 1e-7);
  // Proportional RoPE on full layers: 16 of 64 pairs, denominator 128 (the head dim), the rest zero.
  ASSERT_EQ(f.rope_inv_freq.size(), 64u);
  EXPECT_NEAR(f.rope_inv_freq[15], std::pow(1e6, -30.0 / 128), 1e-8);
  EXPECT_EQ(f.rope_inv_freq[16], 0.0f);
  EXPECT_EQ(c->suppress_ids, (std::vector<int32_t>{1001, 1005}));
  EXPECT_EQ(c->eos_ids, (std::vector<int32_t>{1}));
}

TEST(Config, OlderGlobalHeadDimFieldsGiveTheSameGeometry) {
  json j = tiny_a_json();
  j["text_config"].erase("per_layer_config");
  j["text_config"]["global_head_dim"] = 128;
  j["text_config"]["num_global_key_value_heads"] = 1;
  auto a = parse(tiny_a_json()), b = parse(j);
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(a->layers[size_t(i)].head_dim, b->layers[size_t(i)].head_dim);
    EXPECT_EQ(a->layers[size_t(i)].n_kv_heads, b->layers[size_t(i)].n_kv_heads);
    EXPECT_EQ(a->layers[size_t(i)].rope_inv_freq, b->layers[size_t(i)].rope_inv_freq);
  }
}

TEST(Config, TheLastLayerIsAlwaysFull) {
  json j = tiny_a_json();
  j["text_config"]["layer_types"][5] = "sliding_attention";
  auto c = parse(j);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->layers[5].kind, AttnKind::kFull);
}

void expect_error(const json& j, const std::string& needle) {
  auto c = parse(j);
  ASSERT_FALSE(c.ok()) << "accepted a config that should fail with: " << needle;
  EXPECT_NE(c.error().message.find(needle), std::string::npos) << c.error().message;
}

TEST(Config, BadConfigsFailWithClearMessages) {
  json j = tiny_a_json();
  j["text_config"]["num_key_value_heads"] = 3;
  expect_error(j, "not a multiple of 3 kv heads");

  j = tiny_a_json();
  j["text_config"].erase("hidden_size");
  expect_error(j, "missing field 'text_config.hidden_size'");

  j = tiny_a_json();
  j["text_config"]["vocab_size"] = "many";
  expect_error(j, "'text_config.vocab_size' must be an integer");

  j = tiny_a_json();
  j["model_type"] = "llama";
  j["text_config"]["model_type"] = "llama";
  expect_error(j, "model_type 'llama' is not supported");

  j = tiny_a_json();
  j["text_config"]["num_kv_shared_layers"] = 2;
  expect_error(j, "num_kv_shared_layers");

  j = tiny_a_json();
  j["text_config"]["layer_types"].push_back("full_attention");
  expect_error(j, "7 layer_types for 6 layers");

  j = tiny_a_json();
  j["text_config"]["per_layer_config"]["2"]["head_dim"] = 127;
  expect_error(j, "head_dim 127 is odd");

  j = tiny_a_json();
  j["text_config"]["rope_parameters"]["full_attention"]["rope_type"] = "yarn";
  expect_error(j, "rope_type 'yarn' is not supported");

  j = tiny_a_json();
  j["text_config"]["hidden_size"] = -5;
  expect_error(j, "out of range");

  EXPECT_FALSE(config_from_hf_json("{not json", "config.json").ok());
  EXPECT_FALSE(config_from_hf_json("[1, 2]", "config.json").ok());
}

TEST(Config, GgufMetadataGivesTheSameGeometryAsTheHfConfig) {
  auto hf = parse(tiny_a_json());
  auto gg = open_model_files(testing::fixture("tiny-a/model.gguf"));
  ASSERT_TRUE(hf.ok() && gg.ok()) << (gg.ok() ? "" : gg.error().message);
  ModelConfig g = gg->config;
  // k_eq_v in a GGUF is known once the tensors are bound (no attn_v on a layer).
  auto w = bind_weights(g, gg->tensors(), TensorNaming::kGGUF);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(g.vocab_size, hf->vocab_size);
  EXPECT_EQ(g.sliding_window, hf->sliding_window);
  EXPECT_FLOAT_EQ(g.final_softcap, hf->final_softcap);
  for (int i = 0; i < hf->n_layers; ++i) {
    const auto &a = hf->layers[size_t(i)], &b = g.layers[size_t(i)];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.head_dim, b.head_dim) << i;
    EXPECT_EQ(a.n_kv_heads, b.n_kv_heads) << i;
    EXPECT_EQ(a.k_eq_v, b.k_eq_v) << i;
    ASSERT_EQ(a.rope_inv_freq.size(), b.rope_inv_freq.size());
    for (size_t p = 0; p < a.rope_inv_freq.size(); ++p)
      EXPECT_NEAR(a.rope_inv_freq[p], b.rope_inv_freq[p], 1e-7 * a.rope_inv_freq[p]) << i << " " << p;
  }
}

TEST(Config, GgufSpecialIdsComeFromTheVocabulary) {
  auto r = load_gguf(testing::fixture("tiny-a/model.gguf"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  GgufFile& g = r.value();
  // Give the file a vocabulary with the Gemma 4 control pieces at their 12B ids' places in a small vocab.
  std::vector<std::string> tokens;
  for (int i = 0; i < 1024; ++i) tokens.push_back("t" + std::to_string(i));
  tokens[1] = "<eos>";
  tokens[50] = "<|tool_response>";
  tokens[106] = "<turn|>";
  tokens[1000] = "<|image>";
  tokens[1001] = "<image|>";
  tokens[1002] = "<|image|>";
  tokens[1004] = "<|audio>";
  tokens[1005] = "<audio|>";
  GgufValue v;
  v.type = GgufValue::Type::ARRAY;
  v.elem_type = GgufValue::Type::STRING;
  v.v = tokens;
  g.meta["tokenizer.ggml.tokens"] = v;
  GgufValue eos;
  eos.type = GgufValue::Type::U32;
  eos.v = int64_t(1);
  g.meta["tokenizer.ggml.eos_token_id"] = eos;
  auto c = config_from_gguf(g, "model.gguf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->eos_ids, (std::vector<int32_t>{1, 50, 106}));
  EXPECT_EQ(c->suppress_ids, (std::vector<int32_t>{1001, 1005}));
  EXPECT_EQ(c->boi_id, 1000);
  EXPECT_EQ(c->image_id, 1002);
  EXPECT_EQ(c->boa_id, 1004);
  EXPECT_EQ(c->video_id, -1);
}

}  // namespace
}  // namespace g4
