// libFuzzer target for the safetensors parser: any input must give tensors or an error, never a
// crash, and every tensor must lie inside the input.
#include <cstdlib>
#include <string>

#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = g4::parse_safetensors(data, size, "fuzz.safetensors");
  if (!r.ok()) return 0;
  unsigned sum = 0;
  for (const auto& [name, t] : r->tensors()) {
    if (t.data < data || t.nbytes > size || t.data + t.nbytes > data + size) std::abort();
    if (uint64_t(t.numel()) * g4::dtype_size(t.dtype) != t.nbytes) std::abort();
    for (size_t i = 0; i < t.nbytes; ++i) sum += t.data[i];  // ASan checks every byte is readable
  }
  return int(sum & 0);
}
