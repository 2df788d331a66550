// Anthropic's Messages API: POST /v1/messages (whole, or streamed as Anthropic's named events) and
// POST /v1/messages/count_tokens, over the same engine and chat template as the OpenAI endpoints.
#include <memory>

#include "serve/anthropic_request.h"
#include "serve/server_impl.h"
#include "session/chat_session.h"

namespace g4::serve {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

std::string stop_reason(const Generation& g) {
  const OutputAssembler& out = g.output(0);
  if (out.stopped()) return "stop_sequence";
  if (!out.tool_calls().empty()) return "tool_use";
  return g.finish_reason(0) == "length" ? "max_tokens" : "end_turn";
}

ordered_json stop_sequence(const Generation& g) {
  const OutputAssembler& out = g.output(0);
  return out.stopped() ? ordered_json(out.stop_sequence()) : ordered_json();
}

ordered_json usage_json(const Generation& g, int output_tokens) {
  return {{"input_tokens", g.prompt_tokens() - g.cached_tokens()},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", g.cached_tokens()},
          {"output_tokens", output_tokens}};
}

ordered_json tool_use_block(const ToolCall& c) {
  return {{"type", "tool_use"}, {"id", random_id("toolu_")}, {"name", c.name},
          {"input", ordered_json::parse(c.arguments_json())}};
}

std::string event(const char* name, const ordered_json& data) {
  return std::string("event: ") + name + "\ndata: " + data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

// Anthropic's stream: content blocks opened, filled and closed as reasoning, text and tool calls
// arrive (a thinking block, text blocks, one block per tool call), each with its index.
class BlockStream {
 public:
  std::string push(const OutputDelta& d) {
    std::string out;
    if (!d.reasoning.empty()) {
      out += open("thinking");
      out += event("content_block_delta", {{"type", "content_block_delta"}, {"index", index_},
                                           {"delta", {{"type", "thinking_delta"}, {"thinking", d.reasoning}}}});
    }
    if (!d.content.empty()) {
      out += open("text");
      out += event("content_block_delta", {{"type", "content_block_delta"}, {"index", index_},
                                           {"delta", {{"type", "text_delta"}, {"text", d.content}}}});
    }
    for (const auto& c : d.tool_calls) {
      out += close();
      ordered_json block = tool_use_block(c);
      const std::string args = block["input"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      block["input"] = ordered_json::object();
      out += event("content_block_start", {{"type", "content_block_start"}, {"index", ++index_}, {"content_block", block}});
      out += event("content_block_delta", {{"type", "content_block_delta"}, {"index", index_},
                                           {"delta", {{"type", "input_json_delta"}, {"partial_json", args}}}});
      out += event("content_block_stop", {{"type", "content_block_stop"}, {"index", index_}});
    }
    return out;
  }
  std::string close() {
    if (open_.empty()) return {};
    open_.clear();
    return event("content_block_stop", {{"type", "content_block_stop"}, {"index", index_}});
  }
  bool any() const { return index_ >= 0; }
  std::string open(const std::string& type) {
    if (open_ == type) return {};
    std::string out = close();
    open_ = type;
    ordered_json block = type == "thinking" ? ordered_json{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}
                                            : ordered_json{{"type", "text"}, {"text", ""}};
    return out + event("content_block_start", {{"type", "content_block_start"}, {"index", ++index_}, {"content_block", block}});
  }

 private:
  std::string open_;  // the type of the block being filled; empty: none
  int index_ = -1;
};

}  // namespace

void HttpServer::Impl::send_anthropic_error(httplib::Response& res, const ApiError& e) {
  res.status = anthropic_status(e);
  res.set_content(anthropic_error_body(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void HttpServer::Impl::count_tokens(const httplib::Request& hreq, httplib::Response& res) {
  const auto t0 = Clock::now();
  auto fail = [&](const ApiError& e) {
    send_anthropic_error(res, e);
    record("count_tokens", anthropic_status(e), nullptr, t0);
  };
  auto body = parse_body(hreq.body);
  if (auto* e = std::get_if<ApiError>(&body)) return fail(*e);
  auto parsed = parse_messages_request(std::get<json>(body), /*count_only=*/true);
  if (auto* e = std::get_if<ApiError>(&parsed)) return fail(*e);
  auto& r = std::get<ChatRequestBody>(parsed);
  if (auto e = check_model(r.gen.model)) return fail(*e);
  auto prompt = prepare_chat_prompt(tmpl, r.messages, r.tools, r.thinking, tok);
  if (!prompt.ok())
    return fail(make_api_error(400, "invalid_request_error", "the conversation cannot be rendered: " + prompt.error().message, "", "messages"));
  res.set_content(ordered_json{{"input_tokens", prompt->ids.size()}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
  record("count_tokens", 200, nullptr, t0);
}

void HttpServer::Impl::messages(const httplib::Request& hreq, httplib::Response& res) {
  const auto t0 = Clock::now();
  auto fail = [&](const ApiError& e) {
    send_anthropic_error(res, e);
    record("messages", anthropic_status(e), nullptr, t0);
  };
  auto body = parse_body(hreq.body);
  if (auto* e = std::get_if<ApiError>(&body)) return fail(*e);
  auto parsed = parse_messages_request(std::get<json>(body));
  if (auto* e = std::get_if<ApiError>(&parsed)) return fail(*e);
  auto& r = std::get<ChatRequestBody>(parsed);
  if (auto e = check_model(r.gen.model)) return fail(*e);
  auto prompt = prepare_chat_prompt(tmpl, r.messages, r.tools, r.thinking, tok);
  if (!prompt.ok())
    return fail(make_api_error(400, "invalid_request_error", "the conversation cannot be rendered: " + prompt.error().message, "", "messages"));
  GenerationSpec spec;
  spec.prompt = std::move(prompt->ids);
  spec.snapshot_at = prompt->history_len;
  spec.gen = r.gen;
  spec.parser = prompt->parser;
  spec.constraint = chat_constraint(r, tok);
  spec.single_tool_call = r.tool_choice == ToolChoice::kNamed || !r.parallel_tool_calls;
  auto started = Generation::start(engine, config, tok, std::move(spec));
  if (auto* e = std::get_if<ApiError>(&started)) return fail(*e);
  std::shared_ptr<Generation> gen = std::get<std::shared_ptr<Generation>>(started);
  const std::string id = random_id("msg_");
  const std::string model = r.gen.model.empty() ? opt.model_name : r.gen.model;  // Anthropic echoes the model asked for

  if (!r.gen.stream) {
    if (!wait_whole(*gen, hreq)) return record("messages", 499, gen.get(), t0);
    if (Status st = gen->failure(); !st.ok()) {
      send_anthropic_error(res, make_api_error(500, "server_error", "generation failed: " + st.error().message));
      return record("messages", 500, gen.get(), t0);
    }
    const OutputAssembler& out = gen->output(0);
    ordered_json content = ordered_json::array();
    if (!out.reasoning().empty()) content.push_back({{"type", "thinking"}, {"thinking", out.reasoning()}, {"signature", ""}});
    if (!out.content().empty() || out.tool_calls().empty()) content.push_back({{"type", "text"}, {"text", out.content()}});
    for (const auto& c : out.tool_calls()) content.push_back(tool_use_block(c));
    ordered_json resp = {{"id", id}, {"type", "message"}, {"role", "assistant"}, {"model", model},
                         {"content", content}, {"stop_reason", stop_reason(*gen)}, {"stop_sequence", stop_sequence(*gen)},
                         {"usage", usage_json(*gen, gen->completion_tokens())}};
    res.set_content(resp.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
    return record("messages", 200, gen.get(), t0);
  }

  // Streaming: message_start and a ping, the content blocks, then message_delta (stop reason, output
  // tokens) and message_stop; a failure mid-way is an error event.
  auto blocks = std::make_shared<BlockStream>();
  auto began = std::make_shared<bool>(false);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      guarded(gen, [gen, blocks, began, id, model](size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
        if (!*began) {
          *began = true;
          ordered_json msg = {{"id", id}, {"type", "message"}, {"role", "assistant"}, {"model", model},
                              {"content", ordered_json::array()}, {"stop_reason", nullptr}, {"stop_sequence", nullptr},
                              {"usage", usage_json(*gen, 0)}};
          return write(event("message_start", {{"type", "message_start"}, {"message", msg}}) +
                       event("ping", {{"type", "ping"}}));
        }
        ChoiceUpdate u;
        if (gen->next(&u)) {
          std::string out = blocks->push(u.delta);
          if (u.ended) {
            if (!gen->status(0).ok()) {
              ApiError e = make_api_error(500, "server_error", "generation failed: " + gen->status(0).error().message);
              out += event("error", anthropic_error_body(e));
            } else {
              if (!blocks->any()) out += blocks->open("text");  // an empty reply still has its text block
              out += blocks->close();
              out += event("message_delta", {{"type", "message_delta"},
                                             {"delta", {{"stop_reason", stop_reason(*gen)}, {"stop_sequence", stop_sequence(*gen)}}},
                                             {"usage", {{"output_tokens", gen->completion_tokens()}}}});
              out += event("message_stop", {{"type", "message_stop"}});
            }
          }
          const bool ok = out.empty() || write(out);
          if (!ok) gen->cancel();
          return ok;
        }
        sink.done();
        return true;
      }),
      stream_done("messages", gen, t0));
}

}  // namespace g4::serve
