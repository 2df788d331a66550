// Which type each tensor of a gemma4 GGUF gets under a quantization scheme ("Q4_K_M", "Q8_0", ...).
// The mixed schemes follow llama.cpp's rules for the same names, so a file g4 writes has the tensor
// types a llama.cpp-quantized file of that name has (docs/QUANTIZE.md has the table).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/dtype.h"
#include "util/result.h"

namespace g4::convert {

struct Scheme {
  std::string name;  // "Q4_K_M"
  DType base;        // the type most 2-D weights get
  bool mix;          // llama.cpp's per-tensor rules apply (else every 2-D weight gets `base`)
  uint32_t ftype;    // llama.cpp's LLAMA_FTYPE value, stored as general.file_type
};

// The scheme called `name` (case-insensitive), or an error listing the valid ones.
Result<Scheme> scheme_from_name(const std::string& name);
// "Q8_0, Q4_0, Q4_K_M, ..." for help texts.
std::string scheme_names();

struct PlanTensor {
  std::string name;            // GGUF name: "blk.3.attn_v.weight"
  std::vector<int64_t> shape;  // row-major
  DType source;                // the type it has now
};

struct PlannedTensor {
  DType type;
  bool quantized;  // false: left as it is (1-D tensors, norms, tensors the scheme does not touch)
  bool fallback;   // the scheme's type did not fit the row length; `type` is the fallback
};

// The type of every tensor (same order as `tensors`). `n_layers` is the model's block count.
// Tensors the scheme does not quantize keep their source type, or become F32 with
// `unquantized_to_f32` (HF input, whose norms may be BF16: GGUF files keep those in F32).
// The per-layer counters of the _M schemes run in tensor_order_less order, as llama.cpp's do.
std::vector<PlannedTensor> plan_types(const std::vector<PlanTensor>& tensors, const Scheme& scheme, int n_layers,
                                      bool unquantized_to_f32);

// The order llama.cpp's loader keeps tensors in (and its quantizer writes them): tensors outside the
// blocks first, then by block number, then by name.
bool tensor_order_less(const std::string& a, const std::string& b);

// llama.cpp's rule for the layers that get more bits in the _M schemes: the first and last eighth
// and every third layer in between.
bool use_more_bits(int i_layer, int n_layers);

}  // namespace g4::convert
