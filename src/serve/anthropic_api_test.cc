// Anthropic's Messages API end to end through a real HTTP client on the small random model: the
// whole and streamed replies agree, stop reasons (max_tokens, stop_sequence with the string,
// tool_use), a forced tool call and its tool_result round trip, thinking with a budget, system
// prompts, count_tokens, and errors in Anthropic's shape with its statuses.
#include <gtest/gtest.h>

#include <cctype>

#include "serve/anthropic_request.h"
#include "serve/generation.h"
#include "testing/test_server.h"

namespace g4::serve {
namespace {

using nlohmann::json;
using test::Server;

json messages_body(int max_tokens, bool stream = false) {
  return {{"model", "tiny"},
          {"max_tokens", max_tokens},
          {"system", "Be brief."},
          {"messages", json::array({{{"role", "user"}, {"content", "Hello"}}})},
          {"temperature", 0},
          {"stream", stream}};
}

struct Event {
  std::string name;
  json data;
};

// Anthropic's stream: "event: NAME\ndata: JSON\n\n" records.
std::vector<Event> events_of(const std::string& body) {
  std::vector<Event> out;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event";
    if (end == std::string::npos) break;
    const std::string rec = body.substr(pos, end - pos);
    const size_t nl = rec.find('\n');
    EXPECT_EQ(rec.rfind("event: ", 0), 0u) << rec;
    EXPECT_NE(nl, std::string::npos);
    EXPECT_EQ(rec.compare(nl + 1, 6, "data: "), 0) << rec;
    Event e{rec.substr(7, nl - 7), json::parse(rec.substr(nl + 7))};
    EXPECT_EQ(e.data["type"], e.name);
    out.push_back(std::move(e));
    pos = end + 2;
  }
  return out;
}

TEST(AnthropicApi, WholeAndStreamedAgree) {
  Server s;
  auto c = s.client();
  auto r = c.Post("/v1/messages", messages_body(12).dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["type"], "message");
  EXPECT_EQ(j["role"], "assistant");
  EXPECT_EQ(j["model"], "tiny");
  EXPECT_EQ(j["id"].get<std::string>().rfind("msg_", 0), 0u);
  ASSERT_TRUE(j["content"].is_array());
  ASSERT_FALSE(j["content"].empty());
  std::string text, thinking;
  for (const auto& b : j["content"]) {
    if (b["type"] == "text") text += b["text"].get<std::string>();
    if (b["type"] == "thinking") thinking += b["thinking"].get<std::string>();
  }
  const std::string reason = j["stop_reason"];
  EXPECT_TRUE(reason == "max_tokens" || reason == "end_turn") << reason;
  const int out_tokens = j["usage"]["output_tokens"];
  EXPECT_GE(out_tokens, 1);
  EXPECT_LE(out_tokens, 12);
  EXPECT_GT(j["usage"]["input_tokens"].get<int>() + j["usage"]["cache_read_input_tokens"].get<int>(), 5);

  auto rs = c.Post("/v1/messages", messages_body(12, true).dump(), "application/json");
  ASSERT_TRUE(rs);
  ASSERT_EQ(rs->status, 200);
  EXPECT_NE(rs->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  auto ev = events_of(rs->body);
  ASSERT_GE(ev.size(), 5u);
  EXPECT_EQ(ev.front().name, "message_start");
  EXPECT_EQ(ev.front().data["message"]["content"], json::array());
  EXPECT_EQ(ev[ev.size() - 2].name, "message_delta");
  EXPECT_EQ(ev.back().name, "message_stop");
  EXPECT_EQ(ev[ev.size() - 2].data["delta"]["stop_reason"], reason);
  EXPECT_EQ(ev[ev.size() - 2].data["usage"]["output_tokens"], out_tokens);
  // Blocks open, fill and close in order, with increasing indexes.
  std::string s_text, s_thinking;
  int open = -1, last = -1;
  for (const auto& e : ev) {
    if (e.name == "content_block_start") {
      EXPECT_EQ(open, -1) << "a block opened inside another";
      open = e.data["index"];
      EXPECT_EQ(open, last + 1);
    } else if (e.name == "content_block_delta") {
      EXPECT_EQ(e.data["index"], open);
      const auto& d = e.data["delta"];
      if (d["type"] == "text_delta") s_text += d["text"].get<std::string>();
      if (d["type"] == "thinking_delta") s_thinking += d["thinking"].get<std::string>();
    } else if (e.name == "content_block_stop") {
      EXPECT_EQ(e.data["index"], open);
      last = open;
      open = -1;
    }
  }
  EXPECT_EQ(open, -1);
  EXPECT_GE(last, 0);
  EXPECT_EQ(s_text, text);
  EXPECT_EQ(s_thinking, thinking);
}

TEST(AnthropicApi, StopSequenceIsReported) {
  Server s;
  auto c = s.client();
  auto r = c.Post("/v1/messages", messages_body(24).dump(), "application/json");
  ASSERT_TRUE(r);
  json j = json::parse(r->body);
  std::string text;
  for (const auto& b : j["content"])
    if (b["type"] == "text") text += b["text"].get<std::string>();
  // Two ASCII letters from inside the reply (a cut through a UTF-8 character would not be text).
  size_t k = 1;
  while (k + 1 < text.size() && !(std::isalpha(static_cast<unsigned char>(text[k])) && std::isalpha(static_cast<unsigned char>(text[k + 1])))) ++k;
  ASSERT_LT(k + 1, text.size()) << "no ASCII pair in " << text;
  const std::string stop = text.substr(k, 2);
  json body = messages_body(24);
  body["stop_sequences"] = {stop};
  auto r2 = c.Post("/v1/messages", body.dump(), "application/json");
  ASSERT_TRUE(r2);
  json j2 = json::parse(r2->body);
  EXPECT_EQ(j2["stop_reason"], "stop_sequence");
  EXPECT_EQ(j2["stop_sequence"], stop);
  EXPECT_EQ(j2["content"][0]["text"], text.substr(0, text.find(stop)));
}

TEST(AnthropicApi, ForcedToolUseAndResultRoundTrip) {
  Server s;
  auto c = s.client();
  json body = messages_body(16);
  // A function without parameters: the forced call is complete (the random model could not close one).
  body["tools"] = json::array({{{"name", "get_weather"}, {"description", "Weather here"}, {"input_schema", {{"type", "object"}}}},
                               {{"name", "get_time"}, {"input_schema", {{"type", "object"}, {"properties", {{"tz", {{"type", "string"}}}}}}}}});
  body["tool_choice"] = {{"type", "tool"}, {"name", "get_weather"}};
  for (bool stream : {false, true}) {
    body["stream"] = stream;
    auto r = c.Post("/v1/messages", body.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json tool_use;
    std::string reason;
    if (!stream) {
      json j = json::parse(r->body);
      reason = j["stop_reason"];
      for (const auto& b : j["content"])
        if (b["type"] == "tool_use") tool_use = b;
    } else {
      std::string args;
      for (const auto& e : events_of(r->body)) {
        if (e.name == "content_block_start" && e.data["content_block"]["type"] == "tool_use") tool_use = e.data["content_block"];
        if (e.name == "content_block_delta" && e.data["delta"]["type"] == "input_json_delta")
          args += e.data["delta"]["partial_json"].get<std::string>();
        if (e.name == "message_delta") reason = e.data["delta"]["stop_reason"];
      }
      ASSERT_FALSE(tool_use.is_null());
      tool_use["input"] = json::parse(args);
    }
    EXPECT_EQ(reason, "tool_use");
    ASSERT_FALSE(tool_use.is_null()) << r->body;
    EXPECT_EQ(tool_use["name"], "get_weather");
    EXPECT_EQ(tool_use["input"], json::object());
    EXPECT_EQ(tool_use["id"].get<std::string>().rfind("toolu_", 0), 0u);

    // The call and its result go back; the reply is an ordinary one.
    json next = messages_body(4);
    next["tools"] = body["tools"];
    next["messages"].push_back({{"role", "assistant"}, {"content", json::array({tool_use})}});
    next["messages"].push_back(
        {{"role", "user"},
         {"content", json::array({{{"type", "tool_result"}, {"tool_use_id", tool_use["id"]}, {"content", "sunny, 21 C"}}})}});
    auto r2 = c.Post("/v1/messages", next.dump(), "application/json");
    ASSERT_TRUE(r2);
    ASSERT_EQ(r2->status, 200) << r2->body;
    EXPECT_EQ(json::parse(r2->body)["type"], "message");
  }
}

// The thinking switch and budget, and a forced call, become the engine's output constraint.
TEST(AnthropicRequest, ThinkingBudgetAndToolChoiceBecomeTheConstraint) {
  json body = messages_body(64);
  body["thinking"] = {{"type", "enabled"}, {"budget_tokens", 16}};
  body["tools"] = json::array({{{"name", "now"}, {"input_schema", {{"type", "object"}}}},
                               {{"name", "get_weather"}, {"input_schema", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}});
  body["tool_choice"] = {{"type", "any"}};
  auto r = parse_messages_request(body);
  ASSERT_TRUE(std::holds_alternative<ChatRequestBody>(r)) << std::get<ApiError>(r).message;
  const auto& tok = testing::tokenizer();
  OutputConstraint c = chat_constraint(std::get<ChatRequestBody>(r), tok);
  EXPECT_EQ(c.block_open, tok.encode("<|channel>", true).at(0));
  EXPECT_EQ(c.block_close, tok.encode("<channel|>", true).at(0));
  EXPECT_EQ(c.block_budget, 16);
  ASSERT_EQ(c.prefixes.size(), 2u);
  EXPECT_EQ(tok.decode(c.prefixes[0]), "<|tool_call>call:now{}<tool_call|>");  // no parameters: the whole call
  EXPECT_EQ(tok.decode(c.prefixes[1]), "<|tool_call>call:get_weather{");
  body["thinking"] = {{"type", "enabled"}, {"budget_tokens", 64}};
  auto bad = parse_messages_request(body);
  ASSERT_TRUE(std::holds_alternative<ApiError>(bad));
  EXPECT_EQ(std::get<ApiError>(bad).param, "thinking.budget_tokens");  // not below max_tokens
}

TEST(AnthropicApi, CountTokensMatchesTheRenderedPrompt) {
  Server s;
  auto c = s.client();
  json body = messages_body(1);
  body.erase("max_tokens");
  auto r = c.Post("/v1/messages/count_tokens", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto whole = c.Post("/v1/messages", messages_body(1).dump(), "application/json");
  json u = json::parse(whole->body)["usage"];
  EXPECT_EQ(json::parse(r->body)["input_tokens"], u["input_tokens"].get<int>() + u["cache_read_input_tokens"].get<int>());
}

TEST(AnthropicApi, ErrorsInAnthropicsShape) {
  ServerOptions so;
  so.api_key = "k";
  Server s(so);
  auto c = s.client();
  auto expect_error = [&](const json& body, int status, const std::string& type, const std::string& needle,
                          httplib::Headers h = {{"x-api-key", "k"}}) {
    auto r = c.Post("/v1/messages", h, body.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    json j = json::parse(r->body);
    EXPECT_EQ(j["type"], "error");
    EXPECT_EQ(j["error"]["type"], type);
    EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << j["error"]["message"];
  };
  expect_error(messages_body(4), 401, "authentication_error", "API key", {});
  json b = messages_body(4);
  b.erase("max_tokens");
  expect_error(b, 400, "invalid_request_error", "max_tokens");
  b = messages_body(4);
  b["temperature"] = 1.5;
  expect_error(b, 400, "invalid_request_error", "temperature");
  b = messages_body(4);
  b["model"] = "claude-x";
  expect_error(b, 404, "not_found_error", "claude-x");
  b = messages_body(4);
  b["messages"] = json::array({{{"role", "system"}, {"content", "x"}}});
  expect_error(b, 400, "invalid_request_error", "role");
  b = messages_body(4);
  b["tool_choice"] = {{"type", "tool"}, {"name", "nope"}};
  expect_error(b, 400, "invalid_request_error", "nope");
  b = messages_body(4);
  b["max_tokens"] = 100000;
  expect_error(b, 400, "invalid_request_error", "context");
  auto r = c.Post("/v1/messages", {{"x-api-key", "k"}}, "{oops", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"]["type"], "invalid_request_error");
}

// Request conversion: system, tool_use with the turn's thinking kept, tool_result as a tool message
// placed before the user's text, tools as functions.
TEST(AnthropicRequest, ConvertsToTheChatRequest) {
  json body = {{"model", "m"},
               {"max_tokens", 10},
               {"system", json::array({{{"type", "text"}, {"text", "Sys."}}})},
               {"tools", json::array({{{"name", "f"}, {"input_schema", {{"type", "object"}}}}})},
               {"tool_choice", {{"type", "any"}, {"disable_parallel_tool_use", true}}},
               {"messages", json::array({
                   {{"role", "user"}, {"content", "Hi"}},
                   {{"role", "assistant"}, {"content", json::array({{{"type", "thinking"}, {"thinking", "hm"}, {"signature", ""}},
                                                                    {{"type", "tool_use"}, {"id", "t1"}, {"name", "f"}, {"input", {{"a", 1}}}}})}},
                   {{"role", "user"}, {"content", json::array({{{"type", "tool_result"}, {"tool_use_id", "t1"}, {"content", "ok"}, {"is_error", true}},
                                                               {{"type", "text"}, {"text", "Thanks"}}})}}})}};
  auto r = parse_messages_request(body);
  ASSERT_TRUE(std::holds_alternative<ChatRequestBody>(r)) << std::get<ApiError>(r).message;
  const auto& c = std::get<ChatRequestBody>(r);
  ASSERT_EQ(c.messages.size(), 5u);
  EXPECT_EQ(c.messages[0]["role"], "system");
  EXPECT_EQ(c.messages[0]["content"], "Sys.");
  EXPECT_EQ(c.messages[2]["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(c.messages[2]["tool_calls"][0]["function"]["arguments"]["a"], 1);
  EXPECT_EQ(c.messages[2]["reasoning_content"], "hm");
  EXPECT_EQ(c.messages[3]["role"], "tool");
  EXPECT_EQ(c.messages[3]["tool_call_id"], "t1");
  EXPECT_EQ(c.messages[3]["content"], "Error: ok");
  EXPECT_EQ(c.messages[4]["role"], "user");
  EXPECT_EQ(c.messages[4]["content"], "Thanks");
  EXPECT_EQ(c.tools[0]["function"]["parameters"]["type"], "object");
  EXPECT_EQ(c.tool_choice, ToolChoice::kRequired);
  EXPECT_FALSE(c.parallel_tool_calls);
  EXPECT_EQ(c.gen.max_tokens, 10);
}

}  // namespace
}  // namespace g4::serve
