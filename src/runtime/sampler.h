// Picks the next token from logits: greedy at temperature 0, otherwise temperature, top-k, top-p and
// min-p filtering (in that order, as in HF generate) and a draw from a seeded RNG.
// Before that the logits are adjusted, when asked: logit_bias added (OpenAI); the repetition penalty
// over the prompt and the output (HF/vLLM: positive logits divided by it, negative multiplied); the
// presence and frequency penalties over the output (OpenAI: minus presence once a token occurred,
// minus frequency times its count).
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <span>
#include <vector>

namespace g4 {

struct SamplingParams {
  float temperature = 1.0f;  // 0: greedy
  int top_k = 64;            // 0: off
  float top_p = 0.95f;       // 1: off
  float min_p = 0.0f;        // 0: off
  uint64_t seed = 0;
  float presence_penalty = 0.0f;    // 0: off
  float frequency_penalty = 0.0f;   // 0: off
  float repetition_penalty = 1.0f;  // 1: off
  std::vector<std::pair<int32_t, float>> logit_bias;  // ids outside the vocabulary are ignored
};

class Sampler {
 public:
  Sampler(SamplingParams p, std::vector<int32_t> suppressed);
  // The prompt, for the repetition penalty.
  void set_prompt(std::span<const int32_t> prompt);
  // `logits` has one entry per vocabulary id. The chosen token counts as output for the penalties.
  int32_t sample(std::span<const float> logits);

 private:
  bool adjusts() const;
  int32_t pick(std::span<const float> logits);
  std::span<const float> adjust(std::span<const float> logits);
  SamplingParams p_;
  std::vector<int32_t> suppressed_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> cand_;
  std::vector<float> adjusted_;
  std::vector<double> prob_;
  std::vector<int32_t> prompt_;                 // sorted, unique
  std::vector<std::pair<int32_t, int>> counts_; // output token -> occurrences, sorted by id
};

}  // namespace g4
