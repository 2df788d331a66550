#include "serve/generation.h"

#include <chrono>
#include <cstdio>

namespace g4::serve {

namespace {

ApiError api_error(int status, const std::string& type, const std::string& msg, const std::string& code = "",
                   const std::string& param = "") {
  ApiError e;
  e.status = status;
  e.type = type;
  e.message = msg;
  e.code = code;
  e.param = param;
  return e;
}

}  // namespace

Parsed<std::shared_ptr<Generation>> Generation::start(Engine& engine, const ModelConfig& config, const Tokenizer& tok,
                                                      GenerationSpec spec) {
  const int context = engine.options().context;
  const GenerationParams& g = spec.gen;
  const int64_t want = int64_t(spec.prompt.size()) + (g.max_tokens > 0 ? g.max_tokens : 1);
  if (want > context) {
    char msg[256];
    std::snprintf(msg, sizeof msg,
                  "This model's context per sequence is %d tokens, but %lld were requested (%zu in the prompt, "
                  "%d to generate)",
                  context, static_cast<long long>(want), spec.prompt.size(), g.max_tokens > 0 ? g.max_tokens : 1);
    return api_error(400, "invalid_request_error", msg, "context_length_exceeded",
                     g.max_tokens > 0 ? "max_tokens" : spec.context_param);
  }
  std::shared_ptr<Generation> gen(new Generation());
  gen->single_tool_call_ = spec.single_tool_call;
  gen->prompt_tokens_ = int(spec.prompt.size());
  gen->choices_.resize(size_t(spec.n));
  std::weak_ptr<Generation> w = gen;
  std::vector<std::unique_ptr<GenRequest>> reqs;
  for (int i = 0; i < spec.n; ++i) {
    auto req = std::make_unique<GenRequest>();
    req->max_tokens = g.max_tokens > 0 ? g.max_tokens : context - int(spec.prompt.size());
    req->prompt = spec.prompt;
    req->snapshot_at = spec.snapshot_at;
    req->sampling = g.sampling;
    req->sampling.seed = g.sampling.seed + uint64_t(i);  // n choices: n different draws, each reproducible
    req->stop_ids = config.eos_ids;
    req->top_logprobs = g.top_logprobs;
    req->constraint = spec.constraint;
    req->on_token = [w, i](const TokenEvent& ev) {
      auto gen = w.lock();
      if (!gen) return false;
      std::lock_guard<std::mutex> lk(gen->mu_);
      Event e;
      e.choice = i;
      e.token = ev;
      gen->events_.push_back(std::move(e));
      gen->cv_.notify_all();
      return true;
    };
    req->on_done = [w, i](const Status& st, const std::string& reason, const GenStats& stats) {
      auto gen = w.lock();
      if (!gen) return;
      std::lock_guard<std::mutex> lk(gen->mu_);
      Event e;
      e.choice = i;
      e.end = true;
      e.status = st;
      e.reason = reason;
      e.stats = stats;
      gen->events_.push_back(std::move(e));
      gen->cv_.notify_all();
    };
    auto& c = gen->choices_[size_t(i)];
    c.out = std::make_unique<OutputAssembler>(tok, g.stop, spec.chat, spec.parser, g.top_logprobs);
    c.cancelled = req->cancelled;
    reqs.push_back(std::move(req));
  }
  // All choices or none: a refusal after the first was queued cancels those already in.
  for (size_t i = 0; i < reqs.size(); ++i) {
    Engine::Refusal why = Engine::Refusal::kNone;
    Status s = engine.submit(std::move(reqs[i]), &why);
    if (s.ok()) continue;
    gen->cancel();
    if (why == Engine::Refusal::kBusy) return api_error(503, "server_error", s.error().message, "server_busy");
    if (why == Engine::Refusal::kStopping) return api_error(503, "server_error", s.error().message, "shutting_down");
    return api_error(400, "invalid_request_error", s.error().message);
  }
  return gen;
}

Generation::~Generation() { cancel(); }

void Generation::cancel() {
  for (auto& c : choices_)
    if (c.cancelled) c.cancelled->store(true);
}

bool Generation::take(std::unique_lock<std::mutex>& lk, ChoiceUpdate* u) {
  Event e = std::move(events_.front());
  events_.pop_front();
  lk.unlock();
  Choice& c = choices_[size_t(e.choice)];
  *u = ChoiceUpdate{};
  u->choice = e.choice;
  if (!e.end) {
    if (c.cut) return true;  // after a stop string or the one tool call: ignored
    bool stopped = false;
    const size_t calls = c.out->tool_calls().size();
    u->delta = c.out->push(e.token, &stopped);
    if (stopped || (single_tool_call_ && c.out->tool_calls().size() > calls)) {
      c.cut = true;
      c.cancelled->store(true);
    }
  } else {
    u->delta = c.out->finish();
    u->ended = true;
    c.ended = true;
    c.status = e.status;
    c.reason = e.reason;
    c.stats = e.stats;
  }
  lk.lock();
  if (u->ended) ++reported_;
  return true;
}

bool Generation::next(ChoiceUpdate* u) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return !events_.empty() || reported_ == n(); });
  if (events_.empty()) return false;
  return take(lk, u);
}

bool Generation::next_for(ChoiceUpdate* u, int ms, bool* timed_out) {
  std::unique_lock<std::mutex> lk(mu_);
  *timed_out = !cv_.wait_for(lk, std::chrono::milliseconds(ms), [&] { return !events_.empty() || reported_ == n(); });
  if (*timed_out || events_.empty()) return false;
  return take(lk, u);
}

bool Generation::delivered() {
  std::lock_guard<std::mutex> lk(mu_);
  return reported_ == n();
}

std::string Generation::finish_reason(int i) const {
  const Choice& c = choices_[size_t(i)];
  if (c.out->stopped()) return "stop";
  if (!c.out->tool_calls().empty()) return "tool_calls";
  return c.reason == "length" ? "length" : "stop";
}

Status Generation::failure() const {
  for (const auto& c : choices_)
    if (!c.status.ok()) return c.status;
  return {};
}

int Generation::cached_tokens() const { return choices_.empty() ? 0 : choices_[0].stats.cached_tokens; }

int Generation::completion_tokens() const {
  int n = 0;
  for (const auto& c : choices_) n += c.out->tokens();
  return n;
}

}  // namespace g4::serve

namespace g4::serve {

OutputConstraint chat_constraint(const ChatRequestBody& r, const Tokenizer& tok) {
  OutputConstraint c;
  if (r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed) {
    for (const auto& t : r.tools) {
      const auto& f = t["function"];
      const std::string name = f["name"].get<std::string>();
      if (r.tool_choice == ToolChoice::kNamed && name != r.tool_name) continue;
      // A function without parameters has one possible call: all of it is forced.
      const auto props = f.contains("parameters") && f["parameters"].is_object() ? f["parameters"].value("properties", nlohmann::ordered_json())
                                                                                  : nlohmann::ordered_json();
      const bool no_args = !props.is_object() || props.empty();
      const std::string call = "<|tool_call>call:" + name + (no_args ? "{}<tool_call|>" : "{");
      c.prefixes.push_back(tok.encode(call, /*parse_special=*/true));
    }
  }
  if (r.thinking) {
    const auto open = tok.encode("<|channel>", true), close = tok.encode("<channel|>", true);
    if (open.size() == 1 && close.size() == 1) {
      c.block_open = open[0];
      c.block_close = close[0];
      c.block_budget = r.thinking_budget;
    }
  }
  return c;
}

}  // namespace g4::serve
