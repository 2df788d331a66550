// g4 bench: prompt-processing and generation speed, like llama-bench, plus load time, peak memory
// and the decode speed the machine's memory bandwidth allows.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <functional>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "util/bandwidth.h"

namespace g4::cli {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

struct Stats {
  double mean = 0, sd = 0;
};
Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / double(v.size() - 1)) : 0;
  return s;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  auto opts = model_options();
  opts.insert(opts.end(), {
      {"n-prompt", "p", "N", "prompt tokens to process (0: skip)", "512"},
      {"n-gen", "n", "N", "tokens to generate one at a time (0: skip)", "128"},
      {"repetitions", "r", "N", "runs of each test (after one warm-up run)", "5"},
      {"batch", "b", "N", "prompt tokens per forward call", "512"},
      {"no-warmup", "", "", "measure from the first run (cold caches), as for time to first token", ""},
      {"no-bandwidth", "", "", "skip the memory-bandwidth probe (its 1 GB buffer would count in peak memory)", ""},
  });
  Args args("bench",
            "Measure prompt processing (pp) and generation (tg) speed in tokens/s, mean ± sd over\n"
            "repetitions, with load time, peak memory and the bandwidth bound for decoding.",
            opts);
  if (Status s = args.parse(argc, argv); !s) return fail(s.error());
  if (args.help_requested()) return print_usage(args);
  auto threads = args.integer("threads", 0, 1024);
  auto np = args.integer("n-prompt", 0, 1 << 20);
  auto ng = args.integer("n-gen", 0, 1 << 20);
  auto reps = args.integer("repetitions", 1, 1000);
  auto batch = args.integer("batch", 1, 1 << 16);
  if (const Error* e = first_error(threads, np, ng, reps, batch)) return fail(*e);
  if (*np == 0 && *ng == 0) return fail(Error{"bench: nothing to measure (-p 0 and -n 0)"});

  auto t_load = clock_type::now();
  auto loaded = load_model(args.str("model"), *threads, args.str("quant"));
  if (!loaded) return fail(loaded.error());
  if (Status s = use_kv_type(args, *loaded->model); !s) return fail(s.error());
  const double load_s = seconds_since(t_load);
  Gemma4Model& model = *loaded->model;
  const ModelConfig& c = model.config();
  const int ctx = std::max(*np, *ng + 1);
  auto cache = model.new_cache(ctx, std::min(*batch, std::max(1, *np)));
  if (!cache) return fail(cache.error());

  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> pick(10, c.vocab_size - 1);
  std::vector<int32_t> prompt(size_t(std::max(1, *np)));
  for (auto& id : prompt) id = pick(rng);
  std::vector<float> logits;
  auto run_pp = [&]() -> Result<double> {
    (*cache)->clear();
    auto t0 = clock_type::now();
    for (size_t i = 0; i < prompt.size(); i += size_t((*cache)->max_chunk())) {
      size_t n = std::min(prompt.size() - i, size_t((*cache)->max_chunk()));
      logits.clear();
      Gemma4Model::Run run{cache->get(), std::span<const int32_t>(prompt.data() + i, n), false};
      G4_TRY(model.forward(std::span<const Gemma4Model::Run>(&run, 1), logits));
    }
    return double(prompt.size()) / seconds_since(t0);
  };
  auto run_tg = [&]() -> Result<double> {
    (*cache)->clear();
    int32_t id = prompt[0];
    auto t0 = clock_type::now();
    for (int i = 0; i < *ng; ++i) {
      logits.clear();
      Gemma4Model::Run run{cache->get(), std::span<const int32_t>(&id, 1), false};
      G4_TRY(model.forward(std::span<const Gemma4Model::Run>(&run, 1), logits));
      id = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    return double(*ng) / seconds_since(t0);
  };

  struct Row {
    std::string test;
    Stats s;
  };
  std::vector<Row> rows;
  auto measure = [&](const std::string& name, const std::function<Result<double>()>& fn) -> Status {
    if (!args.has("no-warmup")) G4_TRY(fn());  // warm-up: maps the weights, fills the caches
    std::vector<double> v;
    for (int r = 0; r < *reps; ++r) {
      G4_ASSIGN_OR_RETURN(double tps, fn());
      v.push_back(tps);
    }
    rows.push_back({name, stats(v)});
    return {};
  };
  if (*np > 0)
    if (Status s = measure("pp" + std::to_string(*np), run_pp); !s) return fail(s.error());
  if (*ng > 0)
    if (Status s = measure("tg" + std::to_string(*ng), run_tg); !s) return fail(s.error());

  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const double peak_rss = double(ru.ru_maxrss) * 1024;  // KiB on Linux
  const int nthreads = *threads > 0 ? *threads : int(std::max(1u, std::thread::hardware_concurrency()));
  // A buffer well past the caches; no larger than the model needs to show its bound.
  const size_t probe = std::clamp<size_t>(4 * model.weight_bytes(), size_t(256) << 20, size_t(1) << 30);
  const bool probe_bw = !args.has("no-bandwidth");
  const double bw = probe_bw ? measure_read_bandwidth(nthreads, probe) : 0.0;
  // Decode reads every weight once per token (the tied embedding only as the output head).
  double kv_per_token = 0;
  for (const auto& l : c.layers)
    kv_per_token += 2.0 * double(dtype_row_bytes(model.kv_type(), int64_t(l.n_kv_heads) * l.head_dim));
  const double bytes_per_token = double(model.weight_bytes()) + kv_per_token * (*ng) / 2;

  std::printf("model: %s (%s), %.2f GiB of weights, %s\n", model.files().path.c_str(), model.files().format.c_str(),
              double(model.weight_bytes()) / (1 << 30), model.backend().name().c_str());
  if (probe_bw)
    std::printf("load: %.3f s   peak RSS: %.2f GiB   read bandwidth: %.1f GB/s -> decode bound %.2f tok/s\n\n",
                load_s, peak_rss / (1 << 30), bw / 1e9, bw / bytes_per_token);
  else
    std::printf("load: %.3f s   peak RSS: %.2f GiB\n\n", load_s, peak_rss / (1 << 30));
  std::printf("| %-8s | %7s | %-6s | %18s |\n", "test", "threads", "reps", "t/s");
  std::printf("| %-8s | %7s | %-6s | %18s |\n", "--------", "------:", "-----:", "-----------------:");
  for (const auto& r : rows)
    std::printf("| %-8s | %7d | %6d | %8.2f ± %7.2f |\n", r.test.c_str(), nthreads, *reps, r.s.mean, r.s.sd);
  return 0;
}

}  // namespace g4::cli
