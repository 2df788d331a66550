// Opening models from disk: broken files and the chat template that comes with a model.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/gguf.h"
#include "model/config.h"
#include "model/loader.h"
#include "model/weights.h"
#include "testing/fixtures.h"

namespace g4 {
namespace {

TEST(Loader, MissingOrBrokenModelsFailWithTheirPath) {
  auto r = open_model_files("/nonexistent/model.gguf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/model.gguf"), std::string::npos);
  // A truncated GGUF.
  std::string src = testing::fixture("tiny-a/model.gguf");
  std::string cut = std::string(G4_BINARY_DIR) + "/testdata/truncated.gguf";
  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t len : {size_t(0), size_t(3), size_t(100), bytes.size() / 2, bytes.size() * 9 / 10}) {
    std::ofstream(cut, std::ios::binary).write(bytes.data(), std::streamsize(len));
    auto t = open_model_files(cut);
    EXPECT_FALSE(t.ok()) << "truncated to " << len;
    if (!t.ok()) {
      EXPECT_NE(t.error().message.find("truncated.gguf"), std::string::npos) << t.error().message;
    }
  }
}

// A model folder made of links to the Tiny-A files plus the given extra files.
std::string folder_with(const std::string& name, const std::vector<std::pair<std::string, std::string>>& files) {
  std::string src = testing::hf_fixture_dir("tiny-a");
  std::string dir = std::string(G4_BINARY_DIR) + "/testdata/" + name;
  std::string cmd = "rm -rf '" + dir + "' && mkdir -p '" + dir + "' && ln -s '" + src + "/config.json' '" + src +
                    "/model.safetensors' '" + dir + "/'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  for (const auto& [f, text] : files) std::ofstream(dir + "/" + f) << text;
  return dir;
}

TEST(Loader, ChatTemplateFromTheModelFolder) {
  {
    auto m = open_model_files(folder_with("ct-none", {}));
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_TRUE(m->chat_template.empty());
  }
  {
    auto m = open_model_files(folder_with("ct-jinja", {{"chat_template.jinja", "{{ bos_token }}A"},
                                                       {"tokenizer_config.json", R"({"chat_template": "B"})"}}));
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->chat_template, "{{ bos_token }}A");  // the .jinja file wins
    EXPECT_NE(m->chat_template_source.find("chat_template.jinja"), std::string::npos);
  }
  {
    auto m = open_model_files(folder_with("ct-config", {{"tokenizer_config.json", R"({"chat_template": "B"})"}}));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->chat_template, "B");
  }
  {
    auto m = open_model_files(folder_with(
        "ct-list", {{"tokenizer_config.json",
                     R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})"}}));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->chat_template, "D");
  }
  {
    auto m = open_model_files(folder_with("ct-bad", {{"tokenizer_config.json", R"({"chat_template": 5})"}}));
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().message.find("chat_template must be"), std::string::npos) << m.error().message;
  }
}

}  // namespace
}  // namespace g4
