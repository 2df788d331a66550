// A small random Gemma 4 with the real 262144-token vocabulary, built in memory (hidden 16, window
// 16, three layers: sliding, sliding, full), and the Gemma 4 tokenizer: enough for the whole text
// pipeline (template, tokenizer, batching, caches, parsers) to run fast in tests.
#pragma once

#include <memory>
#include <vector>

#include "kernels/backend.h"
#include "model/gemma4.h"
#include "text/tokenizer.h"

namespace g4::testing {

struct RandomModel {
  std::vector<std::vector<float>> buffers;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Gemma4Model> model;
  RandomModel();
};

// The Gemma 4 tokenizer from the test data (loaded once).
const Tokenizer& tokenizer();

}  // namespace g4::testing
