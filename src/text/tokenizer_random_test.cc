// 100k random strings against HF `tokenizers`. tools/reference/check_tokenizer_fuzz.py generates
// them with a portable generator (splitmix64, integer arithmetic only) that this file repeats
// exactly, runs HF on them, and commits only three hashes per case (input bytes, ids with special
// tokens parsed, ids with special tokens as text) in tests/data/tokenizer/fuzz_hashes.bin. Invalid
// UTF-8 inputs were given to HF after Python's decode("utf-8", "replace"), which is what g4 does
// itself. With G4_TOKENIZER_FUZZ_FILE set to the script's JSON-lines dump (every case with HF's
// ids), a second test compares ids directly and prints mismatches in full.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "testing/fixtures.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace g4 {
namespace {

using tokenizer_detail::append_utf8;

using Ids = std::vector<int32_t>;
using Cps = std::vector<uint32_t>;

constexpr uint64_t kSeed = 20261129;
constexpr uint32_t kCases = 100000;

// Keep identical to tools/reference/check_tokenizer_fuzz.py.
// clang-format off
const char* const kFragments[] = {
    "<", ">", "|", "<|", "|>", "<|tu", "rn>", "<|turn>", "<turn|>", "turn|>", "<|turn", "<bos>", "<bos",
    "os>", "<eos>", "<pad>", "<unk>", "<mask>", "<0x41>", "<0x0A>", "<0xZZ>", "<0x", "<unused0>",
    "<unused99>", "<table>", "</table>", "<td>", "<b>", "</b", "[multimodal]", "[multi", "<|\"|>", "<|\"",
    "<|think|>", "<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>", "<|tool>", "<tool|>",
    "<|tool_response>", "<|image|>", "<|image>", "<image|>", "<|audio|>", "<|video|>",
    "<image_soft_token>", "<start_of_turn>", " ", "  ", "\n", "\n\n", "\t", "\r\n", "\u2581",
    "\u2581\u2581", "a", "the", " the", "\u00e9", "\u4e2d", "\U0001f999", "1", "23", ".", "'s", "\u200d",
    "\ufffd",
};
const uint32_t kWhitespace[] = {0x20, 0x09, 0x0A, 0x0D, 0xA0, 0x3000, 0x2581, 0x0B, 0x0C};
const char* const kBad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf0\x9f\xa6", "\xe2\x82", "\x80",
                            "\xff", "\xfe", "\xc3", "\xe0\x80\x80", "\xf8\x88\x80\x80\x80"};
// clang-format on
const int kKinds[10] = {0, 0, 1, 1, 2, 2, 3, 4, 4, 5};

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    s_ += 0x9E3779B97F4A7C15ull;
    uint64_t z = s_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }  // inclusive

 private:
  uint64_t s_;
};

// Decodes UTF-8 that is known to be valid (the corpus, the fragments).
Cps code_points(const std::string& s) {
  Cps out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}


std::string utf8(const Cps& cps) {
  std::string s;
  for (uint32_t cp : cps) append_utf8(cp, &s);
  return s;
}

// Strict UTF-8 validity (no overlongs, surrogates or code points above U+10FFFF).
bool strictly_valid(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80                   ? 1
            : (c >= 0xC2 && c <= 0xDF) ? 2
            : (c >= 0xE0 && c <= 0xEF) ? 3
            : (c >= 0xF0 && c <= 0xF4) ? 4
                                       : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += n;
  }
  return true;
}

class Generator {
 public:
  explicit Generator(const std::string& corpus) : corpus_(code_points(corpus)) {
    std::set<uint32_t> set(corpus_.begin(), corpus_.end());
    charset_.assign(set.begin(), set.end());
    for (const char* f : kFragments) fragments_.push_back(code_points(f));
  }

  std::string input(uint32_t i) {
    Rng r((kSeed << 32) | i);
    const int kind = kKinds[i % 10];
    if (kind != 4) return utf8(text(r, kind));
    const int sub = int(r.below(4));
    std::string b = utf8(text(r, sub));
    const uint64_t muts = r.range(1, 4);
    for (uint64_t m = 0; m < muts; ++m) {
      const uint64_t op = r.below(4);
      if (op == 0) {
        const size_t pos = r.below(b.size() + 1);
        const char byte = char(r.below(256));
        b.insert(b.begin() + long(pos), byte);
      } else if (op == 1) {
        if (!b.empty()) {
          const size_t pos = r.below(b.size());
          b[pos] = char(r.below(256));
        }
      } else if (op == 2) {
        if (!b.empty()) b.resize(r.below(b.size()));
      } else {
        const size_t pos = r.below(b.size() + 1);
        b.insert(pos, kBad[r.below(std::size(kBad))]);
      }
    }
    return b;
  }

