#include "kernels/cpu/cpu_features.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace g4::cpu {

namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12), f16c = c & (1u << 29), osxsave = c & (1u << 27);
  if (!osxsave) return f;
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const bool ymm_state = (lo & 6u) == 6u, zmm_state = (lo & 0xe6u) == 0xe6u;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = ymm_state && fma && f16c && (b & (1u << 5));
  // AVX-512 F (EBX 16), DQ (17), BW (30), VL (31); VNNI is ECX bit 11.
  const unsigned need = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
  f.avx512f = f.avx2 && zmm_state && (b & (1u << 16));
  f.avx512 = f.avx512f && (b & need) == need;
  f.avx512_vnni = f.avx512 && (c & (1u << 11));
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace g4::cpu
