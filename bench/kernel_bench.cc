// Single-thread throughput of the quantized kernels, per weight type:
//  - decode: qdot_4x1 (AVX2 and AVX-512 VNNI versions) over a matrix in cache (compute bound) and one
//    far larger than the caches (memory bound), in GB/s of weights;
//  - prefill: the integer GEMM (qgemm) on one thread, in GMAC/s.
// Build: cmake --build <dir> --target g4_kernel_bench; run: <dir>/g4_kernel_bench
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/qdot.h"
#include "kernels/cpu/qgemm.h"
#include "util/thread_pool.h"

using namespace g4;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<uint8_t> random_weight(DType t, size_t rows, size_t K) {
  std::vector<uint8_t> w(rows * dtype_row_bytes(t, int64_t(K)));
  std::mt19937 rng(1);
  for (auto& b : w) b = uint8_t(rng());
  // Finite scales everywhere: overwrite every f16 field position conservatively with small values is
  // type specific, so just clear the exponent's top bits of every 16-bit word (values stay finite).
  for (size_t i = 0; i + 1 < w.size(); i += 2) w[i + 1] &= 0x3b;
  return w;
}

double decode_gbs(DType t, size_t rows, size_t K, int reps, cpu::QdotIsa isa) {
  auto w = random_weight(t, rows, K);
  std::vector<float> x(K, 0.5f);
  std::vector<uint8_t> act(cpu::act_bytes(t, K));
  cpu::quantize_act(t, x.data(), act.data(), K);
  const size_t rb = dtype_row_bytes(t, int64_t(K)), per = rows / 4;
  float out[4], sink = 0;
  const auto t0 = Clock::now();
  for (int r = 0; r < reps; ++r)
    for (size_t k = 0; k < per; ++k) {
      const void* p[4] = {&w[k * rb], &w[(per + k) * rb], &w[(2 * per + k) * rb], &w[(3 * per + k) * rb]};
      if (!cpu::qdot_4x1_isa(isa, t, p, act.data(), K, out)) return 0;
      sink += out[0];
    }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (sink == 12345.0f) std::puts("");
  return double(w.size()) * reps / s / 1e9;
}

double gemm_gmacs(DType t, int64_t M, int64_t K, int n) {
  auto w = random_weight(t, size_t(M), size_t(K));
  std::vector<float> x(size_t(n * K), 0.25f), y(size_t(n * M));
  ThreadPool pool(1);
  cpu::qgemm(pool, t, w.data(), M, K, x.data(), n, y.data());  // warm-up
  const auto t0 = Clock::now();
  cpu::qgemm(pool, t, w.data(), M, K, x.data(), n, y.data());
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return double(M) * double(K) * n / s / 1e9;
}

}  // namespace

int main() {
  std::printf("%-7s %10s %10s %10s %10s %12s\n", "type", "avx2 L2", "avx2 DRAM", "a512 L2", "a512 DRAM",
              "gemm GMAC/s");
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_XS, DType::Q4_1,
                  DType::Q5_0, DType::IQ4_NL}) {
    double v[4];
    for (int i = 0; i < 2; ++i) {
      const auto isa = i == 0 ? cpu::QdotIsa::kAvx2 : cpu::QdotIsa::kAvx512Vnni;
      v[2 * i] = decode_gbs(t, 256, 3840, 400, isa);
      v[2 * i + 1] = decode_gbs(t, 65536, 3840, 2, isa);
    }
    const double mac = gemm_gmacs(t, 1024, 3840, 128);
    std::printf("%-7s %10.1f %10.1f %10.1f %10.1f %12.1f\n", std::string(dtype_name(t)).c_str(), v[0], v[1], v[2], v[3],
                mac);
  }
}
