// Requests of Anthropic's Messages API (POST /v1/messages, /v1/messages/count_tokens), read and
// checked like the OpenAI ones, and turned into the same chat request the template renders:
// `system` becomes a system message, tool_use blocks assistant tool calls (with the turn's thinking
// kept as its reasoning, as the template re-inserts it before calls), tool_result blocks tool
// messages, `tools` functions, `tool_choice` auto/any/tool/none the same choices, `thinking` the
// thinking switch and its token budget. OpenAI's extra sampling fields (seed, min_p, penalties,
// logit_bias) are accepted as extensions.
#pragma once

#include <nlohmann/json.hpp>

#include "serve/api_request.h"

namespace g4::serve {

// `count_only`: for count_tokens (max_tokens not required, sampling ignored).
Parsed<ChatRequestBody> parse_messages_request(const nlohmann::json& body, bool count_only = false);

// Anthropic's error body, {"type": "error", "error": {"type", "message"}}, and the status it goes
// with (an overloaded server is 529, as Anthropic's own).
nlohmann::ordered_json anthropic_error_body(const ApiError& e);
int anthropic_status(const ApiError& e);

}  // namespace g4::serve
