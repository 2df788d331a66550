// Turns the engine's token events into what the API returns: the text cut at stop sequences, split
// into reasoning, content and tool calls (chat), with per-token log-probabilities when asked.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/engine.h"
#include "serve/stop_matcher.h"
#include "text/response_parser.h"
#include "text/tokenizer.h"

namespace g4::serve {

struct OutputDelta {
  std::string reasoning, content;      // chat: split by the response parser; completions: content only
  std::vector<ToolCall> tool_calls;
  nlohmann::ordered_json logprobs = nlohmann::ordered_json::array();  // OpenAI chat logprob entries
  bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty() && logprobs.empty(); }
};

class OutputAssembler {
 public:
  // chat: parse reasoning and tool calls (parser options as the prompt implies); else raw text.
  OutputAssembler(const Tokenizer& tok, std::vector<std::string> stops, bool chat, ResponseParserOptions popt,
                  int top_logprobs);

  // One generated token. Sets *stopped when a stop sequence ended the output (later tokens are ignored).
  OutputDelta push(const TokenEvent& ev, bool* stopped);
  // The end of the generation: what was held back.
  OutputDelta finish();

  // Everything so far.
  const std::string& reasoning() const { return reasoning_; }
  const std::string& content() const { return content_; }
  const std::vector<ToolCall>& tool_calls() const { return calls_; }
  const nlohmann::ordered_json& logprobs() const { return all_logprobs_; }
  int tokens() const { return tokens_; }  // tokens that reached the output (up to a stop sequence)
  bool stopped() const { return stop_.stopped(); }
  const std::string& stop_sequence() const { return stop_.matched(); }  // the one that stopped it
  std::vector<std::string> warnings() const { return warnings_; }

 private:
  void feed(const std::string& text, OutputDelta& d);
  void apply(const std::vector<ResponseEvent>& events, OutputDelta& d);
  nlohmann::ordered_json logprob_entry(int32_t id, float lp) const;

  const Tokenizer& tok_;
  StreamDecoder dec_;
  StopMatcher stop_;
  bool chat_;
  ResponseParser parser_;
  int top_logprobs_;
  std::string reasoning_, content_;
  std::vector<ToolCall> calls_;
  std::vector<std::string> warnings_;
  nlohmann::ordered_json all_logprobs_ = nlohmann::ordered_json::array();
  int tokens_ = 0;
  bool finished_ = false;
};

}  // namespace g4::serve
