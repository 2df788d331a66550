// What the CPU can run, detected once with CPUID (and XGETBV for the OS-saved register state).
#pragma once

namespace g4::cpu {

struct CpuFeatures {
  bool avx2 = false;        // with FMA and F16C
  bool avx512 = false;      // F, BW, VL and DQ, with the OS saving ZMM state
  bool avx512_vnni = false;  // VPDPBUSD on ZMM/YMM
};

const CpuFeatures& cpu_features();

}  // namespace g4::cpu
