#include "io/gguf.h"
#include "testing/exact_image.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <tuple>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace g4 {
namespace {

using Bytes = std::vector<uint8_t>;
using VT = GgufValue::Type;

// ---- a hand-rolled GGUF writer for building test files ----

template <typename T>
void put(Bytes& b, T v) {
  uint8_t tmp[sizeof(T)];
  std::memcpy(tmp, &v, sizeof(T));
  b.insert(b.end(), tmp, tmp + sizeof(T));
}

void put_str(Bytes& b, const std::string& s) {
  put<uint64_t>(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

struct TensorSpec {
  TensorSpec(std::string n, std::vector<uint64_t> dims, uint32_t t, Bytes d, std::optional<uint64_t> off = {})
      : name(std::move(n)), ne(std::move(dims)), type(t), data(std::move(d)), offset(off) {}
  std::string name;
  std::vector<uint64_t> ne;  // GGUF order: ne[0] is contiguous
  uint32_t type = 0;
  Bytes data;
  std::optional<uint64_t> offset;  // write this offset instead of the computed one
};

class GgufBuilder {
 public:
  uint32_t version = 3;
  uint64_t alignment = 32;  // layout alignment (write general.alignment yourself to change the reader's)
  int64_t n_kv_override = -1;
  int64_t n_tensors_override = -1;

  // Raw value bytes for key `key` (type tag included by the caller through `type`).
  GgufBuilder& kv_raw(const std::string& key, VT type, const Bytes& value) {
    put_str(kv_, key);
    put<uint32_t>(kv_, uint32_t(type));
    kv_.insert(kv_.end(), value.begin(), value.end());
    ++n_kv_;
    return *this;
  }
  template <typename T>
  GgufBuilder& kv(const std::string& key, VT type, T v) {
    Bytes b;
    put<T>(b, v);
    return kv_raw(key, type, b);
  }
  GgufBuilder& kv_str(const std::string& key, const std::string& s) {
    Bytes b;
    put_str(b, s);
    return kv_raw(key, VT::STRING, b);
  }
  template <typename T>
  GgufBuilder& kv_arr(const std::string& key, VT elem, const std::vector<T>& v) {
    Bytes b;
    put<uint32_t>(b, uint32_t(elem));
    put<uint64_t>(b, v.size());
    for (const T& x : v) put<T>(b, x);
    return kv_raw(key, VT::ARRAY, b);
  }
  GgufBuilder& kv_arr_str(const std::string& key, const std::vector<std::string>& v) {
    Bytes b;
    put<uint32_t>(b, uint32_t(VT::STRING));
    put<uint64_t>(b, v.size());
    for (const auto& s : v) put_str(b, s);
    return kv_raw(key, VT::ARRAY, b);
  }
  GgufBuilder& tensor(TensorSpec t) {
    tensors_.push_back(std::move(t));
    return *this;
  }

  // Offsets of each tensor's data from the start of the file (valid after build()).
  std::vector<size_t> data_pos;

  Bytes build() {
    Bytes b = {'G', 'G', 'U', 'F'};
    put<uint32_t>(b, version);
    put<uint64_t>(b, n_tensors_override >= 0 ? uint64_t(n_tensors_override) : tensors_.size());
    put<uint64_t>(b, n_kv_override >= 0 ? uint64_t(n_kv_override) : n_kv_);
    b.insert(b.end(), kv_.begin(), kv_.end());
    std::vector<uint64_t> offsets;
    uint64_t off = 0;
    for (const auto& t : tensors_) {
      offsets.push_back(off);
      off += t.data.size();
      off = (off + alignment - 1) / alignment * alignment;
    }
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const auto& t = tensors_[i];
      put_str(b, t.name);
      put<uint32_t>(b, uint32_t(t.ne.size()));
      for (uint64_t d : t.ne) put<uint64_t>(b, d);
      put<uint32_t>(b, t.type);
      put<uint64_t>(b, t.offset ? *t.offset : offsets[i]);
    }
    while (b.size() % alignment) b.push_back(0);
    size_t start = b.size();
    data_pos.clear();
    for (size_t i = 0; i < tensors_.size(); ++i) {
      b.resize(start + offsets[i]);
      data_pos.push_back(b.size());
      b.insert(b.end(), tensors_[i].data.begin(), tensors_[i].data.end());
    }
    return b;
  }

 private:
  Bytes kv_;
  uint64_t n_kv_ = 0;
  std::vector<TensorSpec> tensors_;
};

Bytes f32_bytes(std::vector<float> v) {
  Bytes b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

Bytes filled(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i);
  return b;
}

using Image = testing::ExactImage;

Result<GgufFile> parse(const Image& img) { return parse_gguf(img.data(), img.size(), "t.gguf"); }

std::string parse_error(const Bytes& b) {
  Image img(b);
  auto r = parse(img);
  if (r.ok()) return "<parsed ok>";
  return r.error().message;
}

#define EXPECT_ERROR_HAS(bytes, substr) \
  EXPECT_NE(parse_error(bytes).find(substr), std::string::npos) << "error was: " << parse_error(bytes)

// A small file exercising every metadata type and three tensors; the last tensor's data ends
// exactly at the end of the file.
GgufBuilder sample_builder() {
  GgufBuilder g;
  g.kv_str("general.architecture", "gemma4")
      .kv<uint32_t>("gemma4.block_count", VT::U32, 34)
      .kv<uint8_t>("u8", VT::U8, 200)
      .kv<int8_t>("i8", VT::I8, -5)
      .kv<uint16_t>("u16", VT::U16, 60000)
      .kv<int16_t>("i16", VT::I16, -30000)
      .kv<int32_t>("i32", VT::I32, -7)
      .kv<uint64_t>("u64", VT::U64, uint64_t(1) << 40)
      .kv<int64_t>("i64", VT::I64, -(int64_t(1) << 40))
      .kv<float>("gemma4.rope.freq_base", VT::F32, 10000.0f)
      .kv<double>("f64", VT::F64, 0.125)
      .kv<uint8_t>("flag", VT::BOOL, 1)
      .kv_arr<int32_t>("ints", VT::I32, {1, -2, 3})
      .kv_arr<uint8_t>("bools", VT::BOOL, {1, 0, 1})
      .kv_arr<float>("floats", VT::F32, {0.5f, 1.5f})
      .kv_arr_str("tokenizer.ggml.tokens", {"<pad>", "a", "", "\xe2\x96\x81hi"});
  g.tensor({"token_embd.weight", {4, 3}, 0, f32_bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})});
  g.tensor({"blk.0.attn_q.weight", {2, 2, 1, 2}, 30, filled(16, 7)});
  g.tensor({"blk.0.ffn_norm.weight", {5}, 1, filled(10, 50)});
  return g;
}

