#include "serve/output.h"

namespace g4::serve {

using nlohmann::ordered_json;

OutputAssembler::OutputAssembler(const Tokenizer& tok, std::vector<std::string> stops, bool chat,
                                 ResponseParserOptions popt, int top_logprobs)
    : tok_(tok), dec_(tok), stop_(std::move(stops)), chat_(chat), parser_(popt), top_logprobs_(top_logprobs) {}

ordered_json OutputAssembler::logprob_entry(int32_t id, float lp) const {
  const std::string text = tok_.decode({id});
  ordered_json bytes = ordered_json::array();
  for (unsigned char c : text) bytes.push_back(int(c));
  // The token's text as JSON can carry it only as valid UTF-8; partial characters become U+FFFD.
  StreamDecoder d(tok_);
  std::string shown = d.push(id) + d.flush();
  return ordered_json{{"token", shown}, {"logprob", lp}, {"bytes", bytes}};
}

void OutputAssembler::apply(const std::vector<ResponseEvent>& events, OutputDelta& d) {
  for (const auto& e : events) {
    switch (e.kind) {
      case ResponseEvent::Kind::reasoning_delta: d.reasoning += e.text, reasoning_ += e.text; break;
      case ResponseEvent::Kind::content_delta: d.content += e.text, content_ += e.text; break;
      case ResponseEvent::Kind::tool_call: d.tool_calls.push_back(e.tool_call), calls_.push_back(e.tool_call); break;
      case ResponseEvent::Kind::warning: warnings_.push_back(e.text); break;
    }
  }
}

void OutputAssembler::feed(const std::string& text, OutputDelta& d) {
  if (text.empty()) return;
  if (chat_) return apply(parser_.push(text), d);
  d.content += text;
  content_ += text;
}

OutputDelta OutputAssembler::push(const TokenEvent& ev, bool* stopped) {
  OutputDelta d;
  if (stopped) *stopped = false;
  if (stop_.stopped() || finished_) return d;
  ++tokens_;
  if (top_logprobs_ >= 0) {
    ordered_json e = logprob_entry(ev.id, ev.logprob);
    ordered_json top = ordered_json::array();
    for (const auto& t : ev.top) top.push_back(logprob_entry(t.id, t.logprob));
    e["top_logprobs"] = top;
    d.logprobs.push_back(e);
    all_logprobs_.push_back(e);
  }
  // Text completions leave out special tokens (the end-of-turn token, ...); chat parses them.
  const std::string piece = !chat_ && tok_.is_special(ev.id) ? std::string() : dec_.push(ev.id);
  bool hit = false;
  feed(stop_.push(piece, &hit), d);
  if (hit && stopped) *stopped = true;
  return d;
}

OutputDelta OutputAssembler::finish() {
  OutputDelta d;
  if (finished_) return d;
  finished_ = true;
  if (!stop_.stopped()) {
    bool hit = false;
    feed(stop_.push(dec_.flush(), &hit), d);
    feed(stop_.flush(), d);
  }
  if (chat_) apply(parser_.finish(), d);
  return d;
}

}  // namespace g4::serve
