// The OpenAI-compatible endpoints: /v1/chat/completions and /v1/completions, whole or streamed
// as server-sent events, with n choices.
#include <memory>

#include "serve/server_impl.h"
#include "session/chat_session.h"

namespace g4::serve {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

ordered_json tool_call_json(const ToolCall& c, const std::string& id) {
  return {{"id", id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments_json()}}}};
}

ordered_json usage_json(const Generation& g) {
  const int prompt = g.prompt_tokens(), completion = g.completion_tokens();
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion},
          {"prompt_tokens_details", {{"cached_tokens", g.cached_tokens()}}}};
}

// OpenAI's legacy logprobs shape for text completions.
ordered_json legacy_logprobs(const ordered_json& entries) {
  ordered_json tokens = ordered_json::array(), lps = ordered_json::array(), tops = ordered_json::array();
  for (const auto& e : entries) {
    tokens.push_back(e["token"]);
    lps.push_back(e["logprob"]);
    ordered_json t = ordered_json::object();
    for (const auto& x : e["top_logprobs"]) t[x["token"].get<std::string>()] = x["logprob"];
    tops.push_back(t);
  }
  return ordered_json{{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}};
}

std::string sse(const ordered_json& j) { return "data: " + j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n"; }

// The end of an OpenAI stream: the usage chunk (when asked for) and [DONE].
std::string stream_tail(const Generation& g, bool include_usage, const std::string& id, const char* object,
                        int64_t created, const std::string& model) {
  std::string tail;
  if (include_usage)
    tail = sse({{"id", id}, {"object", object}, {"created", created}, {"model", model},
                {"choices", ordered_json::array()}, {"usage", usage_json(g)}});
  return tail + "data: [DONE]\n\n";
}

}  // namespace

