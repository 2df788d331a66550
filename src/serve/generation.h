// One API request's generation: `n` choices of one prompt run by the engine, each choice's tokens
// turned into text, reasoning and tool calls by its own OutputAssembler. The HTTP handlers (OpenAI,
// Anthropic) start one, pull its updates on their thread and format them; nothing here knows JSON
// shapes of an API.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "serve/api_request.h"
#include "serve/engine.h"
#include "serve/output.h"

namespace g4::serve {

struct GenerationSpec {
  std::vector<int32_t> prompt;
  int snapshot_at = 0;  // see GenRequest
  GenerationParams gen;
  int n = 1;
  bool chat = true;  // parse reasoning and tool calls (chat), or plain text (completions)
  ResponseParserOptions parser;
  OutputConstraint constraint;
  bool single_tool_call = false;  // a choice ends after its first complete tool call
  std::string context_param = "messages";  // the field an overflow error names when max_tokens was not given
};

struct ChoiceUpdate {
  int choice = 0;
  OutputDelta delta;
  bool ended = false;  // the choice is over; delta holds its last text
};

class Generation {
 public:
  // Checks that prompt + max_tokens fit the context and queues the choices; an ApiError (400 for a
  // context overflow, 503 when the queue is full or the server is stopping) when it cannot.
  static Parsed<std::shared_ptr<Generation>> start(Engine& engine, const ModelConfig& config, const Tokenizer& tok,
                                                   GenerationSpec spec);
  ~Generation();

  // The next update, waiting for it; false once every choice ended and was reported.
  bool next(ChoiceUpdate* u);
  // Like next(), but gives up after `ms` milliseconds (*timed_out set).
  bool next_for(ChoiceUpdate* u, int ms, bool* timed_out);
  // Drops every choice (the client went away); the engine frees their slots within a step.
  void cancel();
  // Every choice ended and its end was returned by next().
  bool delivered();

  int n() const { return int(choices_.size()); }
  const OutputAssembler& output(int i) const { return *choices_[size_t(i)].out; }
  // OpenAI's finish reason of an ended choice: "stop", "length" or "tool_calls".
  std::string finish_reason(int i) const;
  const Status& status(int i) const { return choices_[size_t(i)].status; }
  // The first failed choice's status (ok if none failed).
  Status failure() const;
  const GenStats& stats(int i) const { return choices_[size_t(i)].stats; }
  int prompt_tokens() const { return prompt_tokens_; }
  int cached_tokens() const;      // of the first choice (the others may reuse it too)
  int completion_tokens() const;  // all choices

 private:
  struct Event {
    int choice = 0;
    bool end = false;
    TokenEvent token;
    Status status;
    std::string reason;
    GenStats stats;
  };
  struct Choice {
    std::unique_ptr<OutputAssembler> out;
    std::shared_ptr<std::atomic<bool>> cancelled;
    bool ended = false, cut = false;  // cut: ended by a stop string or a finished tool call
    Status status;
    std::string reason;
    GenStats stats;
  };
  Generation() = default;
  bool take(std::unique_lock<std::mutex>& lk, ChoiceUpdate* u);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  std::vector<Choice> choices_;
  int reported_ = 0;  // choices whose end was returned by next()
  bool single_tool_call_ = false;
  int prompt_tokens_ = 0;
};

}  // namespace g4::serve

namespace g4::serve {

// What a chat request asks of the output's start: its tool choice (required: one of the tools'
// calls, "<|tool_call>call:NAME{", the whole "...{}<tool_call|>" for a function without
// parameters; named: that one) and its thinking budget, with the thinking
// channel ("<|channel>" ... "<channel|>") as the block that may come first when thinking is on.
OutputConstraint chat_constraint(const ChatRequestBody& r, const Tokenizer& tok);

}  // namespace g4::serve
