// safetensors reader. Layout: u64 little-endian header length N | N bytes of JSON
//   {"<name>": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"k": "v", ...}}
// | data, with offsets relative to the start of the data (byte 8 + N).
// Data pointers are not aligned in general (N is arbitrary); consumers must not assume that an
// F32 tensor's pointer is 4-byte aligned.
#include "io/safetensors.h"

#include <bit>
#include <cinttypes>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

namespace g4 {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the safetensors reader assumes a little-endian host");

using json = nlohmann::json;

// The reference implementation refuses headers above 100 MB; so do we.
constexpr uint64_t kMaxHeaderSize = 100'000'000;
constexpr const char* kMetadataKey = "__metadata__";
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

bool parse_dtype(const std::string& s, DType* out) {
  static const std::pair<const char*, DType> kTable[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I32", DType::I32},
      {"I64", DType::I64}, {"U8", DType::U8},   {"I8", DType::I8},     {"F64", DType::F64},
  };
  for (const auto& [name, t] : kTable) {
    if (s == name) {
      *out = t;
      return true;
    }
  }
  return false;
}

// A non-negative JSON integer (JSON floats, negatives and non-numbers are rejected).
bool as_u64(const json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    *out = uint64_t(v);
    return true;
  }
  return false;
}

// JSON text for an error message (never throws, even on odd strings).
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Parses JSON text, reporting duplicate keys of the top-level object (nlohmann keeps the last one
// silently) in `dup`. Returns false with a message in `err` on a syntax error.
bool parse_json(const char* begin, const char* end, json* out, std::string* dup, std::string* err) {
  std::set<std::string> seen;
  auto track = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!seen.insert(k).second && dup->empty()) *dup = k;
    }
    return true;
  };
  try {
    *out = json::parse(begin, end, track, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    *err = e.what();
    if (err->size() > 300) err->resize(300);  // the "last read" token can be long
    return false;
  }
  return true;
}

Status parse_entry(const std::string& name, const json& e, const uint8_t* data, uint64_t data_size,
                   const std::string& file, TensorStore* store) {
  auto fail = [&](const std::string& m) {
    return make_error("%s: tensor '%s': %s", file.c_str(), name.c_str(), m.c_str());
  };
  if (!e.is_object()) return fail("entry is not a JSON object");
  auto dt = e.find("dtype");
  auto sh = e.find("shape");
  auto off = e.find("data_offsets");
  if (dt == e.end() || !dt->is_string()) return fail("missing or non-string 'dtype'");
  if (sh == e.end() || !sh->is_array()) return fail("missing or non-array 'shape'");
  if (off == e.end() || !off->is_array() || off->size() != 2) {
    return fail("'data_offsets' is not an array of 2");
  }

  TensorInfo ti;
  ti.name = name;
  ti.file = file;
  const auto& dtype_str = dt->get_ref<const std::string&>();
  if (!parse_dtype(dtype_str, &ti.dtype)) return fail("unknown dtype '" + dtype_str + "'");

  // `bound` is the product of the non-zero dimensions: keeping it within int64 means that
  // multiplying the shape in any order (as TensorInfo::numel does) cannot overflow, even when a
  // zero dimension makes the element count 0.
  uint64_t numel = 1, bound = 1;
  for (const auto& d : *sh) {
    uint64_t v;
    if (!as_u64(d, &v) || v > uint64_t(std::numeric_limits<int64_t>::max())) {
      return fail("shape " + dump(*sh) + " has an entry that is not a non-negative integer");
    }
    if (__builtin_mul_overflow(bound, v ? v : 1, &bound) ||
        bound > uint64_t(std::numeric_limits<int64_t>::max())) {
      return fail("shape " + dump(*sh) + " is too large (element count overflows)");
    }
    numel *= v;
    ti.shape.push_back(int64_t(v));
  }
  uint64_t begin, end;
  if (!as_u64((*off)[0], &begin) || !as_u64((*off)[1], &end)) {
    return fail("data_offsets " + dump(*off) + " are not non-negative integers");
  }
  std::string offs = "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "]";
  if (begin > end) return fail(offs + " has begin after end");
  if (end > data_size) {
    return fail(offs + " past end of file (data section is " + std::to_string(data_size) + " bytes)");
  }
  uint64_t want;
  bool overflow = __builtin_mul_overflow(numel, uint64_t(dtype_size(ti.dtype)), &want);
  if (overflow || end - begin != want) {
    return fail(offs + " span " + std::to_string(end - begin) + " bytes but " + dtype_str + " " +
                shape_str(ti.shape) + " needs " + (overflow ? std::string("more") : std::to_string(want)));
  }
  ti.data = data + begin;
  ti.nbytes = size_t(end - begin);
  return store->add(std::move(ti));
}

