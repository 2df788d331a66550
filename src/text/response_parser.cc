#include "text/response_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace g4 {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kChannelOpen = "<|channel>";
constexpr std::string_view kChannelClose = "<channel|>";
constexpr std::string_view kCallOpen = "<|tool_call>";
constexpr std::string_view kCallClose = "<tool_call|>";
constexpr std::string_view kQuote = "<|\"|>";
constexpr std::string_view kTurnEnd = "<turn|>";
constexpr std::string_view kEos = "<eos>";
constexpr std::string_view kToolResponse = "<|tool_response>";
constexpr std::string_view kThoughtHeader = "thought\n";

enum class Marker { channel_open, channel_close, call_open, call_close, quote, turn_end, eos, tool_response };

struct MarkerText {
  Marker marker;
  std::string_view text;
};

// Every marker starts with '<' and holds no other '<', so occurrences never overlap and the only
// tail that can be the start of a marker is the one from the last '<'.
constexpr MarkerText kMarkers[] = {
    {Marker::channel_open, kChannelOpen}, {Marker::channel_close, kChannelClose},
    {Marker::call_open, kCallOpen},       {Marker::call_close, kCallClose},
    {Marker::quote, kQuote},              {Marker::turn_end, kTurnEnd},
    {Marker::eos, kEos},                  {Marker::tool_response, kToolResponse},
};

bool is_end(Marker m) { return m == Marker::turn_end || m == Marker::eos || m == Marker::tool_response; }

struct Found {
  enum { none, partial, full } kind = none;
  size_t pos = 0;
  MarkerText marker{};
};

// The first marker in s, or a tail of s that is a proper prefix of a marker.
Found find_marker(std::string_view s) {
  Found f;
  for (size_t p = s.find('<'); p != std::string_view::npos; p = s.find('<', p + 1)) {
    std::string_view rest = s.substr(p);
    for (const MarkerText& m : kMarkers) {
      if (rest.starts_with(m.text)) {
        f.kind = Found::full;
        f.pos = p;
        f.marker = m;
        return f;
      }
    }
    for (const MarkerText& m : kMarkers) {
      if (rest.size() < m.text.size() && m.text.starts_with(rest)) {
        f.kind = Found::partial;
        f.pos = p;
        return f;
      }
    }
  }
  return f;
}

