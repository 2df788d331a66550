#include "serve/api_request.h"

#include <cmath>
#include <set>

namespace g4::serve {

using nlohmann::json;
using nlohmann::ordered_json;

ordered_json ApiError::body() const {
  ordered_json e;
  e["message"] = message;
  e["type"] = type;
  e["param"] = param.empty() ? ordered_json() : ordered_json(param);
  e["code"] = code.empty() ? ordered_json() : ordered_json(code);
  return ordered_json{{"error", e}};
}

namespace {

ApiError bad(const std::string& param, const std::string& message) {
  ApiError e;
  e.param = param;
  e.message = message;
  return e;
}

// Reads an optional field of the body; absent or null leaves `out` as it is.
struct Fields {
  const json& body;
  std::optional<ApiError> err;

  const json* get(const char* name) {
    auto it = body.find(name);
    return it == body.end() || it->is_null() ? nullptr : &*it;
  }
  void number(const char* name, float& out, float lo, float hi) {
    const json* v = get(name);
    if (!v || err) return;
    if (!v->is_number()) return fail(name, std::string("'") + name + "' must be a number");
    const double d = v->get<double>();
    if (!(d >= lo && d <= hi))
      return fail(name, std::string("'") + name + "' must be between " + fmt(lo) + " and " + fmt(hi) + ", got " + fmt(d));
    out = float(d);
  }
  void integer(const char* name, int& out, long long lo, long long hi) {
    const json* v = get(name);
    if (!v || err) return;
    if (!v->is_number_integer() && !(v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()))
      return fail(name, std::string("'") + name + "' must be an integer");
    const double d = v->get<double>();
    if (d < double(lo) || d > double(hi))
      return fail(name, std::string("'") + name + "' must be between " + std::to_string(lo) + " and " +
                            std::to_string(hi) + ", got " + fmt(d));
    out = int(d);
  }
  void boolean(const char* name, bool& out) {
    const json* v = get(name);
    if (!v || err) return;
    if (!v->is_boolean()) return fail(name, std::string("'") + name + "' must be true or false");
    out = v->get<bool>();
  }
  void fail(const std::string& name, const std::string& msg) {
    if (!err) err = bad(name, msg);
  }
  static std::string fmt(double d) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", d);
    return b;
  }
};

}  // namespace

std::optional<ApiError> parse_generation_params(const json& body, GenerationParams& g) {
  Fields f{body, std::nullopt};
  if (const json* m = f.get("model")) {
    if (!m->is_string()) return bad("model", "'model' must be a string");
    g.model = m->get<std::string>();
  }
  // OpenAI's defaults: temperature 1, top_p 1; no top-k or min-p unless asked.
  g.sampling = SamplingParams{};
  g.sampling.temperature = 1.0f;
  g.sampling.top_p = 1.0f;
  g.sampling.top_k = 0;
  g.sampling.min_p = 0.0f;
  f.number("temperature", g.sampling.temperature, 0.0f, 2.0f);
  f.number("top_p", g.sampling.top_p, 0.0f, 1.0f);
  f.integer("top_k", g.sampling.top_k, -1, 1 << 30);
  if (g.sampling.top_k < 0) g.sampling.top_k = 0;
  f.number("min_p", g.sampling.min_p, 0.0f, 1.0f);
  f.number("presence_penalty", g.sampling.presence_penalty, -2.0f, 2.0f);
  f.number("frequency_penalty", g.sampling.frequency_penalty, -2.0f, 2.0f);
  f.number("repetition_penalty", g.sampling.repetition_penalty, 0.01f, 100.0f);
  if (const json* s = f.get("seed")) {
    if (!s->is_number_integer()) return bad("seed", "'seed' must be an integer");
    g.sampling.seed = s->is_number_unsigned() ? s->get<uint64_t>() : uint64_t(s->get<int64_t>());
  } else {
    g.sampling.seed = std::random_device{}();
  }
  int max_tokens = -1;
  f.integer("max_tokens", max_tokens, 1, 1 << 30);
  f.integer("max_completion_tokens", max_tokens, 1, 1 << 30);
  g.max_tokens = max_tokens;
  f.integer("n", g.n, 1, 16);
  f.boolean("stream", g.stream);
  if (const json* so = f.get("stream_options")) {
    if (!so->is_object()) return bad("stream_options", "'stream_options' must be an object");
    Fields sf{*so, std::nullopt};
    sf.boolean("include_usage", g.include_usage);
    if (sf.err) {
      sf.err->param = "stream_options." + sf.err->param;
      return sf.err;
    }
  }
  if (const json* st = f.get("stop")) {
    if (st->is_string()) {
      g.stop.push_back(st->get<std::string>());
    } else if (st->is_array()) {
      for (const auto& s : *st) {
        if (!s.is_string()) return bad("stop", "'stop' must be a string or an array of strings");
        g.stop.push_back(s.get<std::string>());
      }
    } else {
      return bad("stop", "'stop' must be a string or an array of strings");
    }
    if (g.stop.size() > 16) return bad("stop", "at most 16 stop sequences are supported");
    for (const auto& s : g.stop)
      if (s.empty()) return bad("stop", "stop sequences must not be empty");
  }
  if (const json* lb = f.get("logit_bias")) {
    if (!lb->is_object()) return bad("logit_bias", "'logit_bias' must be an object of token id -> bias");
    for (auto it = lb->begin(); it != lb->end(); ++it) {
      char* end = nullptr;
      const long id = std::strtol(it.key().c_str(), &end, 10);
      if (it.key().empty() || *end != '\0' || id < 0 || id > (1 << 30))
        return bad("logit_bias", "'logit_bias' keys must be token ids, got \"" + it.key() + "\"");
      if (!it->is_number() || std::fabs(it->get<double>()) > 100.0)
        return bad("logit_bias", "'logit_bias' values must be numbers between -100 and 100");
      g.sampling.logit_bias.emplace_back(int32_t(id), it->get<float>());
    }
  }
  return f.err;
}

