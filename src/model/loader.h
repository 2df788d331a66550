// Opens a model from disk: an HF folder (config.json + safetensors) or a GGUF file. Reads the config,
// maps the weights (no copies), and finds the tokenizer and chat template that came with it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "io/gguf.h"
#include "io/tensor_store.h"
#include "model/config.h"
#include "model/weights.h"

namespace g4 {

struct ModelFiles {
  std::string path;
  std::string format;  // "hf" or "gguf"
  ModelConfig config;
  TensorNaming naming = TensorNaming::kHF;
  TensorStore hf_tensors;        // HF folder
  std::optional<GgufFile> gguf;  // GGUF file (metadata and tensors)
  std::string tokenizer_json;    // path of tokenizer.json in an HF folder, if present
  // The chat template that came with the model (empty if none): chat_template.jinja, else
  // tokenizer_config.json's chat_template, else GGUF tokenizer.chat_template. `chat_template_source`
  // names where it came from, for error messages.
  std::string chat_template;
  std::string chat_template_source;

  const TensorStore& tensors() const { return gguf ? gguf->tensors : hf_tensors; }
};

Result<ModelFiles> open_model_files(const std::string& path);

}  // namespace g4