// ---- chat completions ----
void HttpServer::Impl::chat(const httplib::Request& hreq, httplib::Response& res) {
  const auto t0 = Clock::now();
  auto fail = [&](const ApiError& e) {
    send_error(res, e);
    record("chat", e.status, nullptr, t0);
  };
  auto body = parse_body(hreq.body);
  if (auto* e = std::get_if<ApiError>(&body)) return fail(*e);
  auto parsed = parse_chat_request(std::get<json>(body));
  if (auto* e = std::get_if<ApiError>(&parsed)) return fail(*e);
  auto& r = std::get<ChatRequestBody>(parsed);
  if (auto e = check_model(r.gen.model)) return fail(*e);
  auto prompt = prepare_chat_prompt(tmpl, r.messages, r.tools, r.thinking, tok);
  if (!prompt.ok())
    return fail(make_api_error(400, "invalid_request_error", "the conversation cannot be rendered: " + prompt.error().message, "", "messages"));
  GenerationSpec spec;
  spec.prompt = std::move(prompt->ids);
  spec.snapshot_at = prompt->history_len;  // the next turn of this chat shares the history
  spec.gen = r.gen;
  spec.n = r.gen.n;
  spec.parser = prompt->parser;
  spec.constraint = chat_constraint(r, tok);
  spec.single_tool_call = r.tool_choice == ToolChoice::kNamed || !r.parallel_tool_calls;
  auto started = Generation::start(engine, config, tok, std::move(spec));
  if (auto* e = std::get_if<ApiError>(&started)) return fail(*e);
  std::shared_ptr<Generation> gen = std::get<std::shared_ptr<Generation>>(started);
  const std::string id = random_id("chatcmpl-");
  const int64_t created_at = unix_now();
  const std::string model = opt.model_name;
  const bool want_logprobs = r.gen.top_logprobs >= 0;

  if (!r.gen.stream) {
    if (!wait_whole(*gen, hreq)) return record("chat", 499, gen.get(), t0);
    if (Status st = gen->failure(); !st.ok()) {
      send_error(res, make_api_error(500, "server_error", "generation failed: " + st.error().message));
      return record("chat", 500, gen.get(), t0);
    }
    ordered_json choices = ordered_json::array();
    for (int i = 0; i < gen->n(); ++i) {
      const OutputAssembler& out = gen->output(i);
      ordered_json msg = {{"role", "assistant"}};
      msg["content"] = out.content().empty() && !out.tool_calls().empty() ? ordered_json() : ordered_json(out.content());
      if (!out.reasoning().empty()) msg["reasoning_content"] = out.reasoning();
      if (!out.tool_calls().empty()) {
        ordered_json calls = ordered_json::array();
        for (const auto& c : out.tool_calls()) calls.push_back(tool_call_json(c, random_id("call_")));
        msg["tool_calls"] = calls;
      }
      ordered_json choice = {{"index", i}, {"message", msg}};
      choice["logprobs"] = want_logprobs ? ordered_json{{"content", out.logprobs()}} : ordered_json();
      choice["finish_reason"] = gen->finish_reason(i);
      choices.push_back(std::move(choice));
    }
    ordered_json resp = {{"id", id}, {"object", "chat.completion"}, {"created", created_at}, {"model", model},
                         {"choices", choices}, {"usage", usage_json(*gen)}};
    res.set_content(resp.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
    return record("chat", 200, gen.get(), t0);
  }

  // Streaming: a first chunk with the role for each choice, the deltas of the choices as they come
  // (each chunk names its choice), a last chunk with the finish reason per choice, then usage (if
  // asked) and [DONE].
  const bool include_usage = r.gen.include_usage;
  auto chunk = [=](int index, ordered_json delta, ordered_json finish, ordered_json logprobs) {
    ordered_json c = {{"index", index}, {"delta", std::move(delta)}};
    c["logprobs"] = std::move(logprobs);
    c["finish_reason"] = std::move(finish);
    return sse({{"id", id}, {"object", "chat.completion.chunk"}, {"created", created_at}, {"model", model},
                {"choices", ordered_json::array({c})}});
  };
  auto began = std::make_shared<bool>(false);
  auto calls_sent = std::make_shared<std::vector<int>>(size_t(gen->n()), 0);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      guarded(gen, [gen, chunk, began, calls_sent, include_usage, want_logprobs, id, created_at, model](size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
        if (!*began) {
          *began = true;
          std::string first;
          for (int i = 0; i < gen->n(); ++i) first += chunk(i, {{"role", "assistant"}, {"content", ""}}, ordered_json(), ordered_json());
          return write(first);
        }
        ChoiceUpdate u;
        if (gen->next(&u)) {
          const OutputDelta& d = u.delta;
          std::string out;
          ordered_json delta = ordered_json::object();
          if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
          if (!d.content.empty()) delta["content"] = d.content;
          if (!d.tool_calls.empty()) {
            ordered_json calls = ordered_json::array();
            for (const auto& c : d.tool_calls) {
              ordered_json tc = tool_call_json(c, random_id("call_"));
              tc["index"] = (*calls_sent)[size_t(u.choice)]++;
              calls.push_back(tc);
            }
            delta["tool_calls"] = calls;
          }
          ordered_json lp = want_logprobs && !d.logprobs.empty() ? ordered_json{{"content", d.logprobs}} : ordered_json();
          if (!delta.empty() || !lp.is_null()) out += chunk(u.choice, delta, ordered_json(), lp);
          if (u.ended) {
            if (!gen->status(u.choice).ok())
              out += sse(make_api_error(500, "server_error", "generation failed: " + gen->status(u.choice).error().message).body());
            else
              out += chunk(u.choice, ordered_json::object(), gen->finish_reason(u.choice), ordered_json());
          }
          const bool ok = out.empty() || write(out);
          if (!ok) gen->cancel();
          return ok;
        }
        const bool ok = write(stream_tail(*gen, include_usage, id, "chat.completion.chunk", created_at, model));
        sink.done();
        return ok;
      }),
      stream_done("chat", gen, t0));
}

