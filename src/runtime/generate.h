// Runs one sequence: prefills a prompt in chunks, then decodes token by token until a stop id,
// a token limit, or the callback says stop.
#pragma once

#include <functional>
#include <vector>

#include "model/gemma4.h"
#include "runtime/sampler.h"

namespace g4 {

struct GenerateOptions {
  int max_new_tokens = 128;
  int chunk = 512;  // prefill chunk size (independent of the sliding window)
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;
};

// on_token returns false to stop early. Returns the generated ids (the stop id included, if hit).
Result<std::vector<int32_t>> generate(Gemma4Model& model, SequenceCache& cache, const std::vector<int32_t>& prompt,
                                      const GenerateOptions& opt, const std::function<bool(int32_t)>& on_token);

// Feeds `tokens` to the cache in chunks; returns the logits of the last token.
Result<std::vector<float>> prefill(Gemma4Model& model, SequenceCache& cache, const std::vector<int32_t>& tokens,
                                  int chunk);

}  // namespace g4
