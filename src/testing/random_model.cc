#include "testing/random_model.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "testing/fixtures.h"

namespace g4::testing {

RandomModel::RandomModel() {
  backend = make_cpu_backend(2);
  const char* config = R"({"model_type": "gemma4_unified_text", "vocab_size": 262144, "hidden_size": 16,
    "intermediate_size": 32, "num_hidden_layers": 3, "num_attention_heads": 2, "num_key_value_heads": 1,
    "head_dim": 8, "global_head_dim": 16, "num_global_key_value_heads": 1, "attention_k_eq_v": true,
    "sliding_window": 16, "layer_types": ["sliding_attention", "sliding_attention", "full_attention"],
    "final_logit_softcapping": 30.0, "eos_token_id": [1, 106, 50], "max_position_embeddings": 4096})";
  ModelFiles f;
  f.path = "random";
  f.format = "hf";
  auto c = config_from_hf_json(config, "config.json");
  EXPECT_TRUE(c.ok()) << c.error().message;
  f.config = c.value();
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float mean, float std) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    buffers.emplace_back(size_t(n));
    for (auto& v : buffers.back()) v = mean + std * nd(rng);
    TensorInfo t{name, DType::F32, shape, reinterpret_cast<const uint8_t*>(buffers.back().data()), size_t(n) * 4, "random"};
    EXPECT_TRUE(f.hf_tensors.add(t).ok());
  };
  const std::string p = "model.language_model.";
  // Small embeddings, so that attention (and so the cache) decides the greedy tokens.
  add(p + "embed_tokens.weight", {262144, 16}, 0, 0.05f);
  add(p + "norm.weight", {16}, 1, 0.1f);
  for (int i = 0; i < 3; ++i) {
    const int hd = i == 2 ? 16 : 8;
    const std::string l = p + "layers." + std::to_string(i) + ".";
    for (const char* n : {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                          "post_feedforward_layernorm"})
      add(l + n + ".weight", {16}, 1, 0.1f);
    add(l + "self_attn.q_proj.weight", {2 * hd, 16}, 0, 0.3f);
    add(l + "self_attn.k_proj.weight", {hd, 16}, 0, 0.3f);
    if (i != 2) add(l + "self_attn.v_proj.weight", {hd, 16}, 0, 0.3f);
    add(l + "self_attn.o_proj.weight", {16, 2 * hd}, 0, 0.3f);
    add(l + "self_attn.q_norm.weight", {hd}, 1, 0.1f);
    add(l + "self_attn.k_norm.weight", {hd}, 1, 0.1f);
    add(l + "mlp.gate_proj.weight", {32, 16}, 0, 0.3f);
    add(l + "mlp.up_proj.weight", {32, 16}, 0, 0.3f);
    add(l + "mlp.down_proj.weight", {16, 32}, 0, 0.3f);
    add(l + "layer_scalar", {1}, 1, 0.1f);
  }
  auto m = Gemma4Model::create(std::move(f), *backend);
  EXPECT_TRUE(m.ok()) << m.error().message;
  model = std::move(m.value());
}

const Tokenizer& tokenizer() {
  static std::unique_ptr<Tokenizer> t = [] {
    auto r = Tokenizer::from_hf_json(testing::fixture("tokenizer/gemma4-tokenizer.json"));
    if (!r.ok()) throw std::runtime_error(r.error().message);
    return std::move(r.value());
  }();
  return *t;
}

}  // namespace g4::testing
