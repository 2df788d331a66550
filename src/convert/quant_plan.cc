// The per-tensor type rules. For the gemma4 layout the mixed schemes come down to:
//
//   tensor                      Q8_0   Q4_0   Q4_K_M                 Q5_K_M
//   1-D (norms, rope_freqs,     kept   kept   kept                   kept
//        layer_output_scale)
//   token_embd (tied output)    Q8_0   Q6_K   Q6_K                   Q6_K
//   attn_v                      Q8_0   Q4_0   Q6_K on "more bits"    Q6_K on "more bits"
//                                             ranks, else Q4_K       ranks, else Q5_K
//   ffn_down                    Q8_0   Q4_0   Q6_K on "more bits"    Q6_K on "more bits"
//                                             layers, else Q4_K      layers, else Q5_K
//   attn_q/k/output, ffn_gate/up Q8_0  Q4_0   Q4_K                   Q5_K
//
// "More bits" is use_more_bits(i, n). For ffn_down i is the layer and n the block count; for attn_v
// i counts only the layers that have an attn_v (gemma4's full layers have none when K = V), in
// layer order, and n is how many do. A row length that is not a multiple of the chosen type's
// block falls back: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, and to F16 when even that does not
// fit (llama.cpp stops with an error for the 32-blocks; g4 takes F16 there too). The output
// tensor's Q6_K needs the row to fit the scheme's base block, else it is Q8_0.
#include "convert/quant_plan.h"

#include <algorithm>
#include <cstdio>

namespace g4::convert {

namespace {

const Scheme kSchemes[] = {
    // LLAMA_FTYPE values: ALL_F32 0, MOSTLY_F16 1, Q4_0 2, Q8_0 7, Q4_K_S 14, Q4_K_M 15, Q5_K_S 16,
    // Q5_K_M 17, Q6_K 18, BF16 32. The pure K types are labelled with the _S file type of their base.
    {"Q8_0", DType::Q8_0, true, 7},     {"Q4_0", DType::Q4_0, true, 2},   {"Q4_K_M", DType::Q4_K, true, 15},
    {"Q5_K_M", DType::Q5_K, true, 17},  {"Q6_K", DType::Q6_K, true, 18},  {"Q4_K", DType::Q4_K, false, 14},
    {"Q5_K", DType::Q5_K, false, 16},   {"F16", DType::F16, false, 1},    {"BF16", DType::BF16, false, 32},
    {"F32", DType::F32, false, 0},
};

std::string upper(std::string s) {
  for (char& c : s) c = char(c >= 'a' && c <= 'z' ? c - 32 : c);
  return s;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
bool ends_with(const std::string& s, const char* tail) {
  std::string t(tail);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

int block_of(const std::string& name) {
  int layer = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) layer = -1;
  return layer;
}

// ggml counts dimensions up to the last one above 1; a [1, n] tensor is 1-D to it.
int ggml_dims(const std::vector<int64_t>& shape) {
  int n = int(shape.size());
  while (n > 1 && shape[size_t(shape.size() - size_t(n))] == 1) --n;
  return n;
}

// Whether llama.cpp's quantizer touches the tensor at all (the rules that apply to gemma4 names).
bool quantizable(const PlanTensor& t) {
  return ggml_dims(t.shape) >= 2 && ends_with(t.name, "weight") && !contains(t.name, "_norm.weight");
}

bool fits(DType t, int64_t row) { return row % dtype_block(t) == 0; }

// llama.cpp's fallback for a row length the chosen type's blocks do not divide.
DType fallback_for(DType t, int64_t row) {
  DType r = DType::F16;
  switch (t) {
    case DType::Q4_K: r = DType::Q5_0; break;
    case DType::Q5_K: r = DType::Q5_1; break;
    case DType::Q6_K: r = DType::Q8_0; break;
    case DType::IQ4_XS: r = DType::IQ4_NL; break;
    default: break;
  }
  return fits(r, row) ? r : DType::F16;
}

}  // namespace

Result<Scheme> scheme_from_name(const std::string& name) {
  std::string u = upper(name);
  for (const auto& s : kSchemes)
    if (s.name == u) return s;
  return make_error("unknown quantization type '%s' (valid: %s)", name.c_str(), scheme_names().c_str());
}

std::string scheme_names() {
  std::string s;
  for (const auto& x : kSchemes) s += (s.empty() ? "" : ", ") + x.name;
  return s;
}

bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

bool tensor_order_less(const std::string& a, const std::string& b) {
  int la = block_of(a), lb = block_of(b);
  if (la != lb) return la < lb;
  return a < b;
}

std::vector<PlannedTensor> plan_types(const std::vector<PlanTensor>& tensors, const Scheme& scheme, int n_layers,
                                      bool unquantized_to_f32) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tensor_order_less(tensors[a].name, tensors[b].name); });
  bool tied = true;
  int n_attn_v = 0;
  for (const auto& t : tensors) {
    if (t.name == "output.weight") tied = false;
    if (contains(t.name, "attn_v.weight") || contains(t.name, "attn_qkv.weight")) ++n_attn_v;
  }
  const bool more_bits_scheme = scheme.mix && (scheme.name == "Q4_K_M" || scheme.name == "Q5_K_M");
  int i_attn_v = 0, i_ffn_down = 0;

  std::vector<PlannedTensor> out(tensors.size());
  for (size_t idx : order) {
    const PlanTensor& t = tensors[idx];
    PlannedTensor& p = out[idx];
    if (!quantizable(t) || scheme.base == DType::F32) {
      p = {unquantized_to_f32 ? DType::F32 : t.source, false, false};
      continue;
    }
    if (!dtype_is_block(scheme.base)) {  // F16 / BF16: every 2-D weight, no mix
      p = {scheme.base, true, false};
      continue;
    }
    const int64_t row = t.shape.back();
    DType type = scheme.base;
    if (scheme.mix) {
      const bool is_output = t.name == "output.weight" || (tied && t.name == "token_embd.weight");
      if (is_output) {
        if (!fits(scheme.base, row)) type = DType::Q8_0;
        else if (scheme.base != DType::Q8_0) type = DType::Q6_K;
      } else if (contains(t.name, "attn_v.weight") || contains(t.name, "attn_qkv.weight")) {
        if (more_bits_scheme && use_more_bits(i_attn_v, n_attn_v)) type = DType::Q6_K;
        ++i_attn_v;
      } else if (contains(t.name, "ffn_down")) {
        if (more_bits_scheme && use_more_bits(i_ffn_down, n_layers)) type = DType::Q6_K;
        ++i_ffn_down;
      }
    }
    p = {type, true, false};
    if (!fits(type, row)) p = {fallback_for(type, row), true, true};
  }
  return out;
}

}  // namespace g4::convert
