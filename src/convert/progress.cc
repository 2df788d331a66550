// Progress line on stderr for g4 quantize (see progress.h).
#include "convert/progress.h"

#include <unistd.h>

#include <cstdio>

namespace g4::convert {

namespace {

double mib(uint64_t b) { return double(b) / (1024.0 * 1024.0); }

}  // namespace

Progress::Progress(int n_tensors, uint64_t total_bytes, bool quiet)
    : n_(n_tensors), total_(total_bytes ? total_bytes : 1), quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::update(int i, const std::string& tensor, uint64_t bytes) {
  if (quiet_) return;
  auto now = std::chrono::steady_clock::now();
  // A terminal is redrawn often; a log gets a line every 5 s so it stays readable.
  const double gap = std::chrono::duration<double>(now - last_).count();
  if (gap < (tty_ ? 0.1 : 5.0)) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = double(bytes) / double(total_);
  const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
  std::fprintf(stderr, "%s[%d/%d] %-32s %8.1f / %.1f MiB  %3.0f%%  ETA %.0f s%s", tty_ ? "\r\033[K" : "", i + 1, n_,
               tensor.c_str(), mib(bytes), mib(total_), 100 * frac, eta, tty_ ? "" : "\n");
  std::fflush(stderr);
}

void Progress::finish(uint64_t bytes) {
  if (quiet_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%s%d tensors, %.1f MiB written in %.1f s\n", tty_ ? "\r\033[K" : "", n_, mib(bytes), elapsed);
}

}  // namespace g4::convert
