#include "model/loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <fstream>
#include <sstream>

#include "io/safetensors.h"

namespace g4 {

namespace {

bool is_dir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool is_file(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error("%s: cannot read", path.c_str());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The reference multiplies embeddings by sqrt(hidden) cast to the embedding's dtype (62.0 in bf16 for
// the 12B); g4 computes in f32 but keeps that rounding so it matches the reference run in the
// checkpoint's own dtype.
float embed_scale_for(float scale, DType t) {
  if (t == DType::BF16) return bf16_to_f32(f32_to_bf16(scale));
  if (t == DType::F16) return f16_to_f32(f32_to_f16(scale));
  return scale;
}

// chat_template.jinja wins (current HF layout); older folders keep the template in
// tokenizer_config.json, as a string or as a list of named templates ("default" is the chat one).
Status find_chat_template(const std::string& dir, ModelFiles& m) {
  if (is_file(dir + "/chat_template.jinja")) {
    G4_ASSIGN_OR_RETURN(m.chat_template, read_text(dir + "/chat_template.jinja"));
    m.chat_template_source = dir + "/chat_template.jinja";
    return {};
  }
  const std::string cfg = dir + "/tokenizer_config.json";
  if (!is_file(cfg)) return {};
  G4_ASSIGN_OR_RETURN(std::string text, read_text(cfg));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("%s: not a JSON object", cfg.c_str());
  if (!j.contains("chat_template")) return {};
  const auto& t = j["chat_template"];
  if (t.is_string()) {
    m.chat_template = t.get<std::string>();
  } else if (t.is_array()) {
    for (const auto& e : t)
      if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
        m.chat_template = e["template"].get<std::string>();
  } else if (!t.is_null()) {
    return make_error("%s: chat_template must be a string or a list of named templates", cfg.c_str());
  }
  if (!m.chat_template.empty()) m.chat_template_source = cfg + ": chat_template";
  return {};
}

}  // namespace

Result<ModelFiles> open_model_files(const std::string& path) {
  ModelFiles m;
  m.path = path;
  if (is_dir(path)) {
    m.format = "hf";
    m.naming = TensorNaming::kHF;
    std::string cfg_path = path + "/config.json";
    if (!is_file(cfg_path)) return make_error("%s: not a model folder (no config.json)", path.c_str());
    G4_ASSIGN_OR_RETURN(std::string cfg_text, read_text(cfg_path));
    G4_ASSIGN_OR_RETURN(m.config, config_from_hf_json(cfg_text, cfg_path));
    G4_ASSIGN_OR_RETURN(m.hf_tensors, load_safetensors_folder(path));
    if (is_file(path + "/tokenizer.json")) m.tokenizer_json = path + "/tokenizer.json";
    G4_TRY(find_chat_template(path, m));
    if (const TensorInfo* e = m.hf_tensors.find("model.language_model.embed_tokens.weight"))
      m.config.embed_scale = embed_scale_for(m.config.embed_scale, e->dtype);
    // generation_config.json may widen the stop ids (the IT model stops on <turn|> too).
    if (is_file(path + "/generation_config.json")) {
      G4_ASSIGN_OR_RETURN(std::string gen, read_text(path + "/generation_config.json"));
      auto j = nlohmann::json::parse(gen, nullptr, false);
      if (j.is_object() && j.contains("eos_token_id")) {
        const auto& e = j["eos_token_id"];
        std::vector<int32_t> ids;
        if (e.is_number_integer()) ids.push_back(e.get<int32_t>());
        if (e.is_array())
          for (const auto& x : e)
            if (x.is_number_integer()) ids.push_back(x.get<int32_t>());
        for (int32_t id : ids)
          if (id >= 0 && id < m.config.vocab_size &&
              std::find(m.config.eos_ids.begin(), m.config.eos_ids.end(), id) == m.config.eos_ids.end())
            m.config.eos_ids.push_back(id);
      }
    }
    return m;
  }
  if (!is_file(path)) return make_error("%s: no such model file or folder", path.c_str());
  m.format = "gguf";
  m.naming = TensorNaming::kGGUF;
  G4_ASSIGN_OR_RETURN(GgufFile g, load_gguf(path));
  m.gguf = std::move(g);
  G4_ASSIGN_OR_RETURN(m.config, config_from_gguf(*m.gguf, path));
  if (m.gguf->get("tokenizer.chat_template")) {
    G4_ASSIGN_OR_RETURN(m.chat_template, m.gguf->get_string("tokenizer.chat_template"));
    m.chat_template_source = path + ": tokenizer.chat_template";
  }
  return m;
}

}  // namespace g4