namespace {

std::optional<ApiError> check_messages(const json& msgs) {
  if (!msgs.is_array() || msgs.empty()) return bad("messages", "'messages' must be a non-empty array");
  static const std::set<std::string> roles = {"system", "developer", "user", "assistant", "tool"};
  for (size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return bad(at, at + " must be an object");
    auto r = m.find("role");
    if (r == m.end() || !r->is_string() || !roles.count(r->get<std::string>()))
      return bad(at + ".role", at + ".role must be one of system, developer, user, assistant, tool");
    auto c = m.find("content");
    if (c != m.end() && !c->is_null() && !c->is_string() && !c->is_array())
      return bad(at + ".content", at + ".content must be a string or an array of content parts");
    if (c != m.end() && c->is_array()) {
      for (const auto& part : *c) {
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
          return bad(at + ".content", at + ".content parts must be objects with a 'type'");
        const std::string t = part["type"];
        if (t != "text")
          return bad(at + ".content", "content parts of type '" + t + "' are not supported yet (text only)");
        if (!part.contains("text") || !part["text"].is_string())
          return bad(at + ".content", at + ".content text parts need a string 'text'");
      }
    }
    if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null()) {
      if (!tc->is_array()) return bad(at + ".tool_calls", at + ".tool_calls must be an array");
      for (const auto& call : *tc) {
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object() ||
            !call["function"].contains("name") || !call["function"]["name"].is_string())
          return bad(at + ".tool_calls", at + ".tool_calls entries need function.name");
        const auto& args = call["function"].value("arguments", json());
        if (!args.is_null() && !args.is_string() && !args.is_object())
          return bad(at + ".tool_calls", at + ".tool_calls[].function.arguments must be a JSON string");
        if (args.is_string() && !json::accept(args.get<std::string>()))
          return bad(at + ".tool_calls", at + ".tool_calls[].function.arguments is not valid JSON");
      }
    }
  }
  return std::nullopt;
}

