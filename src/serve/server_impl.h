// The inside of HttpServer, shared by the files that implement its endpoints: http_server.cc
// (routes, auth, CORS, models, tokenize, health, metrics), openai_api.cc (chat and text completions)
// and anthropic_api.cc (messages). Not part of the server's interface.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "serve/api_request.h"
#include "serve/generation.h"
#include "serve/http_server.h"
#include "serve/metrics.h"

namespace g4::serve {

using Clock = std::chrono::steady_clock;

std::string random_id(const char* prefix);
int64_t unix_now();
ApiError make_api_error(int status, const std::string& type, const std::string& msg, const std::string& code = "",
                        const std::string& param = "");

// A stream's content provider that cannot take the server down: an exception (which httplib would
// not catch there) ends the stream and its generation, and is logged.
template <class F>
auto guarded(std::shared_ptr<Generation> gen, F f) {
  return [gen, f = std::move(f)](size_t offset, httplib::DataSink& sink) mutable -> bool {
    try {
      return f(offset, sink);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "g4 serve: a stream failed: %s\n", e.what());
      gen->cancel();
      return false;
    }
  };
}

struct HttpServer::Impl {
  Engine& engine;
  const Tokenizer& tok;
  const jinja::Template& tmpl;
  const ModelConfig& config;
  ServerOptions opt;
  httplib::Server svr;
  ServerMetrics metrics;
  int64_t created = unix_now();
  int listen_fd = -1;  // the listening socket, once bound

  Impl(Engine& e, const Tokenizer& t, const jinja::Template& tp, const ModelConfig& c, ServerOptions o)
      : engine(e), tok(t), tmpl(tp), config(c), opt(std::move(o)) {}

  void routes();
  void send_error(httplib::Response& res, const ApiError& e);
  // The model a request names must be this one (clients that send none are fine).
  std::optional<ApiError> check_model(const std::string& name);
  // Metrics and the request's log line.
  void record(const char* endpoint, int status, const Generation* gen, Clock::time_point t0);
  // A reply sent whole: pulls every update of `gen` (feeding the assemblers); false when the
  // client went away meanwhile (the generation is cancelled).
  bool wait_whole(Generation& gen, const httplib::Request& req);
  // A stream's resource releaser: a client that went away has its generation dropped (the engine
  // frees the slot within a step); one that closed as soon as it had read the last event, before
  // the stream's terminating chunk, got it all. Records the request either way.
  std::function<void(bool)> stream_done(const char* endpoint, std::shared_ptr<Generation> gen, Clock::time_point t0);

  // OpenAI (openai_api.cc)
  void chat(const httplib::Request& req, httplib::Response& res);
  void completions(const httplib::Request& req, httplib::Response& res);
  // Anthropic (anthropic_api.cc)
  void messages(const httplib::Request& req, httplib::Response& res);
  void count_tokens(const httplib::Request& req, httplib::Response& res);
  void send_anthropic_error(httplib::Response& res, const ApiError& e);

  // The rest (http_server.cc)
  void tokenize(const httplib::Request& req, httplib::Response& res);
  void detokenize(const httplib::Request& req, httplib::Response& res);
  void models(httplib::Response& res);
  bool authorized(const httplib::Request& req);
  void cors(const httplib::Request& req, httplib::Response& res);
};

}  // namespace g4::serve
