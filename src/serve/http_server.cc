#include "serve/http_server.h"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <random>

#include "serve/api_request.h"
#include "serve/metrics.h"
#include "serve/output.h"
#include "session/chat_session.h"

namespace g4::serve {

using nlohmann::json;
using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

// What the engine thread hands one HTTP request: tokens as they come, then the end.
struct Channel {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<TokenEvent> tokens;
  bool done = false;
  Status status;
  std::string reason;
  GenStats stats;
  std::shared_ptr<std::atomic<bool>> cancelled;

  // The next token, or false once the generation is over and every token was taken.
  bool next(TokenEvent* ev) {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return done || !tokens.empty(); });
    if (tokens.empty()) return false;
    *ev = std::move(tokens.front());
    tokens.pop_front();
    return true;
  }
};

std::string random_id(const char* prefix) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lk(mu);
  char b[40];
  std::snprintf(b, sizeof b, "%s%016llx", prefix, static_cast<unsigned long long>(rng()));
  return b;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

ordered_json tool_call_json(const ToolCall& c, const std::string& id) {
  return {{"id", id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments_json()}}}};
}

ordered_json usage_json(int prompt, int completion, int cached) {
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion},
          {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

}  // namespace

struct HttpServer::Impl {
  Engine& engine;
  const Tokenizer& tok;
  const jinja::Template& tmpl;
  const ModelConfig& config;
  ServerOptions opt;
  httplib::Server svr;
  ServerMetrics metrics;
  int64_t created = unix_now();

  Impl(Engine& e, const Tokenizer& t, const jinja::Template& tp, const ModelConfig& c, ServerOptions o)
      : engine(e), tok(t), tmpl(tp), config(c), opt(std::move(o)) {}

  void send_error(httplib::Response& res, const ApiError& e) {
    res.status = e.status;
    res.set_content(e.body().dump(), "application/json");
  }
  static ApiError error(int status, const std::string& type, const std::string& msg, const std::string& code = "",
                        const std::string& param = "") {
    ApiError e;
    e.status = status;
    e.type = type;
    e.message = msg;
    e.code = code;
    e.param = param;
    return e;
  }

  // The model a request names must be this one (clients that send none are fine).
  std::optional<ApiError> check_model(const std::string& name) {
    if (name.empty() || name == opt.model_name) return std::nullopt;
    return error(404, "invalid_request_error", "The model '" + name + "' does not exist; this server serves '" +
                                                   opt.model_name + "'", "model_not_found", "model");
  }

  // Context check and submission. On success the channel receives the generation.
  std::optional<ApiError> start(std::vector<int32_t> ids, int snapshot_at, const GenerationParams& g,
                                std::shared_ptr<Channel> ch) {
    const int context = engine.options().context;
    const int64_t want = int64_t(ids.size()) + (g.max_tokens > 0 ? g.max_tokens : 1);
    if (want > context) {
      char msg[256];
      std::snprintf(msg, sizeof msg,
                    "This model's context per sequence is %d tokens, but %lld were requested (%zu in the prompt, "
                    "%d to generate)",
                    context, static_cast<long long>(want), ids.size(), g.max_tokens > 0 ? g.max_tokens : 1);
      return error(400, "invalid_request_error", msg, "context_length_exceeded", g.max_tokens > 0 ? "max_tokens" : "messages");
    }
    auto req = std::make_unique<GenRequest>();
    req->max_tokens = g.max_tokens > 0 ? g.max_tokens : context - int(ids.size());
    req->prompt = std::move(ids);
    req->snapshot_at = snapshot_at;
    req->sampling = g.sampling;
    req->stop_ids = config.eos_ids;
    req->top_logprobs = g.top_logprobs;
    ch->cancelled = req->cancelled;
    std::weak_ptr<Channel> w = ch;
    req->on_token = [w](const TokenEvent& ev) {
      auto c = w.lock();
      if (!c) return false;
      std::lock_guard<std::mutex> lk(c->mu);
      c->tokens.push_back(ev);
      c->cv.notify_all();
      return true;
    };
    req->on_done = [w](const Status& st, const std::string& reason, const GenStats& stats) {
      auto c = w.lock();
      if (!c) return;
      std::lock_guard<std::mutex> lk(c->mu);
      c->done = true;
      c->status = st;
      c->reason = reason;
      c->stats = stats;
      c->cv.notify_all();
    };
    Engine::Refusal why = Engine::Refusal::kNone;
    Status s = engine.submit(std::move(req), &why);
    if (s.ok()) return std::nullopt;
    if (why == Engine::Refusal::kBusy) return error(503, "server_error", s.error().message, "server_busy");
    if (why == Engine::Refusal::kStopping) return error(503, "server_error", s.error().message, "shutting_down");
    return error(400, "invalid_request_error", s.error().message);
  }

