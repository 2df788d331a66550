#include "session/chat_session.h"

#include <algorithm>

#include "runtime/generate.h"
#include "text/builtin_template.h"
#include "text/chat_template.h"

namespace g4 {

Result<std::unique_ptr<ChatSession>> ChatSession::create(Gemma4Model& model, const Tokenizer& tokenizer,
                                                         const jinja::Template& tmpl, int context, int chunk) {
  auto s = std::unique_ptr<ChatSession>(new ChatSession(model, tokenizer, tmpl));
  G4_ASSIGN_OR_RETURN(auto cache, model.new_cache(context, chunk));
  s->seq_ = std::make_unique<CachedSequence>(std::move(cache));
  s->chunk_ = chunk;
  return s;
}

Result<std::string> render_conversation(const jinja::Template& tmpl, const nlohmann::ordered_json& messages,
                                        const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                        bool thinking, const Tokenizer& tokenizer) {
  ChatSpecialTokens special;
  special.bos_token = tokenizer.piece(tokenizer.bos_id());
  special.eos_token = tokenizer.piece(tokenizer.eos_id());
  return render_chat(tmpl, messages, tools, add_generation_prompt, {{"enable_thinking", thinking}}, special);
}

Result<ChatPrompt> prepare_chat_prompt(const jinja::Template& tmpl, const nlohmann::ordered_json& messages,
                                       const nlohmann::ordered_json& tools, bool thinking, const Tokenizer& tok) {
  ChatPrompt p;
  G4_ASSIGN_OR_RETURN(p.text, render_conversation(tmpl, messages, tools, true, thinking, tok));
  G4_ASSIGN_OR_RETURN(std::string history, render_conversation(tmpl, messages, tools, false, thinking, tok));
  // The template writes <bos> itself, so the tokenizer adds nothing (no double BOS).
  p.ids = tok.encode(p.text, /*parse_special=*/true);
  // Where the history ends inside the prompt (the generation prompt starts with a special token, so
  // the history's tokens are a prefix of the prompt's).
  if (p.text.compare(0, history.size(), history) == 0) {
    auto h = tok.encode(history, /*parse_special=*/true);
    if (h.size() < p.ids.size() && std::equal(h.begin(), h.end(), p.ids.begin())) p.history_len = int(h.size());
  }
  const std::string closed_channel = "<|channel>thought\n<channel|>";
  p.parser.thinking = p.text.size() >= closed_channel.size() &&
                              p.text.compare(p.text.size() - closed_channel.size(), closed_channel.size(),
                                             closed_channel) == 0
                          ? ResponseParserOptions::Thinking::disabled
                          : ResponseParserOptions::Thinking::enabled;
  p.parser.tools_offered = tools.is_array() && !tools.empty();
  return p;
}

Result<jinja::Template> model_chat_template(const ModelFiles& files) {
  if (files.chat_template.empty())
    return jinja::Template::parse(builtin_gemma4_chat_template(), "built-in Gemma 4 chat template");
  return jinja::Template::parse(files.chat_template, files.chat_template_source);
}

Result<std::string> ChatSession::render(const ChatRequest& req) const {
  return render_conversation(tmpl_, req.messages, req.tools, true, req.thinking, tok_);
}

void ChatSession::reset() { seq_->reset(); }

Result<ChatReply> ChatSession::respond(const ChatRequest& req,
                                       const std::function<void(const ResponseEvent&)>& on_event) {
  G4_ASSIGN_OR_RETURN(ChatPrompt cp, prepare_chat_prompt(tmpl_, req.messages, req.tools, req.thinking, tok_));
  const std::vector<int32_t>& ids = cp.ids;
  const int history_len = cp.history_len;
  if (ids.empty()) return make_error("the chat template rendered an empty prompt");
  const int vocab = model_.config().vocab_size;
  for (int32_t id : ids)
    if (id >= vocab) return make_error("the prompt contains token %d, outside this model's vocabulary (%d)", id, vocab);
  SequenceCache& cache = seq_->cache();
  if (int64_t(ids.size()) + 1 > cache.max_context())
    return make_error("the conversation needs %zu tokens but the context holds %d", ids.size(), cache.max_context());

  ChatReply reply;
  reply.prompt_tokens = int(ids.size());
  reply.cached_tokens = seq_->reuse(ids);

  // Prefill up to the end of the history, keep a snapshot there, then the generation prompt.
  int done = reply.cached_tokens;
  if (history_len > done) {
    std::vector<int32_t> part(ids.begin() + done, ids.begin() + history_len);
    auto r = prefill(model_, cache, part, chunk_);
    if (!r.ok()) {
      reset();
      return r.error();
    }
    seq_->appended(part.data(), part.size());
    done = history_len;
    seq_->take_snapshot();
  }
  std::vector<int32_t> rest(ids.begin() + done, ids.end());
  auto logits = prefill(model_, cache, rest, chunk_);
  if (!logits.ok()) {
    reset();
    return logits.error();
  }
  seq_->appended(rest.data(), rest.size());

  ResponseParser parser(cp.parser);
  auto deliver = [&](std::vector<ResponseEvent> events) {
    for (auto& e : events) {
      switch (e.kind) {
        case ResponseEvent::Kind::reasoning_delta: reply.reasoning += e.text; break;
        case ResponseEvent::Kind::content_delta: reply.content += e.text; break;
        case ResponseEvent::Kind::tool_call: reply.tool_calls.push_back(e.tool_call); break;
        case ResponseEvent::Kind::warning: reply.warnings.push_back(e.text); break;
      }
      if (on_event) on_event(e);
    }
  };

  Sampler sampler(req.sampling, model_.config().suppress_ids);
  const auto& stops = model_.config().eos_ids;
  StreamDecoder dec(tok_);
  std::vector<float> next = std::move(logits.value());
  reply.finish_reason = "length";
  for (int i = 0; i < req.max_new_tokens; ++i) {
    int32_t id = sampler.sample(next);
    reply.output_ids.push_back(id);
    ++reply.completion_tokens;
    // Stop tokens still go to the parser: it treats them as the end of the output.
    deliver(parser.push(dec.push(id)));
    if (std::find(stops.begin(), stops.end(), id) != stops.end()) {
      reply.finish_reason = "stop";
      break;
    }
    if (cache.n_past() >= cache.max_context()) break;
    next.clear();
    Gemma4Model::Run run{&cache, std::span<const int32_t>(&id, 1), false};
    if (Status s = model_.forward(std::span<const Gemma4Model::Run>(&run, 1), next); !s) {
      reset();
      return s.error();
    }
    seq_->appended(&id, 1);
  }
  deliver(parser.push(dec.flush()));
  deliver(parser.finish());
  if (!reply.tool_calls.empty()) reply.finish_reason = "tool_calls";
  return reply;
}

}  // namespace g4
