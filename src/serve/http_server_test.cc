// The HTTP server end to end on the small random model, through a real HTTP client: chat and text
// completions (plain and streamed), stop sequences, logprobs, tokenize/detokenize, models, health,
// metrics, the API key, errors in OpenAI's shape with the right status, and concurrent streams.
#include "serve/http_server.h"

#include <httplib.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "session/chat_session.h"
#include "testing/random_model.h"
#include "testing/test_server.h"

namespace g4::serve {
namespace {

using nlohmann::json;
using test::Server;
using test::sse_data;

json chat_body(int max_tokens, bool stream = false) {
  return {{"model", "tiny"},
          {"messages", json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello"}}})},
          {"max_tokens", max_tokens},
          {"temperature", 0},
          {"stream", stream}};
}

TEST(HttpServer, ChatCompletionPlainAndStreamedAgree) {
  Server s;
  auto c = s.client();
  auto r = c.Post("/v1/chat/completions", chat_body(10).dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "tiny");
  const auto& ch = j["choices"][0];
  EXPECT_EQ(ch["message"]["role"], "assistant");
  const std::string reason = ch["finish_reason"];
  EXPECT_TRUE(reason == "length" || reason == "stop" || reason == "tool_calls") << reason;
  // The prompt is what the template renders, tokenized.
  auto prompt = render_conversation(*s.tmpl, chat_body(1)["messages"], nullptr, true, false, testing::tokenizer());
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(j["usage"]["prompt_tokens"], testing::tokenizer().encode(*prompt, true).size());
  EXPECT_GE(j["usage"]["completion_tokens"].get<int>(), 1);
  EXPECT_LE(j["usage"]["completion_tokens"].get<int>(), 10);
  const std::string content = ch["message"]["content"].is_string() ? ch["message"]["content"].get<std::string>() : "";
  const std::string reasoning = ch["message"].value("reasoning_content", "");

  json body = chat_body(10, true);
  body["stream_options"] = {{"include_usage", true}};
  auto rs = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(rs);
  ASSERT_EQ(rs->status, 200);
  EXPECT_NE(rs->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  auto events = sse_data(rs->body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  json first = json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::string streamed, streamed_reasoning, finish;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    json e = json::parse(events[i]);
    const auto& d = e["choices"][0]["delta"];
    if (d.contains("content")) streamed += d["content"].get<std::string>();
    if (d.contains("reasoning_content")) streamed_reasoning += d["reasoning_content"].get<std::string>();
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(streamed, content);
  EXPECT_EQ(streamed_reasoning, reasoning);
  EXPECT_EQ(finish, reason);
  json usage = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], j["usage"]["completion_tokens"]);
}

TEST(HttpServer, CompletionsStopSequencesEchoAndLogprobs) {
  Server s;
  auto c = s.client();
  json body = {{"prompt", "The capital of France is"}, {"max_tokens", 12}, {"temperature", 0}};
  auto r = c.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  const std::string text = j["choices"][0]["text"];
  ASSERT_GE(text.size(), 4u) << "the random model should produce some text";
  // A stop sequence from the middle of that text cuts it there.
  const std::string stop = text.substr(text.size() / 2, 2);
  body["stop"] = json::array({stop});
  auto rs = c.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_EQ(rs->status, 200);
  json js = json::parse(rs->body);
  EXPECT_EQ(js["choices"][0]["text"], text.substr(0, text.find(stop)));
  EXPECT_EQ(js["choices"][0]["finish_reason"], "stop");

  body.erase("stop");
  body["echo"] = true;
  body["logprobs"] = 3;
  auto re = c.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_EQ(re->status, 200) << re->body;
  json je = json::parse(re->body);
  const std::string echoed = je["choices"][0]["text"];
  EXPECT_EQ(echoed.rfind("The capital of France is", 0), 0u) << echoed;  // as sent: no BOS
  EXPECT_EQ(echoed.substr(echoed.size() - text.size()), text);
  const auto& lp = je["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), j["usage"]["completion_tokens"].get<size_t>());
  for (size_t i = 0; i < lp["token_logprobs"].size(); ++i) {
    const float v = lp["token_logprobs"][i];
    EXPECT_LE(v, 0.0f);
    EXPECT_EQ(lp["top_logprobs"][i].size(), 3u);
    // Greedy: the chosen token is the most likely one.
    float best = -1e30f;
    for (auto& [k, x] : lp["top_logprobs"][i].items()) best = std::max(best, x.get<float>());
    EXPECT_FLOAT_EQ(v, best);
  }
}

TEST(HttpServer, ErrorsHaveOpenAIShapeAndStatus) {
  Server s;
  auto c = s.client();
  auto expect_error = [&](const httplib::Result& r, int status, const std::string& param, const std::string& code = "") {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    json j = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r->body;
    ASSERT_TRUE(j.contains("error")) << r->body;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    if (!param.empty()) {
      EXPECT_EQ(j["error"]["param"], param) << r->body;
    }
    if (!code.empty()) {
      EXPECT_EQ(j["error"]["code"], code) << r->body;
    }
  };
  expect_error(c.Post("/v1/chat/completions", "{not json", "application/json"), 400, "");
  expect_error(c.Post("/v1/chat/completions", "[1,2]", "application/json"), 400, "");
  json b = chat_body(5);
  b["temperature"] = "hot";
  expect_error(c.Post("/v1/chat/completions", b.dump(), "application/json"), 400, "temperature");
  b = chat_body(5);
  b["messages"] = json::array({{{"role", "wizard"}, {"content", "hi"}}});
  expect_error(c.Post("/v1/chat/completions", b.dump(), "application/json"), 400, "messages[0].role");
  b = chat_body(5);
  b["model"] = "gpt-4o";
  expect_error(c.Post("/v1/chat/completions", b.dump(), "application/json"), 404, "model", "model_not_found");
  b = chat_body(5000);
  expect_error(c.Post("/v1/chat/completions", b.dump(), "application/json"), 400, "max_tokens", "context_length_exceeded");
  b = chat_body(5);
  b["tools"] = json::array({{{"type", "function"}, {"function", {{"parameters", {}}}}}});
  expect_error(c.Post("/v1/chat/completions", b.dump(), "application/json"), 400, "tools[0].function.name");
  expect_error(c.Post("/v1/completions", json{{"max_tokens", 3}}.dump(), "application/json"), 400, "prompt");
  expect_error(c.Get("/v1/nothing-here"), 404, "");
  expect_error(c.Post("/v1/completions", std::string(17u << 20, ' '), "application/json"), 413, "");
  // The server is still fine.
  auto ok = c.Post("/v1/chat/completions", chat_body(2).dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpServer, TokenizeDetokenizeModelsHealthMetrics) {
  Server s;
  auto c = s.client();
  auto t = c.Post("/tokenize", json{{"content", "Hello world"}, {"add_special", true}}.dump(), "application/json");
  ASSERT_EQ(t->status, 200) << t->body;
  std::vector<int32_t> ids = json::parse(t->body)["tokens"];
  auto want = testing::tokenizer().encode("Hello world", true);
  want.insert(want.begin(), testing::tokenizer().bos_id());
  EXPECT_EQ(ids, want);
  auto d = c.Post("/detokenize", json{{"tokens", ids}}.dump(), "application/json");
  ASSERT_EQ(d->status, 200);
  EXPECT_EQ(json::parse(d->body)["content"], "<bos>Hello world");
  auto bad = c.Post("/detokenize", json{{"tokens", {-1}}}.dump(), "application/json");
  EXPECT_EQ(bad->status, 400);

  auto m = c.Get("/v1/models");
  ASSERT_EQ(m->status, 200);
  EXPECT_EQ(json::parse(m->body)["data"][0]["id"], "tiny");
  auto h = c.Get("/health");
  ASSERT_EQ(h->status, 200);

  ASSERT_EQ(c.Post("/v1/chat/completions", chat_body(3).dump(), "application/json")->status, 200);
  auto mt = c.Get("/metrics");
  ASSERT_EQ(mt->status, 200);
  EXPECT_NE(mt->body.find("g4_requests_total{endpoint=\"chat\",status=\"200\"} 1"), std::string::npos) << mt->body;
  EXPECT_NE(mt->body.find("g4_time_to_first_token_seconds_count 1"), std::string::npos);
  EXPECT_NE(mt->body.find("g4_kv_cache_usage_ratio"), std::string::npos);
}

TEST(HttpServer, ApiKeyAndCors) {
  ServerOptions so;
  so.api_key = "sekret";
  so.cors_origins = {"http://localhost:3000"};
  Server s(so);
  auto c = s.client();
  auto r = c.Post("/v1/chat/completions", chat_body(2).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "invalid_api_key");
  EXPECT_EQ(c.Get("/health")->status, 200);  // open
  httplib::Headers h = {{"Authorization", "Bearer sekret"}, {"Origin", "http://localhost:3000"}};
  auto ok = c.Post("/v1/chat/completions", h, chat_body(2).dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
  httplib::Headers other = {{"Authorization", "Bearer sekret"}, {"Origin", "http://evil.example"}};
  auto no = c.Get("/v1/models", other);
  EXPECT_EQ(no->get_header_value("Access-Control-Allow-Origin"), "");
}

TEST(HttpServer, ConcurrentStreamsAllCompleteAndShareBatches) {
  EngineOptions eo;
  eo.max_seqs = 4;
  eo.max_queue = 32;
  Server s({}, eo);
  constexpr int kClients = 12;
  std::vector<std::string> bodies(kClients);
  std::vector<int> status(kClients, 0);
  std::vector<std::thread> th;
  for (int i = 0; i < kClients; ++i)
    th.emplace_back([&, i] {
      auto c = s.client();
      json b = chat_body(4 + (i * 7) % 20, true);
      b["messages"][1]["content"] = "Question number " + std::to_string(i);
      auto r = c.Post("/v1/chat/completions", b.dump(), "application/json");
      if (r) status[size_t(i)] = r->status, bodies[size_t(i)] = r->body;
    });
  for (auto& t : th) t.join();
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(status[size_t(i)], 200) << i;
    auto ev = sse_data(bodies[size_t(i)]);
    ASSERT_GE(ev.size(), 3u);
    EXPECT_EQ(ev.back(), "[DONE]");
    for (size_t k = 0; k + 1 < ev.size(); ++k) EXPECT_FALSE(json::parse(ev[k], nullptr, false).is_discarded());
  }
  EXPECT_GT(s.engine->metrics().max_batch_seqs_seen, 1);
  EXPECT_EQ(s.engine->metrics().running, 0);
}

}  // namespace
}  // namespace g4::serve

namespace g4::serve {
namespace {

TEST(HttpServer, SeveralChoicesWholeAndStreamed) {
  Server s;
  auto c = s.client();
  // Greedy: every choice is the one greedy answer.
  json body = chat_body(8);
  body["n"] = 2;
  json g = json::parse(c.Post("/v1/chat/completions", body.dump(), "application/json")->body);
  ASSERT_EQ(g["choices"].size(), 2u) << g;
  EXPECT_EQ(g["choices"][0]["message"], g["choices"][1]["message"]);
  EXPECT_EQ(g["choices"][1]["index"], 1);
  EXPECT_EQ(g["usage"]["completion_tokens"], 2 * json::parse(c.Post("/v1/chat/completions", chat_body(8).dump(), "application/json")->body)["usage"]["completion_tokens"].get<int>());
  // Sampled: choice i draws with seed + i, so the choices differ (the random model's distribution
  // is nearly flat); streamed, each choice's chunks name it and it finishes once.
  body["n"] = 3;
  body["temperature"] = 1.0;
  body["seed"] = 5;
  auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  ASSERT_EQ(j["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(j["choices"][i]["index"], i);
  EXPECT_NE(j["choices"][0]["message"]["content"], j["choices"][1]["message"]["content"]);
  EXPECT_NE(j["choices"][1]["message"]["content"], j["choices"][2]["message"]["content"]);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto rs = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(rs);
  std::vector<int> roles(3, 0), finishes(3, 0), tokens(3, 0);
  int usage_tokens = -1;
  for (const auto& e : sse_data(rs->body)) {
    if (e == "[DONE]") continue;
    json ev = json::parse(e);
    if (ev["choices"].empty()) {
      usage_tokens = ev["usage"]["completion_tokens"];
      continue;
    }
    json ch = ev["choices"][0];
    const int i = ch["index"];
    ASSERT_TRUE(i >= 0 && i < 3);
    if (ch["delta"].contains("role")) ++roles[size_t(i)];
    if (!ch["finish_reason"].is_null()) ++finishes[size_t(i)];
  }
  EXPECT_EQ(roles, (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(finishes, (std::vector<int>{1, 1, 1}));
  EXPECT_GE(usage_tokens, 3);
}

TEST(HttpServer, NamedAndRequiredToolChoiceForceACall) {
  Server s;
  auto c = s.client();
  json tools = json::array();
  for (const char* name : {"get_weather", "get_time"})
    tools.push_back({{"type", "function"}, {"function", {{"name", name}, {"parameters", {{"type", "object"}}}}}});
  json body = chat_body(16);
  body["tools"] = tools;  // without parameters: the forced call is complete (the random model could not close one)
  body["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_time"}}}};
  auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json ch = json::parse(r->body)["choices"][0];
  EXPECT_EQ(ch["finish_reason"], "tool_calls");
  ASSERT_EQ(ch["message"]["tool_calls"].size(), 1u) << r->body;
  EXPECT_EQ(ch["message"]["tool_calls"][0]["function"]["name"], "get_time");
  EXPECT_EQ(ch["message"]["tool_calls"][0]["function"]["arguments"], "{}");
  EXPECT_TRUE(ch["message"]["content"].is_null());
  EXPECT_EQ(json::parse(r->body)["usage"]["completion_tokens"], 1 + int(testing::tokenizer().encode("call:get_time{}", false).size()) + 1);
  body["tool_choice"] = "required";
  r = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ch = json::parse(r->body)["choices"][0];
  ASSERT_GE(ch["message"]["tool_calls"].size(), 1u) << r->body;
  const std::string name = ch["message"]["tool_calls"][0]["function"]["name"];
  EXPECT_TRUE(name == "get_weather" || name == "get_time") << name;
  // Without the choice the random model does not call anything.
  body["tool_choice"] = "auto";
  r = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_FALSE(json::parse(r->body)["choices"][0]["message"].contains("tool_calls")) << r->body;
}

// A client that leaves while waiting for a whole (non-streamed) reply: the server notices within a
// fraction of a second and frees the slot instead of generating to the end.
TEST(HttpServer, WholeReplyCancelledWhenTheClientLeaves) {
  EngineOptions eo;
  eo.max_seqs = 1;
  eo.context = 4000;
  Server s({}, eo);
  {
    auto c = s.client();
    c.set_read_timeout(0, 300000);  // gives up after 0.3 s and closes the connection
    json body = chat_body(3900);
    body["logit_bias"] = {{"1", -100}, {"106", -100}, {"50", -100}};  // no end of turn: a long generation
    auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
    EXPECT_FALSE(r) << r->status << " " << r->body;  // timed out
  }
  // The slot is free again soon: a short request is served at once.
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    if (s.engine->metrics().running == 0) break;
    ASSERT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << "the abandoned request still runs";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(s.engine->metrics().generated_tokens, 3800u);
}

}  // namespace
}  // namespace g4::serve

namespace g4::serve {
namespace {

// Found by the schema fuzzer (tests/serve/openapi_test.py): each took a 500 or the whole server.
TEST(HttpServer, FuzzerFindingsStayFixed) {
  Server s;
  auto c = s.client();
  // A tool whose type is not a string: a 400 naming it, not an exception.
  auto r = c.Post("/v1/chat/completions",
                  R"({"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":1,"function":{"name":"f"}}]})",
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"]["param"], "tools[0]");
  // Echoing a token prompt that cuts a UTF-8 character (a lone lead byte): U+FFFD, whole and streamed.
  std::vector<int32_t> lone;
  for (int32_t id = 0; id < 1000 && lone.empty(); ++id)
    if (testing::tokenizer().decode({id}) == "\xC3") lone.push_back(id);
  ASSERT_FALSE(lone.empty());
  for (bool stream : {false, true}) {
    json body = {{"prompt", lone}, {"echo", true}, {"max_tokens", 1}, {"stream", stream}};
    r = c.Post("/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(r) << "the server went down";
    EXPECT_EQ(r->status, 200) << r->body;
    const std::string text = stream ? json::parse(sse_data(r->body)[0])["choices"][0]["text"].get<std::string>()
                                    : json::parse(r->body)["choices"][0]["text"].get<std::string>();
    EXPECT_EQ(text.rfind("\xEF\xBF\xBD", 0), 0u) << text;
  }
  // A known path with the wrong method: 405 and the method it takes.
  r = c.Get("/v1/chat/completions");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  r = c.Post("/health", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET");
}

// A GET carrying a body that is itself a request: httplib does not read a GET's body, so on a
// kept-alive connection it would be served as a second request. One request per connection.
TEST(HttpServer, AnUnreadBodyIsNeverAnotherRequest) {
  Server s;
  const std::string inner = "POST /tokenize HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n{\"content\":\"a\"}";
  const std::string outer = "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(inner.size()) + "\r\n\r\n" + inner;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(s.http->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  // The headers first, the body a moment later (in one packet httplib's read buffer would swallow it).
  const size_t head = outer.size() - inner.size();
  ASSERT_EQ(::send(fd, outer.data(), head, 0), ssize_t(head));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::send(fd, inner.data(), inner.size(), MSG_NOSIGNAL);  // may fail: the server closed already
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;  // closed (or reset) by the server
    got.append(buf, size_t(n));
  }
  ::close(fd);
  size_t responses = 0;
  for (size_t at = got.find("HTTP/1.1 "); at != std::string::npos; at = got.find("HTTP/1.1 ", at + 1)) ++responses;
  EXPECT_LE(responses, 1u) << got;
  EXPECT_EQ(got.find("\"tokens\""), std::string::npos) << got;
}

}  // namespace
}  // namespace g4::serve
