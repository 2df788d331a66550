// The HTTP front's plumbing: routes, API key, CORS, models, tokenize/detokenize, health, metrics,
// the web page and the OpenAPI document. The generating endpoints are in openai_api.cc and
// anthropic_api.cc.
#include "serve/http_server.h"

#include <cstdio>
#include <mutex>
#include <random>

#include "serve/assets.h"
#include "serve/peer.h"
#include "serve/server_impl.h"

namespace g4::serve {

using nlohmann::json;
using nlohmann::ordered_json;

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

ApiError make_api_error(int status, const std::string& type, const std::string& msg, const std::string& code,
                        const std::string& param) {
  ApiError e;
  e.status = status;
  e.type = type;
  e.message = msg;
  e.code = code;
  e.param = param;
  return e;
}

void HttpServer::Impl::send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(e.body().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

std::optional<ApiError> HttpServer::Impl::check_model(const std::string& name) {
  if (name.empty() || name == opt.model_name) return std::nullopt;
  return make_api_error(404, "invalid_request_error",
                        "The model '" + name + "' does not exist; this server serves '" + opt.model_name + "'",
                        "model_not_found", "model");
}

void HttpServer::Impl::record(const char* endpoint, int status, const Generation* gen, Clock::time_point t0) {
  metrics.request(endpoint, status);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!gen) {
    std::fprintf(stderr, "g4 serve: %s %d total=%.3fs\n", endpoint, status, s);
    return;
  }
  for (int i = 0; i < gen->n(); ++i) {
    const GenStats& st = gen->stats(i);
    if (st.completion_tokens > 0) {
      metrics.ttft(st.queue_s + st.prefill_s);
      if (st.completion_tokens > 1) metrics.inter_token(st.decode_s / double(st.completion_tokens - 1));
    }
  }
  const GenStats& st = gen->stats(0);
  std::fprintf(stderr, "g4 serve: %s %d prompt=%d cached=%d completion=%d queue=%.3fs ttft=%.3fs total=%.3fs %s%s\n",
               endpoint, status, gen->prompt_tokens(), gen->cached_tokens(), gen->completion_tokens(), st.queue_s,
               st.queue_s + st.prefill_s, s, gen->n() > 0 ? gen->finish_reason(0).c_str() : "",
               status == 499 ? " (client went away)" : "");
}

std::function<void(bool)> HttpServer::Impl::stream_done(const char* endpoint, std::shared_ptr<Generation> gen,
                                                        Clock::time_point t0) {
  return [this, endpoint, gen, t0](bool success) {
    const bool whole = success || gen->delivered();
    if (!whole) gen->cancel();
    record(endpoint, whole ? 200 : 499, gen.get(), t0);
  };
}

bool HttpServer::Impl::wait_whole(Generation& gen, const httplib::Request& req) {
  // Every quarter second, tokens coming or not, ask whether the client is still there.
  constexpr auto kEvery = std::chrono::milliseconds(250);
  auto next_check = Clock::now() + kEvery;
  ChoiceUpdate u;
  bool timed_out = false;
  for (;;) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_check - Clock::now()).count();
    const bool got = gen.next_for(&u, int(std::max<int64_t>(wait, 0)), &timed_out);
    if (!got && !timed_out) return true;  // every choice ended
    if (Clock::now() < next_check) continue;
    next_check = Clock::now() + kEvery;
    if (peer_closed(req.local_port, req.remote_port)) {
      gen.cancel();
      return false;
    }
  }
}

