#include "serve/anthropic_request.h"

#include <map>

namespace g4::serve {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

ApiError bad(const std::string& param, const std::string& message) {
  ApiError e;
  e.param = param;
  e.message = message;
  return e;
}

// The text of a content that must be text: a string, or an array of text blocks.
std::optional<std::string> text_of(const json& c) {
  if (c.is_string()) return c.get<std::string>();
  if (!c.is_array()) return std::nullopt;
  std::string t;
  for (const auto& b : c) {
    if (!b.is_object() || b.value("type", json()) != "text" || !b.contains("text") || !b["text"].is_string())
      return std::nullopt;
    t += b["text"].get<std::string>();
  }
  return t;
}

std::optional<ApiError> convert_messages(const json& msgs, ordered_json& out) {
  if (!msgs.is_array() || msgs.empty()) return bad("messages", "'messages' must be a non-empty array");
  for (size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return bad(at, at + " must be an object");
    const std::string role = m.value("role", json()).is_string() ? m["role"].get<std::string>() : "";
    if (role != "user" && role != "assistant") return bad(at + ".role", at + ".role must be \"user\" or \"assistant\"");
    auto c = m.find("content");
    if (c == m.end() || (!c->is_string() && !c->is_array()))
      return bad(at + ".content", at + ".content must be a string or an array of content blocks");
    if (c->is_string()) {
      out.push_back({{"role", role}, {"content", c->get<std::string>()}});
      continue;
    }
    std::string text, thinking;
    ordered_json calls = ordered_json::array();
    auto flush_user_text = [&] {
      if (!text.empty()) out.push_back({{"role", "user"}, {"content", text}});
      text.clear();
    };
    for (size_t j = 0; j < c->size(); ++j) {
      const json& b = (*c)[j];
      const std::string bat = at + ".content[" + std::to_string(j) + "]";
      if (!b.is_object() || !b.contains("type") || !b["type"].is_string())
        return bad(bat, bat + " must be an object with a 'type'");
      const std::string type = b["type"];
      if (type == "text") {
        if (!b.contains("text") || !b["text"].is_string()) return bad(bat + ".text", bat + ".text must be a string");
        text += b["text"].get<std::string>();
      } else if (type == "thinking" || type == "redacted_thinking") {
        if (role != "assistant") return bad(bat, "thinking blocks belong to assistant messages");
        if (type == "thinking" && b.contains("thinking") && b["thinking"].is_string()) thinking += b["thinking"].get<std::string>();
      } else if (type == "tool_use") {
        if (role != "assistant") return bad(bat, "tool_use blocks belong to assistant messages");
        if (!b.contains("name") || !b["name"].is_string() || b["name"].get<std::string>().empty())
          return bad(bat + ".name", bat + ".name must be a non-empty string");
        if (!b.contains("id") || !b["id"].is_string()) return bad(bat + ".id", bat + ".id must be a string");
        const json input = b.value("input", json::object());
        if (!input.is_object()) return bad(bat + ".input", bat + ".input must be an object");
        calls.push_back({{"id", b["id"]},
                         {"type", "function"},
                         {"function", {{"name", b["name"]}, {"arguments", ordered_json::parse(input.dump())}}}});
      } else if (type == "tool_result") {
        if (role != "user") return bad(bat, "tool_result blocks belong to user messages");
        if (!b.contains("tool_use_id") || !b["tool_use_id"].is_string())
          return bad(bat + ".tool_use_id", bat + ".tool_use_id must be a string");
        std::string result;
        if (auto rc = b.find("content"); rc != b.end() && !rc->is_null()) {
          auto t = text_of(*rc);
          if (!t) return bad(bat + ".content", bat + ".content must be a string or text blocks (images in tool results are not supported)");
          result = *t;
        }
        if (auto e = b.find("is_error"); e != b.end() && !e->is_null()) {
          if (!e->is_boolean()) return bad(bat + ".is_error", bat + ".is_error must be true or false");
          if (e->get<bool>()) result = "Error: " + result;
        }
        flush_user_text();
        out.push_back({{"role", "tool"}, {"tool_call_id", b["tool_use_id"]}, {"content", result}});
      } else if (type == "image" || type == "document") {
        return bad(bat, "content blocks of type '" + type + "' are not supported yet (text only)");
      } else {
        return bad(bat + ".type", "unknown content block type '" + type + "'");
      }
    }
    if (role == "user") {
      flush_user_text();
      continue;
    }
    ordered_json a = {{"role", "assistant"}, {"content", text}};
    if (!calls.empty()) {
      a["tool_calls"] = calls;
      if (!thinking.empty()) a["reasoning_content"] = thinking;  // the template puts it back before the calls
    }
    out.push_back(std::move(a));
  }
  return std::nullopt;
}

std::optional<ApiError> convert_tools(const json& tools, ordered_json& out) {
  if (!tools.is_array()) return bad("tools", "'tools' must be an array");
  out = ordered_json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    const std::string at = "tools[" + std::to_string(i) + "]";
    if (!t.is_object()) return bad(at, at + " must be an object");
    if (t.contains("type") && !t["type"].is_null() && t["type"] != "custom")
      return bad(at + ".type", "server tools ('" + t["type"].dump() + "') are not supported; give client tools with name and input_schema");
    if (!t.contains("name") || !t["name"].is_string() || t["name"].get<std::string>().empty())
      return bad(at + ".name", at + ".name must be a non-empty string");
    if (!t.contains("input_schema") || !t["input_schema"].is_object())
      return bad(at + ".input_schema", at + ".input_schema must be a JSON Schema object");
    ordered_json f = {{"name", t["name"]}};
    if (t.contains("description") && t["description"].is_string()) f["description"] = t["description"];
    f["parameters"] = ordered_json::parse(t["input_schema"].dump());
    out.push_back({{"type", "function"}, {"function", f}});
  }
  return std::nullopt;
}

}  // namespace

