// One pool of worker threads for all kernels: sized to the cores, no oversubscription.
//
// Decode issues several hundred short parallel_for calls per token, so handing out work must cost
// microseconds, not a futex wake-up each: idle workers spin for a short while (kSpin) watching for
// the next job before they sleep, and chunks are claimed with one atomic compare-and-swap.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace g4 {

class ThreadPool {
 public:
  explicit ThreadPool(int threads = 0);  // 0: hardware concurrency
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }
  // Calls fn(begin, end) over [0, n) split into about `size() * per_thread` contiguous chunks of
  // at least `grain` items, claimed by whichever thread is free (more chunks than threads balance
  // threads that run at different speeds); the calling thread takes part. Returns when all are
  // done. Calls from several threads are served one after another.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn,
                    int per_thread = 1);

 private:
  void worker();
  // Claims the next chunk of job `gen`; false when that job has no chunk left or is over.
  bool claim(uint64_t gen, int64_t n_chunks, int64_t* chunk);
  void run_chunks(uint64_t gen);

  std::vector<std::thread> workers_;
  std::mutex call_mu_;  // one parallel_for at a time
  // Job `gen` in the high 32 bits, its next unclaimed chunk in the low 32.
  std::atomic<uint64_t> state_{0};
  std::atomic<const std::function<void(int64_t, int64_t)>*> fn_{nullptr};
  std::atomic<int64_t> n_{0}, chunk_{0}, n_chunks_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace g4
