#include "io/tensor_store.h"

namespace g4 {

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

const TensorInfo* TensorStore::find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Status TensorStore::add(TensorInfo t) {
  if (tensors_.count(t.name)) return make_error("%s: duplicate tensor '%s'", t.file.c_str(), t.name.c_str());
  std::string key = t.name;
  tensors_.emplace(std::move(key), std::move(t));
  return {};
}

Status TensorStore::replace(TensorInfo t) {
  auto it = tensors_.find(t.name);
  if (it == tensors_.end()) return make_error("%s: no tensor '%s' to replace", t.file.c_str(), t.name.c_str());
  it->second = std::move(t);
  return {};
}

Status TensorStore::merge(TensorStore&& other) {
  for (auto& [k, v] : other.tensors_) G4_TRY(add(std::move(v)));
  for (auto& f : other.files_) files_.push_back(std::move(f));
  for (auto& b : other.buffers_) buffers_.push_back(std::move(b));
  return {};
}

}  // namespace g4