std::optional<ApiError> check_tools(const json& tools) {
  if (!tools.is_array()) return bad("tools", "'tools' must be an array");
  for (size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    const std::string at = "tools[" + std::to_string(i) + "]";
    if (!t.is_object() || t.value("type", json()) != "function" || !t.contains("function") || !t["function"].is_object())
      return bad(at, at + " must be {\"type\": \"function\", \"function\": {...}}");
    const json& f = t["function"];
    if (!f.contains("name") || !f["name"].is_string() || f["name"].get<std::string>().empty())
      return bad(at + ".function.name", at + ".function.name must be a non-empty string");
    if (f.contains("parameters") && !f["parameters"].is_null() && !f["parameters"].is_object())
      return bad(at + ".function.parameters", at + ".function.parameters must be a JSON Schema object");
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> check_tool_choice(const ChatRequestBody& r) {
  if (r.tool_choice == ToolChoice::kRequired && r.tools.is_null())
    return bad("tool_choice", "'tool_choice' \"required\" needs at least one tool in 'tools'");
  if (r.tool_choice == ToolChoice::kNamed) {
    if (!r.tools.is_null())
      for (const auto& t : r.tools)
        if (t["function"]["name"] == r.tool_name) return std::nullopt;
    return bad("tool_choice", "'tool_choice' names the function '" + r.tool_name + "', which is not in 'tools'");
  }
  return std::nullopt;
}

namespace {

// Content parts of text become one string, as the chat template expects.
ordered_json normalize_messages(const json& msgs) {
  ordered_json out = ordered_json::array();
  for (const auto& m : msgs) {
    ordered_json o = ordered_json::parse(m.dump());
    if (o.contains("content") && o["content"].is_array()) {
      std::string text;
      for (const auto& part : o["content"]) text += part["text"].get<std::string>();
      o["content"] = text;
    }
    if (o.value("role", "") == "developer") o["role"] = "system";
    if (o.contains("tool_calls") && o["tool_calls"].is_array()) {  // arguments as objects for the template
      for (auto& call : o["tool_calls"]) {
        auto& args = call["function"]["arguments"];
        if (args.is_string()) args = ordered_json::parse(args.get<std::string>());
      }
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

Parsed<json> parse_body(const std::string& text) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return bad("", "the request body is not valid JSON");
  if (!body.is_object()) return bad("", "the request body must be a JSON object");
  return body;
}

Parsed<ChatRequestBody> parse_chat_request(const json& body) {
  ChatRequestBody r;
  if (auto e = parse_generation_params(body, r.gen)) return *e;
  if (!body.contains("messages")) return bad("messages", "'messages' is required");
  if (auto e = check_messages(body["messages"])) return *e;
  r.messages = normalize_messages(body["messages"]);
  if (auto tc = body.find("tool_choice"); tc != body.end() && !tc->is_null()) {
    const char* shape = "'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}";
    if (tc->is_string()) {
      const std::string c = tc->get<std::string>();
      if (c == "auto") r.tool_choice = ToolChoice::kAuto;
      else if (c == "none") r.tool_choice = ToolChoice::kNone;
      else if (c == "required") r.tool_choice = ToolChoice::kRequired;
      else return bad("tool_choice", shape);
    } else if (tc->is_object()) {
      auto fn = tc->find("function");
      if (tc->value("type", json()) != "function" || fn == tc->end() || !fn->is_object() || !fn->contains("name") ||
          !(*fn)["name"].is_string())
        return bad("tool_choice", shape);
      r.tool_choice = ToolChoice::kNamed;
      r.tool_name = (*fn)["name"].get<std::string>();
    } else {
      return bad("tool_choice", shape);
    }
  }
  if (auto p = body.find("parallel_tool_calls"); p != body.end() && !p->is_null()) {
    if (!p->is_boolean()) return bad("parallel_tool_calls", "'parallel_tool_calls' must be true or false");
    r.parallel_tool_calls = p->get<bool>();
  }
  if (auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (auto e = check_tools(*t)) return *e;
    if (r.tool_choice != ToolChoice::kNone && !t->empty()) r.tools = ordered_json::parse(t->dump());
  }
  if (auto e = check_tool_choice(r)) return *e;
  // Thinking: chat_template_kwargs.enable_thinking, or reasoning_effort (anything but "none" thinks).
  if (auto re = body.find("reasoning_effort"); re != body.end() && !re->is_null()) {
    if (!re->is_string()) return bad("reasoning_effort", "'reasoning_effort' must be a string");
    const std::string v = *re;
    if (v != "none" && v != "minimal" && v != "low" && v != "medium" && v != "high")
      return bad("reasoning_effort", "'reasoning_effort' must be none, minimal, low, medium or high");
    r.thinking = v != "none";
  }
  if (auto k = body.find("chat_template_kwargs"); k != body.end() && !k->is_null()) {
    if (!k->is_object()) return bad("chat_template_kwargs", "'chat_template_kwargs' must be an object");
    if (auto et = k->find("enable_thinking"); et != k->end() && !et->is_null()) {
      if (!et->is_boolean()) return bad("chat_template_kwargs.enable_thinking", "'enable_thinking' must be true or false");
      r.thinking = et->get<bool>();
    }
  }
  if (auto lp = body.find("logprobs"); lp != body.end() && !lp->is_null()) {
    if (!lp->is_boolean()) return bad("logprobs", "'logprobs' must be true or false");
    if (lp->get<bool>()) r.gen.top_logprobs = 0;
  }
  if (auto tl = body.find("top_logprobs"); tl != body.end() && !tl->is_null()) {
    if (!tl->is_number_integer() || tl->get<int64_t>() < 0 || tl->get<int64_t>() > 20)
      return bad("top_logprobs", "'top_logprobs' must be an integer between 0 and 20");
    if (r.gen.top_logprobs < 0) return bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    r.gen.top_logprobs = tl->get<int>();
  }
  return r;
}

Parsed<CompletionRequestBody> parse_completion_request(const json& body) {
  CompletionRequestBody r;
  if (auto e = parse_generation_params(body, r.gen)) return *e;
  auto p = body.find("prompt");
  if (p == body.end() || p->is_null()) return bad("prompt", "'prompt' is required");
  if (p->is_string()) {
    r.prompt = p->get<std::string>();
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    r.prompt = (*p)[0].get<std::string>();
  } else if (p->is_array() && !p->empty() && (*p)[0].is_number_integer()) {
    for (const auto& id : *p) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > (1 << 30))
        return bad("prompt", "a token prompt must be an array of token ids");
      r.prompt_ids.push_back(id.get<int32_t>());
    }
  } else {
    return bad("prompt", "'prompt' must be a string, one string in an array, or an array of token ids");
  }
  if (auto e = body.find("echo"); e != body.end() && !e->is_null()) {
    if (!e->is_boolean()) return bad("echo", "'echo' must be true or false");
    r.echo = e->get<bool>();
  }
  if (auto lp = body.find("logprobs"); lp != body.end() && !lp->is_null()) {
    if (!lp->is_number_integer() || lp->get<int64_t>() < 0 || lp->get<int64_t>() > 20)
      return bad("logprobs", "'logprobs' must be an integer between 0 and 20");
    r.gen.top_logprobs = lp->get<int>();
  }
  return r;
}

}  // namespace g4::serve
