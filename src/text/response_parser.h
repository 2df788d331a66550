// Streaming parser of Gemma 4's generated text: splits it into reasoning (the thinking channel),
// content and tool calls as the text arrives, and the inverse, format_tool_call(), which writes a
// call exactly as the chat template does (so a parsed call re-rendered into the history gives the
// text the model produced).
//
// Input is the detokenized stream with special tokens kept as their literal pieces ("<|channel>",
// "<|\"|>", ...), cut anywhere (even inside a marker or a UTF-8 character). The grammar:
//
//   output   := ( content | channel | call )* [ end ]
//   channel  := "<|channel>" [ "thought\n" ] reasoning "<channel|>"
//   call     := "<|tool_call>" "call:" NAME "{" [ pair ( "," pair )* ] "}" "<tool_call|>"
//   pair     := KEY ":" value                      KEY bare (as the template writes it) or <|"|>-quoted
//   value    := "<|\"|>" any text but <|"|> "<|\"|>" | number | true | false | null | None
//             | "{" [ pair ( "," pair )* ] "}" | "[" [ value ( "," value )* ] "]"
//   end      := "<turn|>" | "<eos>" | "<|tool_response>"
//
// Whitespace between the tokens of a call is accepted; numbers follow JSON's syntax. Everything the
// parser consumes is accounted for: concatenating, in order, the text of the reasoning and content
// deltas and the raw text of the tool calls gives the input with exactly these removed: the
// "<|channel>" that opens a channel and its "thought\n" header, the "<channel|>" that closes it, and
// the first end marker. Anything else, including malformed calls and markers with no meaning where
// they stand, is delivered verbatim (as content, or as reasoning inside a channel) with a warning.
//
// Streaming: a delta is emitted as soon as it cannot be the start of a marker; the parser holds back
// only a tail that is a proper prefix of a marker, or an unfinished UTF-8 character (so that deltas
// are whole characters when the input is valid UTF-8). A tool call is buffered until it is complete.
// Cutting the input differently changes only how the deltas are split, never the events otherwise.
//
// Decisions where the format is ambiguous:
//  * Inside a <|"|> string only <|"|> is a marker: "<tool_call|>", "<|channel>", even "<turn|>" are
//    string text (the template writes strings verbatim). In generation the caller stops on an end
//    marker, so a call cut there is reported as unterminated by finish().
//  * Outside strings, "<|tool_call>" or "<|channel>" inside an unfinished call makes that call
//    malformed (delivered as content) and starts the new call or channel.
//  * "<|tool_call>" inside the thinking channel ends the channel (as vLLM does), with a warning.
//  * A channel not named "thought" is still reasoning; its name line is then kept in the text.
//  * With Thinking::disabled a channel in the output is still reasoning (it must never leak into
//    content) but is reported with a warning.
//  * Calls made although no tools were offered are delivered as content with a warning.
//  * Text after the end marker is delivered verbatim as content, with a warning.
//  * Reasoning and content are not trimmed (the template trims when it renders history).
//  * null is written "None" by format_tool_call, as the template (Python Jinja) prints it; both
//    "null" and "None" parse as null, "True"/"False" as booleans.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace g4 {

struct ToolCall {
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();  // keys in the model's order
  std::string raw;  // the call exactly as generated, from "<|tool_call>" to "<tool_call|>"

  // The arguments as a JSON text (OpenAI's function.arguments). Invalid UTF-8 becomes U+FFFD.
  std::string arguments_json() const;
};

struct ResponseEvent {
  enum class Kind { reasoning_delta, content_delta, tool_call, warning };
  Kind kind = Kind::content_delta;
  std::string text;    // the delta, or the warning's message
  ToolCall tool_call;  // kind == tool_call
};

struct ResponseParserOptions {
  enum class Thinking {
    enabled,   // the prompt ends with "<|turn>model\n": the output may open a thinking channel
    disabled,  // the prompt ends with the empty channel "<|channel>thought\n<channel|>"
    open,      // the prompt ends inside the channel, after "<|channel>thought\n": output starts as reasoning
  };
  Thinking thinking = Thinking::enabled;
  bool tools_offered = true;
};

class ResponseParser {
 public:
  using Event = ResponseEvent;
  using Options = ResponseParserOptions;

  explicit ResponseParser(Options options = {});

  // Feeds the next piece of generated text; returns the events it completes (possibly none).
  std::vector<Event> push(std::string_view text_piece);
  // End of generation: delivers what was held back and reports anything left unfinished.
  // Text pushed after finish() is delivered as content with a warning.
  std::vector<Event> finish();

  // True once an end marker ("<turn|>", "<eos>", "<|tool_response>") was seen or finish() called.
  bool ended() const { return state_ == State::ended; }

 private:
  enum class State { content, header, reasoning, tool_call, ended };

  void step(bool final);
  void emit_text(std::string_view text);  // as a delta of the current state's kind
  void emit_delta(Event::Kind kind, std::string_view text);
  void warn(std::string message);
  void start_call();
  void finish_call();
  void abandon_call(const std::string& why);
  void on_channel_open();

  Options options_;
  State state_;
  std::string pending_;   // text received but not yet consumed
  std::string call_buf_;  // raw text of the tool call being read
  bool call_in_string_ = false;
  bool after_end_warned_ = false;
  std::vector<Event> out_;
};

// The whole output at once (non-streaming responses): the events of push(text) + finish(), gathered.
struct ParsedResponse {
  std::string reasoning;
  std::string content;
  std::vector<ToolCall> tool_calls;
  std::vector<std::string> warnings;
};
ParsedResponse parse_response(std::string_view text, ResponseParserOptions options = {});

// Renders a call as the chat template does: "<|tool_call>call:NAME{k:v,...}<tool_call|>", keys
// sorted like Jinja's dictsort (case-insensitive, stable), strings in <|"|>, numbers as Python
// prints them (ints plain, floats by repr: 1.0, 1e-05, 1e+20), booleans true/false, null None.
// Arguments that are a string are inserted verbatim (as the template does); other non-objects
// give "{}".
std::string format_tool_call(std::string_view name, const nlohmann::ordered_json& arguments);
// The same from OpenAI's JSON text of the arguments; an error if it is not valid JSON.
Result<std::string> format_tool_call_json(std::string_view name, std::string_view arguments_json);
// One value as the template's format_argument(value, escape_keys=False) writes it.
std::string format_tool_argument(const nlohmann::ordered_json& value);

// Parses one complete call ("<|tool_call>call:...<tool_call|>", or the text between the markers).
Result<ToolCall> parse_tool_call(std::string_view raw);

}  // namespace g4
