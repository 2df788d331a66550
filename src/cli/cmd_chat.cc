// g4 chat: a conversation in the terminal (line editing, history, streaming, reasoning shown apart),
// or, with a conversation on standard input, one reply printed.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "session/chat_session.h"

#ifdef G4_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

namespace g4::cli {

namespace {

using ojson = nlohmann::ordered_json;

const char* kChatHelp =
    "commands: /reset (forget the conversation), /think on|off, /tool TEXT (answer the last tool call),\n"
    "          /save FILE, /load FILE (the conversation as JSON), /help, /quit\n";

Result<ojson> read_json_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error("%s: cannot read", path.c_str());
  std::stringstream ss;
  ss << f.rdbuf();
  ojson j = ojson::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return make_error("%s: not valid JSON", path.c_str());
  return j;
}

// A conversation file: {"messages": [...], "tools": [...]} or just the messages array.
Status load_conversation(const ojson& j, const std::string& name, ojson& messages, ojson& tools) {
  const ojson* m = &j;
  if (j.is_object()) {
    if (!j.contains("messages")) return make_error("%s: no \"messages\"", name.c_str());
    m = &j["messages"];
    if (j.contains("tools")) tools = j["tools"];
  }
  if (!m->is_array()) return make_error("%s: \"messages\" must be an array", name.c_str());
  for (size_t i = 0; i < m->size(); ++i) {
    const ojson& msg = (*m)[i];
    if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string())
      return make_error("%s: message %zu needs a \"role\" string", name.c_str(), i);
  }
  if (!tools.is_null() && !tools.is_array()) return make_error("%s: \"tools\" must be an array", name.c_str());
  messages = *m;
  return {};
}

ojson assistant_message(const ChatReply& r) {
  ojson m = {{"role", "assistant"}, {"content", r.content}};
  if (!r.tool_calls.empty()) {
    ojson calls = ojson::array();
    for (size_t i = 0; i < r.tool_calls.size(); ++i)
      calls.push_back({{"id", "call_" + std::to_string(i)},
                       {"type", "function"},
                       {"function", {{"name", r.tool_calls[i].name}, {"arguments", r.tool_calls[i].arguments}}}});
    m["tool_calls"] = calls;
    if (!r.reasoning.empty()) m["reasoning_content"] = r.reasoning;
  }
  return m;
}

