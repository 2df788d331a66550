// g4: Gemma 4 inference from the command line.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

namespace {

const char* kUsage =
    "usage: g4 COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  chat     chat with the model (interactive, or a JSON conversation on stdin)\n"
    "  serve    serve an OpenAI-compatible HTTP API with continuous batching\n"
    "  run      generate text from a prompt, streamed to stdout\n"
    "  logits   print the top-K logits at every prompt position (cross-checks)\n"
    "  info     describe a model: architecture, parameters, layers, memory\n"
    "  bench    measure prompt and generation speed (tokens/s), like llama-bench\n"
    "  tokenize show how the model's tokenizer splits a text\n"
    "  template print the prompt the chat template renders for a conversation\n"
    "  quantize write a model as a GGUF with quantized weights (Q8_0, Q4_0, Q4_K_M, ...)\n"
    "\n"
    "g4 COMMAND --help shows a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "chat") return g4::cli::cmd_chat(argc - 2, argv + 2);
  if (cmd == "serve") return g4::cli::cmd_serve(argc - 2, argv + 2);
  if (cmd == "template") return g4::cli::cmd_template(argc - 2, argv + 2);
  if (cmd == "run") return g4::cli::cmd_run(argc - 2, argv + 2);
  if (cmd == "logits") return g4::cli::cmd_logits(argc - 2, argv + 2);
  if (cmd == "bench") return g4::cli::cmd_bench(argc - 2, argv + 2);
  if (cmd == "info") return g4::cli::cmd_info(argc - 2, argv + 2);
  if (cmd == "tokenize") return g4::cli::cmd_tokenize(argc - 2, argv + 2);
  if (cmd == "quantize") return g4::cli::cmd_quantize(argc - 2, argv + 2);
  std::fprintf(stderr, "g4: error: unknown command '%s' (see g4 --help)\n", cmd.c_str());
  return 2;
}
