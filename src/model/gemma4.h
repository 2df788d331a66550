// The Gemma 4 text decoder (spec §2): embedding, decoder layers with sliding and full attention,
// final norm, tied head and logit softcap. Written against the Backend interface only.
// One forward call takes a batch of token runs from several sequences, each with its own cache.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "kernels/backend.h"
#include "model/loader.h"
#include "runtime/kv_cache.h"

namespace g4 {

class Gemma4Model {
 public:
  static Result<std::unique_ptr<Gemma4Model>> create(ModelFiles files, Backend& backend);

  const ModelConfig& config() const { return files_.config; }
  const ModelFiles& files() const { return files_; }
  Backend& backend() { return backend_; }

  // One sequence's part of a batch: its next tokens, appended at cache->n_past().
  struct Run {
    SequenceCache* cache = nullptr;
    std::span<const int32_t> tokens;
    bool all_logits = false;  // logits for every token, or only the last
    bool no_logits = false;   // none at all (a prefill chunk that does not end the prompt)
  };
  // Sees the hidden state of every token after the embedding (stage 0), after each layer (1..n_layers)
  // and after the final norm (n_layers + 1); rows are the batch's tokens in order.
  using Observer = std::function<void(int stage, const float* hidden, int rows, int dim)>;

  // Runs the batch and appends logits rows to `logits` ([rows, vocab]): for each run in order, all its
  // tokens, only its last, or none. Caches advance by their token counts. On error no cache changes.
  Status forward(std::span<const Run> runs, std::vector<float>& logits, const Observer* observer = nullptr);

  // Makes a cache for one sequence of this model, storing keys and values as kv_type().
  Result<std::unique_ptr<SequenceCache>> new_cache(int max_context, int max_chunk);
  // The cache element type new_cache uses: F16 (default), F32 or Q8_0 (checked when a cache is made).
  void set_kv_type(DType t) { kv_type_ = t; }
  DType kv_type() const { return kv_type_; }

  // Bytes of weights (as stored) and of KV cache per position at full context.
  size_t weight_bytes() const;

 private:
  struct Layer {
    Weight q, k, v, o, gate, up, down;
    bool has_v = false;
    std::unique_ptr<Buffer> attn_norm, q_norm, k_norm, post_attn_norm, ffn_norm, post_ffn_norm;
    float layer_scalar = 1.0f;
  };
  Gemma4Model(ModelFiles files, Backend& backend) : files_(std::move(files)), backend_(backend) {}
  void ensure_scratch(int tokens);

  ModelFiles files_;
  Backend& backend_;
  MultimodalWeights multimodal_;  // bound and shape-checked; the embedders come with media input
  Weight embed_, output_;
  std::unique_ptr<Buffer> final_norm_;
  std::vector<Layer> layers_;
  size_t weight_bytes_ = 0;
  DType kv_type_ = DType::F16;

  int scratch_tokens_ = 0;
  std::unique_ptr<Buffer> x_, h_, q_, k_, v_, att_, g_, u_;
};

}  // namespace g4
