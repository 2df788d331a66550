// HF Gemma 4 -> gemma4 GGUF: keys and names as tools/reference/gguf_writer.py writes them (per-layer
// arrays for FFN width, KV heads and the sliding pattern; rope_freqs for the proportional RoPE;
// no output.weight when the embeddings are tied).
#include "convert/gemma4_layout.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace g4::convert {

namespace {

using json = nlohmann::json;

// Per-layer HF names and their gemma4 GGUF names.
const std::pair<const char*, const char*> kLayerNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"post_attention_layernorm.weight", "post_attention_norm.weight"},
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"layer_scalar", "layer_output_scale.weight"},
};

// Checkpoints saved by different HF classes prefix the text model differently.
std::string text_prefix(const TensorStore& store) {
  for (const char* p : {"model.language_model.", "model.", "language_model.model.", ""})
    if (store.find(std::string(p) + "embed_tokens.weight")) return p;
  return "model.language_model.";
}

Result<json> read_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error("%s: cannot read", path.c_str());
  std::stringstream ss;
  ss << f.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("%s: not a JSON object", path.c_str());
  return j;
}

// RoPE bases of both layer types, with the defaults the config reader uses.
Status rope_thetas(const std::string& dir, double* full, double* swa) {
  *full = 1e6;
  *swa = 1e4;
  G4_ASSIGN_OR_RETURN(json top, read_json(dir + "/config.json"));
  const json& t = top.contains("text_config") && top["text_config"].is_object() ? top["text_config"] : top;
  if (!t.contains("rope_parameters") || !t["rope_parameters"].is_object()) return {};
  const json& rp = t["rope_parameters"];
  auto get = [&](const char* kind, double* out) {
    if (rp.contains(kind) && rp[kind].is_object() && rp[kind].contains("rope_theta") && rp[kind]["rope_theta"].is_number())
      *out = rp[kind]["rope_theta"].get<double>();
  };
  get("full_attention", full);
  get("sliding_attention", swa);
  return {};
}

int head_dim_of(const ModelConfig& c, AttnKind kind) {
  for (const auto& l : c.layers)
    if (l.kind == kind) return l.head_dim;
  return c.layers.empty() ? 0 : c.layers[0].head_dim;
}

// Pairs of the full layers' heads that rotate (the rest have frequency 0: proportional RoPE).
int rotated_pairs_full(const ModelConfig& c) {
  for (const auto& l : c.layers) {
    if (l.kind != AttnKind::kFull) continue;
    int n = 0;
    for (float f : l.rope_inv_freq) n += f != 0.0f;
    return n;
  }
  return head_dim_of(c, AttnKind::kFull) / 2;
}

// tokenizer.json -> llama.cpp's tokenizer keys: pieces by id, their types (control for special
// added tokens, byte for <0xXX>, normal otherwise) and the merges as "left right".
Status tokenizer_metadata(const ModelFiles& files, GgufWriter& w) {
  G4_ASSIGN_OR_RETURN(json tj, read_json(files.tokenizer_json));
  const std::string& p = files.tokenizer_json;
  if (!tj.contains("model") || !tj["model"].is_object() || !tj["model"].contains("vocab") ||
      !tj["model"]["vocab"].is_object())
    return make_error("%s: no model.vocab object", p.c_str());
  const json& vocab = tj["model"]["vocab"];
  std::vector<std::string> tokens(vocab.size());
  std::vector<bool> seen(vocab.size());
  for (const auto& [piece, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= int64_t(tokens.size()) ||
        seen[size_t(id.get<int64_t>())])
      return make_error("%s: vocab id of '%s' is not a unique id below %zu", p.c_str(), piece.c_str(), tokens.size());
    tokens[size_t(id.get<int64_t>())] = piece;
    seen[size_t(id.get<int64_t>())] = true;
  }
  std::vector<bool> special(tokens.size());
  if (tj.contains("added_tokens") && tj["added_tokens"].is_array())
    for (const auto& t : tj["added_tokens"])
      if (t.is_object() && t.value("special", false) && t.contains("id") && t["id"].is_number_integer()) {
        int64_t id = t["id"].get<int64_t>();
        if (id >= 0 && id < int64_t(special.size())) special[size_t(id)] = true;
      }
  // gguf's token types: 1 normal, 3 control, 6 byte.
  std::vector<int64_t> types(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    bool byte = t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t.back() == '>';
    types[i] = special[i] ? 3 : byte ? 6 : 1;
  }
  std::vector<std::string> merges;
  if (tj["model"].contains("merges") && tj["model"]["merges"].is_array()) {
    for (const auto& m : tj["model"]["merges"]) {
      if (m.is_string()) merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else return make_error("%s: a merge is neither \"a b\" nor [\"a\", \"b\"]", p.c_str());
    }
  }
  w.set_string("tokenizer.ggml.model", "gemma4");
  w.set_string("tokenizer.ggml.pre", "gemma4");
  w.set_string_array("tokenizer.ggml.tokens", std::move(tokens));
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", std::move(merges));
  const ModelConfig& c = files.config;
  w.set_u32("tokenizer.ggml.bos_token_id", uint32_t(c.bos_id));
  w.set_u32("tokenizer.ggml.eos_token_id", uint32_t(c.eos_ids.empty() ? 1 : c.eos_ids[0]));
  w.set_u32("tokenizer.ggml.padding_token_id", uint32_t(c.pad_id));
  int64_t unk = 3;
  if (tj["model"].contains("unk_token") && tj["model"]["unk_token"].is_string()) {
    auto it = vocab.find(tj["model"]["unk_token"].get<std::string>());
    if (it != vocab.end() && it->is_number_integer()) unk = it->get<int64_t>();
  }
  w.set_u32("tokenizer.ggml.unknown_token_id", uint32_t(unk));
  return {};
}

}  // namespace

