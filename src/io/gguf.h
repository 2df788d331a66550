// Reader for GGUF files (llama.cpp's model format, versions 2 and 3).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "io/tensor_store.h"

namespace g4 {

// One metadata value. Arrays hold scalars or strings (nested arrays are rejected).
struct GgufValue {
  enum class Type : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12
  };
  Type type = Type::U32;
  Type elem_type = Type::U32;  // for arrays
  // Scalars: integers widened to int64 (u64 above 2^63 is rejected), floats to double.
  std::variant<int64_t, double, bool, std::string, std::vector<int64_t>, std::vector<double>,
               std::vector<bool>, std::vector<std::string>>
      v;

  bool is_array() const { return type == Type::ARRAY; }
};

struct GgufFile {
  uint32_t version = 0;
  std::map<std::string, GgufValue> meta;
  TensorStore tensors;  // shapes converted to row-major (GGUF ne[] reversed)

  const GgufValue* get(const std::string& key) const {
    auto it = meta.find(key);
    return it == meta.end() ? nullptr : &it->second;
  }
  // Typed getters: an error names the key and what was expected.
  Result<int64_t> get_int(const std::string& key) const;
  Result<double> get_float(const std::string& key) const;  // accepts integer types too
  Result<std::string> get_string(const std::string& key) const;
  Result<std::vector<int64_t>> get_int_array(const std::string& key) const;
  Result<std::vector<bool>> get_bool_array(const std::string& key) const;
  Result<std::vector<std::string>> get_string_array(const std::string& key) const;
};

// Parses a GGUF image in memory. Tensor data pointers point into `bytes`.
Result<GgufFile> parse_gguf(const uint8_t* bytes, size_t size, const std::string& file);

// Maps `path` and parses it; the returned file keeps the map alive.
Result<GgufFile> load_gguf(const std::string& path);

// The ggml type id of a DType that GGUF files can hold (-1 for I64-like types without one).
int ggml_type_id(DType t);
// ggml's block size and bytes per block for a type id (false for an unknown id), for tests.
bool ggml_type_layout(uint32_t id, uint32_t* block_size, uint32_t* type_size);

}  // namespace g4
