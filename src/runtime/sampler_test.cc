// The sampler: greedy, seeded draws, the filters, and the logit adjustments (bias, repetition,
// presence and frequency penalties) against hand-computed expectations.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <map>

namespace g4 {
namespace {

SamplingParams greedy() {
  SamplingParams p;
  p.temperature = 0;
  return p;
}

TEST(Sampler, GreedyTakesTheLargestAllowedLogit) {
  std::vector<float> l = {0.1f, 3.0f, 2.0f, 5.0f};
  Sampler s(greedy(), {3});  // 3 is suppressed
  EXPECT_EQ(s.sample(l), 1);
}

TEST(Sampler, SameSeedSameDrawsAndFiltersHold) {
  std::vector<float> l(50);
  for (size_t i = 0; i < l.size(); ++i) l[i] = float(i % 7) * 0.3f;
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 10;
  p.top_p = 0.9f;
  p.seed = 42;
  Sampler a(p, {}), b(p, {});
  std::vector<int32_t> ra, rb;
  for (int i = 0; i < 200; ++i) ra.push_back(a.sample(l)), rb.push_back(b.sample(l));
  EXPECT_EQ(ra, rb);
  // top_k = 1 is greedy whatever the temperature.
  p.top_k = 1;
  Sampler c(p, {});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(l[size_t(c.sample(l))], 6 * 0.3f);
}

TEST(Sampler, LogitBiasCanForceOrForbid) {
  std::vector<float> l = {1.0f, 2.0f, 3.0f};
  SamplingParams p = greedy();
  p.logit_bias = {{0, 100.0f}};
  EXPECT_EQ(Sampler(p, {}).sample(l), 0);
  p.logit_bias = {{2, -100.0f}, {99, 5.0f}};  // an id outside the vocabulary is ignored
  EXPECT_EQ(Sampler(p, {}).sample(l), 1);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  // Token 0 (in the prompt) at 3.0 -> 1.5 under penalty 2, below token 1 at 2.0.
  std::vector<float> l = {3.0f, 2.0f, -1.0f};
  SamplingParams p = greedy();
  p.repetition_penalty = 2.0f;
  Sampler s(p, {});
  s.set_prompt(std::vector<int32_t>{0, 0, 2});
  EXPECT_EQ(s.sample(l), 1);
  // Now 1 is in the output too: 2.0 -> 1.0 < 1.5.
  EXPECT_EQ(s.sample(l), 0);
  // A negative logit gets more negative: -1 * 2 = -2 stays last.
  std::vector<float> l2 = {-3.0f, -2.5f, -1.0f};
  Sampler s2(p, {});
  s2.set_prompt(std::vector<int32_t>{2});
  EXPECT_EQ(s2.sample(l2), 2);  // -1 -> -2, still above -2.5
  EXPECT_EQ(s2.sample(l2), 2);  // counted once: it is in the prompt and the output, not penalized twice
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountTheOutput) {
  std::vector<float> l = {2.0f, 1.6f, 0.0f};
  SamplingParams p = greedy();
  p.presence_penalty = 0.3f;
  p.frequency_penalty = 0.2f;
  Sampler s(p, {});
  EXPECT_EQ(s.sample(l), 0);  // nothing generated yet
  EXPECT_EQ(s.sample(l), 1);  // 0: 2.0 - 0.3 - 0.2 = 1.5 < 1.6
  EXPECT_EQ(s.sample(l), 0);  // 1: 1.6 - 0.5 = 1.1 < 1.5
  EXPECT_EQ(s.sample(l), 0);  // 0 twice: 2.0 - 0.3 - 0.4 = 1.3 > 1.1
}

}  // namespace
}  // namespace g4
