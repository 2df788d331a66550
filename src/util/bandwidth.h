// Measures the machine's memory read bandwidth, for the decode speed bound that g4 bench reports.
#pragma once

#include <cstddef>

namespace g4 {

// Bytes per second that `threads` threads read from a buffer far larger than the caches (best of a
// few passes). Each thread reads four distant parts of its share at once, as the decode kernel does.
double measure_read_bandwidth(int threads, size_t buffer_bytes = size_t(1) << 30);

}  // namespace g4
