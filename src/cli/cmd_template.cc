// g4 template: the prompt a model's chat template renders for a conversation (for debugging).
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "session/chat_session.h"

namespace g4::cli {

int cmd_template(int argc, char** argv) {
  Args args("template",
            "Print the prompt the model's chat template renders for CONVERSATION.json\n"
            "({\"messages\": [...], \"tools\": [...]} or a messages array). Weights are not loaded.",
            {
                {"model", "m", "PATH", "model folder or .gguf (its template, else the built-in one)", ""},
                {"think", "", "", "enable_thinking", ""},
                {"no-generation-prompt", "", "", "do not end with the model's turn", ""},
                {"ids", "", "", "print the token ids of the prompt instead of its text", ""},
            });
  if (Status s = args.parse(argc, argv); !s) return fail(s.error());
  if (args.help_requested()) return print_usage(args);
  if (args.positional().size() != 1) return fail(Error{"template: give one conversation file (see --help)"});
  const std::string path = args.positional()[0];
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(Error{path + ": cannot read"});
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = nlohmann::ordered_json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return fail(Error{path + ": not valid JSON"});
  nlohmann::ordered_json messages = j, tools;
  if (j.is_object()) {
    messages = j.value("messages", nlohmann::ordered_json());
    tools = j.value("tools", nlohmann::ordered_json());
  }
  if (!messages.is_array()) return fail(Error{path + ": \"messages\" must be an array"});

  auto files = open_model(args.str("model"));
  if (!files) return fail(files.error());
  auto tok = require_tokenizer(*files);
  if (!tok) return fail(tok.error());
  auto tmpl = model_chat_template(*files);
  if (!tmpl) return fail(tmpl.error());
  auto text = render_conversation(*tmpl, messages, tools, !args.has("no-generation-prompt"), args.has("think"), **tok);
  if (!text) return fail(text.error());
  if (args.has("ids")) {
    auto ids = (*tok)->encode(*text, /*parse_special=*/true);
    for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? ",%d" : "%d", ids[i]);
    std::printf("\n");
  } else {
    std::fputs(text->c_str(), stdout);
  }
  return 0;
}

}  // namespace g4::cli
