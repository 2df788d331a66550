#include "model/weights.h"

namespace g4 {

namespace {

struct Binder {
  const TensorStore& store;
  TensorNaming naming;

  Result<const TensorInfo*> get(const std::string& name, std::vector<int64_t> shape, bool optional = false) const {
    const TensorInfo* t = store.find(name);
    if (!t) {
      if (optional) return static_cast<const TensorInfo*>(nullptr);
      return make_error("missing tensor '%s' (expected shape %s)", name.c_str(), shape_str(shape).c_str());
    }
    // A [n] vector may be stored as [1, n] or [n]; matrices must match exactly.
    std::vector<int64_t> got = t->shape;
    while (got.size() > shape.size() && got.front() == 1) got.erase(got.begin());
    if (got != shape)
      return make_error("%s: tensor '%s' has shape %s, expected %s", t->file.c_str(), name.c_str(),
                        shape_str(t->shape).c_str(), shape_str(shape).c_str());
    const bool is_float = t->dtype == DType::F32 || t->dtype == DType::F16 || t->dtype == DType::BF16;
    // Quantized block types hold matrices (their rows are whole blocks: the GGUF reader checks that).
    const bool is_quant_matrix = dtype_is_block(t->dtype) && shape.size() == 2;
    if (!is_float && !is_quant_matrix)
      return make_error("%s: tensor '%s' has type %s; %s must be F32, F16 or BF16%s", t->file.c_str(), name.c_str(),
                        std::string(dtype_name(t->dtype)).c_str(), shape.size() == 2 ? "matrices" : "vectors",
                        shape.size() == 2 ? " or a quantized block type" : "");
    return t;
  }
};

// HF checkpoints may prefix the text model differently depending on the class that saved them.
std::string hf_prefix(const TensorStore& store) {
  for (const char* p : {"model.language_model.", "model.", "language_model.model.", ""})
    if (store.find(std::string(p) + "embed_tokens.weight")) return p;
  return "model.language_model.";
}

}  // namespace

Result<MultimodalWeights> bind_multimodal(ModelConfig& c, const TensorStore& store) {
  MultimodalWeights mm;
  Binder b{store, TensorNaming::kHF};
  // Returns the tensor under the first spelling that exists (shape-checked), or null if neither does.
  auto find = [&](std::initializer_list<std::string> names, std::vector<int64_t> shape) -> Result<const TensorInfo*> {
    for (const auto& n : names)
      if (store.find(n)) return b.get(n, shape);
    return static_cast<const TensorInfo*>(nullptr);
  };
  const std::string g = "model.vision_embedder.", h = "model.embed_vision.";
  if (c.vision.present) {
    const int64_t P = c.vision.patch_dim(), E = c.vision.embed_dim, H = c.hidden;
    G4_ASSIGN_OR_RETURN(mm.patch_ln1_w, find({g + "patch_ln1.weight", h + "patch_ln1.weight"}, {P}));
    G4_ASSIGN_OR_RETURN(mm.patch_ln1_b, find({g + "patch_ln1.bias", h + "patch_ln1.bias"}, {P}));
    G4_ASSIGN_OR_RETURN(mm.patch_dense_w, find({g + "patch_dense.weight", h + "patch_dense.weight"}, {E, P}));
    G4_ASSIGN_OR_RETURN(mm.patch_dense_b, find({g + "patch_dense.bias", h + "patch_dense.bias"}, {E}));
    G4_ASSIGN_OR_RETURN(mm.patch_ln2_w, find({g + "patch_ln2.weight", h + "patch_ln2.weight"}, {E}));
    G4_ASSIGN_OR_RETURN(mm.patch_ln2_b, find({g + "patch_ln2.bias", h + "patch_ln2.bias"}, {E}));
    G4_ASSIGN_OR_RETURN(mm.pos_embedding,
                        find({g + "pos_embedding", h + "pos_embedding"}, {c.vision.posemb_size, 2, E}));
    G4_ASSIGN_OR_RETURN(mm.pos_norm_w, find({g + "pos_norm.weight", h + "pos_norm.weight"}, {E}));
    G4_ASSIGN_OR_RETURN(mm.pos_norm_b, find({g + "pos_norm.bias", h + "pos_norm.bias"}, {E}));
    G4_ASSIGN_OR_RETURN(mm.vision_proj, find({h + "embedding_projection.weight",
                                              h + "multimodal_embedder.embedding_projection.weight"}, {H, E}));
    const TensorInfo* all[] = {mm.patch_ln1_w, mm.patch_ln1_b, mm.patch_dense_w, mm.patch_dense_b, mm.patch_ln2_w,
                               mm.patch_ln2_b, mm.pos_embedding, mm.pos_norm_w, mm.pos_norm_b, mm.vision_proj};
    const char* names[] = {"patch_ln1.weight", "patch_ln1.bias", "patch_dense.weight", "patch_dense.bias",
                           "patch_ln2.weight", "patch_ln2.bias", "pos_embedding", "pos_norm.weight",
                           "pos_norm.bias", "embedding_projection.weight"};
    int found = 0;
    for (auto* t : all) found += t != nullptr;
    if (found == 0) {
      c.vision.present = false;  // a text-only export
      mm = MultimodalWeights{};
    } else if (found != 10) {
      for (int i = 0; i < 10; ++i)
        if (!all[i])
          return make_error("vision embedder incomplete: missing tensor '%s%s' (or '%s%s')", g.c_str(), names[i],
                            h.c_str(), names[i]);
    }
  }
  if (c.audio.present) {
    G4_ASSIGN_OR_RETURN(mm.audio_proj, find({"model.embed_audio.embedding_projection.weight",
                                             "model.embed_audio.multimodal_embedder.embedding_projection.weight"},
                                            {c.hidden, c.audio.frame}));
    if (!mm.audio_proj) c.audio.present = false;
  }
  return mm;
}

Result<ModelWeights> bind_weights(ModelConfig& c, const TensorStore& store, TensorNaming naming) {
  Binder b{store, naming};
  ModelWeights w;
  const int64_t H = c.hidden, V = c.vocab_size;
  const bool hf = naming == TensorNaming::kHF;
  const std::string p = hf ? hf_prefix(store) : "";

  G4_ASSIGN_OR_RETURN(w.embed, b.get(hf ? p + "embed_tokens.weight" : "token_embd.weight", {V, H}));
  G4_ASSIGN_OR_RETURN(w.final_norm, b.get(hf ? p + "norm.weight" : "output_norm.weight", {H}));
  G4_ASSIGN_OR_RETURN(w.output, b.get(hf ? "lm_head.weight" : "output.weight", {V, H}, /*optional=*/true));
  if (!w.output) {
    if (!c.tie_embeddings && hf) return make_error("missing tensor 'lm_head.weight' (tie_word_embeddings is false)");
    w.output = w.embed;
  }

  for (int i = 0; i < c.n_layers; ++i) {
    LayerConfig& l = c.layers[size_t(i)];
    const int64_t hd = l.head_dim, qw = int64_t(l.n_heads) * hd, kvw = int64_t(l.n_kv_heads) * hd, F = l.ffn_dim;
    auto name = [&](const char* hf_name, const char* gguf_name) {
      return hf ? p + "layers." + std::to_string(i) + "." + hf_name : "blk." + std::to_string(i) + "." + gguf_name;
    };
    LayerWeights lw;
    G4_ASSIGN_OR_RETURN(lw.attn_norm, b.get(name("input_layernorm.weight", "attn_norm.weight"), {H}));
    G4_ASSIGN_OR_RETURN(lw.q, b.get(name("self_attn.q_proj.weight", "attn_q.weight"), {qw, H}));
    G4_ASSIGN_OR_RETURN(lw.k, b.get(name("self_attn.k_proj.weight", "attn_k.weight"), {kvw, H}));
    if (!hf) l.k_eq_v = l.kind == AttnKind::kFull && !store.find(name("", "attn_v.weight"));
    G4_ASSIGN_OR_RETURN(lw.v, b.get(name("self_attn.v_proj.weight", "attn_v.weight"), {kvw, H}, l.k_eq_v));
    if (l.k_eq_v && lw.v)
      return make_error("%s: tensor '%s' present but attention_k_eq_v says layer %d has no v_proj",
                        lw.v->file.c_str(), lw.v->name.c_str(), i);
    G4_ASSIGN_OR_RETURN(lw.o, b.get(name("self_attn.o_proj.weight", "attn_output.weight"), {H, qw}));
    G4_ASSIGN_OR_RETURN(lw.q_norm, b.get(name("self_attn.q_norm.weight", "attn_q_norm.weight"), {hd}));
    G4_ASSIGN_OR_RETURN(lw.k_norm, b.get(name("self_attn.k_norm.weight", "attn_k_norm.weight"), {hd}));
    G4_ASSIGN_OR_RETURN(lw.post_attn_norm,
                        b.get(name("post_attention_layernorm.weight", "post_attention_norm.weight"), {H}));
    G4_ASSIGN_OR_RETURN(lw.ffn_norm, b.get(name("pre_feedforward_layernorm.weight", "ffn_norm.weight"), {H}));
    G4_ASSIGN_OR_RETURN(lw.gate, b.get(name("mlp.gate_proj.weight", "ffn_gate.weight"), {F, H}));
    G4_ASSIGN_OR_RETURN(lw.up, b.get(name("mlp.up_proj.weight", "ffn_up.weight"), {F, H}));
    G4_ASSIGN_OR_RETURN(lw.down, b.get(name("mlp.down_proj.weight", "ffn_down.weight"), {H, F}));
    G4_ASSIGN_OR_RETURN(lw.post_ffn_norm,
                        b.get(name("post_feedforward_layernorm.weight", "post_ffw_norm.weight"), {H}));
    G4_ASSIGN_OR_RETURN(lw.layer_scalar,
                        b.get(name("layer_scalar", "layer_output_scale.weight"), {1}, !c.has_layer_scalar));
    w.layers.push_back(lw);
  }
  return w;
}

}  // namespace g4
