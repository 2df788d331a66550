#include "io/safetensors.h"
#include "testing/exact_image.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace g4 {
namespace {

using Bytes = std::vector<uint8_t>;

using Image = testing::ExactImage;

// Assembles a file from a header text and data bytes.
Bytes make_file(const std::string& header, const Bytes& data) {
  Bytes b;
  b.reserve(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i) b.push_back(uint8_t(uint64_t(header.size()) >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

struct Entry {
  std::string name, dtype, shape;  // shape as JSON text, e.g. "[2, 3]"
  size_t nbytes;
};

// Writes a header for `entries` laid out back to back, with a metadata block, and fills the data
// with a byte pattern.
Bytes build(const std::vector<Entry>& entries, size_t* data_start = nullptr) {
  std::string h = "{\"__metadata__\": {\"format\": \"pt\"}";
  size_t off = 0;
  for (const auto& e : entries) {
    h += ", \"" + e.name + "\": {\"dtype\": \"" + e.dtype + "\", \"shape\": " + e.shape +
         ", \"data_offsets\": [" + std::to_string(off) + ", " + std::to_string(off + e.nbytes) + "]}";
    off += e.nbytes;
  }
  h += "}";
  while ((8 + h.size()) % 8) h += ' ';  // writers pad the header with spaces to 8 bytes
  Bytes data(off);
  for (size_t i = 0; i < off; ++i) data[i] = uint8_t(i * 7 + 1);
  if (data_start) *data_start = 8 + h.size();
  return make_file(h, data);
}

std::vector<Entry> sample_entries() {
  return {
      {"model.embed_tokens.weight", "BF16", "[4, 3]", 24},
      {"model.layers.0.mlp.up_proj.weight", "F32", "[2, 3]", 24},
      {"model.norm.weight", "F16", "[3]", 6},
      {"ids", "I64", "[2]", 16},
      {"scalar", "F64", "[]", 8},
      {"empty", "I32", "[0, 5]", 0},
      {"bytes", "U8", "[1, 1, 1, 3]", 3},
      {"small", "I8", "[2]", 2},
      {"i32", "I32", "[1]", 4},
  };
}

Result<TensorStore> parse(const Image& img) {
  return parse_safetensors(img.data(), img.size(), "model.safetensors");
}

std::string parse_error(const Bytes& b) {
  Image img(b);
  auto r = parse(img);
  if (r.ok()) return "<parsed ok>";
  return r.error().message;
}

std::string header_error(const std::string& header, const Bytes& data = Bytes(16)) {
  return parse_error(make_file(header, data));
}

#define EXPECT_HAS(text, substr)                                          \
  do {                                                                    \
    std::string t_ = (text);                                              \
    EXPECT_NE(t_.find(substr), std::string::npos) << "error was: " << t_; \
  } while (0)

TEST(SafetensorsTest, ParsesValidFile) {
  size_t data_start = 0;
  Image img(build(sample_entries(), &data_start));
  auto r = parse(img);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& ts = r->tensors();
  EXPECT_EQ(ts.size(), 9u);  // __metadata__ is not a tensor

  const TensorInfo* e = r->find("model.embed_tokens.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->dtype, DType::BF16);
  EXPECT_EQ(e->shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(e->data, img.data() + data_start);
  EXPECT_EQ(e->nbytes, 24u);
  EXPECT_EQ(e->file, "model.safetensors");

  const TensorInfo* up = r->find("model.layers.0.mlp.up_proj.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->dtype, DType::F32);
  EXPECT_EQ(up->data, img.data() + data_start + 24);
  EXPECT_EQ(up->data[0], uint8_t(24 * 7 + 1));

  EXPECT_EQ(r->find("model.norm.weight")->dtype, DType::F16);
  EXPECT_EQ(r->find("ids")->dtype, DType::I64);
  EXPECT_EQ(r->find("scalar")->dtype, DType::F64);
  EXPECT_EQ(r->find("scalar")->shape, std::vector<int64_t>{});
  EXPECT_EQ(r->find("scalar")->nbytes, 8u);
  EXPECT_EQ(r->find("empty")->shape, (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(r->find("empty")->nbytes, 0u);
  EXPECT_EQ(r->find("bytes")->dtype, DType::U8);
  EXPECT_EQ(r->find("bytes")->shape, (std::vector<int64_t>{1, 1, 1, 3}));
  EXPECT_EQ(r->find("small")->dtype, DType::I8);
  EXPECT_EQ(r->find("i32")->dtype, DType::I32);
  const TensorInfo* last = r->find("i32");
  EXPECT_EQ(last->data + last->nbytes, img.data() + img.size());
}

TEST(SafetensorsTest, UnalignedDataIsAccepted) {
  // Header of odd length: the F32 data starts at an odd address.
  std::string h = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  if (h.size() % 2 == 0) h += ' ';
  Bytes data(8);
  float v[2] = {1.5f, -2.0f};
  std::memcpy(data.data(), v, 8);
  Image img(make_file(h, data));
  auto r = parse(img);
  ASSERT_TRUE(r.ok()) << r.error().message;
  float got[2];
  std::memcpy(got, r->find("w")->data, 8);
  EXPECT_EQ(got[1], -2.0f);
}

TEST(SafetensorsTest, EmptyObjectHasNoTensors) {
  Image img(make_file("{}", {}));
  auto r = parse(img);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->tensors().empty());
}

TEST(SafetensorsTest, EveryTruncationFails) {
  Bytes b = build(sample_entries());
  for (size_t n = 0; n < b.size(); ++n) {
    std::string err = parse_error(Bytes(b.begin(), b.begin() + n));
    EXPECT_EQ(err.rfind("model.safetensors: ", 0), 0u) << "truncated to " << n << ": " << err;
  }
  EXPECT_HAS(parse_error(Bytes(b.begin(), b.begin() + 5)), "file too short");
  EXPECT_HAS(parse_error(Bytes(b.begin(), b.begin() + 20)), "past end of file");
  EXPECT_HAS(parse_error(Bytes(b.begin(), b.end() - 1)), "tensor 'i32': data_offsets");
}

TEST(SafetensorsTest, HeaderErrors) {
  Bytes huge = make_file("{}", {});
  uint64_t n = uint64_t(1) << 62;
  std::memcpy(huge.data(), &n, 8);
  EXPECT_HAS(parse_error(huge),
             "model.safetensors: header length 4611686018427387904 past end of file (size 10)");
  n = uint64_t(-1);
  std::memcpy(huge.data(), &n, 8);
  EXPECT_HAS(parse_error(huge), "header length 18446744073709551615 past end of file");

  EXPECT_HAS(header_error(""), "empty JSON header");
  EXPECT_HAS(header_error("{\"a\": "), "model.safetensors: invalid JSON header");
  EXPECT_HAS(header_error("not json"), "invalid JSON header");
  EXPECT_HAS(header_error("{} trailing"), "invalid JSON header");
  EXPECT_HAS(header_error("[1, 2]"), "JSON header is not an object");
  EXPECT_HAS(header_error("\"str\""), "JSON header is not an object");
  EXPECT_HAS(header_error("{\"__metadata__\": [1]}"), "'__metadata__' is not a JSON object");
  EXPECT_HAS(header_error(std::string("{\"a\xff\": 1}")), "invalid JSON header");  // bad UTF-8
  EXPECT_HAS(header_error(std::string(200000, '[')), "invalid JSON header");       // deep nesting
}

TEST(SafetensorsTest, EntryErrors) {
  auto entry = [](const std::string& body) { return header_error("{\"w\": " + body + "}"); };
  EXPECT_HAS(entry("1"), "model.safetensors: tensor 'w': entry is not a JSON object");
  EXPECT_HAS(entry(R"({"shape":[1],"data_offsets":[0,4]})"), "tensor 'w': missing or non-string 'dtype'");
  EXPECT_HAS(entry(R"({"dtype":"F32","data_offsets":[0,4]})"), "missing or non-array 'shape'");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":1,"data_offsets":[0,4]})"), "missing or non-array 'shape'");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[1]})"), "'data_offsets' is not an array of 2");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,8]})"),
             "'data_offsets' is not an array of 2");

  EXPECT_HAS(entry(R"({"dtype":"Q4","shape":[1],"data_offsets":[0,4]})"), "tensor 'w': unknown dtype 'Q4'");
  EXPECT_HAS(entry(R"({"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]})"), "unknown dtype 'F8_E4M3'");
  EXPECT_HAS(entry(R"({"dtype":"f32","shape":[1],"data_offsets":[0,4]})"), "unknown dtype 'f32'");

  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})"),
             "tensor 'w': shape [-1] has an entry that is not a non-negative integer");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,4]})"), "not a non-negative integer");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":["1"],"data_offsets":[0,4]})"), "not a non-negative integer");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]})"),
             "not a non-negative integer");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,4]})"),
             "not a non-negative integer");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]})"),
             "element count overflows");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]})"),
             "element count overflows");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]})"),
             "span 16 bytes but F32 [4611686018427387904] needs more");

  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[1],"data_offsets":[-4,0]})"), "are not non-negative integers");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[1],"data_offsets":[8,4]})"),
             "tensor 'w': data_offsets [8, 4] has begin after end");
  EXPECT_HAS(
      entry(R"({"dtype":"F32","shape":[1],"data_offsets":[16,20]})"),
      "model.safetensors: tensor 'w': data_offsets [16, 20] past end of file (data section is 16 bytes)");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]})"),
             "past end of file");
  EXPECT_HAS(entry(R"({"dtype":"F32","shape":[2,2],"data_offsets":[0,12]})"),
             "tensor 'w': data_offsets [0, 12] span 12 bytes but F32 [2, 2] needs 16");
  EXPECT_HAS(entry(R"({"dtype":"BF16","shape":[3],"data_offsets":[0,8]})"), "needs 6");
}

