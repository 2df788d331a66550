// GGUF v3 writer: the same layout io/gguf.cc reads (see there), written in one pass. Tensor offsets
// are known before any data is written because every tensor's byte size follows from its type and
// shape, so the header can go first and the data can be streamed after it.
#include "io/gguf_writer.h"

#include <cerrno>
#include <cinttypes>
#include <cstring>

namespace g4 {

using VT = GgufValue::Type;

namespace {

GgufValue scalar(VT t, decltype(GgufValue::v) v) {
  GgufValue g;
  g.type = t;
  g.v = std::move(v);
  return g;
}

GgufValue array(VT elem, decltype(GgufValue::v) v) {
  GgufValue g;
  g.type = VT::ARRAY;
  g.elem_type = elem;
  g.v = std::move(v);
  return g;
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment ? alignment : 32) {
  if (alignment_ != 32) set_u32("general.alignment", alignment_);
}

GgufWriter::~GgufWriter() {
  if (f_) std::fclose(f_);
}

void GgufWriter::set(const std::string& key, GgufValue v) {
  for (auto& kv : meta_) {
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  }
  meta_.emplace_back(key, std::move(v));
}

void GgufWriter::set_u32(const std::string& k, uint32_t v) { set(k, scalar(VT::U32, int64_t(v))); }
void GgufWriter::set_i32(const std::string& k, int32_t v) { set(k, scalar(VT::I32, int64_t(v))); }
void GgufWriter::set_u64(const std::string& k, uint64_t v) { set(k, scalar(VT::U64, int64_t(v))); }
void GgufWriter::set_f32(const std::string& k, float v) { set(k, scalar(VT::F32, double(v))); }
void GgufWriter::set_bool(const std::string& k, bool v) { set(k, scalar(VT::BOOL, v)); }
void GgufWriter::set_string(const std::string& k, std::string v) { set(k, scalar(VT::STRING, std::move(v))); }
void GgufWriter::set_u32_array(const std::string& k, const std::vector<int64_t>& v) { set(k, array(VT::U32, v)); }
void GgufWriter::set_i32_array(const std::string& k, const std::vector<int64_t>& v) { set(k, array(VT::I32, v)); }
void GgufWriter::set_f32_array(const std::string& k, const std::vector<double>& v) { set(k, array(VT::F32, v)); }
void GgufWriter::set_bool_array(const std::string& k, const std::vector<bool>& v) { set(k, array(VT::BOOL, v)); }
void GgufWriter::set_string_array(const std::string& k, std::vector<std::string> v) {
  set(k, array(VT::STRING, std::move(v)));
}

bool GgufWriter::has(const std::string& key) const {
  for (const auto& kv : meta_)
    if (kv.first == key) return true;
  return false;
}

void GgufWriter::erase(const std::string& key) {
  for (auto it = meta_.begin(); it != meta_.end(); ++it) {
    if (it->first == key) {
      meta_.erase(it);
      return;
    }
  }
}

void GgufWriter::copy_metadata(const GgufFile& f) {
  if (const GgufValue* a = f.get("general.architecture")) set("general.architecture", *a);
  for (const auto& [k, v] : f.meta)
    if (k != "general.alignment" && k != "general.architecture") set(k, v);
}

Status GgufWriter::add_tensor(const std::string& name, DType type, const std::vector<int64_t>& shape) {
  if (f_) return make_error("gguf writer: tensor '%s' declared after the header was written", name.c_str());
  int id = ggml_type_id(type);
  if (id < 0)
    return make_error("tensor '%s': type %s cannot be stored in GGUF", name.c_str(),
                      std::string(dtype_name(type)).c_str());
  if (shape.empty() || shape.size() > 4)
    return make_error("tensor '%s': %zu dimensions (GGUF holds 1 to 4)", name.c_str(), shape.size());
  for (auto d : shape)
    if (d < 0) return make_error("tensor '%s': negative dimension in %s", name.c_str(), shape_str(shape).c_str());
  if (shape.back() % dtype_block(type) != 0)
    return make_error("tensor '%s': row length %lld is not a multiple of the %s block size %lld", name.c_str(),
                      (long long)shape.back(), std::string(dtype_name(type)).c_str(), (long long)dtype_block(type));
  for (const auto& t : tensors_)
    if (t.name == name) return make_error("gguf writer: duplicate tensor '%s'", name.c_str());
  int64_t numel = 1;
  for (auto d : shape) numel *= d;
  Tensor t{name, type, shape, data_size_, dtype_row_bytes(type, numel)};
  data_size_ = align_up(t.offset + t.nbytes, alignment_);
  tensors_.push_back(std::move(t));
  return {};
}

uint64_t GgufWriter::file_size() const {
  uint64_t n = 4 + 4 + 8 + 8;
  auto str = [](const std::string& s) { return 8 + uint64_t(s.size()); };
  for (const auto& [k, v] : meta_) {
    n += str(k) + 4;
    auto scalar_bytes = [](VT t) -> uint64_t {
      switch (t) {
        case VT::U8: case VT::I8: case VT::BOOL: return 1;
        case VT::U16: case VT::I16: return 2;
        case VT::U32: case VT::I32: case VT::F32: return 4;
        default: return 8;
      }
    };
    if (v.type == VT::STRING) {
      n += str(std::get<std::string>(v.v));
    } else if (v.is_array()) {
      n += 4 + 8;
      if (const auto* s = std::get_if<std::vector<std::string>>(&v.v)) {
        for (const auto& x : *s) n += str(x);
      } else {
        size_t count = std::visit(
            [](const auto& x) -> size_t {
              if constexpr (requires { x.size(); }) return x.size();
              else return 0;
            },
            v.v);
        n += count * scalar_bytes(v.elem_type);
      }
    } else {
      n += scalar_bytes(v.type);
    }
  }
  for (const auto& t : tensors_) n += str(t.name) + 4 + 8 * t.shape.size() + 4 + 8;
  return align_up(n, alignment_) + data_size_;
}

Status GgufWriter::put(const void* p, size_t n) {
  if (!f_) return make_error("%s: not open for writing", path_.c_str());
  if (n && std::fwrite(p, 1, n, f_) != n) {
    int e = errno;
    return make_error("%s: write failed at byte %" PRIu64 ": %s", path_.c_str(), pos_,
                      e ? std::strerror(e) : "I/O error");
  }
  pos_ += n;
  return {};
}

Status GgufWriter::pad_to(uint64_t multiple) {
  static const uint8_t zeros[64] = {};
  uint64_t target = align_up(pos_, multiple);
  while (pos_ < target) G4_TRY(put(zeros, size_t(std::min<uint64_t>(sizeof zeros, target - pos_))));
  return {};
}

Status GgufWriter::write_string(const std::string& s) {
  uint64_t n = s.size();
  G4_TRY(put(&n, 8));
  return put(s.data(), s.size());
}

namespace {

// Little-endian bytes of one scalar of type t (integers from int64, floats from double).
size_t encode(VT t, int64_t i, double d, bool b, uint8_t* out) {
  switch (t) {
    case VT::U8: case VT::I8: out[0] = uint8_t(i); return 1;
    case VT::BOOL: out[0] = b ? 1 : 0; return 1;
    case VT::U16: case VT::I16: { uint16_t v = uint16_t(i); std::memcpy(out, &v, 2); return 2; }
    case VT::U32: case VT::I32: { uint32_t v = uint32_t(i); std::memcpy(out, &v, 4); return 4; }
    case VT::U64: case VT::I64: std::memcpy(out, &i, 8); return 8;
    case VT::F32: { float v = float(d); std::memcpy(out, &v, 4); return 4; }
    case VT::F64: std::memcpy(out, &d, 8); return 8;
    default: return 0;
  }
}

}  // namespace

Status GgufWriter::write_value(const GgufValue& v) {
  uint32_t type = uint32_t(v.type);
  G4_TRY(put(&type, 4));
  uint8_t buf[8];
  auto bad = [&] { return make_error("%s: metadata value does not match its type tag", path_.c_str()); };
  if (!v.is_array()) {
    if (v.type == VT::STRING) {
      const auto* s = std::get_if<std::string>(&v.v);
      if (!s) return bad();
      return write_string(*s);
    }
    const auto* i = std::get_if<int64_t>(&v.v);
    const auto* d = std::get_if<double>(&v.v);
    const auto* b = std::get_if<bool>(&v.v);
    if (v.type == VT::BOOL ? !b : (v.type == VT::F32 || v.type == VT::F64) ? !d : !i) return bad();
    size_t n = encode(v.type, i ? *i : 0, d ? *d : 0, b ? *b : false, buf);
    if (!n) return bad();
    return put(buf, n);
  }
  uint32_t et = uint32_t(v.elem_type);
  G4_TRY(put(&et, 4));
  if (const auto* s = std::get_if<std::vector<std::string>>(&v.v)) {
    if (v.elem_type != VT::STRING) return bad();
    uint64_t n = s->size();
    G4_TRY(put(&n, 8));
    for (const auto& x : *s) G4_TRY(write_string(x));
    return {};
  }
  // Numeric arrays are encoded into one buffer so a 262K-entry array is one write.
  std::vector<uint8_t> bytes;
  uint64_t count = 0;
  auto add = [&](int64_t i, double d, bool b) {
    size_t n = encode(v.elem_type, i, d, b, buf);
    bytes.insert(bytes.end(), buf, buf + n);
    ++count;
  };
  if (const auto* a = std::get_if<std::vector<int64_t>>(&v.v)) {
    if (v.elem_type == VT::BOOL || v.elem_type == VT::F32 || v.elem_type == VT::F64 || v.elem_type == VT::STRING)
      return bad();
    for (int64_t x : *a) add(x, 0, false);
  } else if (const auto* f = std::get_if<std::vector<double>>(&v.v)) {
    if (v.elem_type != VT::F32 && v.elem_type != VT::F64) return bad();
    for (double x : *f) add(0, x, false);
  } else if (const auto* b = std::get_if<std::vector<bool>>(&v.v)) {
    if (v.elem_type != VT::BOOL) return bad();
    for (bool x : *b) add(0, 0, x);
  } else {
    return bad();
  }
  G4_TRY(put(&count, 8));
  return put(bytes.data(), bytes.size());
}

Status GgufWriter::open(const std::string& path) {
  if (f_) return make_error("%s: already open", path_.c_str());
  path_ = path;
  errno = 0;
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) return make_error("%s: cannot create: %s", path.c_str(), std::strerror(errno));
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
  pos_ = 0;
  const uint32_t version = 3;
  const uint64_t n_tensors = tensors_.size(), n_kv = meta_.size();
  G4_TRY(put("GGUF", 4));
  G4_TRY(put(&version, 4));
  G4_TRY(put(&n_tensors, 8));
  G4_TRY(put(&n_kv, 8));
  for (const auto& [k, v] : meta_) {
    G4_TRY(write_string(k));
    Status s = write_value(v);
    if (!s) return make_error("%s (key '%s')", s.error().message.c_str(), k.c_str());
  }
  for (const auto& t : tensors_) {
    G4_TRY(write_string(t.name));
    uint32_t n_dims = uint32_t(t.shape.size());
    G4_TRY(put(&n_dims, 4));
    for (size_t i = 0; i < t.shape.size(); ++i) {
      uint64_t ne = uint64_t(t.shape[t.shape.size() - 1 - i]);
      G4_TRY(put(&ne, 8));
    }
    uint32_t type = uint32_t(ggml_type_id(t.type));
    G4_TRY(put(&type, 4));
    G4_TRY(put(&t.offset, 8));
  }
  G4_TRY(pad_to(alignment_));
  data_start_ = pos_;
  cur_ = 0;
  cur_done_ = 0;
  return {};
}

std::string GgufWriter::current_tensor() const { return cur_ < tensors_.size() ? tensors_[cur_].name : ""; }

Status GgufWriter::write(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    // Zero-size tensors complete without data.
    while (cur_ < tensors_.size() && cur_done_ == tensors_[cur_].nbytes) {
      ++cur_;
      cur_done_ = 0;
    }
    if (cur_ >= tensors_.size())
      return make_error("%s: %zu bytes written past the last tensor", path_.c_str(), n);
    const Tensor& t = tensors_[cur_];
    if (cur_done_ == 0) {
      G4_TRY(pad_to(alignment_));
      if (pos_ != data_start_ + t.offset)
        return make_error("%s: internal: tensor '%s' lands at %" PRIu64 ", expected %" PRIu64, path_.c_str(),
                          t.name.c_str(), pos_ - data_start_, t.offset);
    }
    size_t take = std::min(n, t.nbytes - cur_done_);
    G4_TRY(put(p, take));
    cur_done_ += take;
    p += take;
    n -= take;
    if (n > 0 && cur_done_ == t.nbytes) {
      // A piece that runs past this tensor would silently shift the next one: refuse it.
      return make_error("%s: a write for tensor '%s' runs %zu bytes past its end", path_.c_str(), t.name.c_str(), n);
    }
  }
  return {};
}

Status GgufWriter::close() {
  if (!f_) return make_error("%s: not open", path_.c_str());
  while (cur_ < tensors_.size() && cur_done_ == tensors_[cur_].nbytes) {
    ++cur_;
    cur_done_ = 0;
  }
  if (cur_ < tensors_.size())
    return make_error("%s: tensor '%s' is incomplete (%zu of %zu bytes written)", path_.c_str(),
                      tensors_[cur_].name.c_str(), cur_done_, tensors_[cur_].nbytes);
  // The data section ends padded like every tensor, as ggml's writer does.
  G4_TRY(pad_to(alignment_));
  std::FILE* f = f_;
  f_ = nullptr;
  errno = 0;
  bool flushed = std::fflush(f) == 0;
  int e = errno;
  bool closed = std::fclose(f) == 0;
  if (!closed && !e) e = errno;
  if (!flushed || !closed)
    return make_error("%s: write failed at close: %s", path_.c_str(), e ? std::strerror(e) : "I/O error");
  return {};
}

}  // namespace g4
