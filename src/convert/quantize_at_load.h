// --quant at load: quantizes a float model's layer matrices in memory, so an HF folder or an F16/BF16
// GGUF runs with quantized weights without a conversion step. The quantized copies are owned by the
// model's tensor store; the originals stay mapped but are no longer read.
#pragma once

#include <string>

#include "model/loader.h"

namespace g4::convert {

// The types --quant accepts: "q8_0, q4_0, q4_k".
std::string load_quant_names();

// Replaces every layer matrix (attention and FFN projections; not the embedding, which is also looked
// up by row) with a copy of type `type` ("q8_0", "q4_0" or "q4_k"; a row that the type's blocks do
// not divide keeps its float type). Fails for unknown types and for input that is already quantized.
// Returns how many tensors were quantized.
Result<int> quantize_at_load(ModelFiles& files, const std::string& type, int threads);

}  // namespace g4::convert