TEST(GgufTest, ParsesValidFile) {
  GgufBuilder g = sample_builder();
  Image b(g.build());
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 3u);
  EXPECT_EQ(r->meta.size(), 16u);
  const auto& ts = r->tensors.tensors();
  ASSERT_EQ(ts.size(), 3u);

  const TensorInfo* e = r->tensors.find("token_embd.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->dtype, DType::F32);
  EXPECT_EQ(e->shape, (std::vector<int64_t>{3, 4}));  // ne reversed
  EXPECT_EQ(e->nbytes, 48u);
  EXPECT_EQ(e->data, b.data() + g.data_pos[0]);
  EXPECT_EQ(e->file, "t.gguf");
  float x;
  std::memcpy(&x, e->data + 4 * 5, 4);
  EXPECT_EQ(x, 6.0f);

  const TensorInfo* q = r->tensors.find("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->dtype, DType::BF16);
  EXPECT_EQ(q->shape, (std::vector<int64_t>{2, 1, 2, 2}));
  EXPECT_EQ(q->nbytes, 16u);
  EXPECT_EQ(q->data, b.data() + g.data_pos[1]);
  EXPECT_EQ((q->data - b.data()) % 32, 0);

  const TensorInfo* n = r->tensors.find("blk.0.ffn_norm.weight");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->dtype, DType::F16);
  EXPECT_EQ(n->shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(n->data + n->nbytes, b.data() + b.size());
}

TEST(GgufTest, TypedGetters) {
  Image b(sample_builder().build());
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const GgufFile& f = *r;
  EXPECT_EQ(*f.get_string("general.architecture"), "gemma4");
  EXPECT_EQ(*f.get_int("gemma4.block_count"), 34);
  EXPECT_EQ(*f.get_int("u8"), 200);
  EXPECT_EQ(*f.get_int("i8"), -5);
  EXPECT_EQ(*f.get_int("u16"), 60000);
  EXPECT_EQ(*f.get_int("i16"), -30000);
  EXPECT_EQ(*f.get_int("i32"), -7);
  EXPECT_EQ(*f.get_int("u64"), int64_t(1) << 40);
  EXPECT_EQ(*f.get_int("i64"), -(int64_t(1) << 40));
  EXPECT_EQ(*f.get_float("gemma4.rope.freq_base"), 10000.0);
  EXPECT_EQ(*f.get_float("f64"), 0.125);
  EXPECT_EQ(*f.get_float("gemma4.block_count"), 34.0);  // integers widen to float
  EXPECT_EQ(*f.get_int_array("ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(*f.get_bool_array("bools"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(*f.get_string_array("tokenizer.ggml.tokens"),
            (std::vector<std::string>{"<pad>", "a", "", "\xe2\x96\x81hi"}));
  const GgufValue* fl = f.get("flag");
  ASSERT_NE(fl, nullptr);
  EXPECT_EQ(fl->type, VT::BOOL);
  EXPECT_EQ(std::get<bool>(fl->v), true);
  const GgufValue* floats = f.get("floats");
  ASSERT_NE(floats, nullptr);
  EXPECT_EQ(floats->elem_type, VT::F32);
  EXPECT_EQ(std::get<std::vector<double>>(floats->v), (std::vector<double>{0.5, 1.5}));

  EXPECT_EQ(f.get_int("gemma4.context_length").error().message, "key 'gemma4.context_length' missing");
  EXPECT_EQ(f.get_int("general.architecture").error().message,
            "key 'general.architecture' has type STRING, expected integer");
  EXPECT_EQ(f.get_int("gemma4.rope.freq_base").error().message,
            "key 'gemma4.rope.freq_base' has type F32, expected integer");
  EXPECT_EQ(f.get_int("flag").error().message, "key 'flag' has type BOOL, expected integer");
  EXPECT_EQ(f.get_float("general.architecture").error().message,
            "key 'general.architecture' has type STRING, expected float");
  EXPECT_EQ(f.get_string("u8").error().message, "key 'u8' has type U8, expected string");
  EXPECT_EQ(f.get_int("ints").error().message, "key 'ints' has type ARRAY[I32], expected integer");
  EXPECT_EQ(f.get_int_array("floats").error().message,
            "key 'floats' has type ARRAY[F32], expected integer array");
  EXPECT_EQ(f.get_int_array("i32").error().message, "key 'i32' has type I32, expected integer array");
  EXPECT_FALSE(f.get_bool_array("ints").ok());
  EXPECT_FALSE(f.get_string_array("bools").ok());
  EXPECT_FALSE(f.get_string_array("missing").ok());
}

TEST(GgufTest, GetterOnInconsistentHandBuiltValueIsAnError) {
  GgufFile f;
  GgufValue v;
  v.type = VT::U32;
  v.v = std::string("oops");
  f.meta["k"] = v;
  EXPECT_FALSE(f.get_int("k").ok());
  EXPECT_FALSE(f.get_float("k").ok());
}

TEST(GgufTest, Version2AndNoTensors) {
  GgufBuilder g;
  g.version = 2;
  g.kv_str("general.name", "x");
  Image img(g.build());
  auto r = parse(img);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 2u);
  EXPECT_TRUE(r->tensors.tensors().empty());
}

TEST(GgufTest, ScalarAndEmptyTensors) {
  GgufBuilder g;
  g.tensor({"scalar", {}, 0, f32_bytes({3.5f})});
  g.tensor({"empty", {0, 4}, 0, {}});
  Image img(g.build());
  auto r = parse(img);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tensors.find("scalar")->shape, std::vector<int64_t>{});
  EXPECT_EQ(r->tensors.find("scalar")->nbytes, 4u);
  EXPECT_EQ(r->tensors.find("empty")->shape, (std::vector<int64_t>{4, 0}));
  EXPECT_EQ(r->tensors.find("empty")->nbytes, 0u);
}

