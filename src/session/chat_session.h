// One conversation with the model: renders the messages with the model's chat template, reuses the
// KV cache of the prefix the previous turn already computed, generates, and splits the output into
// reasoning, content and tool calls as it streams. Used by `g4 chat`; the server builds on it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/gemma4.h"
#include "runtime/cached_sequence.h"
#include "runtime/sampler.h"
#include "text/jinja/template.h"
#include "text/response_parser.h"
#include "text/tokenizer.h"

namespace g4 {

struct ChatRequest {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null or an array of tool declarations
  bool thinking = false;         // the template's enable_thinking
  int max_new_tokens = 1024;
  SamplingParams sampling;
};

struct ChatReply {
  std::string reasoning, content;
  std::vector<ToolCall> tool_calls;
  std::vector<std::string> warnings;
  std::string finish_reason;  // "stop", "length" or "tool_calls"
  int prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
  std::vector<int32_t> output_ids;
};

// Renders a conversation as transformers' apply_chat_template does, with the tokenizer's BOS/EOS
// pieces and enable_thinking.
Result<std::string> render_conversation(const jinja::Template& tmpl, const nlohmann::ordered_json& messages,
                                        const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                        bool thinking, const Tokenizer& tokenizer);

// A conversation rendered for generation: the prompt's text and ids (the template writes the one
// BOS), how many of them are the history (the conversation without the generation prompt, which
// a later turn shares; 0 if it is not a token prefix), and how the reply is to be parsed.
struct ChatPrompt {
  std::string text;
  std::vector<int32_t> ids;
  int history_len = 0;
  ResponseParserOptions parser;
};
Result<ChatPrompt> prepare_chat_prompt(const jinja::Template& tmpl, const nlohmann::ordered_json& messages,
                                       const nlohmann::ordered_json& tools, bool thinking, const Tokenizer& tokenizer);

// The template a model uses: its own (chat_template.jinja, tokenizer_config.json, GGUF), else the
// built-in official Gemma 4 template.
Result<jinja::Template> model_chat_template(const ModelFiles& files);

class ChatSession {
 public:
  // `tmpl` renders the prompts; the session keeps references to the model, tokenizer and template.
  static Result<std::unique_ptr<ChatSession>> create(Gemma4Model& model, const Tokenizer& tokenizer,
                                                     const jinja::Template& tmpl, int context, int chunk);

  // The prompt text for `req` (what the template renders with add_generation_prompt).
  Result<std::string> render(const ChatRequest& req) const;

  // Runs one turn; `on_event` sees reasoning/content deltas and tool calls as they are parsed.
  Result<ChatReply> respond(const ChatRequest& req, const std::function<void(const ResponseEvent&)>& on_event);

  // Forgets the cached prefix.
  void reset();

 private:
  ChatSession(Gemma4Model& m, const Tokenizer& t, const jinja::Template& tmpl)
      : model_(m), tok_(t), tmpl_(tmpl) {}
  Gemma4Model& model_;
  const Tokenizer& tok_;
  const jinja::Template& tmpl_;
  // The cache with the tokens it holds; its snapshot is kept at the end of the last prompt's
  // history, before the generation prompt and the reply: the next turn renders that part again
  // unchanged but the reply differently (no empty thought channel, no thinking), and the sliding
  // rings cannot roll back over a long reply.
  std::unique_ptr<CachedSequence> seq_;
  int chunk_ = 512;
};

}  // namespace g4
