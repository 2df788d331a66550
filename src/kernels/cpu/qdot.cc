// Picks the quantized dot-product version for this CPU once: AVX-512 with VNNI, else AVX2, else the
// scalar reference.
#include "kernels/cpu/qdot.h"


#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/qdot_internal.h"

namespace g4::cpu {

namespace {

enum class Level { kRef, kAvx2, kAvx512Vnni };

Level level() {
  static const Level l = cpu_features().avx512_vnni ? Level::kAvx512Vnni
                         : cpu_features().avx2      ? Level::kAvx2
                                                    : Level::kRef;
  return l;
}

bool isa_available(QdotIsa isa) {
  return isa == QdotIsa::kAvx2 ? cpu_features().avx2 : cpu_features().avx512_vnni;
}

}  // namespace

void quantize_act(DType weight, const float* x, void* act, size_t n) {
  switch (level()) {
    case Level::kAvx512Vnni: if (quantize_act_avx512(weight, x, act, n)) return; break;
    case Level::kAvx2: if (quantize_act_avx2(weight, x, act, n)) return; break;
    case Level::kRef: break;
  }
  quantize_act_ref(weight, x, act, n);
}

// On AVX-512 machines the 32-element types and Q6_K use the AVX-512 kernels; the other k-quants and
// IQ4_XS stay on AVX2, whose kernels apply four rows' scales together and measured 1.1-2x faster with
// bench/kernel_bench.cc on this project's Sapphire Rapids machine (one thread, e.g. Q4_K 18.6 vs
// 11.8 GB/s from L2). The AVX-512 32-element kernels unpack four blocks per step and convert their
// scales together (Q4_0 19.8 vs 15.2 GB/s from L2; in a 12B decode on two threads 3.4 vs 2.9 tok/s).
bool prefer_avx512(DType t) {
  return t == DType::Q4_0 || t == DType::Q4_1 || t == DType::IQ4_NL || t == DType::Q8_0 || t == DType::Q6_K;
}

void qdot_4x1(DType t, const void* const w[4], const void* act, size_t n, float out[4]) {
  switch (level()) {
    case Level::kAvx512Vnni:
      if (prefer_avx512(t) ? qdot_4x1_avx512(t, w, act, n, out) : qdot_4x1_avx2(t, w, act, n, out)) return;
      break;
    case Level::kAvx2: if (qdot_4x1_avx2(t, w, act, n, out)) return; break;
    case Level::kRef: break;
  }
  qdot_4x1_ref(t, w, act, n, out);
}

bool qdot_has_simd(DType t) {
  if (level() == Level::kRef) return false;
  const void* w[4] = {nullptr, nullptr, nullptr, nullptr};
  float out[4];
  // n = 0 touches no memory and reports whether the type has a version.
  return level() == Level::kAvx512Vnni ? qdot_4x1_avx512(t, w, nullptr, 0, out) : qdot_4x1_avx2(t, w, nullptr, 0, out);
}

bool qdot_4x1_isa(QdotIsa isa, DType t, const void* const w[4], const void* act, size_t n, float out[4]) {
  if (!isa_available(isa)) return false;
  return isa == QdotIsa::kAvx2 ? qdot_4x1_avx2(t, w, act, n, out) : qdot_4x1_avx512(t, w, act, n, out);
}

bool quantize_act_isa(QdotIsa isa, DType weight, const float* x, void* act, size_t n) {
  if (!isa_available(isa)) return false;
  return isa == QdotIsa::kAvx2 ? quantize_act_avx2(weight, x, act, n) : quantize_act_avx512(weight, x, act, n);
}

}  // namespace g4::cpu
