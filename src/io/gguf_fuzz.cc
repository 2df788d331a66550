// libFuzzer target for the GGUF parser: any input must give a file or an error, never a crash,
// and every tensor of a parsed file must lie inside the input.
#include <cstdlib>
#include <string>

#include "io/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = g4::parse_gguf(data, size, "fuzz.gguf");
  if (!r.ok()) return 0;
  for (const auto& [key, v] : r->meta) {
    // Every getter must answer without throwing, whatever the value's type.
    (void)r->get_int(key);
    (void)r->get_float(key);
    (void)r->get_string(key);
    (void)r->get_int_array(key);
    (void)r->get_bool_array(key);
    (void)r->get_string_array(key);
  }
  unsigned sum = 0;
  for (const auto& [name, t] : r->tensors.tensors()) {
    if (t.data < data || t.nbytes > size || t.data + t.nbytes > data + size) std::abort();
    if (uint64_t(t.numel()) * g4::dtype_size(t.dtype) != t.nbytes) std::abort();
    for (size_t i = 0; i < t.nbytes; ++i) sum += t.data[i];  // ASan checks every byte is readable
  }
  return int(sum & 0);
}
