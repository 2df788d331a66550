// Reading OpenAI requests: defaults, every sampling field, thinking switches, tools and tool_choice,
// content parts, and an error naming the field for each kind of bad input.
#include "serve/api_request.h"

#include <gtest/gtest.h>

namespace g4::serve {
namespace {

using nlohmann::json;

json base() { return {{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}}; }

ApiError error_of(const json& body) {
  auto r = parse_chat_request(body);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << body.dump();
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

TEST(ApiRequest, DefaultsAreOpenAIs) {
  auto r = parse_chat_request(base());
  ASSERT_TRUE(std::holds_alternative<ChatRequestBody>(r));
  const auto& c = std::get<ChatRequestBody>(r);
  EXPECT_FLOAT_EQ(c.gen.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(c.gen.sampling.top_p, 1.0f);
  EXPECT_EQ(c.gen.sampling.top_k, 0);
  EXPECT_EQ(c.gen.max_tokens, -1);
  EXPECT_FALSE(c.gen.stream);
  EXPECT_FALSE(c.thinking);
  EXPECT_EQ(c.gen.top_logprobs, -1);
  EXPECT_TRUE(c.tools.is_null());
}

TEST(ApiRequest, ReadsEveryField) {
  json b = base();
  b.update({{"temperature", 0.5}, {"top_p", 0.8}, {"top_k", 20}, {"min_p", 0.05}, {"seed", 7},
            {"max_completion_tokens", 33}, {"stop", "END"}, {"stream", true},
            {"stream_options", {{"include_usage", true}}}, {"presence_penalty", 0.5}, {"frequency_penalty", -0.5},
            {"repetition_penalty", 1.1}, {"logit_bias", {{"42", -100}}}, {"logprobs", true}, {"top_logprobs", 5},
            {"reasoning_effort", "high"}});
  auto r = parse_chat_request(b);
  ASSERT_TRUE(std::holds_alternative<ChatRequestBody>(r)) << std::get<ApiError>(r).message;
  const auto& c = std::get<ChatRequestBody>(r);
  EXPECT_FLOAT_EQ(c.gen.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(c.gen.sampling.top_p, 0.8f);
  EXPECT_EQ(c.gen.sampling.top_k, 20);
  EXPECT_FLOAT_EQ(c.gen.sampling.min_p, 0.05f);
  EXPECT_EQ(c.gen.sampling.seed, 7u);
  EXPECT_EQ(c.gen.max_tokens, 33);
  EXPECT_EQ(c.gen.stop, std::vector<std::string>{"END"});
  EXPECT_TRUE(c.gen.stream && c.gen.include_usage);
  EXPECT_FLOAT_EQ(c.gen.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(c.gen.sampling.frequency_penalty, -0.5f);
  EXPECT_FLOAT_EQ(c.gen.sampling.repetition_penalty, 1.1f);
  ASSERT_EQ(c.gen.sampling.logit_bias.size(), 1u);
  EXPECT_EQ(c.gen.sampling.logit_bias[0].first, 42);
  EXPECT_EQ(c.gen.top_logprobs, 5);
  EXPECT_TRUE(c.thinking);
}

TEST(ApiRequest, ThinkingSwitches) {
  json b = base();
  b["chat_template_kwargs"] = {{"enable_thinking", true}};
  EXPECT_TRUE(std::get<ChatRequestBody>(parse_chat_request(b)).thinking);
  b["reasoning_effort"] = "none";
  b.erase("chat_template_kwargs");
  EXPECT_FALSE(std::get<ChatRequestBody>(parse_chat_request(b)).thinking);
}

TEST(ApiRequest, ToolsContentPartsAndHistory) {
  json b = base();
  b["tools"] = json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}});
  b["messages"] = json::array(
      {{{"role", "developer"}, {"content", json::array({{{"type", "text"}, {"text", "Be "}}, {{"type", "text"}, {"text", "nice."}}})}},
       {{"role", "user"}, {"content", "Weather?"}},
       {{"role", "assistant"}, {"content", nullptr},
        {"tool_calls", json::array({{{"id", "c1"}, {"type", "function"},
                                     {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}}})}},
       {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "sunny"}}});
  auto r = parse_chat_request(b);
  ASSERT_TRUE(std::holds_alternative<ChatRequestBody>(r)) << std::get<ApiError>(r).message;
  const auto& c = std::get<ChatRequestBody>(r);
  EXPECT_EQ(c.tools.size(), 1u);
  EXPECT_EQ(c.messages[0]["role"], "system");
  EXPECT_EQ(c.messages[0]["content"], "Be nice.");
  EXPECT_EQ(c.messages[2]["tool_calls"][0]["function"]["arguments"]["city"], "Paris");  // as an object
  b["tool_choice"] = "none";
  EXPECT_TRUE(std::get<ChatRequestBody>(parse_chat_request(b)).tools.is_null());
}

TEST(ApiRequest, ToolChoiceAndChoices) {
  json b = base();
  b["tools"] = json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}}}}});
  b["tool_choice"] = "required";
  EXPECT_EQ(std::get<ChatRequestBody>(parse_chat_request(b)).tool_choice, ToolChoice::kRequired);
  b["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  b["parallel_tool_calls"] = false;
  b["n"] = 3;
  auto r = std::get<ChatRequestBody>(parse_chat_request(b));
  EXPECT_EQ(r.tool_choice, ToolChoice::kNamed);
  EXPECT_EQ(r.tool_name, "get_weather");
  EXPECT_FALSE(r.parallel_tool_calls);
  EXPECT_EQ(r.gen.n, 3);
  // A name that is not a tool, a required choice without tools, a malformed object.
  b["tool_choice"]["function"]["name"] = "get_time";
  EXPECT_EQ(error_of(b).param, "tool_choice");
  b["tool_choice"] = {{"type", "function"}};
  EXPECT_EQ(error_of(b).param, "tool_choice");
  b.erase("tools");
  b["tool_choice"] = "required";
  EXPECT_EQ(error_of(b).param, "tool_choice");
  b["tool_choice"] = "sometimes";
  EXPECT_EQ(error_of(b).param, "tool_choice");
  b["tool_choice"] = "auto";
  b["parallel_tool_calls"] = "no";
  EXPECT_EQ(error_of(b).param, "parallel_tool_calls");
}

