// Reader for HF safetensors files: a single file or shards listed in model.safetensors.index.json.
#pragma once

#include <string>

#include "io/tensor_store.h"

namespace g4 {

// Parses a safetensors image already in memory (header + data). `file` names it in errors.
// The returned tensors point into `bytes`; the caller keeps the bytes alive.
Result<TensorStore> parse_safetensors(const uint8_t* bytes, size_t size, const std::string& file);

// Maps `path` and parses it; the store keeps the map alive.
Result<TensorStore> load_safetensors(const std::string& path);

// Loads every tensor of an HF model folder: model.safetensors, or the shards named by
// model.safetensors.index.json (each shard once; every tensor must be in the file the index says).
Result<TensorStore> load_safetensors_folder(const std::string& dir);

}  // namespace g4
