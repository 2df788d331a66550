// g4 serve: the OpenAI-compatible HTTP server with continuous batching.
#include <csignal>
#include <cstdio>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "serve/engine.h"
#include "serve/http_server.h"
#include "session/chat_session.h"

namespace g4::cli {

namespace {

volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int sig) { g_signal = sig; }

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

std::string model_id(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  auto opts = model_options();
  opts.insert(opts.end(), {
      {"host", "", "ADDR", "address to listen on (0.0.0.0 for every interface)", "127.0.0.1"},
      {"port", "", "N", "port to listen on (0: any free port, printed at start)", "8080"},
      {"api-key", "", "KEY", "require \"Authorization: Bearer KEY\" on every request but /health", ""},
      {"cors", "", "ORIGINS", "comma-separated browser origins allowed to call the API (* for any)", ""},
      {"parallel", "np", "N", "sequences that run at once (each reserves its KV cache at start)", "4"},
      {"ctx-size", "c", "N", "context per sequence in tokens", "4096"},
      {"batch-tokens", "b", "N", "most tokens per forward pass (prefill chunks are cut to fit)", "512"},
      {"max-queue", "", "N", "requests that may wait for a free sequence; more get HTTP 503", "64"},
      {"max-body", "", "BYTES", "largest request body accepted", "16777216"},
      {"timeout", "", "SECONDS", "socket read/write timeout", "600"},
      {"alias", "a", "NAME", "the model id clients use (default: the model's file or folder name)", ""},
  });
  Args args("serve", "Serve the model over an OpenAI-compatible HTTP API with continuous batching.", opts);
  if (Status s = args.parse(argc, argv); !s) return fail(s.error());
  if (args.help_requested()) return print_usage(args);

  auto threads = args.integer("threads", 0, 1024);
  auto port = args.integer("port", 0, 65535);
  auto parallel = args.integer("parallel", 1, 1024);
  auto ctx = args.integer("ctx-size", 2, 1 << 30);
  auto batch = args.integer("batch-tokens", 1, 1 << 16);
  auto queue = args.integer("max-queue", 0, 1 << 20);
  auto body = args.integer("max-body", 1024, 1 << 30);
  auto timeout = args.integer("timeout", 1, 1 << 20);
  if (const Error* e = first_error(threads, port, parallel, ctx, batch, queue, body, timeout)) return fail(*e);

  auto loaded = load_model(args.str("model"), *threads, args.str("quant"));
  if (!loaded) return fail(loaded.error());
  if (Status s = use_kv_type(args, *loaded->model); !s) return fail(s.error());
  Loaded& m = loaded.value();
  if (!m.tokenizer) return fail(make_error("the model has no tokenizer; the server needs one"));
  auto tmpl = model_chat_template(m.model->files());
  if (!tmpl) return fail(tmpl.error());

  EngineOptions eo;
  eo.max_seqs = *parallel;
  eo.context = *ctx;
  eo.max_batch_tokens = *batch;
  eo.max_queue = *queue;
  auto engine = Engine::create(*m.model, eo);
  if (!engine) return fail(engine.error());

  serve::ServerOptions so;
  so.host = args.str("host");
  so.port = *port;
  so.api_key = args.str("api-key");
  so.cors_origins = split_commas(args.str("cors"));
  so.max_body_bytes = size_t(*body);
  so.timeout_s = *timeout;
  so.model_name = args.has("alias") ? args.str("alias") : model_id(args.str("model"));
  serve::HttpServer server(**engine, *m.tokenizer, *tmpl, m.model->config(), so);
  if (Status s = server.bind(); !s) return fail(s.error());

  const EngineMetrics em = (*engine)->metrics();
  std::fprintf(stderr,
               "g4 serve: model %s (%.2f GiB of weights, KV cache %s)\n"
               "g4 serve: %d sequences x %d tokens of context, KV cache %.2f GiB reserved; batches of up to %d "
               "tokens; queue %d\n"
               "g4 serve: listening on http://%s:%d%s\n",
               so.model_name.c_str(), double(m.model->weight_bytes()) / double(1ull << 30),
               std::string(dtype_name(m.model->kv_type())).c_str(), eo.max_seqs, eo.context,
               double(em.kv_bytes) / double(1ull << 30), eo.max_batch_tokens, eo.max_queue, so.host.c_str(),
               server.port(), so.api_key.empty() ? "" : " (API key required)");
  std::fflush(stderr);

  // SIGINT / SIGTERM: stop taking requests, let the running ones finish, then stop listening.
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::thread watcher([&] {
    while (g_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::fprintf(stderr, "g4 serve: signal %d: finishing the running requests\n", int(g_signal));
    (*engine)->drain();
    server.stop();
  });
  server.run();
  if (g_signal == 0) g_signal = SIGTERM;  // the server stopped on its own: let the watcher end
  watcher.join();
  std::fprintf(stderr, "g4 serve: stopped\n");
  return 0;
}

}  // namespace g4::cli
