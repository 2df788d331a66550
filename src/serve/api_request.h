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
};

struct ChatRequestBody {
  GenerationParams gen;
  nlohmann::ordered_json messages;  // as given, checked for role and content
  nlohmann::ordered_json tools;     // null, or the tools after tool_choice (none drops them)
  bool thinking = false;
};

struct CompletionRequestBody {
  GenerationParams gen;
  std::string prompt;              // text, or
  std::vector<int32_t> prompt_ids; // token ids (prompt given as an array of integers)
  bool echo = false;
};

template <class T>
using Parsed = std::variant<T, ApiError>;

Parsed<ChatRequestBody> parse_chat_request(const nlohmann::json& body);
Parsed<CompletionRequestBody> parse_completion_request(const nlohmann::json& body);
// Parses a request body; malformed JSON or a body that is not an object is an ApiError.
Parsed<nlohmann::json> parse_body(const std::string& text);

}  // namespace g4::serve