// Number of bytes at the end of s that start a UTF-8 character not yet complete.
size_t unfinished_utf8_tail(std::string_view s) {
  size_t n = s.size();
  for (size_t i = 1; i <= 3 && i <= n; ++i) {
    auto c = static_cast<unsigned char>(s[n - i]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    size_t need = c >= 0xF8 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    return need > i ? i : 0;
  }
  return 0;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A number as JSON writes it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool parse_number(std::string_view t, ojson& out) {
  size_t i = 0, n = t.size();
  auto digits = [&] {
    size_t s = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
    return i - s;
  };
  if (i < n && t[i] == '-') ++i;
  size_t int_start = i;
  size_t nd = digits();
  if (nd == 0 || (nd > 1 && t[int_start] == '0')) return false;
  bool is_float = false;
  if (i < n && t[i] == '.') {
    ++i;
    is_float = true;
    if (digits() == 0) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    is_float = true;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  if (i != n) return false;
  const char* b = t.data();
  const char* e = t.data() + n;
  if (!is_float) {
    int64_t v = 0;
    auto r = std::from_chars(b, e, v);
    if (r.ec == std::errc() && r.ptr == e) {
      out = v;
      return true;
    }
    if (t[0] != '-') {
      uint64_t u = 0;
      r = std::from_chars(b, e, u);
      if (r.ec == std::errc() && r.ptr == e) {
        out = u;
        return true;
      }
    }
  }
  double d = 0;
  auto r = std::from_chars(b, e, d);
  if (r.ec != std::errc() || r.ptr != e || !std::isfinite(d)) return false;
  out = d;
  return true;
}

// Recursive-descent parser of the text between "<|tool_call>" and "<tool_call|>".
class CallParser {
 public:
  explicit CallParser(std::string_view s) : s_(s) {}

  Result<ToolCall> parse() {
    ToolCall call;
    if (!parse_call(call.name, call.arguments)) return Error{err_};
    return call;
  }

 private:
  static constexpr int kMaxDepth = 128;

  bool fail(const char* what) {
    if (err_.empty()) err_ = std::string(what) + " at offset " + std::to_string(i_) + " of the call";
    return false;
  }
  void ws() {
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
  }
  bool at(std::string_view t) const { return s_.substr(i_).starts_with(t); }
  bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }

  bool parse_call(std::string& name, ojson& args) {
    ws();
    if (!at("call:")) return fail("expected 'call:'");
    i_ += 5;
    size_t brace = s_.find('{', i_);
    if (brace == std::string_view::npos) return fail("expected '{' after the function name");
    std::string_view nm = trim(s_.substr(i_, brace - i_));
    if (nm.empty()) return fail("empty function name");
    for (char c : nm) {
      if (static_cast<unsigned char>(c) <= 0x20 || std::string_view("{}[]<>,\"'").find(c) != std::string_view::npos) {
        return fail("invalid character in the function name");
      }
    }
    name = std::string(nm);
    i_ = brace;
    if (!parse_object(args, 0)) return false;
    ws();
    if (i_ != s_.size()) return fail("unexpected text after the arguments");
    return true;
  }

  bool parse_string(std::string& out) {  // at kQuote
    i_ += kQuote.size();
    size_t end = s_.find(kQuote, i_);
    if (end == std::string_view::npos) return fail("unterminated <|\"|> string");
    out = std::string(s_.substr(i_, end - i_));
    i_ = end + kQuote.size();
    return true;
  }

  bool parse_key(std::string& key) {
    ws();
    if (at(kQuote)) return parse_string(key);
    size_t start = i_;
    while (i_ < s_.size() && std::string_view(":,{}[]").find(s_[i_]) == std::string_view::npos && !at(kQuote)) ++i_;
    std::string_view k = trim(s_.substr(start, i_ - start));
    if (k.empty()) {
      i_ = start;
      return fail("expected a key");
    }
    key = std::string(k);
    return true;
  }

  bool parse_object(ojson& out, int depth) {  // at '{'
    if (depth >= kMaxDepth) return fail("arguments nested too deeply");
    ++i_;
    out = ojson::object();
    ws();
    if (at('}')) {
      ++i_;
      return true;
    }
    for (;;) {
      std::string key;
      if (!parse_key(key)) return false;
      ws();
      if (!at(':')) return fail("expected ':' after a key");
      ++i_;
      ojson v;
      if (!parse_value(v, depth + 1)) return false;
      out[key] = std::move(v);
      ws();
      if (at(',')) {
        ++i_;
        continue;
      }
      if (at('}')) {
        ++i_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool parse_array(ojson& out, int depth) {  // at '['
    if (depth >= kMaxDepth) return fail("arguments nested too deeply");
    ++i_;
    out = ojson::array();
    ws();
    if (at(']')) {
      ++i_;
      return true;
    }
    for (;;) {
      ojson v;
      if (!parse_value(v, depth + 1)) return false;
      out.push_back(std::move(v));
      ws();
      if (at(',')) {
        ++i_;
        continue;
      }
      if (at(']')) {
        ++i_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool parse_value(ojson& out, int depth) {
    ws();
    if (i_ >= s_.size()) return fail("expected a value");
    if (at(kQuote)) {
      std::string str;
      if (!parse_string(str)) return false;
      out = std::move(str);
      return true;
    }
    if (at('{')) return parse_object(out, depth);
    if (at('[')) return parse_array(out, depth);
    size_t start = i_;
    while (i_ < s_.size() && std::string_view(",}]").find(s_[i_]) == std::string_view::npos) ++i_;
    std::string_view tok = trim(s_.substr(start, i_ - start));
    if (tok == "true" || tok == "True") {
      out = true;
    } else if (tok == "false" || tok == "False") {
      out = false;
    } else if (tok == "null" || tok == "None") {
      out = nullptr;
    } else if (!parse_number(tok, out)) {
      i_ = start;
      return fail(tok.empty() ? "expected a value" : "invalid value (not a string, number, boolean or null)");
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string err_;
};

// Python's repr() of a float: the shortest digits that round-trip, positional for exponents in
// [-4, 16), otherwise d.ddde+XX.
std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, size_t(r.ptr - buf));
  std::string out;
  if (!s.empty() && s[0] == '-') {
    out = "-";
    s.remove_prefix(1);
  }
  size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exp = 0;
  std::string_view es = s.substr(e + 1);
  if (!es.empty() && es[0] == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), exp);
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      size_t int_len = size_t(exp) + 1;
      if (digits.size() < int_len) digits.append(int_len - digits.size(), '0');
      std::string frac = digits.substr(int_len);
      out += digits.substr(0, int_len) + "." + (frac.empty() ? "0" : frac);
    } else {
      out += "0." + std::string(size_t(-exp - 1), '0') + digits;
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    int a = exp < 0 ? -exp : exp;
    out += exp < 0 ? "e-" : "e+";
    if (a < 10) out += "0";
    out += std::to_string(a);
  }
  return out;
}

// The items of an object in Jinja dictsort order: by key, case-insensitively, stable.
std::vector<std::pair<std::string, const ojson*>> dictsort(const ojson& obj) {
  std::vector<std::pair<std::string, const ojson*>> items;
  for (auto it = obj.begin(); it != obj.end(); ++it) items.emplace_back(it.key(), &it.value());
  auto lower = [](const std::string& s) {
    std::string l = s;
    for (char& c : l) {
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    }
    return l;
  };
  std::stable_sort(items.begin(), items.end(),
                   [&](const auto& a, const auto& b) { return lower(a.first) < lower(b.first); });
  return items;
}

void format_value(const ojson& v, std::string& out) {
  switch (v.type()) {
    case ojson::value_t::string:
      out += kQuote;
      out += v.get_ref<const std::string&>();
      out += kQuote;
      break;
    case ojson::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      break;
    case ojson::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, val] : dictsort(v)) {
        if (!first) out += ',';
        first = false;
        out += k;
        out += ':';
        format_value(*val, out);
      }
      out += '}';
      break;
    }
    case ojson::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ',';
        first = false;
        format_value(item, out);
      }
      out += ']';
      break;
    }
    case ojson::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      break;
    case ojson::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      break;
    case ojson::value_t::number_float:
      out += python_float_repr(v.get<double>());
      break;
    case ojson::value_t::null:
    default:
      out += "None";
      break;
  }
}

}  // namespace