TEST(SafetensorsTest, DuplicateTensorName) {
  std::string h = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                  R"("v":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},)"
                  R"("w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  EXPECT_HAS(header_error(h), "model.safetensors: duplicate tensor 'w' in header");
  // Same key nested deeper is fine.
  std::string ok = R"({"__metadata__":{"w":"1"},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  EXPECT_EQ(header_error(ok), "<parsed ok>");
}

// ---- folder loading ----

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "g4_st_XXXXXX";
    if (mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const Bytes& b) const {
    std::ofstream out(path_ + "/" + name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
  void write(const std::string& name, const std::string& s) const { write(name, Bytes(s.begin(), s.end())); }

 private:
  std::string path_;
};

const char* kIndex = R"({"metadata": {"total_size": 30},
  "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                 "c": "model-00002-of-00002.safetensors"}})";

void write_shards(const TempDir& d) {
  d.write("model-00001-of-00002.safetensors", build({{"a", "F32", "[2]", 8}, {"b", "BF16", "[3]", 6}}));
  d.write("model-00002-of-00002.safetensors", build({{"c", "I64", "[2]", 16}}));
}

TEST(SafetensorsTest, LoadSingleFile) {
  TempDir d;
  ASSERT_FALSE(d.path().empty());
  d.write("model.safetensors", build(sample_entries()));
  auto r = load_safetensors_folder(d.path());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tensors().size(), 9u);
  const TensorInfo* t = r->find("model.layers.0.mlp.up_proj.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->file, d.path() + "/model.safetensors");
  EXPECT_EQ(t->data[0], uint8_t(24 * 7 + 1));  // the map is alive

  auto direct = load_safetensors(d.path() + "/model.safetensors");
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  EXPECT_EQ(direct->tensors().size(), 9u);
}

TEST(SafetensorsTest, LoadShardedFolder) {
  TempDir d;
  write_shards(d);
  d.write("model.safetensors.index.json", kIndex);
  auto r = load_safetensors_folder(d.path());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->tensors().size(), 3u);
  EXPECT_EQ(r->find("a")->file, d.path() + "/model-00001-of-00002.safetensors");
  EXPECT_EQ(r->find("c")->file, d.path() + "/model-00002-of-00002.safetensors");
  EXPECT_EQ(r->find("c")->dtype, DType::I64);
  EXPECT_EQ(r->find("b")->data[0], uint8_t(8 * 7 + 1));
}

