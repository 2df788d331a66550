// GGUF reader. Layout (all little-endian):
//   "GGUF" | u32 version | u64 n_tensors | u64 n_kv | n_kv x (string key, u32 type, value)
//   | n_tensors x (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)
//   | padding to general.alignment | tensor data (offsets relative to here, each aligned).
// A string is u64 length + bytes; an array is u32 element type + u64 count + elements.
// Every read is bounds-checked against the buffer; counts are checked against the bytes left
// before anything is allocated for them.
#include "io/gguf.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <utility>

namespace g4 {
namespace {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

constexpr uint32_t kMaxDims = 4;            // GGML_MAX_DIMS
constexpr uint64_t kDefaultAlignment = 32;  // GGUF_DEFAULT_ALIGNMENT

// ggml tensor types. `dtype` is set for the types the engine can use (their block sizes agree with
// dtype_block / dtype_block_bytes, which a test checks); the others are refused by name.
struct GgmlType {
  uint32_t id;
  const char* name;
  uint32_t block_size;  // elements per block (1 for plain types)
  uint32_t type_size;   // bytes per block
  std::optional<DType> dtype;
};

constexpr uint32_t kQK = 256;  // QK_K, the super-block size of the k-quants and i-quants
const GgmlType kGgmlTypes[] = {
    {0, "F32", 1, 4, DType::F32},
    {1, "F16", 1, 2, DType::F16},
    {2, "Q4_0", 32, 2 + 16, DType::Q4_0},
    {3, "Q4_1", 32, 2 + 2 + 16, DType::Q4_1},
    {6, "Q5_0", 32, 2 + 4 + 16, DType::Q5_0},
    {7, "Q5_1", 32, 2 + 2 + 4 + 16, DType::Q5_1},
    {8, "Q8_0", 32, 2 + 32, DType::Q8_0},
    {9, "Q8_1", 32, 4 + 4 + 32, std::nullopt},
    {10, "Q2_K", kQK, 2 + 2 + kQK / 16 + kQK / 4, std::nullopt},
    {11, "Q3_K", kQK, 2 + kQK / 4 + kQK / 8 + 12, std::nullopt},
    {12, "Q4_K", kQK, 2 + 2 + kQK / 2 + 12, DType::Q4_K},
    {13, "Q5_K", kQK, 2 + 2 + kQK / 2 + kQK / 8 + 12, DType::Q5_K},
    {14, "Q6_K", kQK, 2 + kQK / 2 + kQK / 4 + kQK / 16, DType::Q6_K},
    {15, "Q8_K", kQK, 4 + kQK + kQK / 8, std::nullopt},
    {16, "IQ2_XXS", kQK, 2 + kQK / 4, std::nullopt},
    {17, "IQ2_XS", kQK, 2 + kQK / 4 + kQK / 32, std::nullopt},
    {18, "IQ3_XXS", kQK, 2 + kQK / 4 + kQK / 8, std::nullopt},
    {19, "IQ1_S", kQK, 2 + kQK / 8 + kQK / 16, std::nullopt},
    {20, "IQ4_NL", 32, 2 + 16, DType::IQ4_NL},
    {21, "IQ3_S", kQK, 2 + kQK / 4 + kQK / 8 + kQK / 32 + 4, std::nullopt},
    {22, "IQ2_S", kQK, 2 + kQK / 4 + kQK / 16, std::nullopt},
    {23, "IQ4_XS", kQK, 2 + 2 + kQK / 2 + kQK / 64, DType::IQ4_XS},
    {24, "I8", 1, 1, DType::I8},
    {25, "I16", 1, 2, std::nullopt},
    {26, "I32", 1, 4, DType::I32},
    {27, "I64", 1, 8, DType::I64},
    {28, "F64", 1, 8, DType::F64},
    {29, "IQ1_M", kQK, kQK / 8 + kQK / 16 + kQK / 32, std::nullopt},
    {30, "BF16", 1, 2, DType::BF16},
    {34, "TQ1_0", kQK, 2 + 4 * 13, std::nullopt},
    {35, "TQ2_0", kQK, 2 + 64, std::nullopt},
    {39, "MXFP4", 32, 1 + 16, std::nullopt},
    {40, "NVFP4", 64, 4 + 32, std::nullopt},
    {41, "Q1_0", 128, 2 + 16, std::nullopt},
};

const GgmlType* find_ggml_type(uint32_t id) {
  for (const auto& t : kGgmlTypes) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

using VT = GgufValue::Type;

const char* value_type_name(VT t) {
  switch (t) {
    case VT::U8: return "U8";
    case VT::I8: return "I8";
    case VT::U16: return "U16";
    case VT::I16: return "I16";
    case VT::U32: return "U32";
    case VT::I32: return "I32";
    case VT::F32: return "F32";
    case VT::BOOL: return "BOOL";
    case VT::STRING: return "STRING";
    case VT::ARRAY: return "ARRAY";
    case VT::U64: return "U64";
    case VT::I64: return "I64";
    case VT::F64: return "F64";
  }
  return "?";
}

// Counts are only known to fit in the file, and the decoded form of an element can be larger than
// its encoding (a U8 becomes an int64), so don't reserve more than this up front.
size_t capped(uint64_t n) { return size_t(std::min<uint64_t>(n, 1 << 16)); }

bool is_known_value_type(uint32_t t) { return t <= uint32_t(VT::F64); }

bool is_integer_type(VT t) {
  switch (t) {
    case VT::U8:
    case VT::I8:
    case VT::U16:
    case VT::I16:
    case VT::U32:
    case VT::I32:
    case VT::U64:
    case VT::I64: return true;
    default: return false;
  }
}

bool is_float_type(VT t) { return t == VT::F32 || t == VT::F64; }

// Size in bytes of a fixed-size scalar; 0 for STRING and ARRAY.
size_t scalar_size(VT t) {
  switch (t) {
    case VT::U8:
    case VT::I8:
    case VT::BOOL: return 1;
    case VT::U16:
    case VT::I16: return 2;
    case VT::U32:
    case VT::I32:
    case VT::F32: return 4;
    case VT::U64:
    case VT::I64:
    case VT::F64: return 8;
    default: return 0;
  }
}

std::string type_desc(const GgufValue& v) {
  if (!v.is_array()) return value_type_name(v.type);
  return std::string("ARRAY[") + value_type_name(v.elem_type) + "]";
}

// Errors from the reader carry no file name; parse_gguf prefixes it.
class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return n_ - pos_; }