Parsed<ChatRequestBody> parse_messages_request(const json& body, bool count_only) {
  ChatRequestBody r;
  // Anthropic's names for the shared fields; the OpenAI ones it lacks are extensions.
  json common = body;
  for (const char* k : {"stop", "n", "max_completion_tokens", "stream_options", "logprobs", "top_logprobs"}) common.erase(k);
  if (count_only) {
    for (const char* k : {"max_tokens", "stream", "temperature", "top_p", "top_k"}) common.erase(k);
  }
  if (auto e = parse_generation_params(common, r.gen)) return *e;
  if (!count_only) {
    auto mt = body.find("max_tokens");
    if (mt == body.end() || mt->is_null()) return bad("max_tokens", "'max_tokens' is required");
    if (auto t = body.find("temperature"); t != body.end() && t->is_number() && t->get<double>() > 1.0)
      return bad("temperature", "'temperature' must be between 0 and 1");
  }
  if (!body.contains("model") || !body["model"].is_string()) return bad("model", "'model' is required and must be a string");
  if (auto st = body.find("stop_sequences"); st != body.end() && !st->is_null()) {
    if (!st->is_array()) return bad("stop_sequences", "'stop_sequences' must be an array of strings");
    for (const auto& s : *st) {
      if (!s.is_string() || s.get<std::string>().empty()) return bad("stop_sequences", "'stop_sequences' must hold non-empty strings");
      r.gen.stop.push_back(s.get<std::string>());
    }
    if (r.gen.stop.size() > 16) return bad("stop_sequences", "at most 16 stop sequences are supported");
  }
  ordered_json msgs = ordered_json::array();
  if (auto s = body.find("system"); s != body.end() && !s->is_null()) {
    auto t = text_of(*s);
    if (!t) return bad("system", "'system' must be a string or an array of text blocks");
    msgs.push_back({{"role", "system"}, {"content", *t}});
  }
  if (!body.contains("messages")) return bad("messages", "'messages' is required");
  if (auto e = convert_messages(body["messages"], msgs)) return *e;
  r.messages = std::move(msgs);

  ordered_json tools;
  if (auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (auto e = convert_tools(*t, tools)) return *e;
    if (tools.empty()) tools = ordered_json();
  }
  if (auto tc = body.find("tool_choice"); tc != body.end() && !tc->is_null()) {
    const char* shape = "'tool_choice' must be {\"type\": \"auto\" | \"any\" | \"none\"} or {\"type\": \"tool\", \"name\": ...}";
    if (!tc->is_object() || !tc->contains("type") || !(*tc)["type"].is_string()) return bad("tool_choice", shape);
    const std::string type = (*tc)["type"];
    if (type == "auto") r.tool_choice = ToolChoice::kAuto;
    else if (type == "any") r.tool_choice = ToolChoice::kRequired;
    else if (type == "none") r.tool_choice = ToolChoice::kNone;
    else if (type == "tool") {
      if (!tc->contains("name") || !(*tc)["name"].is_string()) return bad("tool_choice.name", "'tool_choice' of type tool needs a 'name'");
      r.tool_choice = ToolChoice::kNamed;
      r.tool_name = (*tc)["name"];
    } else {
      return bad("tool_choice.type", shape);
    }
    if (auto d = tc->find("disable_parallel_tool_use"); d != tc->end() && !d->is_null()) {
      if (!d->is_boolean()) return bad("tool_choice.disable_parallel_tool_use", "'disable_parallel_tool_use' must be true or false");
      r.parallel_tool_calls = !d->get<bool>();
    }
  }
  if (r.tool_choice != ToolChoice::kNone) r.tools = std::move(tools);
  if (auto e = check_tool_choice(r)) return *e;

  if (auto th = body.find("thinking"); th != body.end() && !th->is_null()) {
    if (!th->is_object() || !th->contains("type") || !(*th)["type"].is_string())
      return bad("thinking", "'thinking' must be {\"type\": \"enabled\", \"budget_tokens\": N} or {\"type\": \"disabled\"}");
    const std::string type = (*th)["type"];
    if (type == "enabled") {
      r.thinking = true;
      auto b = th->find("budget_tokens");
      if (b != th->end() && !b->is_null()) {
        if (!b->is_number_integer() || b->get<int64_t>() < 1 || b->get<int64_t>() > (1 << 30))
          return bad("thinking.budget_tokens", "'thinking.budget_tokens' must be a positive integer");
        r.thinking_budget = b->get<int>();
        if (!count_only && r.gen.max_tokens > 0 && r.thinking_budget >= r.gen.max_tokens)
          return bad("thinking.budget_tokens", "'thinking.budget_tokens' must be less than 'max_tokens'");
      }
    } else if (type == "adaptive") {
      r.thinking = true;
    } else if (type != "disabled") {
      return bad("thinking.type", "'thinking.type' must be \"enabled\", \"adaptive\" or \"disabled\"");
    }
  }
  if (auto md = body.find("metadata"); md != body.end() && !md->is_null() && !md->is_object())
    return bad("metadata", "'metadata' must be an object");
  return r;
}

ordered_json anthropic_error_body(const ApiError& e) {
  std::string type;
  switch (e.status) {
    case 401: type = "authentication_error"; break;
    case 403: type = "permission_error"; break;
    case 404: type = "not_found_error"; break;
    case 413: type = "request_too_large"; break;
    case 429: type = "rate_limit_error"; break;
    case 503: case 529: type = "overloaded_error"; break;
    default: type = e.status >= 500 ? "api_error" : "invalid_request_error";
  }
  std::string msg = e.message;
  if (!e.param.empty() && msg.find(e.param) == std::string::npos) msg = e.param + ": " + msg;
  return ordered_json{{"type", "error"}, {"error", {{"type", type}, {"message", msg}}}};
}

int anthropic_status(const ApiError& e) { return e.status == 503 ? 529 : e.status; }

}  // namespace g4::serve
