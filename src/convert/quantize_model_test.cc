// End to end: tiny-a (HF folder, f32) and its GGUF quantized to Q8_0. The output must parse, carry
// the planned types, and every tensor must hold exactly quantize -> dequantize of its source. HF input
// must produce the keys and names the Python exporter writes (the committed tiny-a GGUF).
#include "convert/quantize_model.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "convert/gemma4_layout.h"
#include "quant/quant.h"
#include "testing/fixtures.h"
#include "text/tokenizer.h"

namespace g4::convert {
namespace {

std::string out_path(const std::string& name) {
  std::string dir = std::string(G4_BINARY_DIR) + "/testdata";
  ::mkdir(dir.c_str(), 0755);
  return dir + "/" + name;
}

std::vector<float> to_f32(const TensorInfo& t) {
  std::vector<float> f(size_t(t.numel()));
  quant::dequantize(t.dtype, t.data, f.data(), t.numel());
  return f;
}

// quantize -> dequantize of a source tensor, row by row, as the output should hold it.
std::vector<float> expected(const TensorInfo& src, DType to) {
  std::vector<float> f = to_f32(src);
  if (to == DType::F32) return f;
  const int64_t row = src.shape.back(), rows = src.numel() / row;
  std::vector<uint8_t> q(dtype_row_bytes(to, row));
  std::vector<float> out(f.size());
  for (int64_t r = 0; r < rows; ++r) {
    quant::quantize(to, f.data() + r * row, q.data(), row);
    quant::dequantize(to, q.data(), out.data() + r * row, row);
  }
  return out;
}

void check_tensors(const GgufFile& out, const QuantizeReport& report,
                   const std::function<const TensorInfo*(const std::string&)>& source) {
  ASSERT_EQ(out.tensors.tensors().size(), report.tensors.size());
  for (const auto& r : report.tensors) {
    const TensorInfo* t = out.tensors.find(r.name);
    ASSERT_TRUE(t) << r.name;
    EXPECT_EQ(t->dtype, r.to) << r.name;
    const TensorInfo* s = source(r.name);
    ASSERT_TRUE(s) << r.name;
    EXPECT_EQ(t->shape, s->shape) << r.name;
    std::vector<float> got = to_f32(*t), want = expected(*s, r.to);
    ASSERT_EQ(got.size(), want.size()) << r.name;
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * 4), 0) << r.name;
  }
}

TEST(QuantizeModel, GgufToQ8_0) {
  auto in = open_model_files(testing::fixture("tiny-a/model.gguf"));
  ASSERT_TRUE(in.ok()) << in.error().message;
  const std::string path = out_path("tiny-a-q8_0.gguf");
  QuantizeOptions opts;
  opts.quiet = true;
  opts.threads = 2;
  auto rep = quantize_model(*in, path, *scheme_from_name("Q8_0"), opts);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  auto out = load_gguf(path);
  ASSERT_TRUE(out.ok()) << out.error().message;
  int q8 = 0;
  for (const auto& r : rep->tensors) {
    const bool matrix = r.shape.size() == 2;
    EXPECT_EQ(r.to, matrix ? DType::Q8_0 : r.from) << r.name;
    q8 += r.to == DType::Q8_0;
  }
  EXPECT_EQ(q8, 1 + 6 * 6 + 4);  // token_embd, 6 matrices per layer, attn_v on the 4 sliding layers
  check_tensors(*out, *rep, [&](const std::string& n) { return in->gguf->tensors.find(n); });
  // Metadata: the input's, with the file type and quantization version set.
  EXPECT_EQ(*out->get_int("general.file_type"), 7);
  EXPECT_EQ(*out->get_int("general.quantization_version"), 2);
  for (const auto& [k, v] : in->gguf->meta) {
    if (k == "general.file_type" || k == "general.quantization_version") continue;
    const GgufValue* c = out->get(k);
    ASSERT_TRUE(c) << k;
    EXPECT_TRUE(c->type == v.type && c->elem_type == v.elem_type && c->v == v.v) << k;
  }
  // And g4 opens it as a model (config from the copied metadata).
  auto again = open_model_files(path);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->config.n_layers, 6);
}

