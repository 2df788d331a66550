// Binding tensors to the model: presence, shapes, and the multimodal tensors under both spellings.
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

// A copy of a store with one tensor dropped or reshaped, to check what the binder reports.
TensorStore edited(const TensorStore& s, const std::string& name, const std::vector<int64_t>* new_shape) {
  TensorStore out;
  for (const auto& [n, t] : s.tensors()) {
    if (n == name && !new_shape) continue;
    TensorInfo c = t;
    if (n == name) c.shape = *new_shape;
    EXPECT_TRUE(out.add(c).ok());
  }
  return out;
}

TEST(Weights, MissingAndMisshapedTensorsAreNamed) {
  auto files = open_model_files(testing::hf_fixture_dir("tiny-a"));
  ASSERT_TRUE(files.ok()) << files.error().message;
  const std::string q = "model.language_model.layers.2.self_attn.q_proj.weight";
  {
    ModelConfig c = files->config;
    auto w = bind_weights(c, edited(files->tensors(), q, nullptr), TensorNaming::kHF);
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.error().message.find("missing tensor '" + q + "' (expected shape [512, 128])"), std::string::npos)
        << w.error().message;
  }
  {
    ModelConfig c = files->config;
    std::vector<int64_t> bad = {256, 128};
    auto w = bind_weights(c, edited(files->tensors(), q, &bad), TensorNaming::kHF);
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.error().message.find("has shape [256, 128], expected [512, 128]"), std::string::npos)
        << w.error().message;
  }
  {
    // A v_proj on a k_eq_v layer contradicts the config.
    ModelConfig c = files->config;
    TensorStore s = edited(files->tensors(), "", nullptr);
    TensorInfo v = *files->tensors().find(q);
    v.name = "model.language_model.layers.2.self_attn.v_proj.weight";
    v.shape = {128, 128};
    ASSERT_TRUE(s.add(v).ok());
    auto w = bind_weights(c, s, TensorNaming::kHF);
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.error().message.find("attention_k_eq_v"), std::string::npos) << w.error().message;
  }
}

// A copy of a store with names rewritten by `rename` (return "" to drop the tensor).
TensorStore renamed(const TensorStore& s, const std::function<std::string(const std::string&)>& rename) {
  TensorStore out;
  for (const auto& [n, t] : s.tensors()) {
    std::string nn = rename(n);
    if (nn.empty()) continue;
    TensorInfo c = t;
    c.name = nn;
    EXPECT_TRUE(out.add(c).ok());
  }
  return out;
}

std::string replace_prefix(std::string n, const std::string& from, const std::string& to) {
  if (n.rfind(from, 0) == 0) n = to + n.substr(from.size());
  return n;
}

TEST(Weights, MultimodalTensorsUnderEitherSpelling) {
  auto files = open_model_files(testing::hf_fixture_dir("tiny-a"));
  ASSERT_TRUE(files.ok());
  {  // Google's checkpoint names, as save_pretrained writes them.
    ModelConfig c = files->config;
    auto mm = bind_multimodal(c, files->tensors());
    ASSERT_TRUE(mm.ok()) << mm.error().message;
    EXPECT_TRUE(c.vision.present && c.audio.present);
    EXPECT_NE(mm->pos_embedding, nullptr);
    EXPECT_EQ(mm->pos_embedding->shape, (std::vector<int64_t>{32, 2, 96}));
    EXPECT_NE(mm->vision_proj, nullptr);
    EXPECT_NE(mm->audio_proj, nullptr);
  }
  {  // transformers' in-memory names.
    ModelConfig c = files->config;
    TensorStore s = renamed(files->tensors(), [](const std::string& n) {
      std::string r = replace_prefix(n, "model.vision_embedder.", "model.embed_vision.");
      return replace_prefix(r, "model.embed_vision.embedding_projection",
                            "model.embed_vision.multimodal_embedder.embedding_projection");
    });
    ASSERT_TRUE(s.find("model.embed_vision.multimodal_embedder.embedding_projection.weight"));
    auto mm = bind_multimodal(c, s);
    ASSERT_TRUE(mm.ok()) << mm.error().message;
    EXPECT_TRUE(c.vision.present);
    EXPECT_NE(mm->patch_dense_w, nullptr);
    EXPECT_NE(mm->vision_proj, nullptr);
  }
  {  // A text-only export: no media tensors at all.
    ModelConfig c = files->config;
    TensorStore s = renamed(files->tensors(), [](const std::string& n) {
      return n.find("language_model") == std::string::npos ? std::string() : n;
    });
    auto mm = bind_multimodal(c, s);
    ASSERT_TRUE(mm.ok()) << mm.error().message;
    EXPECT_FALSE(c.vision.present);
    EXPECT_FALSE(c.audio.present);
  }
  {  // Half a vision embedder is an error naming what is missing.
    ModelConfig c = files->config;
    TensorStore s = renamed(files->tensors(), [](const std::string& n) {
      return n == "model.vision_embedder.pos_norm.bias" ? std::string() : n;
    });
    auto mm = bind_multimodal(c, s);
    ASSERT_FALSE(mm.ok());
    EXPECT_NE(mm.error().message.find("pos_norm.bias"), std::string::npos) << mm.error().message;
  }
  {  // A misshapen position table.
    ModelConfig c = files->config;
    c.vision.posemb_size = 64;
    auto mm = bind_multimodal(c, files->tensors());
    ASSERT_FALSE(mm.ok());
    EXPECT_NE(mm.error().message.find("expected [64, 2, 96]"), std::string::npos) << mm.error().message;
  }
}

}  // namespace
}  // namespace g4
