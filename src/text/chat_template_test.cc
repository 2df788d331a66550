// Golden tests: the official Gemma 4 chat templates rendered by g4's Jinja engine must match
// transformers' apply_chat_template byte for byte (goldens from tools/reference/make_template_goldens.py).
#include "text/chat_template.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "testing/fixtures.h"

namespace g4 {
namespace {

using ojson = nlohmann::ordered_json;

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// A readable description of the first difference.
std::string first_diff(const std::string& want, const std::string& got) {
  size_t k = 0;
  while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
  size_t from = k > 60 ? k - 60 : 0;
  std::ostringstream os;
  os << "first difference at byte " << k << " (want " << want.size() << " bytes, got " << got.size() << ")\n"
     << "  common: ..." << escape(want.substr(from, k - from)) << "\n"
     << "  want:   " << escape(want.substr(k, 80)) << "\n"
     << "  got:    " << escape(got.substr(k, 80)) << "\n";
  return os.str();
}

struct Golden {
  std::vector<ojson> cases;
  std::map<std::string, jinja::Template> templates;
};

const Golden& goldens() {
  static const Golden* g = [] {
    auto* out = new Golden;
    std::ifstream f(testing::fixture("chat/template_goldens.jsonl"));
    std::string line;
    while (std::getline(f, line))
      if (!line.empty()) out->cases.push_back(ojson::parse(line));
    for (const char* name : {"gemma4-chat_template.jinja", "gemma4-chat_template-interleaved.jinja"}) {
      auto t = jinja::Template::parse(read_file(testing::fixture(std::string("chat/") + name)), name);
      if (t.ok()) out->templates.emplace(name, std::move(t.value()));
      else ADD_FAILURE() << t.error().message;
    }
    return out;
  }();
  return *g;
}

TEST(ChatTemplate, OfficialTemplatesParse) {
  EXPECT_EQ(goldens().templates.size(), 2u);
}

TEST(ChatTemplate, GoldensMatchTransformers) {
  const Golden& g = goldens();
  ASSERT_GE(g.cases.size(), 200u);
  int passed = 0, errors = 0;
  for (const ojson& c : g.cases) {
    const std::string label = c["template"].get<std::string>() + " / " + c["name"].get<std::string>();
    auto it = g.templates.find(c["template"].get<std::string>());
    ASSERT_NE(it, g.templates.end()) << label;
    auto r = render_chat(it->second, c["messages"], c["tools"], c["add_generation_prompt"].get<bool>(), c["kwargs"]);
    if (!c["error"].is_null()) {
      ++errors;
      const std::string want = c["error"].get<std::string>();
      if (r.ok()) {
        ADD_FAILURE() << label << ": expected error containing \"" << want << "\", got output";
        continue;
      }
      EXPECT_NE(r.error().message.find(want), std::string::npos) << label << ": " << r.error().message;
      EXPECT_EQ(r.error().message.rfind(c["template"].get<std::string>() + ":", 0), 0u) << r.error().message;
      if (r.error().message.find(want) != std::string::npos) ++passed;
      continue;
    }
    if (!r.ok()) {
      ADD_FAILURE() << label << ": " << r.error().message;
      continue;
    }
    const std::string want = c["expected"].get<std::string>();
    if (r.value() != want) {
      ADD_FAILURE() << label << ": " << first_diff(want, r.value());
      continue;
    }
    ++passed;
  }
  EXPECT_GE(errors, 8);
  std::printf("[ChatTemplate] %d/%zu golden cases match\n", passed, g.cases.size());
}

TEST(ChatTemplate, EmptyConversationIsAnError) {
  const Golden& g = goldens();
  auto r = render_chat(g.templates.begin()->second, ojson::array(), nullptr, true, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("empty conversation"), std::string::npos);
}

TEST(ChatTemplate, ContextMirrorsApplyChatTemplate) {
  ojson msgs = ojson::parse(R"([{"role":"assistant","content":null,"reasoning":"r","tool_calls":[]}])");
  auto ctx = build_chat_context(msgs, nullptr, true, ojson{{"enable_thinking", true}});
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ((*ctx)["messages"][0].dump(),
            R"({"thinking":"r","role":"assistant","reasoning":"r","tool_calls":[],"reasoning_content":"r"})");
  EXPECT_EQ((*ctx)["bos_token"], "<bos>");
  EXPECT_EQ((*ctx)["enable_thinking"], true);
  EXPECT_TRUE((*ctx)["tools"].is_null());
}

}  // namespace
}  // namespace g4
