// The tokenizer on a 2.6 MB multilingual corpus (54 languages, emoji, code, markup, numbers,
// whitespace runs, chat turns) against ids recorded with HF `tokenizers`
// (tools/reference/make_tokenizer_corpus.py): every unit must encode identically with special
// tokens parsed and as text, and decode back to itself.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "testing/fixtures.h"
#include "text/tokenizer.h"

namespace g4 {
namespace {

using Ids = std::vector<int32_t>;

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Unit {
  std::string text;
  Ids ids;       // special tokens parsed
  Ids ids_text;  // special tokens as text
};

// corpus.txt: units each followed by 0x1E. corpus_ids.bin: "G4TC", version, count, then per unit
// byte length, n, n ids, m (0xFFFFFFFF: same as the first list), m ids; all little-endian uint32.
std::vector<Unit> load_corpus(std::string* error) {
  const std::string text = read_all(testing::fixture("tokenizer/corpus.txt"));
  const std::string bin = read_all(testing::fixture("tokenizer/corpus_ids.bin"));
  size_t pos = 0;
  auto u32 = [&](uint32_t* v) {
    if (pos + 4 > bin.size()) return false;
    std::memcpy(v, bin.data() + pos, 4);  // the file is little-endian, as is every target we build for
    pos += 4;
    return true;
  };
  auto read_ids = [&](uint32_t n, Ids* out) {
    if (pos + size_t(n) * 4 > bin.size()) return false;
    out->resize(n);
    std::memcpy(out->data(), bin.data() + pos, size_t(n) * 4);
    pos += size_t(n) * 4;
    return true;
  };
  std::vector<Unit> units;
  uint32_t version = 0, count = 0;
  if (bin.compare(0, 4, "G4TC") != 0) {
    *error = "bad magic in corpus_ids.bin";
    return {};
  }
  pos = 4;
  if (!u32(&version) || version != 1 || !u32(&count)) {
    *error = "bad header in corpus_ids.bin";
    return {};
  }
  size_t tp = 0;
  for (uint32_t i = 0; i < count; ++i) {
    Unit u;
    uint32_t len = 0, n = 0, m = 0;
    if (!u32(&len) || !u32(&n) || !read_ids(n, &u.ids) || !u32(&m)) break;
    if (m == 0xFFFFFFFFu) {
      u.ids_text = u.ids;
    } else if (!read_ids(m, &u.ids_text)) {
      break;
    }
    if (tp + len + 1 > text.size() || text[tp + len] != '\x1e') {
      *error = "corpus.txt and corpus_ids.bin disagree at unit " + std::to_string(i);
      return {};
    }
    u.text = text.substr(tp, len);
    tp += len + 1;
    units.push_back(std::move(u));
  }
  if (units.size() != count || pos != bin.size() || tp != text.size()) {
    *error = "truncated or trailing data in the corpus files";
    return {};
  }
  return units;
}

std::string ids_str(const Ids& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

TEST(TokenizerCorpus, MatchesHfAndRoundTrips) {
  auto r = Tokenizer::from_hf_json(testing::fixture("tokenizer/gemma4-tokenizer.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Tokenizer& tok = *r.value();
  std::string error;
  const std::vector<Unit> units = load_corpus(&error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_GT(units.size(), 4000u);

  size_t bytes = 0, tokens = 0, special_differs = 0;
  int mismatches = 0, reported = 0;
  for (size_t i = 0; i < units.size(); ++i) {
    const Unit& u = units[i];
    bytes += u.text.size();
    tokens += u.ids.size();
    special_differs += u.ids != u.ids_text;
    const Ids ids = tok.encode(u.text, true);
    const Ids ids_text = tok.encode(u.text, false);
    const bool ok =
        ids == u.ids && ids_text == u.ids_text && tok.decode(ids) == u.text && tok.decode(ids_text) == u.text;
    if (!ok) {
      ++mismatches;
      if (++reported <= 5) {
        ADD_FAILURE() << "unit " << i << ": " << nlohmann::json(u.text).dump() << "\n  hf:  " << ids_str(u.ids)
                      << "\n  g4:  " << ids_str(ids) << "\n  hf (specials as text): " << ids_str(u.ids_text)
                      << "\n  g4 (specials as text): " << ids_str(ids_text)
                      << "\n  decoded: " << nlohmann::json(tok.decode(ids)).dump();
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(bytes, size_t(2) << 20);
  EXPECT_GT(special_differs, 100u);  // the corpus exercises both special-token modes
  std::printf("[ corpus   ] %zu units, %zu bytes, %zu tokens, %zu where special tokens matter: %d mismatches\n",
              units.size(), bytes, tokens, special_differs, mismatches);
}

}  // namespace
}  // namespace g4
