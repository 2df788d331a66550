// `g4 serve`'s HTTP front: the OpenAI-compatible API (chat and text completions, streaming as
// server-sent events), models, tokenize/detokenize, health and Prometheus metrics, over the engine.
// Requests are checked and rendered on the HTTP threads; the engine thread only runs the model.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "serve/engine.h"
#include "text/jinja/template.h"
#include "text/tokenizer.h"

namespace g4::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0: any free port (see HttpServer::port)
  std::string api_key;              // non-empty: every /v1 request needs "Authorization: Bearer KEY"
  std::vector<std::string> cors_origins;  // allowed browser origins ("*" for any); empty: no CORS
  size_t max_body_bytes = 16u << 20;
  int timeout_s = 600;              // socket read/write timeout
  int http_threads = 0;             // 0: enough for every slot and queued request
  std::string model_name = "g4";    // the id /v1/models lists and requests may name
};

class HttpServer {
 public:
  HttpServer(Engine& engine, const Tokenizer& tokenizer, const jinja::Template& tmpl, const ModelConfig& config,
             ServerOptions options);
  ~HttpServer();

  // Binds the socket; fails with a clear message if the address is taken or invalid.
  Status bind();
  int port() const { return port_; }
  // Serves until stop() (from any thread, e.g. a signal watcher).
  void run();
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace g4::serve