TEST(ApiRequest, BadInputNamesTheField) {
  auto with = [](const char* k, json v) {
    json b = base();
    b[k] = std::move(v);
    return b;
  };
  EXPECT_EQ(error_of(with("temperature", "hot")).param, "temperature");
  EXPECT_EQ(error_of(with("temperature", 3)).param, "temperature");
  EXPECT_EQ(error_of(with("top_p", -0.1)).param, "top_p");
  EXPECT_EQ(error_of(with("max_tokens", 0)).param, "max_tokens");
  EXPECT_EQ(error_of(with("max_tokens", 1.5)).param, "max_tokens");
  EXPECT_EQ(error_of(with("stop", 5)).param, "stop");
  EXPECT_EQ(error_of(with("stop", json::array({""}))).param, "stop");
  EXPECT_EQ(error_of(with("n", 0)).param, "n");
  EXPECT_EQ(error_of(with("n", 17)).param, "n");
  EXPECT_EQ(error_of(with("seed", "x")).param, "seed");
  EXPECT_EQ(error_of(with("logit_bias", {{"abc", 1}})).param, "logit_bias");
  EXPECT_EQ(error_of(with("stream", "yes")).param, "stream");
  EXPECT_EQ(error_of(with("stream_options", {{"include_usage", 1}})).param, "stream_options.include_usage");
  EXPECT_EQ(error_of(with("top_logprobs", 3)).param, "top_logprobs");  // without logprobs
  EXPECT_EQ(error_of(with("tool_choice", 7)).param, "tool_choice");
  EXPECT_EQ(error_of(with("reasoning_effort", "max")).param, "reasoning_effort");
  EXPECT_EQ(error_of(with("messages", json::array())).param, "messages");
  EXPECT_EQ(error_of(with("messages", json::array({{{"content", "x"}}}))).param, "messages[0].role");
  EXPECT_EQ(error_of(with("messages", json::array({{{"role", "user"}, {"content", 3}}}))).param, "messages[0].content");
  EXPECT_EQ(error_of(with("messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "image_url"}}})}}}))).param,
            "messages[0].content");
  json bad_args = base();
  bad_args["messages"].push_back({{"role", "assistant"},
                                  {"tool_calls", json::array({{{"function", {{"name", "f"}, {"arguments", "{oops"}}}}})}});
  EXPECT_EQ(error_of(bad_args).param, "messages[1].tool_calls");
  EXPECT_EQ(error_of(with("tools", json::array({{{"type", "function"}}}))).param, "tools[0]");
  json no_messages = {{"model", "x"}};
  EXPECT_EQ(error_of(no_messages).param, "messages");
  // Bodies that are not objects, and malformed JSON.
  EXPECT_TRUE(std::holds_alternative<ApiError>(parse_body("{")));
  EXPECT_TRUE(std::holds_alternative<ApiError>(parse_body("3")));
  EXPECT_TRUE(std::holds_alternative<json>(parse_body("{}")));
}

TEST(ApiRequest, CompletionPrompts) {
  auto text = parse_completion_request({{"prompt", "abc"}});
  ASSERT_TRUE(std::holds_alternative<CompletionRequestBody>(text));
  EXPECT_EQ(std::get<CompletionRequestBody>(text).prompt, "abc");
  auto ids = parse_completion_request({{"prompt", {2, 100, 200}}});
  ASSERT_TRUE(std::holds_alternative<CompletionRequestBody>(ids));
  EXPECT_EQ(std::get<CompletionRequestBody>(ids).prompt_ids, (std::vector<int32_t>{2, 100, 200}));
  EXPECT_TRUE(std::holds_alternative<ApiError>(parse_completion_request({{"prompt", {2, "x"}}})));
  EXPECT_TRUE(std::holds_alternative<ApiError>(parse_completion_request({{"prompt", {{"a", "b"}}}})));
  EXPECT_TRUE(std::holds_alternative<ApiError>(parse_completion_request({{"prompt", "a"}, {"logprobs", 50}})));
}

}  // namespace
}  // namespace g4::serve
