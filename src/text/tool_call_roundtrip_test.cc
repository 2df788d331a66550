// A tool call the model writes, parsed and put back into the history as an assistant message,
// renders through the official chat template to exactly the text the model produced.
#include <gtest/gtest.h>

#include "text/builtin_template.h"
#include "text/chat_template.h"
#include "text/response_parser.h"

namespace g4 {
namespace {

using ojson = nlohmann::ordered_json;

TEST(ToolCallRoundTrip, ParsedCallsRenderBackToTheModelsText) {
  auto tmpl = jinja::Template::parse(builtin_gemma4_chat_template(), "builtin");
  ASSERT_TRUE(tmpl.ok()) << tmpl.error().message;
  // As the model writes calls: keys in dictsort order, strings in <|"|>.
  const std::vector<std::string> raws = {
      R"(<|tool_call>call:get_weather{city:<|"|>Paris<|"|>}<tool_call|>)",
      R"(<|tool_call>call:search{max:5,query:<|"|>a {brace}, "quote", colon: and
newline ü 日本<|"|>,strict:true}<tool_call|>)",
      R"(<|tool_call>call:plan{steps:[<|"|>a<|"|>,<|"|>b<|"|>],when:{day:3,hour:-1.5},x:None}<tool_call|>)",
      R"(<|tool_call>call:noargs{}<tool_call|>)",
  };
  for (const std::string& raw : raws) {
    auto call = parse_tool_call(raw);
    ASSERT_TRUE(call.ok()) << raw << ": " << call.error().message;
    ojson messages = ojson::array(
        {{{"role", "user"}, {"content", "go"}},
         {{"role", "assistant"},
          {"content", ""},
          {"tool_calls", ojson::array({{{"type", "function"},
                                        {"function", {{"name", call->name}, {"arguments", call->arguments}}}}})}}});
    auto text = render_chat(*tmpl, messages, nullptr, false, nullptr);
    ASSERT_TRUE(text.ok()) << text.error().message;
    EXPECT_NE(text->find(raw), std::string::npos) << "rendered:\n" << *text << "\nexpected to contain:\n" << raw;
    EXPECT_EQ(format_tool_call(call->name, call->arguments), raw);
  }
}

}  // namespace
}  // namespace g4