TEST(SafetensorsTest, FolderErrors) {
  {
    TempDir d;
    auto r = load_safetensors_folder(d.path());
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.error().message, "neither model.safetensors.index.json nor model.safetensors found");
  }
  {
    TempDir d;  // the index says "b" is in shard 2, but it is in shard 1
    write_shards(d);
    d.write(
        "model.safetensors.index.json",
        R"({"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
                               "c": "model-00002-of-00002.safetensors"}})");
    auto r = load_safetensors_folder(d.path());
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.error().message,
               "model-00002-of-00002.safetensors: tensor 'b' is listed in "
               "model.safetensors.index.json but not present in the shard");
  }
  {
    TempDir d;  // a shard is missing
    d.write("model-00001-of-00002.safetensors", build({{"a", "F32", "[2]", 8}, {"b", "BF16", "[3]", 6}}));
    d.write("model.safetensors.index.json", kIndex);
    auto r = load_safetensors_folder(d.path());
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.error().message, "model-00002-of-00002.safetensors: cannot open");
  }
  {
    TempDir d;  // a shard is corrupt
    write_shards(d);
    d.write("model-00002-of-00002.safetensors", Bytes{1, 2, 3});
    d.write("model.safetensors.index.json", kIndex);
    auto r = load_safetensors_folder(d.path());
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.error().message, "model-00002-of-00002.safetensors: file too short");
  }
  {
    TempDir d;  // two shards hold the same tensor
    d.write("s1.safetensors", build({{"a", "F32", "[2]", 8}}));
    d.write("s2.safetensors", build({{"a", "F32", "[2]", 8}, {"c", "F32", "[1]", 4}}));
    d.write("model.safetensors.index.json",
            R"({"weight_map": {"a": "s1.safetensors", "c": "s2.safetensors"}})");
    auto r = load_safetensors_folder(d.path());
    ASSERT_FALSE(r.ok());
    EXPECT_HAS(r.error().message, "duplicate tensor 'a'");
  }
  auto index_error = [](const std::string& index) {
    TempDir d;
    write_shards(d);
    d.write("model.safetensors.index.json", index);
    auto r = load_safetensors_folder(d.path());
    return r.ok() ? std::string("<ok>") : r.error().message;
  };
  EXPECT_HAS(index_error(""), "model.safetensors.index.json: empty file");
  EXPECT_HAS(index_error("{"), "model.safetensors.index.json: invalid JSON");
  EXPECT_HAS(index_error("[]"), "missing 'weight_map' object");
  EXPECT_HAS(index_error(R"({"weight_map": []})"), "missing 'weight_map' object");
  EXPECT_HAS(index_error(R"({"weight_map": {}})"), "'weight_map' is empty");
  EXPECT_HAS(index_error(R"({"weight_map": {"a": 1}})"), "weight_map entry for 'a' is not a string");
  EXPECT_HAS(index_error(R"({"weight_map": {"a": "../x.safetensors"}})"),
             "names an invalid shard '../x.safetensors'");
  EXPECT_HAS(index_error(R"({"weight_map": {"a": "/etc/passwd"}})"), "names an invalid shard");
  EXPECT_HAS(index_error(R"({"weight_map": {"a": ""}})"), "names an invalid shard");
}

