#include "util/thread_pool.h"

#include <algorithm>

namespace g4 {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_work_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t chunks = std::min<int64_t>(size(), (n + grain - 1) / grain);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  std::unique_lock<std::mutex> lk(mu_);
  fn_ = &fn;
  n_ = n;
  n_chunks_ = chunks;
  chunk_ = (n + chunks - 1) / chunks;
  next_chunk_ = 0;
  done_chunks_ = 0;
  ++generation_;
  lk.unlock();
  cv_work_.notify_all();
  // The caller works too.
  for (;;) {
    lk.lock();
    if (next_chunk_ >= n_chunks_) break;
    int64_t c = next_chunk_++;
    lk.unlock();
    fn(c * chunk_, std::min(n, (c + 1) * chunk_));
    lk.lock();
    ++done_chunks_;
    lk.unlock();
  }
  cv_done_.wait(lk, [&] { return done_chunks_ == n_chunks_; });
  fn_ = nullptr;
}

void ThreadPool::worker(int) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_work_.wait(lk, [&] { return stop_ || (generation_ != seen && fn_ && next_chunk_ < n_chunks_); });
    if (stop_) return;
    seen = generation_;
    while (fn_ && next_chunk_ < n_chunks_) {
      int64_t c = next_chunk_++;
      const auto* fn = fn_;
      int64_t n = n_, chunk = chunk_;
      lk.unlock();
      (*fn)(c * chunk, std::min(n, (c + 1) * chunk));
      lk.lock();
      if (++done_chunks_ == n_chunks_) cv_done_.notify_all();
    }
  }
}

}  // namespace g4
