// --quant at load: the layer matrices become quantized copies (quantize of the source, row by row),
// everything else is untouched, and quantized input is refused.
#include "convert/quantize_at_load.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "convert/quantize_model.h"
#include "quant/quant.h"
#include "testing/fixtures.h"

namespace g4::convert {
namespace {

void check(const std::string& path, const std::string& type, DType want, int want_count) {
  auto orig = open_model_files(path);
  auto files = open_model_files(path);
  ASSERT_TRUE(orig.ok() && files.ok());
  auto n = quantize_at_load(*files, type, 2);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, want_count);
  int seen = 0;
  for (const auto& [name, t] : files->tensors().tensors()) {
    const TensorInfo* o = orig->tensors().find(name);
    ASSERT_TRUE(o) << name;
    if (t.dtype == o->dtype) {
      EXPECT_EQ(std::memcmp(t.data, o->data, o->nbytes), 0) << name;  // untouched
      continue;
    }
    ++seen;
    EXPECT_EQ(t.dtype, want) << name;
    EXPECT_EQ(t.shape, o->shape) << name;
    const int64_t row = o->shape.back(), rows = o->numel() / row;
    std::vector<float> f(static_cast<size_t>(row));
    std::vector<uint8_t> q(dtype_row_bytes(want, row));
    for (int64_t r = 0; r < rows; ++r) {
      quant::dequantize(o->dtype, o->data + size_t(r) * dtype_row_bytes(o->dtype, row), f.data(), row);
      quant::quantize(want, f.data(), q.data(), row);
      ASSERT_EQ(std::memcmp(q.data(), t.data + size_t(r) * q.size(), q.size()), 0) << name << " row " << r;
    }
  }
  EXPECT_EQ(seen, want_count);
}

TEST(QuantizeModelAtLoad, HfFolderAndGgufLayerMatrices) {
  // tiny-a: 6 layers, 7 matrices on the 4 sliding layers, 6 on the 2 full ones (no attn_v).
  check(testing::hf_fixture_dir("tiny-a"), "q8_0", DType::Q8_0, 4 * 7 + 2 * 6);
  check(testing::fixture("tiny-a/model.gguf"), "Q4_0", DType::Q4_0, 4 * 7 + 2 * 6);
  // Q4_K needs rows of 256: tiny-a's hidden size is 128, so only the matrices that read the FFN (512)
  // or the attention heads (4 x 64 or 4 x 128) fit: ffn_down and attn_output, 6 of each.
  check(testing::fixture("tiny-a/model.gguf"), "q4_k", DType::Q4_K, 12);
}

TEST(QuantizeModelAtLoad, RefusesQuantizedInputAndUnknownTypes) {
  auto files = open_model_files(testing::fixture("tiny-a/model.gguf"));
  ASSERT_TRUE(files.ok());
  auto bad = quantize_at_load(*files, "q3_k", 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown type 'q3_k' (valid: q8_0, q4_0, q4_k)"), std::string::npos);

  std::string out = std::string(G4_BINARY_DIR) + "/testdata/tiny-a-atload-q8.gguf";
  QuantizeOptions opts;
  opts.quiet = true;
  ASSERT_TRUE(quantize_model(*files, out, *scheme_from_name("Q8_0"), opts).ok());
  auto q = open_model_files(out);
  ASSERT_TRUE(q.ok());
  auto r = quantize_at_load(*q, "q4_0", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("already quantized"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace g4::convert
