// g4 tokenize: how the model's tokenizer splits a text.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"

namespace g4::cli {

int cmd_tokenize(int argc, char** argv) {
  Args args("tokenize", "Tokenize TEXT (or standard input) with the model's tokenizer.",
            {
                {"model", "m", "PATH", "model folder or .gguf whose tokenizer to use (weights are not loaded)", ""},
                {"prompt", "p", "TEXT", "text to tokenize (or give it as the last argument, or on stdin)", ""},
                {"ids", "", "", "print only the ids, comma-separated", ""},
                {"pieces", "", "", "print only the pieces, one JSON string per line", ""},
                {"no-special", "", "", "treat special-token text such as <|turn> as plain text", ""},
                {"bos", "", "", "put BOS first", ""},
            });
  if (Status s = args.parse(argc, argv); !s) return fail(s.error());
  if (args.help_requested()) return print_usage(args);
  if (args.has("ids") && args.has("pieces")) return fail(Error{"tokenize: --ids and --pieces exclude each other"});
  std::string text;
  if (args.has("prompt")) {
    text = args.str("prompt");
  } else if (!args.positional().empty()) {
    if (args.positional().size() > 1) return fail(Error{"tokenize: give the text as one argument (quote it)"});
    text = args.positional()[0];
  } else {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto files = open_model(args.str("model"));
  if (!files) return fail(files.error());
  auto tok = require_tokenizer(*files);
  if (!tok) return fail(tok.error());
  std::vector<int32_t> ids;
  if (args.has("bos")) ids.push_back((*tok)->bos_id());
  auto t = (*tok)->encode(text, !args.has("no-special"));
  ids.insert(ids.end(), t.begin(), t.end());
  if (args.has("ids")) {
    for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? ",%d" : "%d", ids[i]);
    std::printf("\n");
  } else {
    for (int32_t id : ids) {
      std::string piece = nlohmann::json((*tok)->piece(id)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (args.has("pieces")) std::printf("%s\n", piece.c_str());
      else std::printf("%7d  %s\n", id, piece.c_str());
    }
  }
  return 0;
}

}  // namespace g4::cli