 private:
  uint32_t random_cp(Rng& r) {
    const uint64_t k = r.below(16);
    if (k < 6) {
      uint32_t cp = uint32_t(r.range(0x20, 0xFFFF));
      if (cp >= 0xD800 && cp < 0xE000) cp += 0x800;
      return cp;
    }
    if (k < 8) return uint32_t(r.range(0x20, 0x7E));
    if (k == 8) {
      if (r.below(2) == 0) return uint32_t(r.below(0x20));
      return uint32_t(r.range(0x7F, 0x9F));
    }
    if (k < 12) return uint32_t(r.range(0x10000, 0x1FFFF));
    if (k == 12) return uint32_t(r.range(0x20000, 0x3FFFF));
    if (k == 13) return uint32_t(r.range(0xE0000, 0x10FFFF));
    return charset_[r.below(charset_.size())];
  }

  Cps substring(Rng& r, uint64_t lo, uint64_t hi) {
    const uint64_t n = r.range(lo, hi);
    const uint64_t start = r.below(corpus_.size() - n);
    return Cps(corpus_.begin() + long(start), corpus_.begin() + long(start + n));
  }

  Cps text(Rng& r, int kind) {
    Cps s;
    if (kind == 0) {
      const uint64_t n = r.range(1, 32);
      for (uint64_t k = 0; k < n; ++k) s.push_back(random_cp(r));
    } else if (kind == 1) {
      s = substring(r, 1, 80);
      const uint64_t muts = r.below(4);
      for (uint64_t m = 0; m < muts; ++m) {
        const uint64_t op = r.below(3);
        if (op == 0 || s.empty()) {
          const size_t pos = r.below(s.size() + 1);
          const uint32_t cp = charset_[r.below(charset_.size())];
          s.insert(s.begin() + long(pos), cp);
        } else if (op == 1) {
          s.erase(s.begin() + long(r.below(s.size())));
        } else {
          const size_t pos = r.below(s.size());
          s[pos] = charset_[r.below(charset_.size())];
        }
      }
    } else if (kind == 2) {
      const uint64_t n = r.range(1, 12);
      for (uint64_t k = 0; k < n; ++k) {
        const Cps& f = fragments_[r.below(fragments_.size())];
        s.insert(s.end(), f.begin(), f.end());
      }
    } else if (kind == 3) {
      const uint64_t segs = r.range(1, 10);
      for (uint64_t k = 0; k < segs; ++k) {
        if (r.below(2) == 0) {
          const uint32_t ch = kWhitespace[r.below(std::size(kWhitespace))];
          s.insert(s.end(), size_t(r.range(1, 70)), ch);
        } else {
          const Cps sub = substring(r, 1, 8);
          s.insert(s.end(), sub.begin(), sub.end());
        }
      }
    } else {  // 5: a mixture of the first four kinds
      const uint64_t parts = r.range(2, 4);
      for (uint64_t k = 0; k < parts; ++k) {
        const int sub_kind = int(r.below(4));
        const Cps sub = text(r, sub_kind);
        s.insert(s.end(), sub.begin(), sub.end());
      }
    }
    return s;
  }

  Cps corpus_;
  Cps charset_;
  std::vector<Cps> fragments_;
};

uint32_t fnv32(const void* data, size_t n) {
  uint32_t h = 0x811C9DC5u;
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x01000193u;
  return h;
}

uint32_t ids_hash(const Ids& ids) { return fnv32(ids.data(), ids.size() * sizeof(int32_t)); }  // little-endian

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string ids_str(const Ids& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

std::string escaped(const std::string& bytes) {
  std::string s;
  char buf[8];
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      s.push_back(char(c));
    } else {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    }
  }
  return s;
}

std::unique_ptr<Tokenizer> load_tokenizer() {
  auto r = Tokenizer::from_hf_json(testing::fixture("tokenizer/gemma4-tokenizer.json"));
  if (!r.ok()) return nullptr;
  return std::move(r.value());
}

