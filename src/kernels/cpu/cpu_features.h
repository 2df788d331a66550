// What the CPU can run, detected once with CPUID (and XGETBV for the OS-saved register state).
#pragma once

namespace g4::cpu {

struct CpuFeatures {
  bool avx2 = false;        // with FMA and F16C
  bool avx512f = false;     // AVX-512 F (with AVX2), the OS saving ZMM state: the F32 GEMM needs no more
  bool avx512 = false;      // F, BW, VL and DQ
  bool avx512_vnni = false;  // VPDPBUSD on ZMM/YMM
};

const CpuFeatures& cpu_features();

}  // namespace g4::cpu