// ---- text completions ----
void HttpServer::Impl::completions(const httplib::Request& hreq, httplib::Response& res) {
  const auto t0 = Clock::now();
  auto fail = [&](const ApiError& e) {
    send_error(res, e);
    record("completions", e.status, nullptr, t0);
  };
  auto body = parse_body(hreq.body);
  if (auto* e = std::get_if<ApiError>(&body)) return fail(*e);
  auto parsed = parse_completion_request(std::get<json>(body));
  if (auto* e = std::get_if<ApiError>(&parsed)) return fail(*e);
  auto& r = std::get<CompletionRequestBody>(parsed);
  if (auto e = check_model(r.gen.model)) return fail(*e);
  std::vector<int32_t> ids = r.prompt_ids;
  if (ids.empty()) {
    // As llama-server and vLLM: BOS first, special tokens in the text parsed.
    ids.push_back(tok.bos_id());
    auto t = tok.encode(r.prompt, /*parse_special=*/true);
    if (!t.empty() && t[0] == tok.bos_id()) ids.clear();
    ids.insert(ids.end(), t.begin(), t.end());
  }
  for (int32_t t : ids)
    if (t < 0 || t >= config.vocab_size)
      return fail(make_api_error(400, "invalid_request_error", "token id " + std::to_string(t) + " is outside the vocabulary", "", "prompt"));
  // Echo: a text prompt as sent (without the BOS put before it); token ids decoded as /detokenize
  // does (bytes that are not UTF-8, where a token prompt cuts a character, become U+FFFD).
  std::string echo;
  if (r.echo && r.prompt_ids.empty()) {
    echo = r.prompt;
  } else if (r.echo) {
    StreamDecoder d(tok);
    for (int32_t t : ids) echo += d.push(t);
    echo += d.flush();
  }
  GenerationSpec spec;
  spec.prompt = std::move(ids);
  spec.gen = r.gen;
  spec.n = r.gen.n;
  spec.chat = false;
  spec.context_param = "prompt";
  auto started = Generation::start(engine, config, tok, std::move(spec));
  if (auto* e = std::get_if<ApiError>(&started)) return fail(*e);
  std::shared_ptr<Generation> gen = std::get<std::shared_ptr<Generation>>(started);
  const std::string id = random_id("cmpl-");
  const int64_t created_at = unix_now();
  const std::string model = opt.model_name;
  const bool want_logprobs = r.gen.top_logprobs >= 0;
  auto choice_json = [=](int index, const std::string& text, ordered_json finish, const ordered_json& lp) {
    ordered_json c = {{"text", text}, {"index", index}};
    c["logprobs"] = want_logprobs ? legacy_logprobs(lp) : ordered_json();
    c["finish_reason"] = std::move(finish);
    return c;
  };
  if (!r.gen.stream) {
    if (!wait_whole(*gen, hreq)) return record("completions", 499, gen.get(), t0);
    if (Status st = gen->failure(); !st.ok()) {
      send_error(res, make_api_error(500, "server_error", "generation failed: " + st.error().message));
      return record("completions", 500, gen.get(), t0);
    }
    ordered_json choices = ordered_json::array();
    for (int i = 0; i < gen->n(); ++i)
      choices.push_back(choice_json(i, echo + gen->output(i).content(), gen->finish_reason(i), gen->output(i).logprobs()));
    ordered_json resp = {{"id", id}, {"object", "text_completion"}, {"created", created_at}, {"model", model},
                         {"choices", choices}, {"usage", usage_json(*gen)}};
    res.set_content(resp.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
    return record("completions", 200, gen.get(), t0);
  }
  const bool include_usage = r.gen.include_usage;
  auto event = [=](const ordered_json& choice) {
    return sse({{"id", id}, {"object", "text_completion"}, {"created", created_at}, {"model", model},
                {"choices", ordered_json::array({choice})}});
  };
  auto began = std::make_shared<bool>(false);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      guarded(gen, [gen, event, choice_json, began, echo, include_usage, id, created_at, model](size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
        if (!*began) {
          *began = true;
          if (!echo.empty()) {
            std::string first;
            for (int i = 0; i < gen->n(); ++i) first += event(choice_json(i, echo, ordered_json(), ordered_json::array()));
            return write(first);
          }
        }
        ChoiceUpdate u;
        if (gen->next(&u)) {
          const OutputDelta& d = u.delta;
          std::string out;
          if (u.ended) {
            if (!gen->status(u.choice).ok())
              out = sse(make_api_error(500, "server_error", "generation failed: " + gen->status(u.choice).error().message).body());
            else
              out = event(choice_json(u.choice, d.content, gen->finish_reason(u.choice), d.logprobs));
          } else if (!d.content.empty() || !d.logprobs.empty()) {
            out = event(choice_json(u.choice, d.content, ordered_json(), d.logprobs));
          }
          const bool ok = out.empty() || write(out);
          if (!ok) gen->cancel();
          return ok;
        }
        const bool ok = write(stream_tail(*gen, include_usage, id, "text_completion", created_at, model));
        sink.done();
        return ok;
      }),
      stream_done("completions", gen, t0));
}

}  // namespace g4::serve
