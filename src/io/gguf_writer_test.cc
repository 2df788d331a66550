// GgufWriter: what it writes parses back (io/gguf.h) to the same metadata, shapes, types and bytes;
// misuse and I/O failures are errors, not corrupt files.
#include "io/gguf_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

namespace g4 {
namespace {

using VT = GgufValue::Type;

std::string tmp_path(const std::string& name) {
  std::string dir = std::string(G4_BINARY_DIR) + "/testdata";
  ::mkdir(dir.c_str(), 0755);
  return dir + "/" + name;
}

GgufValue scalar(VT t, decltype(GgufValue::v) v) {
  GgufValue g;
  g.type = t;
  g.v = std::move(v);
  return g;
}

TEST(GgufWriter, RoundTripsEveryValueTypeAndTensors) {
  GgufWriter w;
  w.set_string("general.architecture", "gemma4");
  w.set("u8", scalar(VT::U8, int64_t(200)));
  w.set("i8", scalar(VT::I8, int64_t(-100)));
  w.set("u16", scalar(VT::U16, int64_t(60000)));
  w.set("i16", scalar(VT::I16, int64_t(-30000)));
  w.set_u32("u32", 4000000000u);
  w.set_i32("i32", -2000000000);
  w.set_u64("u64", uint64_t(1) << 40);
  w.set("i64", scalar(VT::I64, int64_t(-(int64_t(1) << 50))));
  w.set_f32("f32", 0.25f);
  w.set("f64", scalar(VT::F64, 1e300));
  w.set_bool("bool", true);
  w.set_string("str", std::string("h\xc3\xa9llo\0x", 8));
  w.set_u32_array("arr.u32", {1, 2, 4000000000});
  w.set_i32_array("arr.i32", {-1, 0, 7});
  w.set_f32_array("arr.f32", {0.5, -2.0});
  w.set_bool_array("arr.bool", {true, false, true});
  w.set_string_array("arr.str", {"a", "", "b c"});
  w.set_string_array("arr.empty", {});
  w.set_u32("u32", 7);  // replaced in place

  std::vector<float> a(2 * 3);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(i) - 2.5f;
  std::vector<uint16_t> b(5);
  for (size_t i = 0; i < b.size(); ++i) b[i] = f32_to_f16(float(i));
  std::vector<uint8_t> q(2 * 34, 0x11);  // two rows of one Q8_0 block
  ASSERT_TRUE(w.add_tensor("a", DType::F32, {2, 3}).ok());
  ASSERT_TRUE(w.add_tensor("b", DType::F16, {5}).ok());
  ASSERT_TRUE(w.add_tensor("q", DType::Q8_0, {2, 32}).ok());
  const std::string path = tmp_path("writer_roundtrip.gguf");
  ASSERT_TRUE(w.open(path).ok());
  EXPECT_EQ(w.current_tensor(), "a");
  ASSERT_TRUE(w.write(a.data(), 8).ok());  // pieces of a tensor
  ASSERT_TRUE(w.write(reinterpret_cast<uint8_t*>(a.data()) + 8, a.size() * 4 - 8).ok());
  ASSERT_TRUE(w.write(b.data(), b.size() * 2).ok());
  ASSERT_TRUE(w.write(q.data(), q.size()).ok());
  ASSERT_TRUE(w.close().ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(uint64_t(st.st_size), w.file_size());

  auto g = load_gguf(path);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->version, 3u);
  EXPECT_EQ(*g->get_string("general.architecture"), "gemma4");
  EXPECT_EQ(*g->get_int("u8"), 200);
  EXPECT_EQ(*g->get_int("i8"), -100);
  EXPECT_EQ(*g->get_int("u16"), 60000);
  EXPECT_EQ(*g->get_int("i16"), -30000);
  EXPECT_EQ(*g->get_int("u32"), 7);
  EXPECT_EQ(*g->get_int("i32"), -2000000000);
  EXPECT_EQ(*g->get_int("u64"), int64_t(1) << 40);
  EXPECT_EQ(*g->get_int("i64"), -(int64_t(1) << 50));
  EXPECT_EQ(*g->get_float("f32"), 0.25);
  EXPECT_EQ(*g->get_float("f64"), 1e300);
  EXPECT_TRUE(std::get<bool>(g->get("bool")->v));
  EXPECT_EQ(*g->get_string("str"), std::string("h\xc3\xa9llo\0x", 8));
  EXPECT_EQ(*g->get_int_array("arr.u32"), (std::vector<int64_t>{1, 2, 4000000000}));
  EXPECT_EQ(g->get("arr.u32")->elem_type, VT::U32);
  EXPECT_EQ(*g->get_int_array("arr.i32"), (std::vector<int64_t>{-1, 0, 7}));
  EXPECT_EQ(g->get("arr.i32")->elem_type, VT::I32);
  EXPECT_EQ(std::get<std::vector<double>>(g->get("arr.f32")->v), (std::vector<double>{0.5, -2.0}));
  EXPECT_EQ(*g->get_bool_array("arr.bool"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(*g->get_string_array("arr.str"), (std::vector<std::string>{"a", "", "b c"}));
  EXPECT_TRUE(g->get_string_array("arr.empty")->empty());
  EXPECT_EQ(g->get("u8")->type, VT::U8);
  EXPECT_EQ(g->get("f64")->type, VT::F64);

  const TensorInfo* ta = g->tensors.find("a");
  ASSERT_TRUE(ta);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ta->dtype, DType::F32);
  EXPECT_EQ(std::memcmp(ta->data, a.data(), a.size() * 4), 0);
  const TensorInfo* tb = g->tensors.find("b");
  ASSERT_TRUE(tb);
  EXPECT_EQ(tb->shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(std::memcmp(tb->data, b.data(), b.size() * 2), 0);
  const TensorInfo* tq = g->tensors.find("q");
  ASSERT_TRUE(tq);
  EXPECT_EQ(tq->dtype, DType::Q8_0);
  EXPECT_EQ(tq->shape, (std::vector<int64_t>{2, 32}));
  EXPECT_EQ(tq->nbytes, q.size());
  EXPECT_EQ(std::memcmp(tq->data, q.data(), q.size()), 0);
  // Every tensor starts on the alignment.
  for (const auto& [n, t] : g->tensors.tensors()) EXPECT_EQ((t.data - ta->data) % 32, 0) << n;
}

TEST(GgufWriter, CopiesMetadataOfAParsedFile) {
  GgufWriter w1(64);
  w1.set_string("general.architecture", "gemma4");
  w1.set_i32_array("x.kv", {8, 1});
  w1.set_string_array("tokenizer.ggml.tokens", {"<pad>", "a"});
  ASSERT_TRUE(w1.add_tensor("t", DType::F32, {4}).ok());
  const std::string p1 = tmp_path("writer_copy1.gguf"), p2 = tmp_path("writer_copy2.gguf");
  ASSERT_TRUE(w1.open(p1).ok());
  float d[4] = {1, 2, 3, 4};
  ASSERT_TRUE(w1.write(d, sizeof d).ok());
  ASSERT_TRUE(w1.close().ok());
  auto g1 = load_gguf(p1);
  ASSERT_TRUE(g1.ok()) << g1.error().message;
  EXPECT_EQ(*g1->get_int("general.alignment"), 64);

  GgufWriter w2;
  w2.copy_metadata(*g1);
  EXPECT_FALSE(w2.has("general.alignment"));  // the writer's own
  ASSERT_TRUE(w2.add_tensor("t", DType::F32, {4}).ok());
  ASSERT_TRUE(w2.open(p2).ok());
  ASSERT_TRUE(w2.write(d, sizeof d).ok());
  ASSERT_TRUE(w2.close().ok());
  auto g2 = load_gguf(p2);
  ASSERT_TRUE(g2.ok()) << g2.error().message;
  for (const auto& [k, v] : g1->meta) {
    if (k == "general.alignment") continue;
    const GgufValue* c = g2->get(k);
    ASSERT_TRUE(c) << k;
    EXPECT_EQ(c->type, v.type) << k;
    EXPECT_EQ(c->elem_type, v.elem_type) << k;
    EXPECT_TRUE(c->v == v.v) << k;
  }
  EXPECT_EQ(g2->meta.size(), g1->meta.size() - 1);
}

TEST(GgufWriter, RefusesBadTensorsAndMisuse) {
  GgufWriter w;
  EXPECT_NE(w.add_tensor("x", DType::Q4_K, {2, 100}).error().message.find("multiple of the Q4_K block size 256"),
            std::string::npos);
  EXPECT_FALSE(w.add_tensor("x", DType::F32, {}).ok());
  ASSERT_TRUE(w.add_tensor("x", DType::F32, {2}).ok());
  EXPECT_NE(w.add_tensor("x", DType::F32, {2}).error().message.find("duplicate"), std::string::npos);
  ASSERT_TRUE(w.add_tensor("y", DType::F32, {1}).ok());
  ASSERT_TRUE(w.open(tmp_path("writer_misuse.gguf")).ok());
  float d[3] = {1, 2, 3};
  // A piece running past the tensor would shift the next one.
  auto s = w.write(d, 12);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("'x'"), std::string::npos);
}

TEST(GgufWriter, IncompleteTensorsAndUnwritablePathsAreErrors) {
  GgufWriter w;
  ASSERT_TRUE(w.add_tensor("x", DType::F32, {4}).ok());
  ASSERT_TRUE(w.open(tmp_path("writer_incomplete.gguf")).ok());
  float d[2] = {1, 2};
  ASSERT_TRUE(w.write(d, sizeof d).ok());
  auto s = w.close();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("tensor 'x' is incomplete (8 of 16 bytes"), std::string::npos);

  GgufWriter w2;
  auto o = w2.open(tmp_path("no-such-dir/x.gguf"));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("cannot create"), std::string::npos);
}

// A full disk: /dev/full accepts the open and fails every write with ENOSPC.
TEST(GgufWriter, DiskFullIsAnError) {
  struct stat st {};
  if (::stat("/dev/full", &st) != 0) GTEST_SKIP() << "no /dev/full";
  GgufWriter w;
  ASSERT_TRUE(w.add_tensor("x", DType::F32, {1 << 20}).ok());
  std::vector<float> d(1 << 20);
  Status s = w.open("/dev/full");
  if (s.ok()) s = w.write(d.data(), d.size() * 4);
  if (s.ok()) s = w.close();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("No space left on device"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace g4
