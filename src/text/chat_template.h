// Chat prompt rendering: builds the context transformers' apply_chat_template(tokenize=False) gives the
// chat template (messages, tools, documents, add_generation_prompt, the tokenizer's named special tokens
// and extra kwargs such as enable_thinking) and renders it with the Jinja engine.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "text/jinja/template.h"
#include "util/result.h"

namespace g4 {

// The tokenizer's named special tokens (transformers' special_tokens_map); Gemma 4 defaults.
struct ChatSpecialTokens {
  std::string bos_token = "<bos>";
  std::string eos_token = "<eos>";
  std::string unk_token = "<unk>";
  std::string pad_token = "<pad>";
};

// Like apply_chat_template: rejects an empty conversation, drops None-valued message keys, and copies a
// message's reasoning (first non-null of reasoning_content, thinking, reasoning) into `thinking` and
// `reasoning_content`. Returns the template context object.
Result<nlohmann::ordered_json> build_chat_context(const nlohmann::ordered_json& messages,
                                                  const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                                  const nlohmann::ordered_json& extra_kwargs,
                                                  const ChatSpecialTokens& special = {});

// `tools` may be null (no tools); `extra_kwargs` may be null or an object (e.g. {"enable_thinking": true}).
Result<std::string> render_chat(const jinja::Template& tmpl, const nlohmann::ordered_json& messages,
                                const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                const nlohmann::ordered_json& extra_kwargs, const ChatSpecialTokens& special = {});

}  // namespace g4
