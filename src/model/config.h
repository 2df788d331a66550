// The model's geometry as data. Every number the forward pass uses comes from here; a new Gemma 4 size
// (or the drafter) is a new config, not new code. Filled from an HF config.json or GGUF metadata.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"

namespace g4 {

struct GgufFile;

enum class AttnKind : uint8_t { kSliding, kFull };

struct LayerConfig {
  AttnKind kind = AttnKind::kFull;
  int n_heads = 0;     // query heads
  int n_kv_heads = 0;  // key/value heads (GQA/MQA)
  int head_dim = 0;
  bool k_eq_v = false;  // no v_proj: V is built from the raw k_proj output
  int window = 0;       // sliding window in tokens (0: unlimited)
  int ffn_dim = 0;
  // RoPE inverse frequencies, one per rotated pair (head_dim / 2 entries, rotate-half pairing
  // (i, i + head_dim/2)). A zero frequency leaves that pair unrotated (proportional RoPE).
  std::vector<float> rope_inv_freq;
};

// The encoder-free vision embedder (spec §3.2); absent in text-only exports and GGUFs.
struct VisionConfig {
  bool present = false;
  int patch_px = 0;     // model patch side (patch_size * pooling_kernel_size; 48 in the 12B)
  int embed_dim = 0;    // mm_embed_dim (= output_proj_dims)
  int posemb_size = 0;  // rows of the x/y position tables
  float ln_eps = 1e-5f;  // the three LayerNorms (PyTorch default)
  float rms_eps = 1e-6f;
  int patch_dim() const { return patch_px * patch_px * 3; }
};

// The audio projection (spec §4): one raw frame of `frame` samples per soft token.
struct AudioConfig {
  bool present = false;
  int frame = 0;  // audio_embed_dim (640 in the 12B)
  float rms_eps = 1e-6f;
};

struct ModelConfig {
  std::string arch;  // "gemma4"
  int vocab_size = 0;
  int hidden = 0;
  int n_layers = 0;
  int max_context = 0;
  float rms_eps = 1e-6f;
  float final_softcap = 0.0f;  // 0: none
  float attn_scale = 1.0f;     // multiplies q·k (Gemma 4: 1.0, the QK norms absorb 1/sqrt(d))
  bool tie_embeddings = true;
  bool has_layer_scalar = true;
  bool v_norm = true;  // V gets an RMSNorm without weight
  // sqrt(hidden), rounded to the embedding's stored type by the loader when the reference does so.
  float embed_scale = 1.0f;
  int sliding_window = 0;

  int32_t bos_id = 2, pad_id = 0;
  std::vector<int32_t> eos_ids;
  // Multimodal ids (-1 where absent): BOI/EOI, image/video/audio soft tokens, BOA/EOA.
  int32_t boi_id = -1, eoi_id = -1, image_id = -1, video_id = -1, audio_id = -1, boa_id = -1, eoa_id = -1;
  std::vector<int32_t> suppress_ids;  // never sampled (EOI/EOA)

  std::vector<LayerConfig> layers;
  VisionConfig vision;
  AudioConfig audio;

  // Largest K/V row (n_kv_heads * head_dim) and q row over the layers, for scratch sizing.
  int max_q_width() const;
  int max_kv_width() const;
  int max_ffn_dim() const;
  // Checks internal consistency (positive sizes, heads divide, RoPE table sizes).
  Status validate() const;
};

// Builds RoPE inverse frequencies. `rotated_pairs` of the head_dim/2 pairs get theta^(-2i/head_dim),
// the rest zero (proportional RoPE uses head_dim, not 2*rotated_pairs, as the denominator).
std::vector<float> rope_inv_freq(int head_dim, double theta, int rotated_pairs);

// From an HF config.json text (the top-level multimodal config or a bare text config).
Result<ModelConfig> config_from_hf_json(const std::string& json_text, const std::string& file);
// From GGUF metadata (arch gemma4). `rope_freqs` factors (if the file has them) divide the full
// layers' frequencies, as llama.cpp does.
Result<ModelConfig> config_from_gguf(const GgufFile& gguf, const std::string& file);

}  // namespace g4
