// Streaming GGUF v3 writer. Metadata and tensor infos are declared first; the header goes to disk on
// open(), and then tensor data is appended one tensor (or one piece of a tensor) at a time, so a model
// never has to be in memory whole. Every write is checked: a full disk is an error naming the file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "io/gguf.h"

namespace g4 {

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = 32);  // must be a power of two
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Metadata, written in the order first set; setting a key again replaces its value in place.
  void set(const std::string& key, GgufValue v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string(const std::string& key, std::string v);
  void set_u32_array(const std::string& key, const std::vector<int64_t>& v);
  void set_i32_array(const std::string& key, const std::vector<int64_t>& v);
  void set_f32_array(const std::string& key, const std::vector<double>& v);
  void set_bool_array(const std::string& key, const std::vector<bool>& v);
  void set_string_array(const std::string& key, std::vector<std::string> v);
  bool has(const std::string& key) const;
  void erase(const std::string& key);
  // Copies every key of `f` (general.architecture first, as llama.cpp's writers do) except
  // general.alignment, which this writer owns.
  void copy_metadata(const GgufFile& f);

  // Declares a tensor: `shape` is row-major (outermost first) and becomes ggml's ne[] reversed.
  // Fails for a type GGUF cannot hold, a row not a whole number of blocks, or a duplicate name.
  Status add_tensor(const std::string& name, DType type, const std::vector<int64_t>& shape);
  size_t tensor_count() const { return tensors_.size(); }
  size_t tensor_bytes(size_t i) const { return tensors_[i].nbytes; }
  // Bytes of the whole file once written.
  uint64_t file_size() const;

  // Writes header, metadata and tensor infos to `path` (created or truncated).
  Status open(const std::string& path);
  // Appends data of the current tensor (the first not yet complete, in add_tensor order). A piece
  // may not run past the current tensor's end; padding between tensors is written automatically.
  Status write(const void* data, size_t n);
  // Name and bytes still missing of the tensor that write() appends to ("" when all are complete).
  std::string current_tensor() const;
  // Checks that every tensor was written in full, flushes and closes. Without close() (or after an
  // error) the file is left incomplete; callers write to a temporary name and rename on success.
  Status close();

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    uint64_t offset;  // relative to the data section
    size_t nbytes;
  };
  Status put(const void* p, size_t n);
  Status pad_to(uint64_t multiple);
  Status write_value(const GgufValue& v);
  Status write_string(const std::string& s);

  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> meta_;
  std::vector<Tensor> tensors_;
  uint64_t data_size_ = 0;  // data section bytes so far (aligned end of the last tensor declared)
  std::string path_;
  std::FILE* f_ = nullptr;
  uint64_t pos_ = 0;  // bytes written to the file
  uint64_t data_start_ = 0;
  size_t cur_ = 0;         // tensor being written
  size_t cur_done_ = 0;    // its bytes written so far
};

}  // namespace g4