  template <typename T>
  Result<T> read(const char* what) {
    if (remaining() < sizeof(T)) return truncated(what);
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  Result<std::string> read_string(const char* what) {
    size_t at = pos_;
    G4_ASSIGN_OR_RETURN(uint64_t len, read<uint64_t>(what));
    if (len > remaining()) {
      return make_error("%s at offset %zu has length %" PRIu64 " but only %zu bytes remain", what, at, len,
                        remaining());
    }
    std::string s(reinterpret_cast<const char*>(p_ + pos_), size_t(len));
    pos_ += size_t(len);
    return s;
  }

  Error truncated(const char* what) const {
    return make_error("unexpected end of file at offset %zu reading %s", pos_, what);
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

template <typename T>
Result<int64_t> read_widened(Reader& r, const char* what) {
  G4_ASSIGN_OR_RETURN(T v, r.read<T>(what));
  return int64_t(v);
}

// Reads one integer of type `t` widened to int64 (u64 values above INT64_MAX are rejected).
Result<int64_t> read_int(Reader& r, VT t) {
  switch (t) {
    case VT::U8: return read_widened<uint8_t>(r, "U8 value");
    case VT::I8: return read_widened<int8_t>(r, "I8 value");
    case VT::U16: return read_widened<uint16_t>(r, "U16 value");
    case VT::I16: return read_widened<int16_t>(r, "I16 value");
    case VT::U32: return read_widened<uint32_t>(r, "U32 value");
    case VT::I32: return read_widened<int32_t>(r, "I32 value");
    case VT::I64: return read_widened<int64_t>(r, "I64 value");
    case VT::U64: {
      G4_ASSIGN_OR_RETURN(uint64_t v, r.read<uint64_t>("U64 value"));
      if (v > uint64_t(std::numeric_limits<int64_t>::max())) {
        return make_error("U64 value %" PRIu64 " is too large (above 2^63-1)", v);
      }
      return int64_t(v);
    }
    default: return make_error("internal: %s is not an integer type", value_type_name(t));
  }
}

Result<double> read_float(Reader& r, VT t) {
  if (t == VT::F32) {
    G4_ASSIGN_OR_RETURN(float v, r.read<float>("F32 value"));
    return double(v);
  }
  G4_ASSIGN_OR_RETURN(double v, r.read<double>("F64 value"));
  return v;
}

Result<bool> read_bool(Reader& r) {
  G4_ASSIGN_OR_RETURN(uint8_t v, r.read<uint8_t>("BOOL value"));
  return v != 0;
}

Result<GgufValue> read_array(Reader& r) {
  GgufValue out;
  out.type = VT::ARRAY;
  G4_ASSIGN_OR_RETURN(uint32_t et, r.read<uint32_t>("array element type"));
  if (!is_known_value_type(et)) return make_error("array has unknown element type %u", et);
  out.elem_type = VT(et);
  if (out.elem_type == VT::ARRAY) return make_error("nested arrays are not supported");
  G4_ASSIGN_OR_RETURN(uint64_t count, r.read<uint64_t>("array length"));
  // Every element takes at least this many bytes, so a count beyond remaining/min is corrupt.
  size_t min_elem = out.elem_type == VT::STRING ? sizeof(uint64_t) : scalar_size(out.elem_type);
  if (count > r.remaining() / min_elem) {
    return make_error("array of %" PRIu64 " %s elements does not fit in the %zu bytes left", count,
                      value_type_name(out.elem_type), r.remaining());
  }
  size_t n = size_t(count);
  auto elem_error = [&](size_t i, const Error& e) {
    return make_error("array element %zu: %s", i, e.message.c_str());
  };
  if (is_integer_type(out.elem_type)) {
    std::vector<int64_t> v;
    v.reserve(capped(n));
    for (size_t i = 0; i < n; ++i) {
      auto x = read_int(r, out.elem_type);
      if (!x.ok()) return elem_error(i, x.error());
      v.push_back(*x);
    }
    out.v = std::move(v);
  } else if (is_float_type(out.elem_type)) {
    std::vector<double> v;
    v.reserve(capped(n));
    for (size_t i = 0; i < n; ++i) {
      auto x = read_float(r, out.elem_type);
      if (!x.ok()) return elem_error(i, x.error());
      v.push_back(*x);
    }
    out.v = std::move(v);
  } else if (out.elem_type == VT::BOOL) {
    std::vector<bool> v;
    v.reserve(capped(n));
    for (size_t i = 0; i < n; ++i) {
      auto x = read_bool(r);
      if (!x.ok()) return elem_error(i, x.error());
      v.push_back(*x);
    }
    out.v = std::move(v);
  } else {  // STRING
    std::vector<std::string> v;
    v.reserve(capped(n));
    for (size_t i = 0; i < n; ++i) {
      auto x = r.read_string("string");
      if (!x.ok()) return elem_error(i, x.error());
      v.push_back(std::move(*x));
    }
    out.v = std::move(v);
  }
  return out;
}

Result<GgufValue> read_value(Reader& r) {
  G4_ASSIGN_OR_RETURN(uint32_t t, r.read<uint32_t>("value type"));
  if (!is_known_value_type(t)) return make_error("unknown value type %u", t);
  VT type = VT(t);
  if (type == VT::ARRAY) return read_array(r);
  GgufValue out;
  out.type = type;
  if (is_integer_type(type)) {
    G4_ASSIGN_OR_RETURN(out.v, read_int(r, type));
  } else if (is_float_type(type)) {
    G4_ASSIGN_OR_RETURN(out.v, read_float(r, type));
  } else if (type == VT::BOOL) {
    G4_ASSIGN_OR_RETURN(out.v, read_bool(r));
  } else {
    G4_ASSIGN_OR_RETURN(out.v, r.read_string("string value"));
  }
  return out;
}

// Byte size of a tensor of `numel` elements whose innermost dimension is `ne0`.
Result<uint64_t> tensor_nbytes(const GgmlType& t, uint64_t ne0, uint64_t numel) {
  if (ne0 % t.block_size != 0) {
    return make_error("innermost dimension %" PRIu64 " is not a multiple of the %s block size %u", ne0,
                      t.name, t.block_size);
  }
  uint64_t bytes;
  if (__builtin_mul_overflow(numel / t.block_size, uint64_t(t.type_size), &bytes)) {
    return make_error("byte size overflows");
  }
  return bytes;
}

struct RawTensor {
  TensorInfo info;  // everything but `data`
  uint64_t offset;  // relative to the data section
};

Result<RawTensor> read_tensor_info(Reader& r, const std::string& file) {
  TensorInfo ti;
  ti.file = file;
  G4_ASSIGN_OR_RETURN(ti.name, r.read_string("tensor name"));
  auto fail = [&](const Error& e) {
    return make_error("tensor '%s': %s", ti.name.c_str(), e.message.c_str());
  };
  auto n_dims = r.read<uint32_t>("tensor n_dims");
  if (!n_dims.ok()) return fail(n_dims.error());
  if (*n_dims > kMaxDims) return fail(make_error("%u dimensions (at most %u supported)", *n_dims, kMaxDims));
  uint64_t ne[kMaxDims];
  // `bound` is the product of the non-zero dimensions: keeping it within int64 means that
  // multiplying the shape in any order (as TensorInfo::numel does) cannot overflow, even when a
  // zero dimension makes the element count 0.
  uint64_t numel = 1, bound = 1;
  for (uint32_t i = 0; i < *n_dims; ++i) {
    auto d = r.read<uint64_t>("tensor dimension");
    if (!d.ok()) return fail(d.error());
    ne[i] = *d;
    if (ne[i] > uint64_t(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(bound, ne[i] ? ne[i] : 1, &bound) ||
        bound > uint64_t(std::numeric_limits<int64_t>::max())) {
      return fail(make_error("dimension %u (%" PRIu64 ") makes the element count overflow", i, ne[i]));
    }
    numel *= ne[i];
  }
  auto type_id = r.read<uint32_t>("tensor type");
  if (!type_id.ok()) return fail(type_id.error());
  auto offset = r.read<uint64_t>("tensor data offset");
  if (!offset.ok()) return fail(offset.error());

  const GgmlType* type = find_ggml_type(*type_id);
  if (!type) return fail(make_error("unknown ggml type %u", *type_id));
  auto nbytes = tensor_nbytes(*type, *n_dims ? ne[0] : 1, numel);
  if (!nbytes.ok()) return fail(nbytes.error());
  if (!type->dtype) {
    const char* kind = type->block_size > 1 ? "quantized type" : "type";
    return fail(make_error("%s %s (ggml type %u) not supported yet", kind, type->name, type->id));
  }
  ti.dtype = *type->dtype;
  ti.shape.assign(*n_dims, 0);
  for (uint32_t i = 0; i < *n_dims; ++i) ti.shape[*n_dims - 1 - i] = int64_t(ne[i]);
  if (*nbytes > std::numeric_limits<size_t>::max()) return fail(make_error("byte size overflows"));
  ti.nbytes = size_t(*nbytes);
  return RawTensor{std::move(ti), *offset};
}

Result<GgufFile> parse_impl(const uint8_t* bytes, size_t size, const std::string& file) {
  Reader r(bytes, size);
  GgufFile out;
  G4_ASSIGN_OR_RETURN(uint32_t magic, r.read<uint32_t>("magic"));
  if (std::memcmp(&magic, "GGUF", 4) != 0) return make_error("not a GGUF file (bad magic)");
  G4_ASSIGN_OR_RETURN(out.version, r.read<uint32_t>("version"));
  if (out.version != 2 && out.version != 3) {
    uint32_t swapped = __builtin_bswap32(out.version);
    if (swapped == 2 || swapped == 3) return make_error("big-endian GGUF files are not supported");
    return make_error("unsupported GGUF version %u (only 2 and 3 are supported)", out.version);
  }
  G4_ASSIGN_OR_RETURN(uint64_t n_tensors, r.read<uint64_t>("tensor count"));
  G4_ASSIGN_OR_RETURN(uint64_t n_kv, r.read<uint64_t>("metadata count"));
  // Smallest encodings: a KV pair is an empty key + type + 1-byte value; a tensor info is an empty
  // name + n_dims + type + offset.
  constexpr size_t kMinKv = 8 + 4 + 1, kMinTensor = 8 + 4 + 4 + 8;
  if (n_kv > r.remaining() / kMinKv) {
    return make_error("metadata count %" PRIu64 " is too large for a file of %zu bytes", n_kv, size);
  }
  if (n_tensors > r.remaining() / kMinTensor) {
    return make_error("tensor count %" PRIu64 " is too large for a file of %zu bytes", n_tensors, size);
  }

  for (uint64_t i = 0; i < n_kv; ++i) {
    auto key = r.read_string("metadata key");
    if (!key.ok()) return make_error("metadata entry %" PRIu64 ": %s", i, key.error().message.c_str());
    auto value = read_value(r);
    if (!value.ok()) return make_error("key '%s': %s", key->c_str(), value.error().message.c_str());
    if (!out.meta.emplace(*key, std::move(*value)).second) {
      return make_error("duplicate key '%s'", key->c_str());
    }
  }

  uint64_t alignment = kDefaultAlignment;
  if (const GgufValue* a = out.get("general.alignment")) {
    if (a->is_array() || !is_integer_type(a->type)) {
      return make_error("key 'general.alignment' has type %s, expected integer", type_desc(*a).c_str());
    }
    int64_t v = std::get<int64_t>(a->v);
    if (v <= 0 || (v & (v - 1)) != 0) {
      return make_error("general.alignment %" PRId64 " is not a positive power of two", v);
    }
    alignment = uint64_t(v);
  }

  std::vector<RawTensor> infos;
  infos.reserve(capped(n_tensors));
  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    G4_ASSIGN_OR_RETURN(auto raw, read_tensor_info(r, file));
    if (!names.insert(raw.info.name).second) {
      return make_error("duplicate tensor '%s'", raw.info.name.c_str());
    }
    infos.push_back(std::move(raw));
  }

  // The data section starts at the next multiple of the alignment; offsets are relative to it.
  uint64_t data_start = r.pos();
  if (uint64_t rem = data_start % alignment) {
    if (__builtin_add_overflow(data_start, alignment - rem, &data_start)) data_start = UINT64_MAX;
  }
  for (auto& [ti, offset] : infos) {
    if (offset % alignment != 0) {
      return make_error("tensor '%s': data offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                        ti.name.c_str(), offset, alignment);
    }
    uint64_t begin, end;
    if (__builtin_add_overflow(data_start, offset, &begin) ||
        __builtin_add_overflow(begin, ti.nbytes, &end) || end > size) {
      return make_error("tensor '%s': data at offset %" PRIu64
                        " (+%zu bytes) runs past the end of the file "
                        "(data section starts at %" PRIu64 ", file size %zu)",
                        ti.name.c_str(), offset, ti.nbytes, data_start, size);
    }
    ti.data = bytes + begin;
    G4_TRY(out.tensors.add(std::move(ti)));  // names are unique (checked above), so this cannot fail
  }
  return out;
}

}  // namespace

Result<GgufFile> parse_gguf(const uint8_t* bytes, size_t size, const std::string& file) {
  auto r = parse_impl(bytes, size, file);
  if (!r.ok()) return make_error("%s: %s", file.c_str(), r.error().message.c_str());
  return r;
}

Result<GgufFile> load_gguf(const std::string& path) {
  G4_ASSIGN_OR_RETURN(auto map, MappedFile::open(path));
  G4_ASSIGN_OR_RETURN(GgufFile f, parse_gguf(map->data(), map->size(), path));
  f.tensors.keep_alive(std::move(map));
  return f;
}

// ---- typed getters ----

namespace {

Result<const GgufValue*> lookup(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.get(key);
  if (!v) return make_error("key '%s' missing", key.c_str());
  return v;
}

Error wrong_type(const std::string& key, const GgufValue& v, const char* expected) {
  return make_error("key '%s' has type %s, expected %s", key.c_str(), type_desc(v).c_str(), expected);
}

}  // namespace

// A value built by hand could hold a variant alternative that does not match its type tag; such a
// value is reported as the wrong type rather than throwing.
Result<int64_t> GgufFile::get_int(const std::string& key) const {
  G4_ASSIGN_OR_RETURN(const GgufValue* v, lookup(*this, key));
  const auto* p = std::get_if<int64_t>(&v->v);
  if (v->is_array() || !is_integer_type(v->type) || !p) return wrong_type(key, *v, "integer");
  return *p;
}

Result<double> GgufFile::get_float(const std::string& key) const {
  G4_ASSIGN_OR_RETURN(const GgufValue* v, lookup(*this, key));
  if (!v->is_array()) {
    const auto* d = std::get_if<double>(&v->v);
    if (is_float_type(v->type) && d) return *d;
    const auto* i = std::get_if<int64_t>(&v->v);
    if (is_integer_type(v->type) && i) return double(*i);
  }
  return wrong_type(key, *v, "float");
}

Result<std::string> GgufFile::get_string(const std::string& key) const {
  G4_ASSIGN_OR_RETURN(const GgufValue* v, lookup(*this, key));
  const auto* p = std::get_if<std::string>(&v->v);
  if (v->type != VT::STRING || !p) return wrong_type(key, *v, "string");
  return *p;
}

Result<std::vector<int64_t>> GgufFile::get_int_array(const std::string& key) const {
  G4_ASSIGN_OR_RETURN(const GgufValue* v, lookup(*this, key));
  const auto* p = std::get_if<std::vector<int64_t>>(&v->v);
  if (!v->is_array() || !is_integer_type(v->elem_type) || !p) return wrong_type(key, *v, "integer array");
  return *p;
}

Result<std::vector<bool>> GgufFile::get_bool_array(const std::string& key) const {
  G4_ASSIGN_OR_RETURN(const GgufValue* v, lookup(*this, key));
  const auto* p = std::get_if<std::vector<bool>>(&v->v);
  if (!v->is_array() || v->elem_type != VT::BOOL || !p) return wrong_type(key, *v, "bool array");
  return *p;
}

Result<std::vector<std::string>> GgufFile::get_string_array(const std::string& key) const {
  G4_ASSIGN_OR_RETURN(const GgufValue* v, lookup(*this, key));
  const auto* p = std::get_if<std::vector<std::string>>(&v->v);
  if (!v->is_array() || v->elem_type != VT::STRING || !p) return wrong_type(key, *v, "string array");
  return *p;
}

int ggml_type_id(DType t) {
  for (const auto& g : kGgmlTypes) {
    if (g.dtype && *g.dtype == t) return int(g.id);
  }
  return -1;
}

bool ggml_type_layout(uint32_t id, uint32_t* block_size, uint32_t* type_size) {
  const GgmlType* g = find_ggml_type(id);
  if (!g) return false;
  *block_size = g->block_size;
  *type_size = g->type_size;
  return true;
}

}  // namespace g4