TEST(GgufTest, CustomAlignment) {
  GgufBuilder g;
  g.alignment = 64;
  g.kv<uint32_t>("general.alignment", VT::U32, 64);
  g.tensor({"a", {3}, 0, f32_bytes({1, 2, 3})});
  g.tensor({"b", {2}, 0, f32_bytes({4, 5})});
  Image b(g.build());
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tensors.find("b")->data, b.data() + g.data_pos[1]);
  EXPECT_EQ(g.data_pos[1] % 64, 0u);
  EXPECT_EQ(*r->get_int("general.alignment"), 64);
}

TEST(GgufTest, BadAlignment) {
  for (uint32_t a : {0u, 3u, 48u}) {
    GgufBuilder g;
    g.kv<uint32_t>("general.alignment", VT::U32, a);
    EXPECT_ERROR_HAS(g.build(), "is not a positive power of two");
  }
  GgufBuilder g;
  g.kv_str("general.alignment", "32");
  EXPECT_ERROR_HAS(g.build(), "key 'general.alignment' has type STRING, expected integer");
}

TEST(GgufTest, BadMagicAndVersion) {
  Bytes b = sample_builder().build();
  Bytes m = b;
  m[0] = 'X';
  EXPECT_ERROR_HAS(m, "t.gguf: not a GGUF file (bad magic)");
  for (uint32_t v : {0u, 1u, 4u, 0xffffffffu}) {
    GgufBuilder g = sample_builder();
    g.version = v;
    EXPECT_ERROR_HAS(g.build(), "unsupported GGUF version " + std::to_string(v));
  }
  GgufBuilder g = sample_builder();
  g.version = 0x03000000;
  EXPECT_ERROR_HAS(g.build(), "big-endian");
  EXPECT_ERROR_HAS(Bytes{}, "unexpected end of file at offset 0 reading magic");
  EXPECT_ERROR_HAS((Bytes{'G', 'G', 'U', 'F', 3, 0}), "reading version");
}

