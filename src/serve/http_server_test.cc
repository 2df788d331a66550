// The HTTP server end to end on the small random model, through a real HTTP client: chat and text
// completions (plain and streamed), stop sequences, logprobs, tokenize/detokenize, models, health,
// metrics, the API key, errors in OpenAI's shape with the right status, and concurrent streams.
#include "serve/http_server.h"

#include <httplib.h>
#include <gtest/gtest.h>

#include <thread>

#include "session/chat_session.h"
#include "testing/random_model.h"

namespace g4::serve {
namespace {

using nlohmann::json;

struct Server {
  testing::RandomModel rm;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<jinja::Template> tmpl;
  std::unique_ptr<HttpServer> http;
  std::thread thread;

  explicit Server(ServerOptions so = {}, EngineOptions eo = {}) {
    if (eo.context == EngineOptions{}.context) eo.context = 512;
    eo.max_batch_tokens = 32;
    auto e = Engine::create(*rm.model, eo);
    EXPECT_TRUE(e.ok());
    engine = std::move(e.value());
    auto t = model_chat_template(rm.model->files());
    EXPECT_TRUE(t.ok());
    tmpl = std::make_unique<jinja::Template>(std::move(t.value()));
    so.port = 0;
    so.model_name = "tiny";
    http = std::make_unique<HttpServer>(*engine, testing::tokenizer(), *tmpl, rm.model->config(), so);
    EXPECT_TRUE(http->bind().ok());
    thread = std::thread([this] { http->run(); });
  }
  ~Server() {
    http->stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", http->port());
    c.set_read_timeout(60, 0);
    return c;
  }
};

json chat_body(int max_tokens, bool stream = false) {
  return {{"model", "tiny"},
          {"messages", json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello"}}})},
          {"max_tokens", max_tokens},
          {"temperature", 0},
          {"stream", stream}};
}

// The data lines of a server-sent event stream, [DONE] included.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event";
    if (end == std::string::npos) break;
    std::string ev = body.substr(pos, end - pos);
    EXPECT_EQ(ev.rfind("data: ", 0), 0u) << ev;
    out.push_back(ev.substr(6));
    pos = end + 2;
  }
  return out;
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
  EXPECT_EQ(echoed.rfind("<bos>The capital of France is", 0), 0u) << echoed;
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