TEST(TokenizerRandom, MatchesCommittedHfHashes) {
  std::unique_ptr<Tokenizer> tok = load_tokenizer();
  ASSERT_TRUE(tok);
  Generator gen(read_all(testing::fixture("tokenizer/corpus.txt")));
  const std::string bin = read_all(testing::fixture("tokenizer/fuzz_hashes.bin"));
  ASSERT_EQ(bin.size(), 16 + size_t(kCases) * 12);
  ASSERT_EQ(bin.compare(0, 4, "G4TF"), 0);
  uint32_t header[3];
  std::memcpy(header, bin.data() + 4, sizeof header);
  ASSERT_EQ(header[0], 1u);
  ASSERT_EQ(header[1], kCases);
  ASSERT_EQ(header[2], kSeed);

  int generator_mismatches = 0, mismatches = 0, roundtrip_failures = 0, invalid = 0;
  for (uint32_t i = 0; i < kCases; ++i) {
    uint32_t want[3];
    std::memcpy(want, bin.data() + 16 + size_t(i) * 12, sizeof want);
    const std::string in = gen.input(i);
    if (fnv32(in.data(), in.size()) != want[0]) {
      if (++generator_mismatches <= 3) ADD_FAILURE() << "case " << i << ": generator differs from the script's";
      continue;
    }
    const Ids ids = tok->encode(in, true);
    const Ids ids_text = tok->encode(in, false);
    if (ids_hash(ids) != want[1] || ids_hash(ids_text) != want[2]) {
      if (++mismatches <= 5)
        ADD_FAILURE() << "case " << i
                      << " differs from HF (parse_special: " << (ids_hash(ids) == want[1] ? "same" : "DIFFERENT")
                      << ", specials as text: " << (ids_hash(ids_text) == want[2] ? "same" : "DIFFERENT") << "): \""
                      << escaped(in) << "\"\n  g4: " << ids_str(ids)
                      << "\n  run tools/reference/check_tokenizer_fuzz.py --g4-tests <g4_tests> for HF's ids";
    }
    if (strictly_valid(in)) {
      // A literal '▁' is the normalizer's space, so it decodes to ' ' (as in HF).
      std::string back = in;
      for (size_t p = back.find("\u2581"); p != std::string::npos; p = back.find("\u2581", p + 1))
        back.replace(p, 3, " ");
      if (tok->decode(ids) != back || tok->decode(ids_text) != back) {
        if (++roundtrip_failures <= 3)
          ADD_FAILURE() << "case " << i << " does not round-trip: \"" << escaped(in) << "\"";
      }
    } else {
      ++invalid;
    }
  }
  EXPECT_EQ(generator_mismatches, 0);
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(roundtrip_failures, 0);
  EXPECT_GT(invalid, 10000);
  std::printf("[ random   ] %u cases (%d invalid UTF-8): %d mismatches with HF\n", kCases, invalid, mismatches);
}

// The full comparison, for debugging: G4_TOKENIZER_FUZZ_FILE=<JSON lines {"hex", "ids", "ids_text"}>.
TEST(TokenizerRandom, MatchesHfIdsFromFile) {
  const char* path = std::getenv("G4_TOKENIZER_FUZZ_FILE");
  if (!path || !*path) GTEST_SKIP() << "G4_TOKENIZER_FUZZ_FILE not set";
  std::unique_ptr<Tokenizer> tok = load_tokenizer();
  ASSERT_TRUE(tok);
  std::ifstream f(path);
  ASSERT_TRUE(f) << path;
  std::string line;
  int n = 0, mismatches = 0;
  while (std::getline(f, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    const std::string hex = j["hex"].get<std::string>();
    std::string in;
    for (size_t k = 0; k + 1 < hex.size(); k += 2) in.push_back(char(std::stoi(hex.substr(k, 2), nullptr, 16)));
    const Ids want = j["ids"].get<Ids>(), want_text = j["ids_text"].get<Ids>();
    const Ids ids = tok->encode(in, true), ids_text = tok->encode(in, false);
    if (ids != want || ids_text != want_text) {
      ++mismatches;
      ADD_FAILURE() << "case " << n << ": \"" << escaped(in) << "\"\n  hf: " << ids_str(want)
                    << "\n  g4: " << ids_str(ids) << "\n  hf (specials as text): " << ids_str(want_text)
                    << "\n  g4 (specials as text): " << ids_str(ids_text);
      if (mismatches >= 50) break;
    }
    ++n;
  }
  std::printf("[ random   ] %d cases from %s: %d mismatches\n", n, path, mismatches);
}

}  // namespace
}  // namespace g4
