// Picks the next token from logits: greedy at temperature 0, otherwise temperature, top-k, top-p and
// min-p filtering (in that order, as in HF generate) and a draw from a seeded RNG.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace g4 {

struct SamplingParams {
  float temperature = 1.0f;  // 0: greedy
  int top_k = 64;            // 0: off
  float top_p = 0.95f;       // 1: off
  float min_p = 0.0f;        // 0: off
  uint64_t seed = 0;
};

class Sampler {
 public:
  Sampler(SamplingParams p, std::vector<int32_t> suppressed);
  // `logits` has one entry per vocabulary id.
  int32_t sample(std::span<const float> logits);

 private:
  SamplingParams p_;
  std::vector<int32_t> suppressed_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> cand_;
};

}  // namespace g4