TEST(QuantizeModel, HfFolderToQ8_0MatchesTheExportersLayout) {
  auto in = open_model_files(testing::hf_fixture_dir("tiny-a"));
  ASSERT_TRUE(in.ok()) << in.error().message;
  const std::string path = out_path("tiny-a-hf-q8_0.gguf");
  QuantizeOptions opts;
  opts.quiet = true;
  auto rep = quantize_model(*in, path, *scheme_from_name("q8_0"), opts);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  auto out = load_gguf(path);
  ASSERT_TRUE(out.ok()) << out.error().message;
  Gemma4Layout layout;
  ASSERT_TRUE(gemma4_layout(*in, &layout).ok());
  check_tensors(*out, *rep, [&](const std::string& n) -> const TensorInfo* {
    for (const auto& t : layout.tensors)
      if (t.gguf_name == n) return t.source;
    return nullptr;
  });

  // The Python exporter's file of the same weights: same tensor names and shapes, same keys.
  auto ref = load_gguf(testing::fixture("tiny-a/model.gguf"));
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(out->tensors.tensors().size(), ref->tensors.tensors().size());
  for (const auto& [n, t] : ref->tensors.tensors()) {
    const TensorInfo* o = out->tensors.find(n);
    ASSERT_TRUE(o) << n;
    EXPECT_EQ(o->shape, t.shape) << n;
    if (t.shape.size() == 1) {  // F32 in both, so the same bytes
      EXPECT_EQ(o->dtype, DType::F32) << n;
      EXPECT_EQ(std::memcmp(o->data, t.data, t.nbytes), 0) << n;
    }
  }
  for (const auto& [k, v] : ref->meta) {
    const GgufValue* c = out->get(k);
    ASSERT_TRUE(c) << k;
    if (k == "general.name") continue;  // the folder's name
    EXPECT_TRUE(c->type == v.type && c->elem_type == v.elem_type) << k;
    EXPECT_TRUE(c->v == v.v) << k;
  }
  for (const auto& [k, v] : out->meta)
    EXPECT_TRUE(ref->get(k) || k == "general.file_type" || k == "general.quantization_version") << k;
  auto again = open_model_files(path);
  ASSERT_TRUE(again.ok()) << again.error().message;
}

TEST(QuantizeModel, HfFolderTokenizerAndTemplateGoIntoTheGguf) {
  // tiny-chat: a random model with the real 262K vocabulary; add the tokenizer and a template.
  const std::string dir = out_path("tiny-chat-tok");
  const std::string src = testing::hf_fixture_dir("tiny-chat");
  ::mkdir(dir.c_str(), 0755);
  for (const char* f : {"config.json", "model.safetensors"}) {
    std::ifstream i(src + "/" + f, std::ios::binary);
    std::ofstream o(dir + "/" + f, std::ios::binary);
    o << i.rdbuf();
  }
  {
    std::ifstream i(testing::fixture("tokenizer/gemma4-tokenizer.json"), std::ios::binary);
    std::ofstream o(dir + "/tokenizer.json", std::ios::binary);
    o << i.rdbuf();
    std::ofstream t(dir + "/chat_template.jinja");
    t << "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}";
  }
  auto in = open_model_files(dir);
  ASSERT_TRUE(in.ok()) << in.error().message;
  const std::string path = out_path("tiny-chat-q4_0.gguf");
  QuantizeOptions opts;
  opts.quiet = true;
  auto rep = quantize_model(*in, path, *scheme_from_name("Q4_0"), opts);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  auto out = open_model_files(path);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->chat_template, "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");
  auto from_json = Tokenizer::from_hf_json(dir + "/tokenizer.json");
  auto from_gguf = Tokenizer::from_gguf(*out->gguf);
  ASSERT_TRUE(from_json.ok() && from_gguf.ok()) << (from_gguf.ok() ? "" : from_gguf.error().message);
  for (const char* text : {"Hello <|turn>world  ünï 🎉", "def f(x):\n\treturn x**2  # 12345", "<0x0A> \xe4\xbd\xa0\xe5\xa5\xbd"})
    EXPECT_EQ((*from_json)->encode(text, true), (*from_gguf)->encode(text, true)) << text;
  EXPECT_EQ(*out->gguf->get_int("tokenizer.ggml.bos_token_id"), 2);
  EXPECT_EQ(*out->gguf->get_int("tokenizer.ggml.eos_token_id"), 1);
}

TEST(QuantizeModel, FailedWriteLeavesNoOutput) {
  auto in = open_model_files(testing::fixture("tiny-a/model.gguf"));
  ASSERT_TRUE(in.ok());
  QuantizeOptions opts;
  opts.quiet = true;
  auto rep = quantize_model(*in, out_path("no-such-dir/x.gguf"), *scheme_from_name("Q8_0"), opts);
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("no-such-dir/x.gguf.part: cannot create"), std::string::npos)
      << rep.error().message;
}

}  // namespace
}  // namespace g4::convert
