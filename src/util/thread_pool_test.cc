// The thread pool hands out every index exactly once, across many back-to-back jobs (workers
// spinning), jobs after the workers fell asleep, several calling threads, and more chunks than threads.
#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace g4 {
namespace {

// Runs one job over [0, n) and checks each index was visited once.
void expect_once(ThreadPool& pool, int64_t n, int64_t grain, int per_thread) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  for (auto& h : hits) h.store(0);
  std::atomic<int> calls{0};
  pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
    ASSERT_LE(0, b);
    ASSERT_LT(b, e);
    ASSERT_LE(e, n);
    calls.fetch_add(1);
    for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1);
  }, per_thread);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(1, hits[size_t(i)].load()) << "index " << i << " of " << n;
  EXPECT_LE(calls.load(), pool.size() * std::max(1, per_thread));
}

TEST(ThreadPool, EveryIndexOnceBackToBack) {
  ThreadPool pool(4);
  for (int it = 0; it < 2000; ++it) expect_once(pool, 1 + it % 97, 1 + it % 5, 1 + it % 9);
}

TEST(ThreadPool, EveryIndexOnceAfterWorkersSleep) {
  ThreadPool pool(3);
  for (int it = 0; it < 5; ++it) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // well past the spin time
    expect_once(pool, 1000, 1, 8);
  }
}

TEST(ThreadPool, SeveralCallers) {
  ThreadPool pool(3);
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c)
    callers.emplace_back([&pool, c] {
      for (int it = 0; it < 300; ++it) expect_once(pool, 50 + c, 1, 2);
    });
  for (auto& t : callers) t.join();
}

TEST(ThreadPool, SmallJobsRunOnTheCaller) {
  ThreadPool pool(4);
  const auto me = std::this_thread::get_id();
  bool on_caller = false;
  pool.parallel_for(10, 100, [&](int64_t b, int64_t e) {
    on_caller = std::this_thread::get_id() == me && b == 0 && e == 10;
  });
  EXPECT_TRUE(on_caller);
  int calls = 0;
  pool.parallel_for(0, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(0, calls);
}

TEST(ThreadPool, WorkersTakePart) {
  ThreadPool pool(2);
  std::atomic<int> others{0};
  const auto me = std::this_thread::get_id();
  // Chunks that take long enough for the worker to claim one.
  for (int it = 0; it < 20 && others.load() == 0; ++it)
    pool.parallel_for(8, 1, [&](int64_t, int64_t) {
      if (std::this_thread::get_id() != me) others.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }, 4);
  EXPECT_GT(others.load(), 0);
}

}  // namespace
}  // namespace g4
