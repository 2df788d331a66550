// g4 quantize IN OUT TYPE: writes a model as a gemma4 GGUF with quantized weights (convert/).
#include <sys/stat.h>

#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "cli/common.h"
#include "convert/quantize_model.h"

namespace g4::cli {

namespace {

// Same file (also through another path or a link)?
bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  if (stat(a.c_str(), &sa) != 0 || stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

int cmd_quantize(int argc, char** argv) {
  Args args("quantize IN OUT TYPE",
            "Write a model (an HF folder or a GGUF) as a gemma4 GGUF with quantized weights.\n"
            "TYPE: " + convert::scheme_names() + " (see docs/QUANTIZE.md for the per-tensor mix).",
            {{"threads", "t", "N", "worker threads (0: one per core)", "0"},
             {"quiet", "q", "", "no progress on stderr", ""}});
  if (Status s = args.parse(argc, argv); !s) return fail(s.error());
  if (args.help_requested()) return print_usage(args);
  const auto& pos = args.positional();
  if (pos.size() != 3)
    return fail(make_error("expected IN OUT TYPE, got %zu argument%s (see g4 quantize --help)", pos.size(),
                           pos.size() == 1 ? "" : "s"));
  const std::string &in = pos[0], &out = pos[1];
  auto threads = args.integer("threads", 0, 1024);
  if (!threads) return fail(threads.error());
  auto scheme = convert::scheme_from_name(pos[2]);
  if (!scheme) return fail(scheme.error());
  if (in == out || same_file(in, out)) return fail(make_error("%s: the output would overwrite the input", out.c_str()));
  auto files = open_model(in);
  if (!files) return fail(files.error());

  convert::QuantizeOptions opts;
  opts.threads = *threads;
  opts.quiet = args.has("quiet");
  opts.warn = [](const std::string& w) { std::fprintf(stderr, "g4: warning: %s\n", w.c_str()); };
  auto report = convert::quantize_model(*files, out, *scheme, opts);
  if (!report) return fail(report.error());
  std::map<std::string, int> mix;
  int fallbacks = 0;
  for (const auto& t : report->tensors) {
    ++mix[std::string(dtype_name(t.to))];
    fallbacks += t.fallback;
  }
  std::printf("%s: %s, %zu tensors:", out.c_str(), scheme->name.c_str(), report->tensors.size());
  for (const auto& [type, n] : mix) std::printf(" %s %d", type.c_str(), n);
  std::printf("\n%.1f MiB of tensor data -> %.1f MiB", double(report->bytes_in) / 1048576.0,
              double(report->bytes_out) / 1048576.0);
  if (fallbacks) std::printf(" (%d tensor%s took a fallback type: row length)", fallbacks, fallbacks == 1 ? "" : "s");
  std::printf("\n");
  return 0;
}

}  // namespace g4::cli
