// What the commands share: loading a model with its backend and tokenizer, and reading a prompt.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "kernels/backend.h"
#include "model/gemma4.h"
#include "runtime/sampler.h"
#include "text/tokenizer.h"

namespace g4::cli {

struct Loaded {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Gemma4Model> model;
  std::unique_ptr<Tokenizer> tokenizer;  // null when the model ships none
};

// `quant` ("" for none, else q8_0 / q4_0 / q4_k): quantize the layer matrices of a float model at load.
Result<Loaded> load_model(const std::string& path, int threads, const std::string& quant = "");

// The model's files without loading weights; an error if no path was given.
Result<ModelFiles> open_model(const std::string& path);
// The tokenizer that ships with a model (tokenizer.json in a folder, or GGUF metadata): null when
// there is none, or an error saying so.
Result<std::unique_ptr<Tokenizer>> model_tokenizer(const ModelFiles& files);
Result<std::unique_ptr<Tokenizer>> require_tokenizer(const ModelFiles& files);

// Options every model command takes.
std::vector<Option> model_options();
// --kv-type as a cache element type, and giving it to the model's caches.
Result<DType> kv_type(const Args& args);
Status use_kv_type(const Args& args, Gemma4Model& model);
// --temp, --top-k, --top-p, --min-p, --seed, and reading them.
std::vector<Option> sampling_options();
Result<SamplingParams> sampling_params(const Args& args);

// The prompt as ids: --ids "2,17,300" as given, or -p TEXT tokenized with BOS first (unless --no-bos).
Result<std::vector<int32_t>> prompt_ids(const Args& args, const Loaded& m);

}  // namespace g4::cli
