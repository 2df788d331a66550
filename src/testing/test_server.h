// A g4 serve HTTP server on the small random model, on a free port of 127.0.0.1, for tests that
// talk to it with a real HTTP client.
#pragma once

#include <httplib.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "serve/http_server.h"
#include "session/chat_session.h"
#include "testing/random_model.h"

namespace g4::serve::test {

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

// The data lines of a server-sent event stream, [DONE] included.
inline std::vector<std::string> sse_data(const std::string& body) {
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

}  // namespace g4::serve::test
