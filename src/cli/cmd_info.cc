// g4 info: what a model is and what it needs.
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "cli/common.h"

namespace g4::cli {

namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) { b /= 1024; ++u; }
  char s[32];
  std::snprintf(s, sizeof s, u ? "%.2f %s" : "%.0f %s", b, units[u]);
  return s;
}

}  // namespace

int cmd_info(int argc, char** argv) {
  auto opts = model_options();
  opts.push_back({"ctx-size", "c", "N", "context size for the memory estimate", "4096"});
  opts.push_back({"chunk", "", "N", "prefill chunk size for the memory estimate", "512"});
  Args args("info", "Describe a model: architecture, parameters, per-layer geometry, dtypes and memory.", opts);
  if (Status s = args.parse(argc, argv); !s) return fail(s.error());
  if (args.help_requested()) return print_usage(args);
  auto threads = args.integer("threads", 0, 1024);
  auto ctx = args.integer("ctx-size", 1, 1 << 30);
  auto chunk = args.integer("chunk", 1, 1 << 16);
  if (const Error* e = first_error(threads, ctx, chunk)) return fail(*e);
  auto loaded = load_model(args.str("model"), *threads, args.str("quant"));
  if (!loaded) return fail(loaded.error());
  if (Status s = use_kv_type(args, *loaded->model); !s) return fail(s.error());
  const Gemma4Model& model = *loaded->model;
  const ModelConfig& c = model.config();

  int64_t params = 0;
  std::map<std::string, int64_t> by_dtype;
  for (const auto& [name, t] : model.files().tensors().tensors()) {
    if (name == "rope_freqs.weight") continue;  // a RoPE table, not a parameter
    params += t.numel();
    by_dtype[std::string(dtype_name(t.dtype))] += t.numel();
  }
  std::printf("model        %s (%s)\n", model.files().path.c_str(), model.files().format.c_str());
  std::printf("architecture %s\n", c.arch.c_str());
  std::printf("parameters   %lld (%.3f B)\n", (long long)params, double(params) / 1e9);
  std::printf("dtypes      ");
  for (const auto& [d, n] : by_dtype) std::printf(" %s: %lld", d.c_str(), (long long)n);
  std::printf("\n");
  std::printf("vocab        %d\nhidden       %d\nlayers       %d\ncontext      %d (model maximum)\n", c.vocab_size,
              c.hidden, c.n_layers, c.max_context);
  std::printf("window       %d\nsoftcap      %g\nembed scale  %.6g\nrms eps      %g\ntokenizer    %s\n",
              c.sliding_window, c.final_softcap, c.embed_scale, c.rms_eps,
              loaded->tokenizer ? (std::to_string(loaded->tokenizer->vocab_size()) + " tokens").c_str() : "none");
  if (c.vision.present)
    std::printf("vision       %d px patches (%d values), embed %d, position table %d\n", c.vision.patch_px,
                c.vision.patch_dim(), c.vision.embed_dim, c.vision.posemb_size);
  else
    std::printf("vision       none\n");
  if (c.audio.present) std::printf("audio        %d-sample frames\n", c.audio.frame);
  else std::printf("audio        none\n");
  std::printf("\nlayer  type     heads  kv  head_dim  k_eq_v  ffn    rope pairs\n");
  for (int i = 0; i < c.n_layers; ++i) {
    const LayerConfig& l = c.layers[size_t(i)];
    int rotated = 0;
    for (float f : l.rope_inv_freq) rotated += f != 0.0f;
    std::printf("%5d  %-7s  %5d  %2d  %8d  %-6s  %-5d  %d/%zu\n", i, l.kind == AttnKind::kSliding ? "sliding" : "full",
                l.n_heads, l.n_kv_heads, l.head_dim, l.k_eq_v ? "yes" : "no", l.ffn_dim, rotated,
                l.rope_inv_freq.size());
  }

  const double kv = double(SequenceCache::bytes_at_full_context(c, *ctx, *chunk, model.kv_type()));
  std::printf("\nmemory       weights %s; KV cache (%s) for %d tokens: %s\n", human_bytes(double(model.weight_bytes())).c_str(),
              std::string(dtype_name(model.kv_type())).c_str(), *ctx, human_bytes(kv).c_str());
  return 0;
}

}  // namespace g4::cli
