// Requests of the OpenAI-compatible API, read from their JSON bodies and checked: every field of the
// wrong type or out of range is an ApiError naming it (HTTP 400), unknown fields are ignored, as
// OpenAI's and vLLM's servers do. Nothing here touches the model.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/sampler.h"

namespace g4::serve {

struct ApiError {
  int status = 400;
  std::string type = "invalid_request_error";
  std::string message;
  std::string param;  // the offending field, if one
  std::string code;
  nlohmann::ordered_json body() const;  // {"error": {message, type, param, code}}
};

// What chat and text completions share.
struct GenerationParams {
  std::string model;
  SamplingParams sampling;
  int max_tokens = -1;  // -1: until the context is full
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  int top_logprobs = -1;       // -1: no logprobs
  int n = 1;                   // choices; choice i samples with seed + i
};

enum class ToolChoice { kAuto, kNone, kRequired, kNamed };

struct ChatRequestBody {
  GenerationParams gen;
  nlohmann::ordered_json messages;  // as given, checked for role and content
  nlohmann::ordered_json tools;     // null, or the tools after tool_choice (none drops them)
  ToolChoice tool_choice = ToolChoice::kAuto;  // required/named: the reply starts with a call
  std::string tool_name;                       // kNamed: the function, one of `tools`
  bool parallel_tool_calls = true;             // false: the reply ends after its first call
  bool thinking = false;
  int thinking_budget = -1;                    // -1: unlimited; else tokens of reasoning before it is closed
};

struct CompletionRequestBody {
  GenerationParams gen;
  std::string prompt;              // text, or
  std::vector<int32_t> prompt_ids; // token ids (prompt given as an array of integers)
  bool echo = false;
};

template <class T>
using Parsed = std::variant<T, ApiError>;

// The fields chat and text completions share (sampling, max_tokens, n, stream, stop, logit_bias).
std::optional<ApiError> parse_generation_params(const nlohmann::json& body, GenerationParams& g);
Parsed<ChatRequestBody> parse_chat_request(const nlohmann::json& body);
// A required tool choice needs tools; a named one must name one of them.
std::optional<ApiError> check_tool_choice(const ChatRequestBody& r);
Parsed<CompletionRequestBody> parse_completion_request(const nlohmann::json& body);
// Parses a request body; malformed JSON or a body that is not an object is an ApiError.
Parsed<nlohmann::json> parse_body(const std::string& text);

}  // namespace g4::serve
