// --quant at load: each layer matrix is converted into an owned buffer that the tensor store keeps
// alive, and the store entry is pointed at it.
#include "convert/quantize_at_load.h"

#include <memory>
#include <vector>

#include "convert/convert_tensor.h"
#include "convert/gemma4_layout.h"
#include "convert/quant_plan.h"

namespace g4::convert {

namespace {

bool is_layer_matrix(const std::string& gguf_name, const std::vector<int64_t>& shape) {
  if (gguf_name.rfind("blk.", 0) != 0 || shape.size() != 2) return false;
  for (const char* s : {".attn_q.weight", ".attn_k.weight", ".attn_v.weight", ".attn_output.weight",
                        ".ffn_gate.weight", ".ffn_up.weight", ".ffn_down.weight"}) {
    std::string t(s);
    if (gguf_name.size() > t.size() && gguf_name.compare(gguf_name.size() - t.size(), t.size(), t) == 0) return true;
  }
  return false;
}

}  // namespace

std::string load_quant_names() { return "q8_0, q4_0, q4_k"; }

Result<int> quantize_at_load(ModelFiles& files, const std::string& type, int threads) {
  DType target;
  if (!dtype_from_name(type, &target) ||
      (target != DType::Q8_0 && target != DType::Q4_0 && target != DType::Q4_K))
    return make_error("--quant: unknown type '%s' (valid: %s)", type.c_str(), load_quant_names().c_str());
  TensorStore& store = files.gguf ? files.gguf->tensors : files.hf_tensors;
  for (const auto& [name, t] : store.tensors())
    if (dtype_is_block(t.dtype))
      return make_error("%s: --quant needs F32/F16/BF16 weights, but the model is already quantized "
                        "(tensor '%s' is %s)", files.path.c_str(), name.c_str(), std::string(dtype_name(t.dtype)).c_str());

  // The layer matrices under their GGUF names (an HF folder's are found through the gemma4 layout).
  std::vector<std::pair<std::string, const TensorInfo*>> matrices;
  Gemma4Layout layout;
  if (files.gguf) {
    for (const auto& [name, t] : store.tensors()) matrices.push_back({name, &t});
  } else {
    G4_TRY(gemma4_layout(files, &layout));
    for (const auto& t : layout.tensors) matrices.push_back({t.gguf_name, t.source});
  }
  ThreadPool pool(threads);
  int n = 0;
  for (const auto& [gguf_name, src] : matrices) {
    if (!is_layer_matrix(gguf_name, src->shape) || src->shape.back() % dtype_block(target) != 0) continue;
    auto buf = std::make_shared<std::vector<uint8_t>>();
    buf->reserve(dtype_row_bytes(target, src->numel()));
    G4_TRY(convert_tensor(*src, target, pool, [&](const uint8_t* p, size_t len) -> Status {
      buf->insert(buf->end(), p, p + len);
      return {};
    }));
    TensorInfo q = *src;
    q.dtype = target;
    q.data = buf->data();
    q.nbytes = buf->size();
    store.keep_alive_buffer(std::move(buf));
    G4_TRY(store.replace(std::move(q)));
    ++n;
  }
  return n;
}

}  // namespace g4::convert
