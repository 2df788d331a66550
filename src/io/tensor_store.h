// What the model loader sees of a weights file: named tensors with a dtype, a row-major shape
// (outermost dimension first, as PyTorch writes it) and a pointer into a memory map.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/mapped_file.h"
#include "util/dtype.h"

namespace g4 {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // row-major: shape.back() is contiguous
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  std::string file;  // the file it came from, for error messages

  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

std::string shape_str(const std::vector<int64_t>& shape);  // "[4096, 3840]"

// A set of tensors, possibly spread over several files (shards), kept alive by their maps.
class TensorStore {
 public:
  const TensorInfo* find(std::string_view name) const;
  const std::map<std::string, TensorInfo, std::less<>>& tensors() const { return tensors_; }
  // Fails if a tensor of that name is already present.
  Status add(TensorInfo t);
  void keep_alive(std::shared_ptr<MappedFile> f) { files_.push_back(std::move(f)); }
  // Keeps memory the store's tensors point into (copies made at load, e.g. quantized weights).
  void keep_alive_buffer(std::shared_ptr<const void> b) { buffers_.push_back(std::move(b)); }
  // Replaces the tensor of t.name; fails if there is none.
  Status replace(TensorInfo t);
  // Fails on a tensor name present in both (shards must not overlap).
  Status merge(TensorStore&& other);

 private:
  std::map<std::string, TensorInfo, std::less<>> tensors_;
  std::vector<std::shared_ptr<MappedFile>> files_;
  std::vector<std::shared_ptr<const void>> buffers_;
};

}  // namespace g4