  // The finish reason the API reports.
  static std::string finish_reason(const Channel& ch, const OutputAssembler& out) {
    if (out.stopped()) return "stop";
    if (!out.tool_calls().empty()) return "tool_calls";
    return ch.reason == "length" ? "length" : "stop";
  }

  void record(const char* endpoint, int status, const Channel* ch, Clock::time_point t0) {
    metrics.request(endpoint, status);
    if (ch && ch->stats.completion_tokens > 0) {
      metrics.ttft(ch->stats.queue_s + ch->stats.prefill_s);
      if (ch->stats.completion_tokens > 1)
        metrics.inter_token(ch->stats.decode_s / double(ch->stats.completion_tokens - 1));
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (ch)
      std::fprintf(stderr, "g4 serve: %s %d prompt=%d cached=%d completion=%d queue=%.3fs ttft=%.3fs total=%.3fs %s\n",
                   endpoint, status, ch->stats.prompt_tokens, ch->stats.cached_tokens, ch->stats.completion_tokens,
                   ch->stats.queue_s, ch->stats.queue_s + ch->stats.prefill_s, s, ch->reason.c_str());
    else
      std::fprintf(stderr, "g4 serve: %s %d total=%.3fs\n", endpoint, status, s);
  }

  // ---- chat completions ----
  void chat(const httplib::Request& hreq, httplib::Response& res) {
    const auto t0 = Clock::now();
    auto fail = [&](const ApiError& e) {
      send_error(res, e);
      record("chat", e.status, nullptr, t0);
    };
    auto body = parse_body(hreq.body);
    if (auto* e = std::get_if<ApiError>(&body)) return fail(*e);
    auto parsed = parse_chat_request(std::get<json>(body));
    if (auto* e = std::get_if<ApiError>(&parsed)) return fail(*e);
    auto& r = std::get<ChatRequestBody>(parsed);
    if (auto e = check_model(r.gen.model)) return fail(*e);
    auto prompt = prepare_chat_prompt(tmpl, r.messages, r.tools, r.thinking, tok);
    if (!prompt.ok()) return fail(error(400, "invalid_request_error", "the conversation cannot be rendered: " + prompt.error().message, "", "messages"));
    // The engine keeps a snapshot where the history ends: the next turn shares it.
    const ResponseParserOptions popt = prompt->parser;
    auto ch = std::make_shared<Channel>();
    if (auto e = start(std::move(prompt->ids), prompt->history_len, r.gen, ch)) return fail(*e);
    auto out = std::make_shared<OutputAssembler>(tok, r.gen.stop, true, popt, r.gen.top_logprobs);
    const std::string id = random_id("chatcmpl-");
    const int64_t created_at = unix_now();
    const std::string model = opt.model_name;

    if (!r.gen.stream) {
      TokenEvent ev;
      bool stopped = false;
      while (ch->next(&ev)) {
        out->push(ev, &stopped);
        if (stopped) ch->cancelled->store(true);
      }
      out->finish();
      if (!ch->status.ok()) {
        send_error(res, error(500, "server_error", "generation failed: " + ch->status.error().message));
        return record("chat", 500, ch.get(), t0);
      }
      ordered_json msg = {{"role", "assistant"}};
      msg["content"] = out->content().empty() && !out->tool_calls().empty() ? ordered_json() : ordered_json(out->content());
      if (!out->reasoning().empty()) msg["reasoning_content"] = out->reasoning();
      if (!out->tool_calls().empty()) {
        ordered_json calls = ordered_json::array();
        for (const auto& c : out->tool_calls()) calls.push_back(tool_call_json(c, random_id("call_")));
        msg["tool_calls"] = calls;
      }
      ordered_json choice = {{"index", 0}, {"message", msg}};
      choice["logprobs"] = r.gen.top_logprobs >= 0 ? ordered_json{{"content", out->logprobs()}} : ordered_json();
      choice["finish_reason"] = finish_reason(*ch, *out);
      ordered_json resp = {{"id", id}, {"object", "chat.completion"}, {"created", created_at}, {"model", model},
                           {"choices", ordered_json::array({choice})},
                           {"usage", usage_json(ch->stats.prompt_tokens, out->tokens(), ch->stats.cached_tokens)}};
      res.set_content(resp.dump(), "application/json");
      return record("chat", 200, ch.get(), t0);
    }

    // Streaming: chat.completion.chunk events, then usage (if asked) and [DONE].
    const bool include_usage = r.gen.include_usage;
    const bool want_logprobs = r.gen.top_logprobs >= 0;
    auto chunk = [=](ordered_json delta, ordered_json finish, ordered_json logprobs) {
      ordered_json c = {{"index", 0}, {"delta", std::move(delta)}};
      c["logprobs"] = std::move(logprobs);
      c["finish_reason"] = std::move(finish);
      ordered_json j = {{"id", id}, {"object", "chat.completion.chunk"}, {"created", created_at}, {"model", model},
                        {"choices", ordered_json::array({c})}};
      return "data: " + j.dump() + "\n\n";
    };
    auto role_sent = std::make_shared<bool>(false);
    auto calls_sent = std::make_shared<int>(0);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [ch, out, chunk, role_sent, calls_sent, include_usage, want_logprobs, id, created_at, model](
            size_t, httplib::DataSink& sink) -> bool {
          auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
          if (!*role_sent) {
            *role_sent = true;
            return write(chunk({{"role", "assistant"}, {"content", ""}}, ordered_json(), ordered_json()));
          }
          auto send_delta = [&](const OutputDelta& d) {
            if (d.empty()) return true;
            ordered_json delta = ordered_json::object();
            if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
            if (!d.content.empty()) delta["content"] = d.content;
            if (!d.tool_calls.empty()) {
              ordered_json calls = ordered_json::array();
              for (const auto& c : d.tool_calls) {
                ordered_json tc = tool_call_json(c, random_id("call_"));
                tc["index"] = (*calls_sent)++;
                calls.push_back(tc);
              }
              delta["tool_calls"] = calls;
            }
            ordered_json lp = want_logprobs && !d.logprobs.empty() ? ordered_json{{"content", d.logprobs}} : ordered_json();
            if (delta.empty() && lp.is_null()) return true;
            return write(chunk(delta, ordered_json(), lp));
          };
          TokenEvent ev;
          if (ch->next(&ev)) {
            bool stopped = false;
            const bool ok = send_delta(out->push(ev, &stopped));
            if (stopped || !ok) ch->cancelled->store(true);
            return ok;
          }
          // The generation is over.
          bool ok = send_delta(out->finish());
          if (!ch->status.ok()) {
            ordered_json err = error(500, "server_error", "generation failed: " + ch->status.error().message).body();
            ok = ok && write("data: " + err.dump() + "\n\n");
          } else {
            ok = ok && write(chunk(ordered_json::object(), finish_reason(*ch, *out), ordered_json()));
          }
          if (ok && include_usage) {
            ordered_json u = {{"id", id}, {"object", "chat.completion.chunk"}, {"created", created_at}, {"model", model},
                              {"choices", ordered_json::array()},
                              {"usage", usage_json(ch->stats.prompt_tokens, out->tokens(), ch->stats.cached_tokens)}};
            ok = write("data: " + u.dump() + "\n\n");
          }
          ok = ok && write("data: [DONE]\n\n");
          sink.done();
          return ok;
        },
        [this, ch, t0](bool success) {
          // A client that went away: the engine drops the request within a step.
          if (!success) ch->cancelled->store(true);
          record("chat", 200, ch.get(), t0);
        });
  }