TEST(GgufTest, EveryTruncationFails) {
  Bytes b = sample_builder().build();
  for (size_t n = 0; n < b.size(); ++n) {
    Image t(Bytes(b.begin(), b.begin() + n));
    auto r = parse(t);
    EXPECT_FALSE(r.ok()) << "truncated to " << n << " bytes";
    if (!r.ok()) {
      EXPECT_EQ(r.error().message.rfind("t.gguf: ", 0), 0u) << r.error().message;
    }
  }
  // Truncations inside the header name what was being read.
  EXPECT_ERROR_HAS(Bytes(b.begin(), b.begin() + 10), "reading tensor count");
  EXPECT_ERROR_HAS(Bytes(b.begin(), b.end() - 1), "tensor 'blk.0.ffn_norm.weight': data at offset");
  EXPECT_ERROR_HAS(Bytes(b.begin(), b.end() - 1), "runs past the end of the file");
}

TEST(GgufTest, HugeCounts) {
  GgufBuilder g = sample_builder();
  g.n_tensors_override = int64_t(1) << 60;
  EXPECT_ERROR_HAS(g.build(), "tensor count 1152921504606846976 is too large");
  GgufBuilder k = sample_builder();
  k.n_kv_override = -2 & INT64_MAX;
  EXPECT_ERROR_HAS(k.build(), "metadata count");
  GgufBuilder k2 = sample_builder();
  k2.n_kv_override = 1000;
  EXPECT_ERROR_HAS(k2.build(), "t.gguf: ");

  Bytes arr;  // array of 2^62 U32
  put<uint32_t>(arr, uint32_t(VT::U32));
  put<uint64_t>(arr, uint64_t(1) << 62);
  GgufBuilder a;
  a.kv_raw("big", VT::ARRAY, arr);
  EXPECT_ERROR_HAS(a.build(), "key 'big': array of 4611686018427387904 U32 elements does not fit");

  Bytes sarr;  // array of many strings
  put<uint32_t>(sarr, uint32_t(VT::STRING));
  put<uint64_t>(sarr, uint64_t(-1));
  GgufBuilder s;
  s.kv_raw("strs", VT::ARRAY, sarr);
  EXPECT_ERROR_HAS(s.build(), "key 'strs': array of 18446744073709551615 STRING elements does not fit");

  Bytes str;  // string value longer than the file
  put<uint64_t>(str, uint64_t(1) << 50);
  str.push_back('x');
  GgufBuilder l;
  l.kv_raw("name", VT::STRING, str);
  EXPECT_ERROR_HAS(l.build(), "key 'name': string value at offset");
  EXPECT_ERROR_HAS(l.build(), "has length 1125899906842624 but only 16 bytes remain");

  Bytes key;  // key length too large
  key = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
  put<uint64_t>(key, 0);
  put<uint64_t>(key, 1);
  put<uint64_t>(key, uint64_t(-1));
  for (int i = 0; i < 16; ++i) key.push_back(0);
  EXPECT_ERROR_HAS(key, "metadata entry 0: metadata key at offset 24 has length 18446744073709551615");

  Bytes elem;  // string array whose second element is too long
  put<uint32_t>(elem, uint32_t(VT::STRING));
  put<uint64_t>(elem, 2);
  put_str(elem, "ok");
  put<uint64_t>(elem, 99);
  GgufBuilder e;
  e.kv_raw("toks", VT::ARRAY, elem);
  EXPECT_ERROR_HAS(e.build(), "key 'toks': array element 1: string at offset");
}

