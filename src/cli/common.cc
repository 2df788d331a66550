#include "cli/common.h"

#include <cstdlib>
#include <sstream>

#include "convert/quantize_at_load.h"

namespace g4::cli {

std::vector<Option> model_options() {
  return {
      {"model", "m", "PATH", "model: an HF folder (config.json + safetensors) or a .gguf file", ""},
      {"threads", "t", "N", "worker threads (0: one per core)", "0"},
      {"kv-type", "", "TYPE", "KV cache element type: f32, f16 or q8_0", "f16"},
      {"quant", "", "TYPE", "quantize a float model's layer matrices at load: q8_0, q4_0 or q4_k", ""},
  };
}

std::vector<Option> sampling_options() {
  return {
      {"temp", "", "T", "temperature (0: greedy)", "1.0"},
      {"top-k", "", "K", "keep the K most likely tokens (0: off)", "64"},
      {"top-p", "", "P", "keep the smallest set with probability mass P (1: off)", "0.95"},
      {"min-p", "", "M", "drop tokens below M times the top probability (0: off)", "0"},
      {"seed", "s", "S", "random seed", "0"},
  };
}

Result<SamplingParams> sampling_params(const Args& args) {
  SamplingParams p;
  G4_ASSIGN_OR_RETURN(double temp, args.number("temp", 0, 100));
  G4_ASSIGN_OR_RETURN(p.top_k, args.integer("top-k", 0, 1 << 30));
  G4_ASSIGN_OR_RETURN(double top_p, args.number("top-p", 0, 1));
  G4_ASSIGN_OR_RETURN(double min_p, args.number("min-p", 0, 1));
  G4_ASSIGN_OR_RETURN(int seed, args.integer("seed", 0, 2147483647));
  p.temperature = float(temp);
  p.top_p = float(top_p);
  p.min_p = float(min_p);
  p.seed = uint64_t(seed);
  return p;
}

Result<std::unique_ptr<Tokenizer>> model_tokenizer(const ModelFiles& files) {
  if (!files.tokenizer_json.empty()) return Tokenizer::from_hf_json(files.tokenizer_json);
  if (files.gguf && files.gguf->get("tokenizer.ggml.tokens")) return Tokenizer::from_gguf(*files.gguf);
  return std::unique_ptr<Tokenizer>();
}

Result<std::unique_ptr<Tokenizer>> require_tokenizer(const ModelFiles& files) {
  G4_ASSIGN_OR_RETURN(auto tok, model_tokenizer(files));
  if (!tok) return make_error("%s ships no tokenizer (no tokenizer.json, no GGUF vocabulary)", files.path.c_str());
  return tok;
}

Result<ModelFiles> open_model(const std::string& path) {
  if (path.empty()) return make_error("no model given (-m PATH)");
  return open_model_files(path);
}

Result<Loaded> load_model(const std::string& path, int threads, const std::string& quant) {
  G4_ASSIGN_OR_RETURN(ModelFiles files, open_model(path));
  if (!quant.empty()) G4_TRY(convert::quantize_at_load(files, quant, threads));
  Loaded l;
  l.backend = make_cpu_backend(threads);
  G4_ASSIGN_OR_RETURN(l.tokenizer, model_tokenizer(files));
  G4_ASSIGN_OR_RETURN(l.model, Gemma4Model::create(std::move(files), *l.backend));
  return l;
}

Result<DType> kv_type(const Args& args) {
  DType t;
  if (!dtype_from_name(args.str("kv-type"), &t) || !kv_type_supported(t))
    return make_error("--kv-type: '%s' is not a KV cache type (f32, f16 or q8_0)", args.str("kv-type").c_str());
  return t;
}

Status use_kv_type(const Args& args, Gemma4Model& model) {
  G4_ASSIGN_OR_RETURN(DType t, kv_type(args));
  model.set_kv_type(t);
  return {};
}

Result<std::vector<int32_t>> prompt_ids(const Args& args, const Loaded& m) {
  std::vector<int32_t> ids;
  if (args.has("ids")) {
    std::stringstream ss(args.str("ids"));
    std::string item;
    while (std::getline(ss, item, ',')) {
      char* end = nullptr;
      long v = std::strtol(item.c_str(), &end, 10);
      if (item.empty() || *end || v < 0 || v >= m.model->config().vocab_size)
        return make_error("--ids: '%s' is not a token id of this model (0..%d)", item.c_str(),
                          m.model->config().vocab_size - 1);
      ids.push_back(int32_t(v));
    }
    if (ids.empty()) return make_error("--ids: no token ids given");
    return ids;
  }
  if (!args.has("prompt")) return make_error("no prompt given (-p TEXT or --ids LIST)");
  if (!m.tokenizer)
    return make_error("this model ships no tokenizer (no tokenizer.json / GGUF vocabulary); pass token ids with --ids");
  if (!args.has("no-bos")) ids.push_back(m.model->config().bos_id);
  auto t = m.tokenizer->encode(args.str("prompt"), /*parse_special=*/true);
  // A tokenizer may know a few pieces beyond the model's vocabulary (tokenizer.json files carry added
  // tokens the checkpoint has no rows for); a prompt that uses one cannot run.
  for (int32_t id : t)
    if (id >= m.model->config().vocab_size)
      return make_error("the prompt contains '%s' (token %d), which this model's vocabulary (%d) lacks",
                        m.tokenizer->piece(id).c_str(), id, m.model->config().vocab_size);
  ids.insert(ids.end(), t.begin(), t.end());
  if (ids.empty()) return make_error("the prompt is empty");
  return ids;
}

}  // namespace g4::cli
