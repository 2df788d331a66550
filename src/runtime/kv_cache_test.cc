// How much a sequence's cache keeps per layer, as g4 info reports it and the cache allocates it.
#include "runtime/kv_cache.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace g4 {
namespace {

ModelConfig tiny_a() {
  std::ifstream f(std::string(G4_TEST_DATA) + "/tiny-a/config.json");
  std::stringstream ss;
  ss << f.rdbuf();
  auto c = config_from_hf_json(ss.str(), "config.json");
  EXPECT_TRUE(c.ok());
  return c.value();
}

TEST(KvCache, SlidingLayersKeepWindowPlusChunkFullLayersEverything) {
  ModelConfig c = tiny_a();  // window 8; sliding layers 2 x 64, full layers 1 x 128
  EXPECT_EQ(SequenceCache::positions_kept(c.layers[0], 4096, 512), 8 + 512);
  EXPECT_EQ(SequenceCache::positions_kept(c.layers[2], 4096, 512), 4096);
  EXPECT_EQ(SequenceCache::positions_kept(c.layers[0], 100, 512), 100);  // the context is smaller
  // 4 sliding layers x 520 x 128 elements + 2 full layers x 4096 x 128 elements, K and V: 4 bytes each
  // for f32, 2 for f16 (the default), 34 per 32 for q8_0.
  const size_t elems = size_t(4 * 520 * 128 + 2 * 4096 * 128) * 2;
  EXPECT_EQ(SequenceCache::bytes_at_full_context(c, 4096, 512, DType::F32), elems * 4);
  EXPECT_EQ(SequenceCache::bytes_at_full_context(c, 4096, 512), elems * 2);
  EXPECT_EQ(SequenceCache::bytes_at_full_context(c, 4096, 512, DType::Q8_0), elems / 32 * 34);
  // A cache grown to the full context holds exactly that.
  auto be = make_cpu_backend(1);
  for (DType t : {DType::F32, DType::F16, DType::Q8_0}) {
    auto cache = SequenceCache::create(c, *be, 4096, 512, t);
    ASSERT_TRUE(cache.ok());
    EXPECT_EQ((*cache)->kv_type(), t);
    for (int n = 0; n < 4096; n += 512) {
      ASSERT_TRUE((*cache)->reserve(512).ok());
      (*cache)->advance(512);
    }
    EXPECT_EQ((*cache)->bytes(), SequenceCache::bytes_at_full_context(c, 4096, 512, t)) << dtype_name(t);
  }
  EXPECT_FALSE(SequenceCache::create(c, *be, 4096, 512, DType::BF16).ok());  // not a cache type
}

}  // namespace
}  // namespace g4