TEST(GgufTest, BadValues) {
  GgufBuilder n;
  Bytes nested;
  put<uint32_t>(nested, uint32_t(VT::ARRAY));
  put<uint64_t>(nested, 1);
  put<uint32_t>(nested, uint32_t(VT::U8));
  put<uint64_t>(nested, 1);
  nested.push_back(1);
  n.kv_raw("nested", VT::ARRAY, nested);
  EXPECT_ERROR_HAS(n.build(), "key 'nested': nested arrays are not supported");

  GgufBuilder u;
  u.kv_raw("weird", VT(13), {0, 0, 0, 0});
  EXPECT_ERROR_HAS(u.build(), "key 'weird': unknown value type 13");

  GgufBuilder ue;
  Bytes uearr;
  put<uint32_t>(uearr, 99);
  put<uint64_t>(uearr, 0);
  ue.kv_raw("weird", VT::ARRAY, uearr);
  EXPECT_ERROR_HAS(ue.build(), "key 'weird': array has unknown element type 99");

  GgufBuilder big;
  big.kv<uint64_t>("big", VT::U64, uint64_t(1) << 63);
  EXPECT_ERROR_HAS(big.build(), "key 'big': U64 value 9223372036854775808 is too large");
  GgufBuilder bigarr;
  bigarr.kv_arr<uint64_t>("big", VT::U64, {1, uint64_t(-1)});
  EXPECT_ERROR_HAS(bigarr.build(), "key 'big': array element 1: U64 value 18446744073709551615 is too large");

  GgufBuilder d;
  d.kv<uint32_t>("a", VT::U32, 1).kv<uint32_t>("b", VT::U32, 1).kv_str("a", "x");
  EXPECT_ERROR_HAS(d.build(), "t.gguf: duplicate key 'a'");
}

TEST(GgufTest, BadTensorInfos) {
  GgufBuilder d;
  d.tensor({"w", {2}, 0, f32_bytes({1, 2})}).tensor({"w", {2}, 0, f32_bytes({1, 2})});
  EXPECT_ERROR_HAS(d.build(), "t.gguf: duplicate tensor 'w'");

  GgufBuilder dims;
  dims.tensor({"w", {1, 1, 1, 1, 2}, 0, f32_bytes({1, 2})});
  EXPECT_ERROR_HAS(dims.build(), "tensor 'w': 5 dimensions (at most 4 supported)");

  GgufBuilder ovf;
  ovf.tensor({"w", {uint64_t(1) << 32, uint64_t(1) << 32}, 0, {}});
  EXPECT_ERROR_HAS(ovf.build(), "tensor 'w': dimension 1 (4294967296) makes the element count overflow");
  GgufBuilder zero;  // a zero dimension must not hide an overflowing product of the others
  zero.tensor({"w", {0, uint64_t(1) << 32, uint64_t(1) << 32}, 0, {}});
  EXPECT_ERROR_HAS(zero.build(), "tensor 'w': dimension 2 (4294967296) makes the element count overflow");
  GgufBuilder neg;
  neg.tensor({"w", {uint64_t(-1)}, 0, {}});
  EXPECT_ERROR_HAS(neg.build(), "tensor 'w': dimension 0");
  GgufBuilder bytes_ovf;  // the element count fits in int64 but the byte size does not fit in u64
  bytes_ovf.tensor({"w", {uint64_t(1) << 62}, 0, {}});
  EXPECT_ERROR_HAS(bytes_ovf.build(), "tensor 'w': byte size overflows");

  GgufBuilder q;
  q.tensor({"blk.3.ffn_up.weight", {256, 2}, 10, filled(2 * 84, 0)});
  EXPECT_ERROR_HAS(q.build(),
                   "tensor 'blk.3.ffn_up.weight': quantized type Q2_K (ggml type 10) not supported yet");
  GgufBuilder qk;
  qk.tensor({"w", {256}, 16, filled(66, 0)});
  EXPECT_ERROR_HAS(qk.build(), "quantized type IQ2_XXS (ggml type 16) not supported yet");
  for (auto [id, block, bytes, dt] : {std::tuple{2u, 32u, 18u, DType::Q4_0}, {8u, 32u, 34u, DType::Q8_0},
                                      {12u, 256u, 144u, DType::Q4_K}, {14u, 256u, 210u, DType::Q6_K},
                                      {23u, 256u, 136u, DType::IQ4_XS}}) {
    GgufBuilder ok;  // supported block types parse, with their byte sizes
    ok.tensor({"w", {2 * uint64_t(block), 3}, id, filled(6 * bytes, 0)});
    Image img(ok.build());
    auto f = parse(img);
    ASSERT_TRUE(f.ok()) << f.error().message;
    const TensorInfo* t = f->tensors.find("w");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, dt);
    EXPECT_EQ(t->nbytes, 6 * bytes);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{3, 2 * int64_t(block)}));
  }
  GgufBuilder i16;
  i16.tensor({"w", {2}, 25, filled(4, 0)});
  EXPECT_ERROR_HAS(i16.build(), "tensor 'w': type I16 (ggml type 25) not supported yet");
  GgufBuilder qb;
  qb.tensor({"w", {33}, 8, filled(34, 0)});
  EXPECT_ERROR_HAS(qb.build(),
                   "tensor 'w': innermost dimension 33 is not a multiple of the Q8_0 block size 32");
  GgufBuilder unk;
  unk.tensor({"w", {2}, 4, filled(4, 0)});
  EXPECT_ERROR_HAS(unk.build(), "tensor 'w': unknown ggml type 4");
  GgufBuilder unk2;
  unk2.tensor({"w", {2}, 1000, filled(4, 0)});
  EXPECT_ERROR_HAS(unk2.build(), "unknown ggml type 1000");

  GgufBuilder mis;
  mis.tensor({"a", {2}, 0, f32_bytes({1, 2}), 8});
  EXPECT_ERROR_HAS(mis.build(), "tensor 'a': data offset 8 is not a multiple of the alignment 32");

  GgufBuilder past;
  past.tensor({"a", {2}, 0, f32_bytes({1, 2})}).tensor({"b", {2}, 0, f32_bytes({1, 2}), 64});
  EXPECT_ERROR_HAS(past.build(), "tensor 'b': data at offset 64 (+8 bytes) runs past the end of the file");
  GgufBuilder wrap;  // data start + offset wraps around
  wrap.tensor({"a", {2}, 0, f32_bytes({1, 2}), uint64_t(-32)});
  EXPECT_ERROR_HAS(wrap.build(), "tensor 'a': data at offset 18446744073709551584 (+8 bytes) runs past");
}