void HttpServer::Impl::tokenize(const httplib::Request& hreq, httplib::Response& res) {
  auto body = parse_body(hreq.body);
  if (auto* e = std::get_if<ApiError>(&body)) return send_error(res, *e);
  const json& b = std::get<json>(body);
  auto c = b.find("content");
  if (c == b.end() || !c->is_string()) return send_error(res, make_api_error(400, "invalid_request_error", "'content' must be a string", "", "content"));
  bool add_special = false, parse_special = true;
  if (auto a = b.find("add_special"); a != b.end() && !a->is_null()) {
    if (!a->is_boolean()) return send_error(res, make_api_error(400, "invalid_request_error", "'add_special' must be true or false", "", "add_special"));
    add_special = a->get<bool>();
  }
  if (auto a = b.find("parse_special"); a != b.end() && !a->is_null()) {
    if (!a->is_boolean()) return send_error(res, make_api_error(400, "invalid_request_error", "'parse_special' must be true or false", "", "parse_special"));
    parse_special = a->get<bool>();
  }
  std::vector<int32_t> ids;
  if (add_special) ids.push_back(tok.bos_id());
  auto t = tok.encode(c->get<std::string>(), parse_special);
  ids.insert(ids.end(), t.begin(), t.end());
  res.set_content(ordered_json{{"tokens", ids}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void HttpServer::Impl::detokenize(const httplib::Request& hreq, httplib::Response& res) {
  auto body = parse_body(hreq.body);
  if (auto* e = std::get_if<ApiError>(&body)) return send_error(res, *e);
  const json& b = std::get<json>(body);
  auto t = b.find("tokens");
  if (t == b.end() || !t->is_array()) return send_error(res, make_api_error(400, "invalid_request_error", "'tokens' must be an array of token ids", "", "tokens"));
  std::vector<int32_t> ids;
  for (const auto& v : *t) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= tok.vocab_size())
      return send_error(res, make_api_error(400, "invalid_request_error", "'tokens' must hold ids of this vocabulary (0.." + std::to_string(tok.vocab_size() - 1) + ")", "", "tokens"));
    ids.push_back(v.get<int32_t>());
  }
  StreamDecoder d(tok);
  std::string text;
  for (int32_t id : ids) text += d.push(id);
  text += d.flush();
  res.set_content(ordered_json{{"content", text}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void HttpServer::Impl::models(httplib::Response& res) {
  ordered_json m = {{"id", opt.model_name}, {"object", "model"}, {"created", created}, {"owned_by", "g4"},
                    {"max_model_len", engine.options().context}};
  res.set_content(ordered_json{{"object", "list"}, {"data", ordered_json::array({m})}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// Anthropic's endpoints answer errors in Anthropic's shape.
static bool anthropic_path(const std::string& path) { return path.rfind("/v1/messages", 0) == 0; }

bool HttpServer::Impl::authorized(const httplib::Request& req) {
  if (opt.api_key.empty()) return true;
  const std::string want = "Bearer " + opt.api_key;
  if (req.get_header_value("Authorization") == want) return true;
  return req.get_header_value("x-api-key") == opt.api_key;  // Anthropic clients
}

void HttpServer::Impl::cors(const httplib::Request& req, httplib::Response& res) {
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

void HttpServer::Impl::routes() {
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which lets a second server bind
  // the same port and silently take half the connections.
  svr.set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
    listen_fd = sock;  // bind() widens its backlog
  });
  // One request per connection. httplib 0.11 does not read the body of a GET (or an OPTIONS, or an
  // unknown method); on a kept-alive connection those bytes would be parsed as the next request
  // (request smuggling behind a proxy). A new connection per request costs nothing next to a
  // generation.
  svr.set_keep_alive_max_count(1);
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
    // The page and the API description are public; what the page calls needs the key.
    const bool open = req.path == "/health" || req.path == "/" || req.path == "/openapi.json";
    if (!open && !authorized(req)) {
      const ApiError e = make_api_error(401, "invalid_request_error",
                                        "a valid API key is required (Authorization: Bearer KEY, or x-api-key: KEY)",
                                        "invalid_api_key");
      if (anthropic_path(req.path)) send_anthropic_error(res, e);
      else send_error(res, e);
      metrics.request("auth", 401);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& r) { chat(q, r); });
  svr.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& r) { completions(q, r); });
  svr.Post("/v1/messages", [this](const httplib::Request& q, httplib::Response& r) { messages(q, r); });
  svr.Post("/v1/messages/count_tokens", [this](const httplib::Request& q, httplib::Response& r) { count_tokens(q, r); });
  svr.Get("/v1/models", [this](const httplib::Request&, httplib::Response& r) { models(r); });
  svr.Post("/tokenize", [this](const httplib::Request& q, httplib::Response& r) { tokenize(q, r); });
  svr.Post("/detokenize", [this](const httplib::Request& q, httplib::Response& r) { detokenize(q, r); });
  svr.Get("/health", [](const httplib::Request&, httplib::Response& r) {
    r.set_content(R"({"status":"ok"})", "application/json");
  });
  svr.Get("/", [](const httplib::Request&, httplib::Response& r) {
    const auto page = embedded::webui_html();
    r.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  svr.Get("/openapi.json", [](const httplib::Request&, httplib::Response& r) {
    const auto doc = embedded::openapi_json();
    r.set_content(doc.data(), doc.size(), "application/json");
  });
  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& r) {
    r.set_content(metrics.prometheus(engine.metrics()), "text/plain; version=0.0.4");
  });
  // A known path asked with the wrong method: 405 with the method it takes.
  for (const char* path : {"/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/messages/count_tokens",
                           "/tokenize", "/detokenize"})
    svr.Get(path, [](const httplib::Request&, httplib::Response& r) {
      r.status = 405;
      r.set_header("Allow", "POST");
    });
  for (const char* path : {"/v1/models", "/health", "/metrics", "/", "/openapi.json"})
    svr.Post(path, [](const httplib::Request&, httplib::Response& r) {
      r.status = 405;
      r.set_header("Allow", "GET");
    });
  // Unknown paths, wrong methods, oversized bodies: the OpenAI error shape with httplib's status.
  svr.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = res.status == 404   ? "no such endpoint: " + req.method + " " + req.path
                      : res.status == 413 ? "the request body is larger than the limit of " + std::to_string(opt.max_body_bytes) + " bytes"
                      : res.status == 405 ? "method not allowed for " + req.path
                                          : "the request could not be served (HTTP " + std::to_string(res.status) + ")";
    const int status = res.status;
    ApiError e = make_api_error(status, status >= 500 ? "server_error" : "invalid_request_error", msg);
    if (anthropic_path(req.path)) send_anthropic_error(res, e);
    else send_error(res, e);
    res.status = status;
  });
  svr.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, make_api_error(500, "server_error", what));
  });
}

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
  // httplib 0.11 listens with a backlog of 5: a burst of clients connecting at once overflows it and
  // some get reset. listen() again on the bound socket widens it (capped by net.core.somaxconn).
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, 4096);
  return {};
}

void HttpServer::run() { impl_->svr.listen_after_bind(); }

void HttpServer::stop() {
  if (impl_) impl_->svr.stop();
}

}  // namespace g4::serve