ojson reply_json(const ChatReply& r) {
  ojson calls = ojson::array();
  for (const auto& c : r.tool_calls)
    calls.push_back({{"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments_json()}}}});
  return {{"reasoning_content", r.reasoning},
          {"content", r.content},
          {"tool_calls", calls},
          {"finish_reason", r.finish_reason},
          {"warnings", r.warnings},
          {"usage", {{"prompt_tokens", r.prompt_tokens}, {"cached_tokens", r.cached_tokens},
                     {"completion_tokens", r.completion_tokens}}}};
}

bool read_line(const char* prompt, std::string& line) {
#ifdef G4_HAVE_READLINE
  if (isatty(STDIN_FILENO)) {
    char* l = readline(prompt);
    if (!l) return false;
    line = l;
    if (!line.empty()) add_history(l);
    free(l);
    return true;
  }
#endif
  std::fputs(prompt, stdout);
  std::fflush(stdout);
  return bool(std::getline(std::cin, line));
}

}  // namespace

int cmd_chat(int argc, char** argv) {
  auto opts = model_options();
  for (auto& o : sampling_options()) opts.push_back(o);
  opts.insert(opts.end(), {
      {"system", "", "TEXT", "system prompt", ""},
      {"think", "", "", "let the model think before it answers (thinking mode)", ""},
      {"tools", "", "FILE", "JSON array of tool declarations (OpenAI function format)", ""},
      {"json", "", "", "non-interactive: print the reply as JSON (reasoning, content, tool calls, usage)", ""},
      {"n-predict", "n", "N", "most tokens per reply", "2048"},
      {"ctx-size", "c", "N", "context size in tokens", "8192"},
      {"chunk", "", "N", "prefill chunk size in tokens", "512"},
  });
  Args args("chat",
            "Chat with the model in the terminal. With a conversation on standard input\n"
            "({\"messages\": [...], \"tools\": [...]} or a messages array), print the reply and exit.",
            opts);
  if (Status s = args.parse(argc, argv); !s) return fail(s.error());
  if (args.help_requested()) return print_usage(args);
  auto threads = args.integer("threads", 0, 1024);
  auto n = args.integer("n-predict", 1, 1 << 24);
  auto ctx = args.integer("ctx-size", 16, 1 << 30);
  auto chunk = args.integer("chunk", 1, 1 << 16);
  auto sampling = sampling_params(args);
  if (const Error* e = first_error(threads, n, ctx, chunk, sampling)) return fail(*e);

  ojson tools;
  if (args.has("tools")) {
    auto t = read_json_file(args.str("tools"));
    if (!t) return fail(t.error());
    if (!t->is_array()) return fail(Error{args.str("tools") + ": tool declarations must be a JSON array"});
    tools = *t;
  }

  auto loaded = load_model(args.str("model"), *threads, args.str("quant"));
  if (!loaded) return fail(loaded.error());
  if (Status s = use_kv_type(args, *loaded->model); !s) return fail(s.error());
  Loaded& m = loaded.value();
  if (!m.tokenizer) return fail(Error{args.str("model") + ": the model ships no tokenizer, so it cannot chat"});
  const ModelFiles& files = m.model->files();
  auto tmpl = model_chat_template(files);
  if (!tmpl) return fail(tmpl.error());
  const std::string source = tmpl->name();
  auto session = ChatSession::create(*m.model, *m.tokenizer, *tmpl, *ctx, *chunk);
  if (!session) return fail(session.error());

  ChatRequest req;
  req.tools = tools;
  req.thinking = args.has("think");
  req.max_new_tokens = *n;
  req.sampling = *sampling;
  auto base_messages = [&] {
    ojson msgs = ojson::array();
    if (args.has("system")) msgs.push_back({{"role", "system"}, {"content", args.str("system")}});
    return msgs;
  };

  // Non-interactive: a conversation on standard input, one reply out.
  if (!isatty(STDIN_FILENO)) {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    ojson j = ojson::parse(text, nullptr, false);
    if (j.is_discarded()) return fail(Error{"chat: standard input is not a JSON conversation"});
    ojson messages, file_tools;
    if (Status s = load_conversation(j, "standard input", messages, file_tools); !s) return fail(s.error());
    if (!file_tools.is_null()) req.tools = file_tools;
    req.messages = base_messages();
    for (auto& msg : messages) req.messages.push_back(msg);
    const bool as_json = args.has("json");
    auto reply = (*session)->respond(req, [&](const ResponseEvent& e) {
      if (!as_json && e.kind == ResponseEvent::Kind::content_delta) {
        std::fputs(e.text.c_str(), stdout);
        std::fflush(stdout);
      }
    });
    if (!reply) return fail(reply.error());
    if (as_json) {
      std::printf("%s\n", reply_json(*reply).dump(2, ' ', false, ojson::error_handler_t::replace).c_str());
    } else {
      for (const auto& c : reply->tool_calls) std::printf("\n[tool call] %s %s", c.name.c_str(), c.arguments_json().c_str());
      std::printf("\n");
    }
    return 0;
  }

  const bool color = isatty(STDOUT_FILENO);
  const char* dim = color ? "\x1b[2m" : "";
  const char* bold = color ? "\x1b[1m" : "";
  const char* reset = color ? "\x1b[0m" : "";
  std::printf("g4 chat: %s, %s; thinking %s. /help for commands.\n", files.path.c_str(), source.c_str(),
              req.thinking ? "on" : "off");
  ojson messages = base_messages();
  std::string line;
  bool pending_tool = false;
  while (true) {
    if (!pending_tool) {
      if (!read_line("> ", line)) break;
      if (line.empty()) continue;
      if (line[0] == '/') {
        std::istringstream cmd(line);
        std::string word, arg;
        cmd >> word;
        std::getline(cmd >> std::ws, arg);
        if (word == "/quit" || word == "/exit") break;
        if (word == "/help") {
          std::fputs(kChatHelp, stdout);
        } else if (word == "/reset") {
          messages = base_messages();
          (*session)->reset();
          std::printf("(conversation cleared)\n");
        } else if (word == "/think" && (arg == "on" || arg == "off")) {
          req.thinking = arg == "on";
          std::printf("(thinking %s)\n", arg.c_str());
        } else if (word == "/save" && !arg.empty()) {
          std::ofstream f(arg);
          f << ojson({{"messages", messages}, {"tools", req.tools}}).dump(2) << "\n";
          std::printf(f ? "(saved to %s)\n" : "(could not write %s)\n", arg.c_str());
        } else if (word == "/load" && !arg.empty()) {
          auto j = read_json_file(arg);
          ojson msgs, t;
          if (!j.ok()) {
            std::printf("(%s)\n", j.error().message.c_str());
          } else if (Status s = load_conversation(*j, arg, msgs, t); !s) {
            std::printf("(%s)\n", s.error().message.c_str());
          } else {
            messages = msgs;
            if (!t.is_null()) req.tools = t;
            std::printf("(loaded %zu messages)\n", messages.size());
          }
        } else if (word == "/tool" && !arg.empty()) {
          messages.push_back({{"role", "tool"}, {"content", arg}});
          pending_tool = true;
        } else {
          std::printf("(unknown command)\n%s", kChatHelp);
        }
        if (!pending_tool) continue;
      } else {
        messages.push_back({{"role", "user"}, {"content", line}});
      }
    }
    pending_tool = false;
    req.messages = messages;
    bool in_reasoning = false;
    auto reply = (*session)->respond(req, [&](const ResponseEvent& e) {
      if (e.kind == ResponseEvent::Kind::reasoning_delta) {
        if (!in_reasoning) std::printf("%s", dim);
        in_reasoning = true;
        std::fputs(e.text.c_str(), stdout);
      } else {
        if (in_reasoning) std::printf("%s\n", reset);
        in_reasoning = false;
        if (e.kind == ResponseEvent::Kind::content_delta) std::fputs(e.text.c_str(), stdout);
        if (e.kind == ResponseEvent::Kind::tool_call)
          std::printf("\n%s[tool call]%s %s %s", bold, reset, e.tool_call.name.c_str(),
                      e.tool_call.arguments_json().c_str());
      }
      std::fflush(stdout);
    });
    if (in_reasoning) std::printf("%s", reset);
    std::printf("\n");
    if (!reply) {
      std::printf("(error: %s)\n", reply.error().message.c_str());
      messages.erase(messages.end() - 1);
      continue;
    }
    messages.push_back(assistant_message(*reply));
    if (reply->finish_reason == "length") std::printf("(reply cut at %d tokens)\n", req.max_new_tokens);
    if (!reply->tool_calls.empty()) std::printf("(answer with /tool RESULT)\n");
  }
  return 0;
}

}  // namespace g4::cli
