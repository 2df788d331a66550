#include "util/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace g4 {

double measure_read_bandwidth(int threads, size_t buffer_bytes) {
  threads = std::max(1, threads);
  const size_t n = buffer_bytes / sizeof(uint64_t);
  std::vector<uint64_t> buf(n);
  for (size_t i = 0; i < n; ++i) buf[i] = i;  // touch every page
  std::vector<uint64_t> sums(size_t(threads) * 8);
  double best = 0;
  for (int pass = 0; pass < 3; ++pass) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const size_t begin = n * size_t(t) / size_t(threads), end = n * size_t(t + 1) / size_t(threads);
        const size_t quarter = (end - begin) / 4;
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        // One 8-byte word per 64-byte line is enough to pull every line in.
        for (size_t i = 0; i < quarter; i += 8) {
          s0 += buf[begin + i];
          s1 += buf[begin + quarter + i];
          s2 += buf[begin + 2 * quarter + i];
          s3 += buf[begin + 3 * quarter + i];
        }
        sums[size_t(t) * 8] = s0 + s1 + s2 + s3;
      });
    for (auto& th : pool) th.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(buffer_bytes) / s);
  }
  // Keep the sums observable so the reads are not optimised away.
  volatile uint64_t sink = 0;
  for (auto v : sums) sink = sink + v;
  return best;
}

}  // namespace g4