TEST(GgufTest, LoadFromDisk) {
  std::string tmpl = ::testing::TempDir() + "g4_gguf_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  std::string path = tmpl + "/m.gguf";
  Bytes b = sample_builder().build();
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
  auto r = load_gguf(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const TensorInfo* e = r->tensors.find("token_embd.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->file, path);
  float x;
  std::memcpy(&x, e->data + 4 * 11, 4);
  EXPECT_EQ(x, 12.0f);

  auto missing = load_gguf(tmpl + "/nope.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.gguf"), std::string::npos);
  unlink(path.c_str());
  rmdir(tmpl.c_str());
}

// Deterministic mutation fuzzing so that plain `make test` covers the parser on corrupt input.
void check_invariants(const GgufFile& f, const Image& b) {
  for (const auto& [name, t] : f.tensors.tensors()) {
    ASSERT_GE(t.data, b.data());
    ASSERT_LE(t.data + t.nbytes, b.data() + b.size());
    ASSERT_EQ(uint64_t(t.numel()) * dtype_size(t.dtype), t.nbytes);
    ASSERT_LE(t.shape.size(), 4u);
  }
}

TEST(GgufTest, MutationsNeverCrash) {
  const Bytes base = sample_builder().build();
  std::mt19937_64 rng(12345);
  int ok = 0, failed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b = base;
    int n_mut = 1 + int(rng() % 4);
    for (int m = 0; m < n_mut; ++m) {
      size_t pos = size_t(rng() % b.size());
      switch (rng() % 6) {
        case 0: b[pos] ^= uint8_t(1u << (rng() % 8)); break;
        case 1: b[pos] = uint8_t(rng()); break;
        case 2: b[pos] = 0xff; break;
        case 3: b[pos] = 0; break;
        case 4:  // overwrite a u64 with an extreme value
          for (size_t i = pos; i < std::min(b.size(), pos + 8); ++i) b[i] = (rng() & 1) ? 0xff : 0x7f;
          break;
        case 5: b.resize(pos); break;
      }
      if (b.empty()) break;
    }
    Image img(b);
    auto r = parse(img);
    if (r.ok()) {
      ++ok;
      check_invariants(*r, img);
    } else {
      ++failed;
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace g4