Status gemma4_layout(const ModelFiles& files, Gemma4Layout* layout) {
  const TensorStore& store = files.hf_tensors;
  const ModelConfig& c = files.config;
  const std::string lm = text_prefix(store);
  auto need = [&](const std::string& hf, const std::string& gg) -> Status {
    const TensorInfo* t = store.find(hf);
    if (!t) return make_error("%s: missing tensor '%s'", files.path.c_str(), hf.c_str());
    layout->tensors.push_back({gg, t});
    return {};
  };
  layout->tensors.clear();
  // rope_freqs: the first n_rot pairs keep their frequency; the rest are divided by 1e30.
  const int full_hd = head_dim_of(c, AttnKind::kFull);
  const int n_rot = rotated_pairs_full(c);
  layout->rope_freqs_data.assign(size_t(full_hd / 2), 1e30f);
  for (int i = 0; i < n_rot && i < full_hd / 2; ++i) layout->rope_freqs_data[size_t(i)] = 1.0f;
  TensorInfo& rf = layout->rope_freqs;
  rf.name = "rope_freqs.weight";
  rf.dtype = DType::F32;
  rf.shape = {int64_t(full_hd / 2)};
  rf.data = reinterpret_cast<const uint8_t*>(layout->rope_freqs_data.data());
  rf.nbytes = layout->rope_freqs_data.size() * sizeof(float);
  rf.file = files.path;
  layout->tensors.push_back({"rope_freqs.weight", &rf});
  G4_TRY(need(lm + "embed_tokens.weight", "token_embd.weight"));
  G4_TRY(need(lm + "norm.weight", "output_norm.weight"));
  if (!c.tie_embeddings) {
    if (const TensorInfo* head = store.find("lm_head.weight")) layout->tensors.push_back({"output.weight", head});
  }
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string hp = lm + "layers." + std::to_string(i) + ".";
    const std::string gp = "blk." + std::to_string(i) + ".";
    for (const auto& [hf, gg] : kLayerNames)
      if (const TensorInfo* t = store.find(hp + hf)) layout->tensors.push_back({gp + gg, t});
  }
  return {};
}

Status gemma4_metadata(const ModelFiles& files, GgufWriter& w) {
  const ModelConfig& c = files.config;
  const std::string a = "gemma4.";
  std::string name = files.path;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  double theta_full, theta_swa;
  G4_TRY(rope_thetas(files.path, &theta_full, &theta_swa));
  const int full_hd = head_dim_of(c, AttnKind::kFull), swa_hd = head_dim_of(c, AttnKind::kSliding);
  std::vector<int64_t> ffn, kv;
  std::vector<bool> sliding;
  for (const auto& l : c.layers) {
    ffn.push_back(l.ffn_dim);
    kv.push_back(l.n_kv_heads);
    sliding.push_back(l.kind == AttnKind::kSliding);
  }
  w.set_string("general.architecture", "gemma4");
  w.set_string("general.name", name);
  w.set_u32(a + "block_count", uint32_t(c.n_layers));
  w.set_u32(a + "context_length", uint32_t(c.max_context));
  w.set_u32(a + "embedding_length", uint32_t(c.hidden));
  w.set_i32_array(a + "feed_forward_length", ffn);
  w.set_u32(a + "attention.head_count", uint32_t(c.layers.empty() ? 0 : c.layers[0].n_heads));
  w.set_i32_array(a + "attention.head_count_kv", kv);
  w.set_u32(a + "attention.key_length", uint32_t(full_hd));
  w.set_u32(a + "attention.value_length", uint32_t(full_hd));
  w.set_u32(a + "attention.key_length_swa", uint32_t(swa_hd));
  w.set_u32(a + "attention.value_length_swa", uint32_t(swa_hd));
  w.set_u32(a + "rope.dimension_count", uint32_t(full_hd));
  w.set_u32(a + "rope.dimension_count_swa", uint32_t(swa_hd));
  w.set_f32(a + "rope.freq_base", float(theta_full));
  w.set_f32(a + "rope.freq_base_swa", float(theta_swa));
  w.set_u32(a + "attention.sliding_window", uint32_t(c.sliding_window));
  w.set_bool_array(a + "attention.sliding_window_pattern", sliding);
  w.set_u32(a + "attention.shared_kv_layers", 0);
  w.set_u32(a + "embedding_length_per_layer_input", 0);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", c.rms_eps);
  w.set_f32(a + "final_logit_softcapping", c.final_softcap);
  if (!files.tokenizer_json.empty()) {
    G4_TRY(tokenizer_metadata(files, w));
  } else {
    w.set_string("tokenizer.ggml.model", "none");
    w.set_u32(a + "vocab_size", uint32_t(c.vocab_size));
  }
  if (!files.chat_template.empty()) w.set_string("tokenizer.chat_template", files.chat_template);
  return {};
}

}  // namespace g4::convert