std::string ToolCall::arguments_json() const {
  return arguments.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string format_tool_argument(const nlohmann::ordered_json& value) {
  std::string out;
  format_value(value, out);
  return out;
}

std::string format_tool_call(std::string_view name, const nlohmann::ordered_json& arguments) {
  std::string out;
  out += kCallOpen;
  out += "call:";
  out += name;
  out += '{';
  if (arguments.is_object()) {
    bool first = true;
    for (const auto& [k, val] : dictsort(arguments)) {
      if (!first) out += ',';
      first = false;
      out += k;
      out += ':';
      format_value(*val, out);
    }
  } else if (arguments.is_string()) {
    out += arguments.get_ref<const std::string&>();
  }
  out += '}';
  out += kCallClose;
  return out;
}

Result<std::string> format_tool_call_json(std::string_view name, std::string_view arguments_json) {
  ojson args = ojson::parse(arguments_json.begin(), arguments_json.end(), nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) {
    return make_error("tool call arguments for '%.*s' are not valid JSON", int(name.size()), name.data());
  }
  return format_tool_call(name, args);
}

Result<ToolCall> parse_tool_call(std::string_view raw) {
  std::string_view body = raw;
  if (body.size() >= kCallOpen.size() + kCallClose.size() && body.starts_with(kCallOpen) &&
      body.ends_with(kCallClose)) {
    body = body.substr(kCallOpen.size(), body.size() - kCallOpen.size() - kCallClose.size());
  }
  auto r = CallParser(body).parse();
  if (r.ok()) r->raw = std::string(raw);
  return r;
}

ParsedResponse parse_response(std::string_view text, ResponseParserOptions options) {
  ResponseParser parser(options);
  std::vector<ResponseEvent> events = parser.push(text);
  for (ResponseEvent& e : parser.finish()) events.push_back(std::move(e));
  ParsedResponse r;
  for (ResponseEvent& e : events) {
    switch (e.kind) {
      case ResponseEvent::Kind::reasoning_delta: r.reasoning += e.text; break;
      case ResponseEvent::Kind::content_delta: r.content += e.text; break;
      case ResponseEvent::Kind::tool_call: r.tool_calls.push_back(std::move(e.tool_call)); break;
      case ResponseEvent::Kind::warning: r.warnings.push_back(std::move(e.text)); break;
    }
  }
  return r;
}

ResponseParser::ResponseParser(Options options)
    : options_(options), state_(options.thinking == Options::Thinking::open ? State::reasoning : State::content) {}

std::vector<ResponseParser::Event> ResponseParser::push(std::string_view text_piece) {
  pending_.append(text_piece);
  step(false);
  return std::exchange(out_, {});
}

std::vector<ResponseParser::Event> ResponseParser::finish() {
  step(true);
  if (state_ == State::reasoning) {
    warn("the output ended inside the thinking channel (no <channel|>)");
  } else if (state_ == State::tool_call) {
    abandon_call("unterminated tool call (no <tool_call|>)");
  }
  if (state_ != State::ended) {
    state_ = State::ended;
    after_end_warned_ = false;
  }
  return std::exchange(out_, {});
}

void ResponseParser::emit_delta(Event::Kind kind, std::string_view text) {
  if (text.empty()) return;
  if (!out_.empty() && out_.back().kind == kind) {
    out_.back().text.append(text);
    return;
  }
  Event e;
  e.kind = kind;
  e.text = std::string(text);
  out_.push_back(std::move(e));
}

void ResponseParser::emit_text(std::string_view text) {
  emit_delta(state_ == State::reasoning ? Event::Kind::reasoning_delta : Event::Kind::content_delta, text);
}

void ResponseParser::warn(std::string message) {
  Event e;
  e.kind = Event::Kind::warning;
  e.text = std::move(message);
  out_.push_back(std::move(e));
}

void ResponseParser::start_call() {
  state_ = State::tool_call;
  call_buf_ = std::string(kCallOpen);
  call_in_string_ = false;
}

void ResponseParser::abandon_call(const std::string& why) {
  warn("malformed tool call, delivered as content: " + why);
  emit_delta(Event::Kind::content_delta, call_buf_);
  call_buf_.clear();
  call_in_string_ = false;
  state_ = State::content;
}

void ResponseParser::finish_call() {
  auto r = parse_tool_call(call_buf_);
  if (!r.ok()) {
    abandon_call(r.error().message);
    return;
  }
  if (!options_.tools_offered) {
    warn("tool call '" + r->name + "' although no tools were offered; delivered as content");
    emit_delta(Event::Kind::content_delta, call_buf_);
  } else {
    Event e;
    e.kind = Event::Kind::tool_call;
    e.tool_call = std::move(r).value();
    out_.push_back(std::move(e));
  }
  call_buf_.clear();
  state_ = State::content;
}

void ResponseParser::on_channel_open() {
  if (options_.thinking == Options::Thinking::disabled) {
    warn("thinking channel although thinking is disabled; delivered as reasoning");
  }
  state_ = State::header;
}

void ResponseParser::step(bool final) {
  for (;;) {
    switch (state_) {
      case State::ended:
        if (!pending_.empty()) {
          if (!after_end_warned_) {
            warn("text after the end of the output, delivered as content");
            after_end_warned_ = true;
          }
          emit_delta(Event::Kind::content_delta, pending_);
          pending_.clear();
        }
        return;

      case State::header:
        if (pending_.starts_with(kThoughtHeader)) {
          pending_.erase(0, kThoughtHeader.size());
        } else if (!final && kThoughtHeader.starts_with(pending_)) {
          return;  // could still become "thought\n"
        }
        state_ = State::reasoning;
        continue;

      case State::content:
      case State::reasoning: {
        Found f = find_marker(pending_);
        if (f.kind == Found::none || (f.kind == Found::partial && final)) {
          size_t keep = final ? 0 : unfinished_utf8_tail(pending_);
          emit_text(std::string_view(pending_).substr(0, pending_.size() - keep));
          pending_.erase(0, pending_.size() - keep);
          return;
        }
        emit_text(std::string_view(pending_).substr(0, f.pos));
        if (f.kind == Found::partial) {
          pending_.erase(0, f.pos);
          return;
        }
        pending_.erase(0, f.pos + f.marker.text.size());
        Marker m = f.marker.marker;
        bool reasoning = state_ == State::reasoning;
        if (is_end(m)) {
          if (reasoning) warn("the output ended inside the thinking channel (no <channel|>)");
          state_ = State::ended;
          after_end_warned_ = false;
        } else if (m == Marker::call_open) {
          if (reasoning) warn("tool call inside the thinking channel; the channel ends there");
          start_call();
        } else if (!reasoning && m == Marker::channel_open) {
          on_channel_open();
        } else if (reasoning && m == Marker::channel_close) {
          state_ = State::content;
        } else {
          warn("stray " + std::string(f.marker.text) + (reasoning ? " in reasoning" : " in content") +
               ", kept as text");
          emit_text(f.marker.text);
        }
        continue;
      }

      case State::tool_call: {
        Found f = find_marker(pending_);
        if (f.kind == Found::none || (f.kind == Found::partial && final)) {
          call_buf_ += pending_;
          pending_.clear();
          return;  // finish() reports the unterminated call
        }
        call_buf_.append(pending_, 0, f.pos);
        if (f.kind == Found::partial) {
          pending_.erase(0, f.pos);
          return;
        }
        pending_.erase(0, f.pos + f.marker.text.size());
        Marker m = f.marker.marker;
        if (m == Marker::quote) {
          call_buf_ += f.marker.text;
          call_in_string_ = !call_in_string_;
        } else if (call_in_string_) {
          call_buf_ += f.marker.text;  // only <|"|> ends a string: any other marker is string text
        } else if (is_end(m)) {
          abandon_call("the output ended inside the call");
          state_ = State::ended;
          after_end_warned_ = false;
        } else if (m == Marker::call_close) {
          call_buf_ += f.marker.text;
          finish_call();
        } else if (m == Marker::call_open) {
          abandon_call("a new <|tool_call> started before <tool_call|>");
          start_call();
        } else if (m == Marker::channel_open) {
          abandon_call("<|channel> started before <tool_call|>");
          on_channel_open();
        } else {
          call_buf_ += f.marker.text;  // "<channel|>": the argument parser rejects it
        }
        continue;
      }
    }
  }
}

}  // namespace g4
