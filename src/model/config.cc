#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "io/gguf.h"

namespace g4 {

using json = nlohmann::json;

int ModelConfig::max_q_width() const {
  int m = 0;
  for (const auto& l : layers) m = std::max(m, l.n_heads * l.head_dim);
  return m;
}
int ModelConfig::max_kv_width() const {
  int m = 0;
  for (const auto& l : layers) m = std::max(m, l.n_kv_heads * l.head_dim);
  return m;
}
int ModelConfig::max_ffn_dim() const {
  int m = 0;
  for (const auto& l : layers) m = std::max(m, l.ffn_dim);
  return m;
}

Status ModelConfig::validate() const {
  if (vocab_size <= 0) return make_error("config: vocab_size must be positive (got %d)", vocab_size);
  if (hidden <= 0) return make_error("config: hidden_size must be positive (got %d)", hidden);
  if (n_layers <= 0 || size_t(n_layers) != layers.size())
    return make_error("config: num_hidden_layers is %d but %zu layer types are given", n_layers, layers.size());
  if (!(rms_eps > 0) || !std::isfinite(rms_eps)) return make_error("config: rms_norm_eps must be positive");
  if (!std::isfinite(final_softcap) || final_softcap < 0)
    return make_error("config: final_logit_softcapping must be positive or absent");
  for (int i = 0; i < n_layers; ++i) {
    const auto& l = layers[size_t(i)];
    if (l.n_heads <= 0 || l.n_kv_heads <= 0 || l.head_dim <= 0 || l.ffn_dim <= 0)
      return make_error("config: layer %d: heads (%d), kv heads (%d), head_dim (%d) and ffn size (%d) "
                        "must be positive", i, l.n_heads, l.n_kv_heads, l.head_dim, l.ffn_dim);
    if (l.n_heads % l.n_kv_heads != 0)
      return make_error("config: layer %d: %d query heads are not a multiple of %d kv heads", i, l.n_heads,
                        l.n_kv_heads);
    if (l.head_dim % 2 != 0) return make_error("config: layer %d: head_dim %d is odd", i, l.head_dim);
    if (l.rope_inv_freq.size() != size_t(l.head_dim / 2))
      return make_error("config: layer %d: %zu RoPE frequencies for head_dim %d (expected %d)", i,
                        l.rope_inv_freq.size(), l.head_dim, l.head_dim / 2);
    if (l.kind == AttnKind::kSliding && l.window <= 0)
      return make_error("config: layer %d is sliding but the window is %d", i, l.window);
  }
  for (int32_t id : {bos_id, pad_id, boi_id, eoi_id, image_id, video_id, audio_id, boa_id, eoa_id})
    if (id >= vocab_size) return make_error("config: token id %d is outside the vocabulary (%d)", id, vocab_size);
  for (int32_t id : eos_ids)
    if (id < 0 || id >= vocab_size) return make_error("config: eos id %d is outside the vocabulary (%d)", id, vocab_size);
  return {};
}

std::vector<float> rope_inv_freq(int head_dim, double theta, int rotated_pairs) {
  // Computed in f32 like the reference: 1 / theta^(2i / head_dim).
  std::vector<float> f(size_t(head_dim / 2), 0.0f);
  for (int i = 0; i < rotated_pairs && i < head_dim / 2; ++i)
    f[size_t(i)] = 1.0f / std::pow(float(theta), float(2 * i) / float(head_dim));
  return f;
}

namespace {

// Typed field access with errors that name the file and field.
struct Fields {
  const json& j;
  const std::string& file;
  std::string prefix;