// Deterministic mutation fuzzing so that plain `make test` covers the parser on corrupt input.
// Half the cases edit the JSON text and fix up the header length (reaching the entry checks);
// the others damage raw bytes anywhere.
TEST(SafetensorsTest, MutationsNeverCrash) {
  size_t data_start = 0;
  const Bytes base = build(sample_entries(), &data_start);
  const std::string header(base.begin() + 8, base.begin() + long(data_start));
  const Bytes data(base.begin() + long(data_start), base.end());
  std::mt19937_64 rng(4242);
  const char kInteresting[] = "{}[],:\"-0123456789e.FIUB \\";
  auto interesting = [&] { return kInteresting[rng() % (sizeof(kInteresting) - 1)]; };
  int ok = 0, failed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b;
    int n_mut = 1 + int(rng() % 4);
    if (rng() % 2) {
      std::string h = header;
      for (int m = 0; m < n_mut && !h.empty(); ++m) {
        size_t pos = size_t(rng() % h.size());
        switch (rng() % 4) {
          case 0: h[pos] = interesting(); break;
          case 1: h.erase(pos, 1 + rng() % 8); break;
          case 2: h.insert(pos, 1, interesting()); break;
          case 3: h[pos] = char(rng()); break;
        }
      }
      b = make_file(h, data);
    } else {
      b = base;
      for (int m = 0; m < n_mut && !b.empty(); ++m) {
        size_t pos = size_t(rng() % b.size());
        switch (rng() % 4) {
          case 0: b[pos] ^= uint8_t(1u << (rng() % 8)); break;
          case 1: b[pos] = uint8_t(rng()); break;
          case 2: b[pos] = 0xff; break;
          case 3: b.resize(pos); break;
        }
      }
    }
    Image img(b);
    auto r = parse(img);
    if (r.ok()) {
      ++ok;
      for (const auto& [name, t] : r->tensors()) {
        ASSERT_GE(t.data, img.data());
        ASSERT_LE(t.data + t.nbytes, img.data() + img.size());
        ASSERT_EQ(uint64_t(t.numel()) * dtype_size(t.dtype), t.nbytes);
      }
    } else {
      ++failed;
      EXPECT_EQ(r.error().message.rfind("model.safetensors: ", 0), 0u);
    }
  }
  EXPECT_GT(ok, 100);
  EXPECT_GT(failed, 100);
}

}  // namespace
}  // namespace g4
