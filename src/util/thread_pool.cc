#include "util/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace g4 {

namespace {

// How long an idle worker (or a caller waiting for the last chunks) spins before it sleeps/yields:
// longer than the gap between two kernels of a decode step, short enough not to matter when idle.
constexpr auto kSpin = std::chrono::microseconds(200);

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

constexpr uint64_t gen_of(uint64_t s) { return s >> 32; }
constexpr uint64_t kClosed = 0xFFFFFFFFu;  // as the next chunk: nothing left to claim
constexpr int64_t chunk_of(uint64_t s) { return int64_t(s & 0xFFFFFFFFu); }

}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  state_.fetch_add(uint64_t(1) << 32);  // wakes every waiter
  state_.notify_all();
  for (auto& t : workers_) t.join();
}

bool ThreadPool::claim(uint64_t gen, int64_t n_chunks, int64_t* chunk) {
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (gen_of(s) != gen || chunk_of(s) >= n_chunks) return false;
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) {
      *chunk = chunk_of(s);
      return true;
    }
  }
}

// A chunk is only run after a successful claim of job `gen`, which proves the job is still live, so
// the job fields read before the claim (published before `gen` was) are that job's.
void ThreadPool::run_chunks(uint64_t gen) {
  const auto* fn = fn_.load(std::memory_order_relaxed);
  const int64_t n = n_.load(std::memory_order_relaxed), chunk = chunk_.load(std::memory_order_relaxed),
                n_chunks = n_chunks_.load(std::memory_order_relaxed);
  int64_t c;
  while (claim(gen, n_chunks, &c)) {
    (*fn)(c * chunk, std::min(n, (c + 1) * chunk));
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn,
                              int per_thread) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t want = std::min<int64_t>(int64_t(size()) * std::max(1, per_thread), (n + grain - 1) / grain);
  // Chunks of equal size rounded up, and only as many as that leaves non-empty.
  const int64_t chunk = (n + want - 1) / want, chunks = (n + chunk - 1) / chunk;
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> call(call_mu_);
  fn_.store(&fn, std::memory_order_relaxed);
  n_.store(n, std::memory_order_relaxed);
  n_chunks_.store(chunks, std::memory_order_relaxed);
  chunk_.store(chunk, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  // Publish the job: a new generation with chunk 0 next. (The previous job left the state closed.)
  const uint64_t gen = gen_of(state_.load(std::memory_order_relaxed)) + 1;
  state_.store(gen << 32, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) state_.notify_all();
  run_chunks(gen);  // the caller works too
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; done_.load(std::memory_order_acquire) < chunks; ++i) {
    if ((i & 63) != 63 || std::chrono::steady_clock::now() - t0 < kSpin) cpu_relax();
    else std::this_thread::yield();
  }
  // Close the job before its fields can be overwritten: a worker that saw `gen` but read the next
  // job's fields (say, a larger chunk count) must not be able to claim anything under `gen`.
  state_.store(((gen + 1) << 32) | kClosed, std::memory_order_seq_cst);
}

void ThreadPool::worker() {
  uint64_t seen = 0;  // the last job generation looked at
  for (;;) {
    uint64_t s = state_.load(std::memory_order_acquire);
    if (gen_of(s) == seen) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; gen_of(s) == seen; ++i) {
        if ((i & 63) != 63 || std::chrono::steady_clock::now() - t0 < kSpin) {
          cpu_relax();
        } else {  // sleep until the state changes (a new job, or a claim of the current one)
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          state_.wait(s, std::memory_order_seq_cst);
          sleepers_.fetch_sub(1, std::memory_order_seq_cst);
        }
        s = state_.load(std::memory_order_acquire);
      }
    }
    if (stop_.load()) return;
    seen = gen_of(s);
    run_chunks(seen);
  }
}

}  // namespace g4
