// g4 run: generate text from a prompt, streamed to stdout.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "runtime/generate.h"

namespace g4::cli {

int cmd_run(int argc, char** argv) {
  auto opts = model_options();
  for (auto& o : sampling_options()) opts.push_back(o);
  opts.insert(opts.end(), {
      {"prompt", "p", "TEXT", "prompt text (BOS is added; special tokens in the text are parsed)", ""},
      {"ids", "", "LIST", "prompt as comma-separated token ids instead of text", ""},
      {"no-bos", "", "", "do not add BOS before the prompt text", ""},
      {"n-predict", "n", "N", "tokens to generate", "128"},
      {"ctx-size", "c", "N", "context size in tokens", "4096"},
      {"chunk", "", "N", "prefill chunk size in tokens", "512"},
      {"ignore-eos", "", "", "keep generating past stop tokens", ""},
      {"timings", "", "", "print prefill and generation speed to stderr at the end", ""},
  });
  Args args("run", "Generate text from a prompt and stream it to stdout.", opts);
  if (Status s = args.parse(argc, argv); !s) return fail(s.error());
  if (args.help_requested()) return print_usage(args);

  auto threads = args.integer("threads", 0, 1024);
  auto n = args.integer("n-predict", 0, 1 << 24);
  auto ctx = args.integer("ctx-size", 1, 1 << 30);
  auto chunk = args.integer("chunk", 1, 1 << 16);
  auto sampling = sampling_params(args);
  if (const Error* e = first_error(threads, n, ctx, chunk, sampling)) return fail(*e);

  auto loaded = load_model(args.str("model"), *threads, args.str("quant"));
  if (!loaded) return fail(loaded.error());
  if (Status s = use_kv_type(args, *loaded->model); !s) return fail(s.error());
  Loaded& m = loaded.value();
  auto prompt = prompt_ids(args, m);
  if (!prompt) return fail(prompt.error());
  auto cache = m.model->new_cache(*ctx, *chunk);
  if (!cache) return fail(cache.error());

  GenerateOptions opt;
  opt.max_new_tokens = *n;
  opt.chunk = *chunk;
  opt.sampling = *sampling;
  if (!args.has("ignore-eos")) opt.stop_ids = m.model->config().eos_ids;

  std::unique_ptr<StreamDecoder> dec;
  if (m.tokenizer) dec = std::make_unique<StreamDecoder>(*m.tokenizer);
  bool first = true;
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto t_first = t0;
  int n_out = 0;
  auto out = generate(*m.model, **cache, *prompt, opt, [&](int32_t id) {
    if (n_out++ == 0) t_first = clock::now();
    if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), id) != opt.stop_ids.end()) return true;
    if (dec) {
      std::fputs(dec->push(id).c_str(), stdout);
    } else {
      std::printf(first ? "%d" : " %d", id);
      first = false;
    }
    std::fflush(stdout);
    return true;
  });
  const auto t1 = clock::now();
  if (dec) std::fputs(dec->flush().c_str(), stdout);
  std::fputc('\n', stdout);
  if (!out) return fail(out.error());
  if (args.has("timings")) {
    // The first token comes right after the prefill; later ones each cost one decode step.
    double prefill_s = std::chrono::duration<double>(t_first - t0).count();
    double gen_s = std::chrono::duration<double>(t1 - t_first).count();
    std::fprintf(stderr, "prefill: %zu tokens in %.3f s (%.2f tok/s)\n", prompt->size(), prefill_s,
                 double(prompt->size()) / prefill_s);
    if (n_out > 1)
      std::fprintf(stderr, "decode:  %d tokens in %.3f s (%.2f tok/s)\n", n_out - 1, gen_s, double(n_out - 1) / gen_s);
  }
  return 0;
}

}  // namespace g4::cli
