// Binds a model's tensors (from an HF folder or a GGUF) to the slots the forward pass uses, checking
// that every tensor is present with the shape the config implies.
#pragma once

#include <string>
#include <vector>

#include "io/tensor_store.h"
#include "model/config.h"

namespace g4 {

struct LayerWeights {
  const TensorInfo* attn_norm = nullptr;       // [hidden]
  const TensorInfo* q = nullptr;               // [n_heads*hd, hidden]
  const TensorInfo* k = nullptr;               // [n_kv*hd, hidden]
  const TensorInfo* v = nullptr;               // [n_kv*hd, hidden]; null when k_eq_v
  const TensorInfo* o = nullptr;               // [hidden, n_heads*hd]
  const TensorInfo* q_norm = nullptr;          // [hd]
  const TensorInfo* k_norm = nullptr;          // [hd]
  const TensorInfo* post_attn_norm = nullptr;  // [hidden]
  const TensorInfo* ffn_norm = nullptr;        // [hidden]
  const TensorInfo* gate = nullptr;            // [ffn, hidden]
  const TensorInfo* up = nullptr;              // [ffn, hidden]
  const TensorInfo* down = nullptr;            // [hidden, ffn]
  const TensorInfo* post_ffn_norm = nullptr;   // [hidden]
  const TensorInfo* layer_scalar = nullptr;    // [1] (may be absent: 1.0)
};

struct ModelWeights {
  const TensorInfo* embed = nullptr;       // [vocab, hidden]
  const TensorInfo* final_norm = nullptr;  // [hidden]
  const TensorInfo* output = nullptr;      // [vocab, hidden]; == embed when tied
  std::vector<LayerWeights> layers;
};

// The vision embedder and audio projection (spec §3.2, §4). Null pointers where the checkpoint has
// none (a text-only export); then config.vision/audio.present is cleared.
struct MultimodalWeights {
  const TensorInfo *patch_ln1_w = nullptr, *patch_ln1_b = nullptr;  // [patch_dim]
  const TensorInfo *patch_dense_w = nullptr, *patch_dense_b = nullptr;  // [embed, patch_dim], [embed]
  const TensorInfo *patch_ln2_w = nullptr, *patch_ln2_b = nullptr;  // [embed]
  const TensorInfo* pos_embedding = nullptr;                        // [posemb, 2, embed]
  const TensorInfo *pos_norm_w = nullptr, *pos_norm_b = nullptr;    // [embed]
  const TensorInfo* vision_proj = nullptr;                          // [hidden, embed]
  const TensorInfo* audio_proj = nullptr;                           // [hidden, frame]
};

enum class TensorNaming { kHF, kGGUF };

// Finds the multimodal tensors under either spelling: Google's checkpoint names
// (model.vision_embedder.*, model.embed_vision.embedding_projection) or the names transformers uses in
// memory and some re-saved exports carry (model.embed_vision.*,
// model.embed_vision.multimodal_embedder.embedding_projection). Either all vision tensors are present
// with the right shapes or none are.
Result<MultimodalWeights> bind_multimodal(ModelConfig& config, const TensorStore& store);

// Finds and shape-checks every tensor. For GGUF, also decides k_eq_v per layer from whether attn_v
// exists (updating `config`). Errors name the file, the tensor and expected vs found shape.
Result<ModelWeights> bind_weights(ModelConfig& config, const TensorStore& store, TensorNaming naming);

}  // namespace g4
