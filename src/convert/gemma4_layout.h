// What an HF Gemma 4 folder becomes in llama.cpp's gemma4 GGUF layout: the metadata keys (geometry,
// RoPE, tokenizer, chat template) and the tensor names. The definition is the project's Python
// exporter (tools/reference/gguf_writer.py), whose files llama.cpp loads; this is its C++ twin.
#pragma once

#include <string>
#include <vector>

#include "io/gguf_writer.h"
#include "model/loader.h"

namespace g4::convert {

struct LayoutTensor {
  std::string gguf_name;
  const TensorInfo* source;  // in the HF store, or the rope_freqs table below
};

struct Gemma4Layout {
  std::vector<LayoutTensor> tensors;  // text-model tensors only (as the exporter writes them)
  TensorInfo rope_freqs;              // F32 table: 1 for rotated pairs of the full layers, 1e30 after
  std::vector<float> rope_freqs_data;
};

// Tensor names for an opened HF folder. `layout` must outlive the pointers (rope_freqs points into it).
Status gemma4_layout(const ModelFiles& files, Gemma4Layout* layout);

// Writes every gemma4 key for the folder's config, its tokenizer.json (tokenizer.ggml.*) and chat
// template into `w`.
Status gemma4_metadata(const ModelFiles& files, GgufWriter& w);

}  // namespace g4::convert
