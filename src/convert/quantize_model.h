// g4 quantize: writes an opened model (an HF folder or a GGUF of any type) as a gemma4 GGUF whose
// weights follow a quantization scheme (convert/quant_plan.h). The output is streamed tensor by
// tensor, so memory stays bounded by a few row blocks whatever the model's size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "convert/quant_plan.h"
#include "model/loader.h"

namespace g4::convert {

struct QuantizeOptions {
  int threads = 0;     // 0: one per core
  bool quiet = false;  // no progress on stderr
  // Called with each warning before the conversion starts (they are also in the report).
  std::function<void(const std::string&)> warn;
};

struct QuantizedTensor {
  std::string name;  // GGUF name
  std::vector<int64_t> shape;
  DType from, to;
  bool fallback;  // the scheme's type did not fit the row length
};

struct QuantizeReport {
  std::vector<QuantizedTensor> tensors;  // in file order
  uint64_t bytes_in = 0, bytes_out = 0;  // tensor data
  std::vector<std::string> warnings;     // e.g. requantizing already-quantized tensors
};

// Writes `out` (through a temporary file renamed at the end, so a failed run leaves no partial
// model under that name).
Result<QuantizeReport> quantize_model(const ModelFiles& in, const std::string& out, const Scheme& scheme,
                                      const QuantizeOptions& opts);

}  // namespace g4::convert
