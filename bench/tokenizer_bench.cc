// Tokenizer speed on one thread: load time from tokenizer.json, encode and decode throughput on a
// corpus of units separated by 0x1E bytes (tests/data/tokenizer/corpus.txt, decompressed).
//   g4_tokenizer_bench TOKENIZER_JSON CORPUS [REPS=5]
// Prints one JSON object; bench/tokenizer_speed.py runs it next to HF `tokenizers`.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER_JSON CORPUS [REPS=5]\n", argv[0]);
    return 2;
  }
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
  std::ifstream f(argv[2], std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "cannot read %s\n", argv[2]);
    return 1;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string corpus = ss.str();
  std::vector<std::string> units;
  size_t bytes = 0;
  for (size_t p = 0; p < corpus.size();) {
    size_t q = corpus.find('\x1e', p);
    if (q == std::string::npos) q = corpus.size();
    if (q > p) units.push_back(corpus.substr(p, q - p));
    bytes += q - p;
    p = q + 1;
  }

  // Load: best of `reps` (the first one also warms the page cache).
  double load_s = 1e9;
  std::unique_ptr<g4::Tokenizer> tok;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    auto res = g4::Tokenizer::from_hf_json(argv[1]);
    const double s = seconds_since(t0);
    if (!res.ok()) {
      std::fprintf(stderr, "%s\n", res.error().message.c_str());
      return 1;
    }
    load_s = std::min(load_s, s);
    tok = std::move(res.value());
  }

  // Encode every unit (special tokens parsed, as for prompts); best of `reps`.
  double encode_s = 1e9, decode_s = 1e9;
  size_t tokens = 0;
  std::vector<std::vector<int32_t>> ids(units.size());
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    size_t n = 0;
    for (size_t i = 0; i < units.size(); ++i) {
      ids[i] = tok->encode(units[i], true);
      n += ids[i].size();
    }
    encode_s = std::min(encode_s, seconds_since(t0));
    tokens = n;
  }
  size_t decoded = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    size_t n = 0;
    for (const auto& v : ids) n += tok->decode(v).size();
    decode_s = std::min(decode_s, seconds_since(t0));
    decoded = n;
  }
  std::printf(
      "{\"units\": %zu, \"bytes\": %zu, \"tokens\": %zu, \"load_s\": %.6f, \"encode_s\": %.6f, "
      "\"decode_s\": %.6f, \"decoded_bytes\": %zu}\n",
      units.size(), bytes, tokens, load_s, encode_s, decode_s, decoded);
  return 0;
}
