// g4 logits: the top-K logits at every prompt position, for cross-checks against HF and llama.cpp.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"

namespace g4::cli {

int cmd_logits(int argc, char** argv) {
  auto opts = model_options();
  opts.insert(opts.end(), {
      {"prompt", "p", "TEXT", "text to score (BOS is added)", ""},
      {"ids", "", "LIST", "comma-separated token ids instead of text", ""},
      {"no-bos", "", "", "do not add BOS before the text", ""},
      {"top", "k", "K", "logits to print per position", "10"},
      {"json", "", "", "one JSON object per line: {\"pos\", \"id\", \"top\": [[id, logit], ...]}", ""},
      {"chunk", "", "N", "prefill chunk size in tokens", "512"},
  });
  Args args("logits", "Print the top-K next-token logits at every position of a prompt.", opts);
  if (Status s = args.parse(argc, argv); !s) return fail(s.error());
  if (args.help_requested()) return print_usage(args);
  auto threads = args.integer("threads", 0, 1024);
  auto top = args.integer("top", 1, 1 << 20);
  auto chunk = args.integer("chunk", 1, 1 << 16);
  if (const Error* e = first_error(threads, top, chunk)) return fail(*e);

  auto loaded = load_model(args.str("model"), *threads, args.str("quant"));
  if (!loaded) return fail(loaded.error());
  if (Status s = use_kv_type(args, *loaded->model); !s) return fail(s.error());
  Loaded& m = loaded.value();
  auto prompt = prompt_ids(args, m);
  if (!prompt) return fail(prompt.error());
  const auto& ids = *prompt;
  auto cache = m.model->new_cache(int(ids.size()), std::min<int>(*chunk, int(ids.size())));
  if (!cache) return fail(cache.error());

  const int V = m.model->config().vocab_size;
  const int K = std::min(*top, V);
  std::vector<float> logits;
  for (size_t i = 0; i < ids.size(); i += size_t((*cache)->max_chunk())) {
    size_t n = std::min(ids.size() - i, size_t((*cache)->max_chunk()));
    Gemma4Model::Run run{cache->get(), std::span<const int32_t>(ids.data() + i, n), true};
    if (Status s = m.model->forward(std::span<const Gemma4Model::Run>(&run, 1), logits); !s) return fail(s.error());
  }
  std::vector<int32_t> order(static_cast<size_t>(V));
  for (size_t p = 0; p < ids.size(); ++p) {
    const float* row = logits.data() + p * size_t(V);
    for (int i = 0; i < V; ++i) order[size_t(i)] = i;
    std::partial_sort(order.begin(), order.begin() + K, order.end(),
                      [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    if (args.has("json")) {
      nlohmann::json j;
      j["pos"] = p;
      j["id"] = ids[p];
      auto& t = j["top"] = nlohmann::json::array();
      for (int i = 0; i < K; ++i) t.push_back({order[size_t(i)], row[order[size_t(i)]]});
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%5zu %7d |", p, ids[p]);
      for (int i = 0; i < K; ++i) {
        int32_t id = order[size_t(i)];
        std::string piece = m.tokenizer ? m.tokenizer->piece(id) : std::to_string(id);
        std::printf(" %s=%.4f", piece.c_str(), row[id]);
      }
      std::printf("\n");
    }
  }
  return 0;
}

}  // namespace g4::cli
