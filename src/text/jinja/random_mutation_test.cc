// Robustness: random mutations of the official chat template must parse or fail with an error, and
// whatever parses must render or fail with an error; never crash or hang.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "testing/fixtures.h"
#include "text/jinja/template.h"

namespace g4::jinja {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(JinjaFuzz, RandomMutationsOfOfficialTemplateNeverCrash) {
  const std::string base = read_file(testing::fixture("chat/gemma4-chat_template.jinja"));
  ASSERT_FALSE(base.empty());
  const auto ctx = nlohmann::ordered_json::parse(R"({
    "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Hi"},
                 {"role": "assistant", "content": "", "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": {"a": [1, "x", true]}}}]},
                 {"role": "tool", "tool_call_id": "1", "content": "ok"}],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}, "required": ["a"]}}}],
    "add_generation_prompt": true, "bos_token": "<bos>", "enable_thinking": true})");
  static const char* kSnippets[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "(", ")", "[", "]", "'", "\"", "|",
                                    " if ", " for ", "endif", "endfor", "endmacro", " in ", ".", ",", "=", "~",
                                    " not ", " is ", "\n", "{%- endif -%}", "{{ x(", "\\"};
  std::mt19937 rng(1234);
  int parsed = 0, rendered = 0;
  const int kIters = 3000;
  for (int it = 0; it < kIters; ++it) {
    std::string s = base;
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % (s.size() + 1);
      switch (rng() % 4) {
        case 0:  // delete a span
          s.erase(pos, rng() % 12);
          break;
        case 1:  // insert a syntax snippet
          s.insert(pos, kSnippets[rng() % (sizeof(kSnippets) / sizeof(kSnippets[0]))]);
          break;
        case 2:  // overwrite a byte
          if (pos < s.size()) s[pos] = char(rng() % 256);
          break;
        default: {  // duplicate a span elsewhere
          size_t len = rng() % 40;
          std::string span = s.substr(pos, len);
          s.insert(rng() % (s.size() + 1), span);
        }
      }
    }
    auto t = Template::parse(s, "mutant.jinja");
    if (!t.ok()) {
      EXPECT_EQ(t.error().message.rfind("mutant.jinja:", 0), 0u) << t.error().message;
      continue;
    }
    ++parsed;
    auto r = t->render(ctx);
    if (r.ok()) ++rendered;
  }
  std::printf("[JinjaFuzz] %d/%d mutants parsed, %d rendered\n", parsed, kIters, rendered);
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace g4::jinja