// Reads a whole (small) JSON file, e.g. the shard index.
Result<json> read_json_file(const std::string& path) {
  G4_ASSIGN_OR_RETURN(auto map, MappedFile::open(path));
  if (map->size() == 0) return make_error("%s: empty file", path.c_str());
  const char* p = reinterpret_cast<const char*>(map->data());
  json j;
  std::string dup, err;
  if (!parse_json(p, p + map->size(), &j, &dup, &err)) {
    return make_error("%s: invalid JSON: %s", path.c_str(), err.c_str());
  }
  return j;
}

// A shard name from the index must stay inside the model folder.
bool safe_relative(const std::string& name) {
  if (name.empty()) return false;
  std::filesystem::path p(name);
  if (p.is_absolute()) return false;
  for (const auto& part : p) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

Result<TensorStore> parse_safetensors(const uint8_t* bytes, size_t size, const std::string& file) {
  if (size < 8) {
    return make_error("%s: file too short for a safetensors header (%zu bytes)", file.c_str(), size);
  }
  uint64_t n;
  std::memcpy(&n, bytes, 8);
  if (n > size - 8) {
    return make_error("%s: header length %" PRIu64 " past end of file (size %zu)", file.c_str(), n, size);
  }
  if (n > kMaxHeaderSize) {
    return make_error("%s: header length %" PRIu64 " exceeds the %" PRIu64 "-byte limit", file.c_str(), n,
                      kMaxHeaderSize);
  }
  if (n == 0) return make_error("%s: empty JSON header", file.c_str());
  const char* hdr = reinterpret_cast<const char*>(bytes + 8);
  json j;
  std::string dup, err;
  if (!parse_json(hdr, hdr + n, &j, &dup, &err)) {
    return make_error("%s: invalid JSON header: %s", file.c_str(), err.c_str());
  }
  if (!j.is_object()) return make_error("%s: JSON header is not an object", file.c_str());
  if (!dup.empty()) return make_error("%s: duplicate tensor '%s' in header", file.c_str(), dup.c_str());

  const uint8_t* data = bytes + 8 + n;
  uint64_t data_size = size - 8 - n;
  TensorStore store;
  for (const auto& [name, e] : j.items()) {
    if (name == kMetadataKey) {
      if (!e.is_object()) return make_error("%s: '__metadata__' is not a JSON object", file.c_str());
      continue;
    }
    G4_TRY(parse_entry(name, e, data, data_size, file, &store));
  }
  return store;
}

Result<TensorStore> load_safetensors(const std::string& path) {
  G4_ASSIGN_OR_RETURN(auto map, MappedFile::open(path));
  G4_ASSIGN_OR_RETURN(TensorStore store, parse_safetensors(map->data(), map->size(), path));
  store.keep_alive(std::move(map));
  return store;
}

Result<TensorStore> load_safetensors_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path index_path = fs::path(dir) / kIndexName;
  if (!fs::exists(index_path, ec)) {
    fs::path single = fs::path(dir) / kSingleName;
    if (fs::exists(single, ec)) return load_safetensors(single.string());
    return make_error("%s: neither %s nor %s found", dir.c_str(), kIndexName, kSingleName);
  }

  const std::string index = index_path.string();
  G4_ASSIGN_OR_RETURN(json j, read_json_file(index));
  auto wm = j.is_object() ? j.find("weight_map") : j.end();
  if (wm == j.end() || !wm->is_object()) return make_error("%s: missing 'weight_map' object", index.c_str());
  if (wm->empty()) return make_error("%s: 'weight_map' is empty", index.c_str());

  std::map<std::string, std::vector<std::string>> by_shard;  // shard -> tensors the index puts there
  for (const auto& [name, shard] : wm->items()) {
    if (!shard.is_string()) {
      return make_error("%s: weight_map entry for '%s' is not a string", index.c_str(), name.c_str());
    }
    const auto& s = shard.get_ref<const std::string&>();
    if (!safe_relative(s)) {
      return make_error("%s: weight_map entry for '%s' names an invalid shard '%s'", index.c_str(),
                        name.c_str(), s.c_str());
    }
    by_shard[s].push_back(name);
  }

  TensorStore all;
  for (const auto& [shard, names] : by_shard) {
    const std::string path = (fs::path(dir) / shard).string();
    G4_ASSIGN_OR_RETURN(TensorStore store, load_safetensors(path));
    for (const auto& name : names) {
      if (!store.find(name)) {
        return make_error("%s: tensor '%s' is listed in %s but not present in the shard", path.c_str(),
                          name.c_str(), kIndexName);
      }
    }
    G4_TRY(all.merge(std::move(store)));
  }
  return all;
}

}  // namespace g4
