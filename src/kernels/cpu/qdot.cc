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

// On AVX-512 machines the AVX2 dot kernels are used for every type but Q6_K: measured with
// bench/kernel_bench.cc on this project's Sapphire Rapids machine, one thread, they stream
// 1.1-2x faster (e.g. Q4_0 15.5 vs 10.1 GB/s from L2, 12.6 vs 9.5 from DRAM) because they apply
// the block scales of four rows together; the AVX-512 versions stay as tested alternatives.
bool prefer_avx512(DType t) { return t == DType::Q6_K; }

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
