// Tokenizer tests against HF `tokenizers`: llama.cpp's Gemma 4 vectors, goldens recorded with HF
// (tools/reference/make_tokenizer_goldens.py), special-token parsing, streaming decode, GGUF
// metadata, invalid input, and long runs.

#include "text/tokenizer.h"
#include "text/utf8.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/gguf.h"
#include "testing/fixtures.h"

namespace g4 {
namespace {

using json = nlohmann::json;
using Ids = std::vector<int32_t>;

std::string data_path(const std::string& rel) { return std::string(G4_TEST_DATA) + "/tokenizer/" + rel; }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string ids_str(const Ids& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

bool valid_utf8(const std::string& s) {
  // Decoding with the tokenizer's own rules would be circular; a plain structural check is enough.
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

struct Golden {
  std::string text;
  Ids ids;
  Ids ids_text;
  std::string decoded;
};

class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    json_path_ = new std::string(testing::fixture("tokenizer/gemma4-tokenizer.json"));
    auto t0 = std::chrono::steady_clock::now();
    auto r = Tokenizer::from_hf_json(*json_path_);
    load_ms_ = ms_since(t0);
    ASSERT_TRUE(r.ok()) << r.error().message;
    tok_ = r.value().release();

    goldens_ = new std::vector<Golden>();
    std::ifstream f(data_path("goldens.jsonl"));
    std::string line;
    while (std::getline(f, line)) {
      json j = json::parse(line);
      if (!j.contains("text")) continue;
      goldens_->push_back({j["text"].get<std::string>(), j["ids"].get<Ids>(), j["ids_text"].get<Ids>(),
                           j["decoded"].get<std::string>()});
    }
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete goldens_;
    delete json_path_;
  }

  static const Tokenizer& tok() { return *tok_; }

  static Tokenizer* tok_;
  static std::vector<Golden>* goldens_;
  static std::string* json_path_;
  static double load_ms_;
};

Tokenizer* TokenizerTest::tok_ = nullptr;
std::vector<Golden>* TokenizerTest::goldens_ = nullptr;
std::string* TokenizerTest::json_path_ = nullptr;
double TokenizerTest::load_ms_ = 0;

// llama.cpp's test-tokenizer-0 vectors for Gemma 4: inputs separated by a separator line, one line
// of expected ids (no BOS) per input.
std::vector<std::pair<std::string, std::string>> llama_cpp_vectors() {
  std::string inp = read_file(data_path("gemma-4.inp"));
  std::string out = read_file(data_path("gemma-4.out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t p = 0;
  while (true) {
    size_t q = inp.find(sep, p);
    if (q == std::string::npos) {
      if (p < inp.size()) texts.push_back(inp.substr(p));
      break;
    }
    texts.push_back(inp.substr(p, q - p));
    p = q + sep.size();
  }
  std::vector<std::string> lines;
  std::istringstream ls(out);
  std::string line;
  while (std::getline(ls, line)) lines.push_back(line);
  std::vector<std::pair<std::string, std::string>> v;
  for (size_t i = 0; i < texts.size() && i < lines.size(); ++i) v.push_back({texts[i], lines[i]});
  return v;
}

TEST_F(TokenizerTest, BasicIds) {
  EXPECT_EQ(tok().vocab_size(), 262145);  // 262144 pieces + <image_soft_token> (an added token)
  EXPECT_EQ(tok().bos_id(), 2);
  EXPECT_EQ(tok().eos_id(), 1);
  EXPECT_EQ(tok().pad_id(), 0);
  EXPECT_EQ(tok().piece(2), "<bos>");
  EXPECT_EQ(tok().piece(107), "\n");
  EXPECT_EQ(tok().piece(238), "<0x00>");
  EXPECT_EQ(tok().piece(-1), "");
  EXPECT_EQ(tok().piece(1 << 30), "");
  EXPECT_EQ(tok().find("<|turn>"), 105);
  EXPECT_EQ(tok().find("<turn|>"), 106);
  EXPECT_EQ(tok().find("<|\"|>"), 52);
  EXPECT_EQ(tok().find("<|video|>"), 258884);
  EXPECT_EQ(tok().find("<image_soft_token>"), 262144);
  EXPECT_EQ(tok().find("▁the"), 506);
  EXPECT_EQ(tok().find("no such piece at all"), -1);
  for (int id : {0, 1, 2, 3, 46, 50, 52, 98, 100, 105, 106, 255999, 256000, 258880, 258884})
    EXPECT_TRUE(tok().is_special(id)) << id;
  for (int id : {4, 5, 6, 107, 138, 168, 506, 238, -1, 1 << 30}) EXPECT_FALSE(tok().is_special(id)) << id;
  EXPECT_TRUE(tok().encode("", true).empty());
}

TEST_F(TokenizerTest, LlamaCppVectors) {
  auto vectors = llama_cpp_vectors();
  ASSERT_EQ(vectors.size(), 46u);
  for (const auto& [text, expected] : vectors) {
    EXPECT_EQ(ids_str(tok().encode(text, true)), expected) << "text: " << text;
    EXPECT_EQ(ids_str(tok().encode(text, false)), expected) << "text: " << text;
  }
}

TEST_F(TokenizerTest, LlamaCppVectorsRoundTrip) {
  for (const auto& [text, expected] : llama_cpp_vectors())
    EXPECT_EQ(tok().decode(tok().encode(text, true)), text) << "text: " << text;
}

TEST_F(TokenizerTest, HfGoldens) {
  ASSERT_GT(goldens_->size(), 400u);
  int failures = 0;
  for (const Golden& g : *goldens_) {
    Ids ids = tok().encode(g.text, true);
    Ids ids_text = tok().encode(g.text, false);
    std::string decoded = tok().decode(g.ids);
    bool ok = ids == g.ids && ids_text == g.ids_text && decoded == g.decoded;
    EXPECT_EQ(ids, g.ids) << "parse_special, text: " << json(g.text).dump();
    EXPECT_EQ(ids_text, g.ids_text) << "specials as text, text: " << json(g.text).dump();
    EXPECT_EQ(decoded, g.decoded) << "decode, text: " << json(g.text).dump();
    if (!ok && ++failures > 10) FAIL() << "too many failures";
  }
}

TEST_F(TokenizerTest, SpecialTokenParsing) {
  const std::string chat = "<|turn>user\nhi<turn|>";
  EXPECT_EQ(tok().encode(chat, true), (Ids{105, 2364, 107, 2202, 106}));
  // As text, exactly like HF with split_special_tokens=True.
  EXPECT_EQ(tok().encode(chat, false), (Ids{236820, 236909, 887, 236813, 2364, 107, 2202, 236820, 887, 111038}));
  // Gemma 3's markers are ordinary text for Gemma 4.
  const Ids start_of_turn = {236820, 3041, 236779, 1340, 236779, 887, 236813};
  EXPECT_EQ(tok().encode("<start_of_turn>", true), start_of_turn);
  EXPECT_EQ(tok().encode("<start_of_turn>", false), start_of_turn);
  EXPECT_EQ(tok().encode("<bos>a<eos>", true), (Ids{2, 236746, 1}));
  EXPECT_EQ(tok().encode("<bos>a<eos>", false), (Ids{236820, 46757, 236813, 236746, 236820, 211827, 236813}));
  // Non-special added tokens are matched either way.
  EXPECT_EQ(tok().encode("<table>x</table>", true), (Ids{168, 236781, 176}));
  EXPECT_EQ(tok().encode("<table>x</table>", false), (Ids{168, 236781, 176}));
  EXPECT_EQ(tok().encode("<unused0>", false), (Ids{6}));
  // Adjacent and partial specials.
  EXPECT_EQ(tok().encode("<|turn><|turn>", true), (Ids{105, 105}));
  EXPECT_EQ(tok().encode("x<|turn", true), (Ids{236781, 236820, 236909, 887}));
  // Decoding keeps special tokens as their text.
  EXPECT_EQ(tok().decode({2, 105, 2364, 107, 106}), "<bos><|turn>user\n<turn|>");
  EXPECT_EQ(tok().decode({-5, 2364, 1 << 30}), "user");
}

TEST_F(TokenizerTest, SpacesAndByteFallback) {
  EXPECT_EQ(tok().encode("a  b", true), (Ids{236746, 138, 236763}));
  EXPECT_EQ(tok().encode("a▁▁b", true), (Ids{236746, 138, 236763}));  // literal '▁' matches too
  EXPECT_EQ(tok().decode(tok().encode("a▁▁b", true)), "a  b");
  // U+10FFFF and U+1D518 are not pieces: one <0xNN> per UTF-8 byte.
  Ids ids = tok().encode("\U0010FFFF", true);
  EXPECT_EQ(ids, (Ids{238 + 0xF4, 238 + 0x8F, 238 + 0xBF, 238 + 0xBF}));
  EXPECT_EQ(tok().decode(ids), "\U0010FFFF");
  EXPECT_EQ(tok().encode(std::string("\0", 1), true), (Ids{238}));
}

TEST_F(TokenizerTest, StreamDecoderMultibyte) {
  const std::string text = "a\U0010FFFF€ 𝔘x𠀀🦙é中\n";
  Ids ids = tok().encode(text, true);
  int byte_tokens = 0;
  for (int32_t id : ids) byte_tokens += tok().piece(id).rfind("<0x", 0) == 0;
  ASSERT_GE(byte_tokens, 8);  // the test needs characters split across byte-fallback tokens
  StreamDecoder sd(tok());
  std::string all;
  for (int32_t id : ids) {
    std::string chunk = sd.push(id);
    EXPECT_TRUE(valid_utf8(chunk)) << "after id " << id;
    all += chunk;
  }
  all += sd.flush();
  EXPECT_EQ(all, text);

  // A 4-byte character arrives as four byte tokens: nothing until the last one.
  StreamDecoder sd2(tok());
  EXPECT_EQ(sd2.push(238 + 0xF0), "");
  EXPECT_EQ(sd2.push(238 + 0x9D), "");
  EXPECT_EQ(sd2.push(238 + 0x94), "");
  EXPECT_EQ(sd2.push(238 + 0x98), "𝔘");
  EXPECT_EQ(sd2.flush(), "");

  // Bytes that cannot become valid come out as U+FFFD at once; a dangling start at flush().
  StreamDecoder sd3(tok());
  EXPECT_EQ(sd3.push(238 + 0xE2), "");
  EXPECT_EQ(sd3.push(236746), "\xEF\xBF\xBD" "a");
  EXPECT_EQ(sd3.push(238 + 0xFF), "\xEF\xBF\xBD");
  EXPECT_EQ(sd3.push(238 + 0xE2), "");
  EXPECT_EQ(sd3.push(238 + 0x82), "");
  EXPECT_EQ(sd3.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(sd3.flush(), "");
  // Special tokens stream as their text.
  StreamDecoder sd4(tok());
  EXPECT_EQ(sd4.push(105), "<|turn>");
}

TEST_F(TokenizerTest, InvalidUtf8IsReplaced) {
  // Ill-formed parts become U+FFFD (one per maximal subpart) before encoding, which is what HF
  // sees for Python's bytes.decode('utf-8', 'replace').
  const std::string fffd = "\xEF\xBF\xBD";
  struct Case {
    std::string in, fixed;
  } cases[] = {
      {"abc\xff", "abc" + fffd},
      {"\x80x", fffd + "x"},
      {"\xE2\x82", fffd},                           // truncated at the end
      {"\xE2\x82x", fffd + "x"},                    // truncated in the middle
      {"\xED\xA0\x80", fffd + fffd + fffd},         // a UTF-16 surrogate
      {"\xC0\xAF", fffd + fffd},                    // overlong
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {"\xF0\x9F\xA6", fffd},
      {"<|turn>\xfe<turn|>", "<|turn>" + fffd + "<turn|>"},
  };
  for (const Case& c : cases) {
    Ids got = tok().encode(c.in, true);
    EXPECT_EQ(got, tok().encode(c.fixed, true)) << json(c.fixed).dump();
    EXPECT_EQ(tok().decode(got), c.fixed);
  }
  EXPECT_EQ(tok().encode("\xff", true), (Ids{tok().find("�")}));
}

TEST_F(TokenizerTest, LongRunsAreNotQuadratic) {
  // Long runs are one pre-token each (Gemma has no pre-tokenizer split): BPE must not be quadratic.
  for (const std::string& unit : {std::string(" "), std::string("\n"), std::string("a"), std::string("ab "),
                                  std::string("é"), std::string("\xF0\x90\x8D\x88")}) {
    std::string text;
    while (text.size() < (256 << 10)) text += unit;
    auto t0 = std::chrono::steady_clock::now();
    Ids ids = tok().encode(text, true);
    double ms = ms_since(t0);
    EXPECT_EQ(tok().decode(ids), text);
    EXPECT_LT(ms, 60000) << json(unit).dump();  // ~0.1 s here; quadratic would be hours
    std::printf("[ speed    ] 256 KB of %s: %zu ids in %.1f ms\n", json(unit).dump().c_str(), ids.size(), ms);
  }
}

TEST_F(TokenizerTest, Speed) {
  std::string text;
  for (const Golden& g : *goldens_) text += g.text;
  std::string corpus;
  while (corpus.size() < (1 << 20)) corpus += text;
  auto t0 = std::chrono::steady_clock::now();
  Ids ids = tok().encode(corpus, true);
  double ms = ms_since(t0);
  t0 = std::chrono::steady_clock::now();
  std::string back = tok().decode(ids);
  double dms = ms_since(t0);
  std::printf("[ speed    ] load %.1f ms; encode %.2f MB in %.1f ms (%.1f MB/s, %.2f M tokens/s); "
              "decode %.1f ms\n",
              load_ms_, corpus.size() / 1e6, ms, corpus.size() / 1e3 / ms, ids.size() / 1e3 / ms, dms);
  EXPECT_FALSE(ids.empty());
}

// ------------------------------------------------------------------------------------------------
// GGUF: metadata as llama.cpp's converter writes it for Gemma 4 (gguf-py LlamaHfVocab: BYTE for
// <0xNN>, CONTROL for HF's special tokens except the ones the converter keeps visible, which it
// writes as USER_DEFINED, NORMAL for everything else; merges as "a b").

GgufValue string_array(std::vector<std::string> v) {
  GgufValue g;
  g.type = GgufValue::Type::ARRAY;
  g.elem_type = GgufValue::Type::STRING;
  g.v = std::move(v);
  return g;
}

const std::set<std::string>& visible_tokens() {
  static const std::set<std::string> v = {"<|channel>",       "<channel|>",       "<|tool_call>", "<tool_call|>",
                                          "<|tool_response>", "<tool_response|>", "<|\"|>"};
  return v;
}

// The merges of a tokenizer.json as "a b" strings, read without a full JSON parse (a 16 MB DOM is
// slow in sanitizer builds). Handles both merge forms and the escapes serde_json writes.
std::vector<std::string> read_merges(const std::string& text) {
  std::vector<std::string> merges;
  size_t i = text.find("\"merges\"");
  if (i == std::string::npos) return merges;
  i = text.find('[', i) + 1;
  auto read_string = [&](std::string* out) {
    out->clear();
    i = text.find('"', i) + 1;
    while (text[i] != '"') {
      char c = text[i++];
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      c = text[i++];
      if (c == 'u') {
        uint32_t cp = uint32_t(std::stoul(text.substr(i, 4), nullptr, 16));
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (uint32_t(std::stoul(text.substr(i + 2, 4), nullptr, 16)) - 0xDC00);
          i += 6;
        }
        tokenizer_detail::append_utf8(cp, out);
      } else {
        out->push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'f' ? '\f' : c);
      }
    }
    ++i;
  };
  std::string a, b;
  while (true) {
    size_t next = text.find_first_not_of(" \n\r\t,", i);
    if (next == std::string::npos || text[next] == ']') break;
    i = next;
    if (text[i] == '"') {
      read_string(&a);
      merges.push_back(a);
    } else {
      read_string(&a);
      read_string(&b);
      merges.push_back(a + " " + b);
      i = text.find(']', i) + 1;
    }
  }
  return merges;
}

TEST_F(TokenizerTest, FromGgufMatchesJson) {
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  for (int32_t id = 0; id < tok().vocab_size(); ++id) {
    const std::string& p = tok().piece(id);
    tokens.push_back(p);
    if (p.size() == 6 && p.rfind("<0x", 0) == 0) types.push_back(6);
    else if (tok().is_special(id)) types.push_back(visible_tokens().count(p) ? 4 : 3);
    else types.push_back(1);
  }
  std::vector<std::string> merges = read_merges(read_file(*json_path_));
  ASSERT_EQ(merges.size(), 514906u);
  EXPECT_EQ(merges[1], "▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁ ▁");

  GgufFile gguf;
  gguf.meta["tokenizer.ggml.model"].type = GgufValue::Type::STRING;
  gguf.meta["tokenizer.ggml.model"].v = std::string("gemma4");
  gguf.meta["tokenizer.ggml.tokens"] = string_array(tokens);
  gguf.meta["tokenizer.ggml.merges"] = string_array(merges);
  GgufValue tv;
  tv.type = GgufValue::Type::ARRAY;
  tv.elem_type = GgufValue::Type::I32;
  tv.v = types;
  gguf.meta["tokenizer.ggml.token_type"] = tv;
  for (auto [key, id] : {std::pair<const char*, int64_t>{"tokenizer.ggml.bos_token_id", 2},
                         {"tokenizer.ggml.eos_token_id", 1},
                         {"tokenizer.ggml.padding_token_id", 0},
                         {"tokenizer.ggml.unknown_token_id", 3}}) {
    gguf.meta[key].type = GgufValue::Type::U32;
    gguf.meta[key].v = id;
  }

  auto t0 = std::chrono::steady_clock::now();
  auto r = Tokenizer::from_gguf(gguf);
  double ms = ms_since(t0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::printf("[ speed    ] from_gguf %.1f ms\n", ms);
  const Tokenizer& g = *r.value();
  EXPECT_EQ(g.vocab_size(), tok().vocab_size());
  EXPECT_EQ(g.bos_id(), 2);
  EXPECT_EQ(g.eos_id(), 1);
  EXPECT_EQ(g.pad_id(), 0);
  EXPECT_TRUE(g.is_special(105));
  EXPECT_FALSE(g.is_special(100));  // <|channel> is USER_DEFINED in Gemma 4 GGUFs

  for (const auto& [text, expected] : llama_cpp_vectors()) EXPECT_EQ(ids_str(g.encode(text, true)), expected);
  int failures = 0;
  for (const Golden& gd : *goldens_) {
    bool ok = g.encode(gd.text, true) == gd.ids && g.decode(gd.ids) == gd.decoded;
    EXPECT_EQ(g.encode(gd.text, true), gd.ids) << json(gd.text).dump();
    bool has_visible = false;
    for (const std::string& v : visible_tokens()) has_visible |= gd.text.find(v) != std::string::npos;
    if (!has_visible) {
      EXPECT_EQ(g.encode(gd.text, false), gd.ids_text) << json(gd.text).dump();
      ok = ok && g.encode(gd.text, false) == gd.ids_text;
    }
    EXPECT_EQ(g.decode(gd.ids), gd.decoded);
    if (!ok && ++failures > 10) FAIL() << "too many failures";
  }
}

TEST(TokenizerErrors, BadInputs) {
  EXPECT_FALSE(Tokenizer::from_hf_json("/nonexistent/tokenizer.json").ok());
  for (const char* text : {"", "{", "[]", "{}", "{\"model\": {\"type\": \"BPE\"}}",
                           "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]]}}",
                           "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"b\"]]}, "
                           "\"decoder\": {\"type\": \"ByteFallback\"}}",
                           "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"a\": 1}, \"merges\": []}, "
                           "\"decoder\": {\"type\": \"Fuse\"}}",
                           "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\\ud800\": 0}, \"merges\": []}}"}) {
    auto r = Tokenizer::from_hf_json_text(text, "test.json");
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("test.json"), std::string::npos) << r.error().message;
    }
  }
  GgufFile empty;
  EXPECT_FALSE(Tokenizer::from_gguf(empty).ok());
}

TEST(TokenizerErrors, TinyTokenizer) {
  // A hand-written BPE: merges by rank, unknown characters, a Split pre-tokenizer, added tokens
  // with lstrip/rstrip and one matched in normalized text. Expected ids are HF's.
  const char* text = R"({
    "added_tokens": [
      {"id": 7, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
      {"id": 8, "content": "<m>", "single_word": false, "lstrip": true, "rstrip": true, "normalized": false, "special": false},
      {"id": 9, "content": "ab_", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": false}],
    "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "_"},
    "pre_tokenizer": {"type": "Split", "pattern": {"String": "_"}, "behavior": "MergedWithNext", "invert": false},
    "decoder": {"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "_"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}]},
    "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": false,
      "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3, "_": 4, "_ab": 5, "bb": 6, "<s>": 7, "<m>": 8, "ab_": 9},
      "merges": ["a b", "_ ab", "b b"]}
  })";
  auto r = Tokenizer::from_hf_json_text(text, "tiny.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Tokenizer& t = *r.value();
  EXPECT_EQ(t.encode("b ab", true), (Ids{2, 5}));        // Split merged with next: "b", "_ab"
  EXPECT_EQ(t.encode("bb_ab", true), (Ids{6, 5}));
  EXPECT_EQ(t.encode("_ab_ab", true), (Ids{4, 9, 3}));   // "ab_" is found first
  EXPECT_EQ(t.encode("abb", true), (Ids{3, 2}));         // "a b" outranks "b b"
  EXPECT_EQ(t.encode("bbb", true), (Ids{6, 2}));         // equal ranks: leftmost first
  EXPECT_EQ(t.encode("xyab", true), (Ids{0, 3}));        // unknown run fused into one <unk>
  EXPECT_EQ(t.encode("<s>ab", true), (Ids{7, 3}));
  EXPECT_EQ(t.encode("<s>", false), (Ids{0}));           // '<', 's', '>' are unknown
  EXPECT_EQ(t.encode("ab ab", true), (Ids{9, 3}));       // "ab_" matches the normalized text
  EXPECT_EQ(t.encode("xab b", true), (Ids{0, 9, 2}));
  EXPECT_EQ(t.encode("a <m> b", true), (Ids{1, 8, 2}));  // lstrip/rstrip swallow the spaces
  EXPECT_EQ(t.encode("a  \t<m>\n b", true), (Ids{1, 8, 2}));
  EXPECT_EQ(t.encode("  <m>", true), (Ids{8}));
  EXPECT_EQ(t.encode("b<m>b", true), (Ids{2, 8, 2}));
  EXPECT_EQ(t.encode("ab<m>  ab ", true), (Ids{3, 8, 9}));
  EXPECT_EQ(t.encode(" <s> <m> ", true), (Ids{4, 7, 8}));
  EXPECT_EQ(t.decode({7, 3, 5}), "<s>ab ab");
}

}  // namespace
}  // namespace g4