  // ---- text completions ----
  void completions(const httplib::Request& hreq, httplib::Response& res) {
    const auto t0 = Clock::now();
    auto fail = [&](const ApiError& e) {
      send_error(res, e);
      record("completions", e.status, nullptr, t0);
    };
    auto body = parse_body(hreq.body);
    if (auto* e = std::get_if<ApiError>(&body)) return fail(*e);
    auto parsed = parse_completion_request(std::get<json>(body));
    if (auto* e = std::get_if<ApiError>(&parsed)) return fail(*e);
    auto& r = std::get<CompletionRequestBody>(parsed);
    if (auto e = check_model(r.gen.model)) return fail(*e);
    std::vector<int32_t> ids = r.prompt_ids;
    if (ids.empty()) {
      // As llama-server and vLLM: BOS first, special tokens in the text parsed.
      ids.push_back(tok.bos_id());
      auto t = tok.encode(r.prompt, /*parse_special=*/true);
      if (!t.empty() && t[0] == tok.bos_id()) ids.clear();
      ids.insert(ids.end(), t.begin(), t.end());
    }
    for (int32_t t : ids)
      if (t < 0 || t >= config.vocab_size)
        return fail(error(400, "invalid_request_error", "token id " + std::to_string(t) + " is outside the vocabulary", "", "prompt"));
    const std::string echo = r.echo ? tok.decode(ids) : std::string();
    auto ch = std::make_shared<Channel>();
    if (auto e = start(std::move(ids), 0, r.gen, ch)) return fail(*e);
    auto out = std::make_shared<OutputAssembler>(tok, r.gen.stop, false, ResponseParserOptions{}, r.gen.top_logprobs);
    const std::string id = random_id("cmpl-");
    const int64_t created_at = unix_now();
    const std::string model = opt.model_name;
    // OpenAI's legacy logprobs shape for text completions.
    auto legacy_logprobs = [](const ordered_json& entries) {
      ordered_json tokens = ordered_json::array(), lps = ordered_json::array(), tops = ordered_json::array();
      for (const auto& e : entries) {
        tokens.push_back(e["token"]);
        lps.push_back(e["logprob"]);
        ordered_json t = ordered_json::object();
        for (const auto& x : e["top_logprobs"]) t[x["token"].get<std::string>()] = x["logprob"];
        tops.push_back(t);
      }
      return ordered_json{{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}};
    };
    const bool want_logprobs = r.gen.top_logprobs >= 0;
    auto choice_json = [=](const std::string& text, ordered_json finish, const ordered_json& lp) {
      ordered_json c = {{"text", text}, {"index", 0}};
      c["logprobs"] = want_logprobs ? legacy_logprobs(lp) : ordered_json();
      c["finish_reason"] = std::move(finish);
      return c;
    };
    if (!r.gen.stream) {
      TokenEvent ev;
      bool stopped = false;
      while (ch->next(&ev)) {
        out->push(ev, &stopped);
        if (stopped) ch->cancelled->store(true);
      }
      out->finish();
      if (!ch->status.ok()) {
        send_error(res, error(500, "server_error", "generation failed: " + ch->status.error().message));
        return record("completions", 500, ch.get(), t0);
      }
      ordered_json resp = {{"id", id}, {"object", "text_completion"}, {"created", created_at}, {"model", model},
                           {"choices", ordered_json::array({choice_json(echo + out->content(), finish_reason(*ch, *out), out->logprobs())})},
                           {"usage", usage_json(ch->stats.prompt_tokens, out->tokens(), ch->stats.cached_tokens)}};
      res.set_content(resp.dump(), "application/json");
      return record("completions", 200, ch.get(), t0);
    }
    const bool include_usage = r.gen.include_usage;
    auto event = [=](const ordered_json& choice) {
      ordered_json j = {{"id", id}, {"object", "text_completion"}, {"created", created_at}, {"model", model},
                        {"choices", ordered_json::array({choice})}};
      return "data: " + j.dump() + "\n\n";
    };
    auto echoed = std::make_shared<bool>(echo.empty());
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [ch, out, event, choice_json, echoed, echo, include_usage, id, created_at, model](size_t, httplib::DataSink& sink) {
          auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
          if (!*echoed) {
            *echoed = true;
            return write(event(choice_json(echo, ordered_json(), ordered_json::array())));
          }
          TokenEvent ev;
          if (ch->next(&ev)) {
            bool stopped = false;
            OutputDelta d = out->push(ev, &stopped);
            bool ok = true;
            if (!d.content.empty() || !d.logprobs.empty()) ok = write(event(choice_json(d.content, ordered_json(), d.logprobs)));
            if (stopped || !ok) ch->cancelled->store(true);
            return ok;
          }
          OutputDelta d = out->finish();
          bool ok = true;
          if (!ch->status.ok()) {
            ok = write("data: " + error(500, "server_error", "generation failed: " + ch->status.error().message).body().dump() + "\n\n");
          } else {
            ok = write(event(choice_json(d.content, finish_reason(*ch, *out), d.logprobs)));
          }
          if (ok && include_usage) {
            ordered_json u = {{"id", id}, {"object", "text_completion"}, {"created", created_at}, {"model", model},
                              {"choices", ordered_json::array()},
                              {"usage", usage_json(ch->stats.prompt_tokens, out->tokens(), ch->stats.cached_tokens)}};
            ok = write("data: " + u.dump() + "\n\n");
          }
          ok = ok && write("data: [DONE]\n\n");
          sink.done();
          return ok;
        },
        [this, ch, t0](bool success) {
          if (!success) ch->cancelled->store(true);
          record("completions", 200, ch.get(), t0);
        });
  }

  // ---- the rest ----
  void tokenize(const httplib::Request& hreq, httplib::Response& res) {
    auto body = parse_body(hreq.body);
    if (auto* e = std::get_if<ApiError>(&body)) return send_error(res, *e);
    const json& b = std::get<json>(body);
    auto c = b.find("content");
    if (c == b.end() || !c->is_string()) return send_error(res, error(400, "invalid_request_error", "'content' must be a string", "", "content"));
    bool add_special = false, parse_special = true;
    if (auto a = b.find("add_special"); a != b.end() && !a->is_null()) {
      if (!a->is_boolean()) return send_error(res, error(400, "invalid_request_error", "'add_special' must be true or false", "", "add_special"));
      add_special = a->get<bool>();
    }
    if (auto a = b.find("parse_special"); a != b.end() && !a->is_null()) {
      if (!a->is_boolean()) return send_error(res, error(400, "invalid_request_error", "'parse_special' must be true or false", "", "parse_special"));
      parse_special = a->get<bool>();
    }
    std::vector<int32_t> ids;
    if (add_special) ids.push_back(tok.bos_id());
    auto t = tok.encode(c->get<std::string>(), parse_special);
    ids.insert(ids.end(), t.begin(), t.end());
    res.set_content(ordered_json{{"tokens", ids}}.dump(), "application/json");
  }

  void detokenize(const httplib::Request& hreq, httplib::Response& res) {
    auto body = parse_body(hreq.body);
    if (auto* e = std::get_if<ApiError>(&body)) return send_error(res, *e);
    const json& b = std::get<json>(body);
    auto t = b.find("tokens");
    if (t == b.end() || !t->is_array()) return send_error(res, error(400, "invalid_request_error", "'tokens' must be an array of token ids", "", "tokens"));
    std::vector<int32_t> ids;
    for (const auto& v : *t) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= tok.vocab_size())
        return send_error(res, error(400, "invalid_request_error", "'tokens' must hold ids of this vocabulary (0.." + std::to_string(tok.vocab_size() - 1) + ")", "", "tokens"));
      ids.push_back(v.get<int32_t>());
    }
    StreamDecoder d(tok);
    std::string text;
    for (int32_t id : ids) text += d.push(id);
    text += d.flush();
    res.set_content(ordered_json{{"content", text}}.dump(), "application/json");
  }

  void models(httplib::Response& res) {
    ordered_json m = {{"id", opt.model_name}, {"object", "model"}, {"created", created}, {"owned_by", "g4"},
                      {"max_model_len", engine.options().context}};
    res.set_content(ordered_json{{"object", "list"}, {"data", ordered_json::array({m})}}.dump(), "application/json");
  }

  bool authorized(const httplib::Request& req) {
    if (opt.api_key.empty()) return true;
    const std::string want = "Bearer " + opt.api_key;
    if (req.get_header_value("Authorization") == want) return true;
    return req.get_header_value("x-api-key") == opt.api_key;  // Anthropic clients
  }

  void cors(const httplib::Request& req, httplib::Response& res) {
    if (opt.cors_origins.empty()) return;
    const std::string origin = req.get_header_value("Origin");
    if (origin.empty()) return;
    for (const auto& o : opt.cors_origins)
      if (o == "*" || o == origin) {
        res.set_header("Access-Control-Allow-Origin", o == "*" ? "*" : origin);
        res.set_header("Vary", "Origin");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, x-api-key");
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        return;
      }
  }

  void routes() {
    // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which lets a second server bind
    // the same port and silently take half the connections.
    svr.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
    });
    svr.set_payload_max_length(opt.max_body_bytes);
    svr.set_read_timeout(opt.timeout_s, 0);
    svr.set_write_timeout(opt.timeout_s, 0);
    const int threads = opt.http_threads > 0 ? opt.http_threads
                                             : engine.options().max_seqs + engine.options().max_queue + 8;
    svr.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
    svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      cors(req, res);
      if (req.method == "OPTIONS") {
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
      const bool open = req.path == "/health";
      if (!open && !authorized(req)) {
        send_error(res, error(401, "invalid_request_error", "a valid API key is required (Authorization: Bearer KEY)",
                              "invalid_api_key"));
        metrics.request("auth", 401);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    svr.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& r) { chat(q, r); });
    svr.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& r) { completions(q, r); });
    svr.Get("/v1/models", [this](const httplib::Request&, httplib::Response& r) { models(r); });
    svr.Post("/tokenize", [this](const httplib::Request& q, httplib::Response& r) { tokenize(q, r); });
    svr.Post("/detokenize", [this](const httplib::Request& q, httplib::Response& r) { detokenize(q, r); });
    svr.Get("/health", [](const httplib::Request&, httplib::Response& r) {
      r.set_content(R"({"status":"ok"})", "application/json");
    });
    svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(metrics.prometheus(engine.metrics()), "text/plain; version=0.0.4");
    });
    // Unknown paths, wrong methods, oversized bodies: the OpenAI error shape with httplib's status.
    svr.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string msg = res.status == 404   ? "no such endpoint: " + req.method + " " + req.path
                        : res.status == 413 ? "the request body is larger than the limit of " + std::to_string(opt.max_body_bytes) + " bytes"
                        : res.status == 405 ? "method not allowed for " + req.path
                                            : "the request could not be served (HTTP " + std::to_string(res.status) + ")";
      ApiError e = error(res.status, res.status >= 500 ? "server_error" : "invalid_request_error", msg);
      res.set_content(e.body().dump(), "application/json");
    });
    svr.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      send_error(res, error(500, "server_error", what));
    });
  }
};

HttpServer::HttpServer(Engine& engine, const Tokenizer& tokenizer, const jinja::Template& tmpl,
                       const ModelConfig& config, ServerOptions options)
    : impl_(std::make_unique<Impl>(engine, tokenizer, tmpl, config, std::move(options))) {
  impl_->routes();
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::bind() {
  auto& o = impl_->opt;
  if (o.port == 0) {
    port_ = impl_->svr.bind_to_any_port(o.host);
    if (port_ <= 0) return make_error("cannot listen on %s (any port)", o.host.c_str());
  } else {
    if (!impl_->svr.bind_to_port(o.host, o.port))
      return make_error("cannot listen on %s:%d (address in use, or not an address of this machine)", o.host.c_str(), o.port);
    port_ = o.port;
  }
  return {};
}

void HttpServer::run() { impl_->svr.listen_after_bind(); }

void HttpServer::stop() {
  if (impl_) impl_->svr.stop();
}

}  // namespace g4::serve
