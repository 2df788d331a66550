// Progress of a long conversion on stderr: one redrawn line on a terminal (tensor i/N, bytes, ETA),
// plain lines every few seconds otherwise (logs, CI), nothing when quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace g4::convert {

class Progress {
 public:
  Progress(int n_tensors, uint64_t total_bytes, bool quiet);
  // Called as work advances: `i` tensors finished (0-based index of the one in progress),
  // `bytes` output bytes written so far.
  void update(int i, const std::string& tensor, uint64_t bytes);
  void finish(uint64_t bytes);

 private:
  int n_;
  uint64_t total_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace g4::convert