  bool has(const char* k) const { return j.contains(k) && !j[k].is_null(); }
  Result<int64_t> integer(const char* k) const {
    if (!has(k)) return make_error("%s: missing field '%s%s'", file.c_str(), prefix.c_str(), k);
    if (!j[k].is_number_integer())
      return make_error("%s: field '%s%s' must be an integer", file.c_str(), prefix.c_str(), k);
    return j[k].get<int64_t>();
  }
  Result<int64_t> integer(const char* k, int64_t dflt) const { return has(k) ? integer(k) : dflt; }
  Result<double> number(const char* k, double dflt) const {
    if (!has(k)) return dflt;
    if (!j[k].is_number()) return make_error("%s: field '%s%s' must be a number", file.c_str(), prefix.c_str(), k);
    return j[k].get<double>();
  }
  Result<bool> boolean(const char* k, bool dflt) const {
    if (!has(k)) return dflt;
    if (!j[k].is_boolean()) return make_error("%s: field '%s%s' must be true or false", file.c_str(), prefix.c_str(), k);
    return j[k].get<bool>();
  }
};

Result<int> positive_int(const Fields& f, const char* k) {
  G4_ASSIGN_OR_RETURN(int64_t v, f.integer(k));
  if (v <= 0 || v > (1 << 30)) return make_error("%s: field '%s%s' = %lld is out of range", f.file.c_str(),
                                                  f.prefix.c_str(), k, (long long)v);
  return int(v);
}

// RoPE for one layer type from rope_parameters[type] (HF "default" and "proportional").
Result<std::vector<float>> hf_rope(const json& rp, const std::string& type, int head_dim, const std::string& file) {
  if (!rp.is_object() || !rp.contains(type) || !rp[type].is_object())
    return make_error("%s: rope_parameters has no entry for '%s'", file.c_str(), type.c_str());
  const json& r = rp[type];
  std::string kind = r.value("rope_type", std::string("default"));
  if (!r.contains("rope_theta") || !r["rope_theta"].is_number())
    return make_error("%s: rope_parameters.%s.rope_theta missing", file.c_str(), type.c_str());
  double theta = r["rope_theta"].get<double>();
  double factor = r.contains("factor") && r["factor"].is_number() ? r["factor"].get<double>() : 1.0;
  int pairs = head_dim / 2;
  if (kind == "proportional") {
    double p = r.contains("partial_rotary_factor") && r["partial_rotary_factor"].is_number()
                   ? r["partial_rotary_factor"].get<double>() : 1.0;
    if (p < 0 || p > 1) return make_error("%s: rope_parameters.%s.partial_rotary_factor %g not in [0, 1]",
                                          file.c_str(), type.c_str(), p);
    pairs = int(p * head_dim / 2);
  } else if (kind != "default") {
    return make_error("%s: rope_parameters.%s.rope_type '%s' is not supported (default, proportional)",
                      file.c_str(), type.c_str(), kind.c_str());
  }
  auto f = rope_inv_freq(head_dim, theta, pairs);
  if (factor != 1.0)
    for (auto& x : f) x = float(x / factor);
  return f;
}

Result<std::vector<int32_t>> id_list(const json& j) {
  std::vector<int32_t> ids;
  if (j.is_number_integer()) ids.push_back(j.get<int32_t>());
  else if (j.is_array())
    for (const auto& x : j) {
      if (!x.is_number_integer()) return make_error("eos_token_id entries must be integers");
      ids.push_back(x.get<int32_t>());
    }
  return ids;
}

}  // namespace

Result<ModelConfig> config_from_hf_json(const std::string& json_text, const std::string& file) {
  json top = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (top.is_discarded() || !top.is_object()) return make_error("%s: not a JSON object", file.c_str());
  std::string top_type = top.value("model_type", std::string());
  const json& t = top.contains("text_config") && top["text_config"].is_object() ? top["text_config"] : top;
  std::string type = t.value("model_type", top_type);
  static const char* kKnown[] = {"gemma4_unified", "gemma4_unified_text", "gemma4", "gemma4_text"};
  if (std::find(std::begin(kKnown), std::end(kKnown), type) == std::end(kKnown) &&
      std::find(std::begin(kKnown), std::end(kKnown), top_type) == std::end(kKnown))
    return make_error("%s: model_type '%s' is not supported (expected a Gemma 4 model such as gemma4_unified)",
                      file.c_str(), type.c_str());
  Fields f{t, file, &t == &top ? "" : "text_config."};

  ModelConfig c;
  c.arch = "gemma4";
  G4_ASSIGN_OR_RETURN(c.vocab_size, positive_int(f, "vocab_size"));
  G4_ASSIGN_OR_RETURN(c.hidden, positive_int(f, "hidden_size"));
  G4_ASSIGN_OR_RETURN(c.n_layers, positive_int(f, "num_hidden_layers"));
  G4_ASSIGN_OR_RETURN(int n_heads, positive_int(f, "num_attention_heads"));
  G4_ASSIGN_OR_RETURN(int n_kv, positive_int(f, "num_key_value_heads"));
  G4_ASSIGN_OR_RETURN(int head_dim, positive_int(f, "head_dim"));
  G4_ASSIGN_OR_RETURN(int ffn, positive_int(f, "intermediate_size"));
  G4_ASSIGN_OR_RETURN(int64_t ctx, f.integer("max_position_embeddings", 131072));
  c.max_context = int(std::min<int64_t>(ctx, 1 << 30));
  G4_ASSIGN_OR_RETURN(double eps, f.number("rms_norm_eps", 1e-6));
  c.rms_eps = float(eps);
  G4_ASSIGN_OR_RETURN(double softcap, f.number("final_logit_softcapping", 0.0));
  c.final_softcap = float(softcap);
  G4_ASSIGN_OR_RETURN(bool k_eq_v, f.boolean("attention_k_eq_v", false));
  G4_ASSIGN_OR_RETURN(int64_t window, f.integer("sliding_window", 0));
  c.sliding_window = int(window);
  G4_ASSIGN_OR_RETURN(c.tie_embeddings, f.boolean("tie_word_embeddings", top.value("tie_word_embeddings", true)));
  G4_ASSIGN_OR_RETURN(int64_t shared_kv, f.integer("num_kv_shared_layers", 0));
  if (shared_kv != 0)
    return make_error("%s: num_kv_shared_layers = %lld (cross-layer KV sharing, as in Gemma 4 E2B/E4B) is not "
                      "supported", file.c_str(), (long long)shared_kv);
  if (f.integer("hidden_size_per_layer_input", 0).ok() && f.integer("hidden_size_per_layer_input", 0).value() != 0)
    return make_error("%s: per-layer input embeddings (hidden_size_per_layer_input) are not supported", file.c_str());
  if (t.value("enable_moe_block", false)) return make_error("%s: MoE Gemma 4 models are not supported", file.c_str());
  std::string act = t.value("hidden_activation", std::string("gelu_pytorch_tanh"));
  if (act != "gelu_pytorch_tanh")
    return make_error("%s: hidden_activation '%s' is not supported (gelu_pytorch_tanh)", file.c_str(), act.c_str());
  if (t.value("use_bidirectional_attention", std::string("vision")) == "all")
    return make_error("%s: use_bidirectional_attention 'all' is not supported", file.c_str());

  c.bos_id = int32_t(f.integer("bos_token_id", 2).ok() ? f.integer("bos_token_id", 2).value() : 2);
  c.pad_id = int32_t(f.integer("pad_token_id", 0).ok() ? f.integer("pad_token_id", 0).value() : 0);
  if (t.contains("eos_token_id")) {
    G4_ASSIGN_OR_RETURN(c.eos_ids, id_list(t["eos_token_id"]));
  } else if (top.contains("eos_token_id")) {
    G4_ASSIGN_OR_RETURN(c.eos_ids, id_list(top["eos_token_id"]));
  }
  auto top_id = [&](const char* k) -> int32_t {
    return top.contains(k) && top[k].is_number_integer() ? top[k].get<int32_t>() : -1;
  };
  c.boi_id = top_id("boi_token_id");
  c.eoi_id = top_id("eoi_token_id");
  c.image_id = top_id("image_token_id");
  c.video_id = top_id("video_token_id");
  c.audio_id = top_id("audio_token_id");
  c.boa_id = top_id("boa_token_id");
  c.eoa_id = top_id("eoa_token_index");  // sic: the field is spelled _index
  if (c.eoa_id < 0) c.eoa_id = top_id("eoa_token_id");
  for (int32_t id : {c.eoi_id, c.eoa_id})
    if (id >= 0) c.suppress_ids.push_back(id);

  // Layer types; the last layer is always full (the reference forces it).
  std::vector<std::string> types;
  if (t.contains("layer_types") && t["layer_types"].is_array()) {
    for (const auto& x : t["layer_types"]) {
      if (!x.is_string()) return make_error("%s: layer_types entries must be strings", file.c_str());
      types.push_back(x.get<std::string>());
    }
  } else {
    for (int i = 0; i < c.n_layers; ++i) types.push_back((i + 1) % 6 ? "sliding_attention" : "full_attention");
  }
  if (int(types.size()) != c.n_layers)
    return make_error("%s: %zu layer_types for %d layers", file.c_str(), types.size(), c.n_layers);
  types.back() = "full_attention";

  // Per-layer geometry overrides: per_layer_config {idx: {head_dim, num_key_value_heads}}, or the older
  // top-level global_head_dim / num_global_key_value_heads fields (applied to full layers).
  std::vector<int> hd(size_t(c.n_layers), head_dim), kv(size_t(c.n_layers), n_kv);
  if (t.contains("per_layer_config") && t["per_layer_config"].is_object()) {
    for (const auto& [k, v] : t["per_layer_config"].items()) {
      char* end = nullptr;
      long idx = std::strtol(k.c_str(), &end, 10);
      if (*end || idx < 0 || idx >= c.n_layers)
        return make_error("%s: per_layer_config key '%s' is not a layer index", file.c_str(), k.c_str());
      if (!v.is_object()) return make_error("%s: per_layer_config.%s must be an object", file.c_str(), k.c_str());
      if (v.contains("head_dim") && v["head_dim"].is_number_integer()) hd[size_t(idx)] = v["head_dim"].get<int>();
      if (v.contains("num_key_value_heads") && v["num_key_value_heads"].is_number_integer())
        kv[size_t(idx)] = v["num_key_value_heads"].get<int>();
    }
  } else {
    G4_ASSIGN_OR_RETURN(int64_t g_hd, f.integer("global_head_dim", 512));
    G4_ASSIGN_OR_RETURN(int64_t g_kv, f.integer("num_global_key_value_heads", -1));
    for (int i = 0; i < c.n_layers; ++i)
      if (types[size_t(i)] == "full_attention") {
        hd[size_t(i)] = int(g_hd);
        if (k_eq_v && g_kv > 0) kv[size_t(i)] = int(g_kv);
      }
  }

  json rp = t.contains("rope_parameters") && t["rope_parameters"].is_object()
                ? t["rope_parameters"]
                : json{{"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 10000.0}}},
                       {"full_attention",
                        {{"rope_type", "proportional"}, {"partial_rotary_factor", 0.25}, {"rope_theta", 1e6}}}};
  for (int i = 0; i < c.n_layers; ++i) {
    LayerConfig l;
    const std::string& ty = types[size_t(i)];
    if (ty == "sliding_attention") l.kind = AttnKind::kSliding;
    else if (ty == "full_attention") l.kind = AttnKind::kFull;
    else return make_error("%s: layer_types[%d] = '%s' is not supported", file.c_str(), i, ty.c_str());
    l.n_heads = n_heads;
    l.n_kv_heads = kv[size_t(i)];
    l.head_dim = hd[size_t(i)];
    l.k_eq_v = k_eq_v && l.kind == AttnKind::kFull;
    l.window = l.kind == AttnKind::kSliding ? c.sliding_window : 0;
    l.ffn_dim = ffn;
    if (l.head_dim <= 0 || l.head_dim > 65536)
      return make_error("%s: layer %d: head_dim %d is out of range", file.c_str(), i, l.head_dim);
    G4_ASSIGN_OR_RETURN(l.rope_inv_freq, hf_rope(rp, ty, l.head_dim, file));
    c.layers.push_back(std::move(l));
  }
  c.embed_scale = std::sqrt(float(c.hidden));

  if (top.contains("vision_config") && top["vision_config"].is_object()) {
    Fields v{top["vision_config"], file, "vision_config."};
    G4_ASSIGN_OR_RETURN(int64_t patch, v.integer("patch_size", 16));
    G4_ASSIGN_OR_RETURN(int64_t pool, v.integer("pooling_kernel_size", 3));
    G4_ASSIGN_OR_RETURN(int64_t embed, v.integer("mm_embed_dim", c.hidden));
    G4_ASSIGN_OR_RETURN(int64_t proj, v.integer("output_proj_dims", embed));
    G4_ASSIGN_OR_RETURN(int64_t pos, v.integer("mm_posemb_size", 1120));
    G4_ASSIGN_OR_RETURN(double veps, v.number("rms_norm_eps", 1e-6));
    if (patch <= 0 || pool <= 0 || patch * pool > 4096 || embed <= 0 || embed > (1 << 20) || pos <= 0 || pos > (1 << 20))
      return make_error("%s: vision_config sizes are out of range", file.c_str());
    if (proj != embed)
      return make_error("%s: vision_config.output_proj_dims (%lld) must equal mm_embed_dim (%lld)", file.c_str(),
                        (long long)proj, (long long)embed);
    c.vision = {true, int(patch * pool), int(embed), int(pos), 1e-5f, float(veps)};
  }
  if (top.contains("audio_config") && top["audio_config"].is_object()) {
    Fields a{top["audio_config"], file, "audio_config."};
    G4_ASSIGN_OR_RETURN(int64_t frame, a.integer("audio_embed_dim", 640));
    G4_ASSIGN_OR_RETURN(double aeps, a.number("rms_norm_eps", 1e-6));
    if (frame <= 0 || frame > (1 << 20)) return make_error("%s: audio_config.audio_embed_dim is out of range", file.c_str());
    c.audio = {true, int(frame), float(aeps)};
  }
  G4_TRY(c.validate());
  return c;
}

Result<ModelConfig> config_from_gguf(const GgufFile& g, const std::string& file) {
  G4_ASSIGN_OR_RETURN(std::string arch, g.get_string("general.architecture"));
  if (arch != "gemma4")
    return make_error("%s: architecture '%s' is not supported (expected gemma4)", file.c_str(), arch.c_str());
  auto key = [&](const char* k) { return arch + "." + k; };
  // A per-layer value stored either as one scalar or as an array of n_layers.
  auto per_layer = [&](const char* k, int n) -> Result<std::vector<int64_t>> {
    const GgufValue* v = g.get(key(k));
    if (!v) return make_error("%s: key '%s' missing", file.c_str(), key(k).c_str());
    if (v->is_array()) {
      G4_ASSIGN_OR_RETURN(auto a, g.get_int_array(key(k)));
      if (int(a.size()) != n)
        return make_error("%s: key '%s' has %zu entries for %d layers", file.c_str(), key(k).c_str(), a.size(), n);
      return a;
    }
    G4_ASSIGN_OR_RETURN(int64_t s, g.get_int(key(k)));
    return std::vector<int64_t>(size_t(n), s);
  };
  auto in_range = [&](int64_t v, const char* k) -> Result<int> {
    if (v <= 0 || v > (1 << 30))
      return make_error("%s: key '%s' = %lld is out of range", file.c_str(), key(k).c_str(), (long long)v);
    return int(v);
  };

  ModelConfig c;
  c.arch = arch;
  G4_ASSIGN_OR_RETURN(int64_t n_layers, g.get_int(key("block_count")));
  G4_ASSIGN_OR_RETURN(c.n_layers, in_range(n_layers, "block_count"));
  G4_ASSIGN_OR_RETURN(int64_t hidden, g.get_int(key("embedding_length")));
  G4_ASSIGN_OR_RETURN(c.hidden, in_range(hidden, "embedding_length"));
  G4_ASSIGN_OR_RETURN(int64_t ctx, g.get_int(key("context_length")));
  G4_ASSIGN_OR_RETURN(c.max_context, in_range(ctx, "context_length"));
  G4_ASSIGN_OR_RETURN(double eps, g.get_float(key("attention.layer_norm_rms_epsilon")));
  c.rms_eps = float(eps);
  if (g.get(key("final_logit_softcapping"))) {
    G4_ASSIGN_OR_RETURN(double sc, g.get_float(key("final_logit_softcapping")));
    c.final_softcap = float(sc);
  }
  if (g.get(key("attention.shared_kv_layers"))) {
    G4_ASSIGN_OR_RETURN(int64_t shared, g.get_int(key("attention.shared_kv_layers")));
    if (shared != 0) return make_error("%s: shared KV layers (%lld) are not supported", file.c_str(), (long long)shared);
  }
  if (g.get(key("embedding_length_per_layer_input"))) {
    G4_ASSIGN_OR_RETURN(int64_t ple, g.get_int(key("embedding_length_per_layer_input")));
    if (ple != 0) return make_error("%s: per-layer input embeddings are not supported", file.c_str());
  }
  if (g.get(key("expert_count"))) return make_error("%s: MoE Gemma 4 models are not supported", file.c_str());
  G4_ASSIGN_OR_RETURN(int64_t n_heads, g.get_int(key("attention.head_count")));
  G4_ASSIGN_OR_RETURN(auto kv, per_layer("attention.head_count_kv", c.n_layers));
  G4_ASSIGN_OR_RETURN(auto ffn, per_layer("feed_forward_length", c.n_layers));
  G4_ASSIGN_OR_RETURN(int64_t hd_full, g.get_int(key("attention.key_length")));
  G4_ASSIGN_OR_RETURN(int64_t hd_swa, g.get_int(key("attention.key_length_swa")));
  for (const char* k : {"attention.value_length", "attention.value_length_swa"})
    if (g.get(key(k))) {
      G4_ASSIGN_OR_RETURN(int64_t vl, g.get_int(key(k)));
      if (vl != (std::string(k).ends_with("_swa") ? hd_swa : hd_full))
        return make_error("%s: key '%s' differs from the key length (not supported)", file.c_str(), key(k).c_str());
    }
  G4_ASSIGN_OR_RETURN(int64_t window, g.get_int(key("attention.sliding_window")));
  c.sliding_window = int(window);
  G4_ASSIGN_OR_RETURN(auto pattern, g.get_bool_array(key("attention.sliding_window_pattern")));
  if (int(pattern.size()) != c.n_layers)
    return make_error("%s: sliding_window_pattern has %zu entries for %d layers", file.c_str(), pattern.size(), c.n_layers);
  G4_ASSIGN_OR_RETURN(double base_full, g.get_float(key("rope.freq_base")));
  G4_ASSIGN_OR_RETURN(double base_swa, g.get_float(key("rope.freq_base_swa")));
  int64_t rot_full = hd_full, rot_swa = hd_swa;
  if (g.get(key("rope.dimension_count"))) { G4_ASSIGN_OR_RETURN(rot_full, g.get_int(key("rope.dimension_count"))); }
  if (g.get(key("rope.dimension_count_swa"))) {
    G4_ASSIGN_OR_RETURN(rot_swa, g.get_int(key("rope.dimension_count_swa")));
  }
  if (rot_full != hd_full || rot_swa != hd_swa)
    return make_error("%s: partial rope.dimension_count (%lld/%lld for head dims %lld/%lld) is not supported",
                      file.c_str(), (long long)rot_full, (long long)rot_swa, (long long)hd_full, (long long)hd_swa);

  // rope_freqs: llama.cpp's per-pair frequency divisors for full layers (1e30 switches a pair off).
  std::vector<float> freq_factors;
  if (const TensorInfo* rf = g.tensors.find("rope_freqs.weight")) {
    if (rf->dtype != DType::F32 || rf->numel() != hd_full / 2)
      return make_error("%s: tensor 'rope_freqs.weight' must be F32 [%lld], found %s %s", file.c_str(),
                        (long long)(hd_full / 2), std::string(dtype_name(rf->dtype)).c_str(), shape_str(rf->shape).c_str());
    freq_factors.resize(size_t(rf->numel()));
    std::memcpy(freq_factors.data(), rf->data, freq_factors.size() * 4);
  }

  for (int i = 0; i < c.n_layers; ++i) {
    LayerConfig l;
    l.kind = pattern[size_t(i)] ? AttnKind::kSliding : AttnKind::kFull;
    G4_ASSIGN_OR_RETURN(l.n_heads, in_range(n_heads, "attention.head_count"));
    G4_ASSIGN_OR_RETURN(l.n_kv_heads, in_range(kv[size_t(i)], "attention.head_count_kv"));
    G4_ASSIGN_OR_RETURN(l.head_dim, in_range(l.kind == AttnKind::kSliding ? hd_swa : hd_full, "attention.key_length"));
    G4_ASSIGN_OR_RETURN(l.ffn_dim, in_range(ffn[size_t(i)], "feed_forward_length"));
    l.window = l.kind == AttnKind::kSliding ? c.sliding_window : 0;
    double base = l.kind == AttnKind::kSliding ? base_swa : base_full;
    l.rope_inv_freq = rope_inv_freq(l.head_dim, base, l.head_dim / 2);
    if (l.kind == AttnKind::kFull && !freq_factors.empty()) {
      // A factor of 1e30 or more means "not rotated": make it exactly zero rather than ~1e-30.
      for (size_t p = 0; p < l.rope_inv_freq.size(); ++p)
        l.rope_inv_freq[p] = freq_factors[p] >= 1e20f ? 0.0f : l.rope_inv_freq[p] / freq_factors[p];
    }
    c.layers.push_back(std::move(l));
  }
  // k_eq_v is a property of the tensors (no attn_v on a layer); the weight binder sets it.
  c.vocab_size = 0;
  if (const TensorInfo* e = g.tensors.find("token_embd.weight"); e && e->shape.size() == 2)
    c.vocab_size = int(e->shape[0]);
  if (g.get("tokenizer.ggml.bos_token_id")) { G4_ASSIGN_OR_RETURN(int64_t b, g.get_int("tokenizer.ggml.bos_token_id")); c.bos_id = int32_t(b); }
  if (g.get("tokenizer.ggml.padding_token_id")) { G4_ASSIGN_OR_RETURN(int64_t p, g.get_int("tokenizer.ggml.padding_token_id")); c.pad_id = int32_t(p); }
  if (g.get("tokenizer.ggml.eos_token_id")) { G4_ASSIGN_OR_RETURN(int64_t e, g.get_int("tokenizer.ggml.eos_token_id")); c.eos_ids.push_back(int32_t(e)); }
  // Special ids by their pieces (GGUF has no multimodal config): media markers, the chat stop tokens
  // (<turn|> ends a turn, <|tool_response> hands over to a tool) and the two ids never to sample.
  if (g.get("tokenizer.ggml.tokens")) {
    G4_ASSIGN_OR_RETURN(auto tokens, g.get_string_array("tokenizer.ggml.tokens"));
    std::map<std::string_view, int32_t*> by_piece = {
        {"<|image>", &c.boi_id}, {"<image|>", &c.eoi_id}, {"<|image|>", &c.image_id}, {"<|video|>", &c.video_id},
        {"<|audio>", &c.boa_id}, {"<audio|>", &c.eoa_id}, {"<|audio|>", &c.audio_id}};
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string& t = tokens[i];
      if (auto it = by_piece.find(t); it != by_piece.end()) *it->second = int32_t(i);
      if ((t == "<turn|>" || t == "<|tool_response>") &&
          std::find(c.eos_ids.begin(), c.eos_ids.end(), int32_t(i)) == c.eos_ids.end())
        c.eos_ids.push_back(int32_t(i));
    }
    for (int32_t id : {c.eoi_id, c.eoa_id})
      if (id >= 0) c.suppress_ids.push_back(id);
  }
  c.embed_scale = std::sqrt(float(c.hidden));
  if (c.vocab_size <= 0) return make_error("%s: tensor 'token_embd.weight' missing or not 2-D", file.c_str());
  G4_TRY(c.validate());
  return c;
}

}  // namespace g4
