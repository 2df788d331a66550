#include "serve/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "runtime/cached_sequence.h"

namespace g4 {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The sampled token's log-probability under the model's distribution (the logits as they come,
// before temperature and filtering), and the `top` most likely tokens.
void fill_logprobs(std::span<const float> logits, int32_t id, int top, TokenEvent& ev) {
  float mx = -INFINITY;
  for (float l : logits) mx = std::max(mx, l);
  double sum = 0;
  for (float l : logits) sum += std::exp(double(l - mx));
  const float lse = mx + float(std::log(sum));
  ev.logprob = logits[size_t(id)] - lse;
  if (top <= 0) return;
  std::vector<int32_t> idx(logits.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = int32_t(i);
  const size_t k = std::min(idx.size(), size_t(top));
  std::partial_sort(idx.begin(), idx.begin() + ptrdiff_t(k), idx.end(), [&](int32_t a, int32_t b) {
    return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
  });
  for (size_t i = 0; i < k; ++i) ev.top.push_back({idx[i], logits[size_t(idx[i])] - lse});
}

}  // namespace

struct Engine::Slot {
  std::unique_ptr<CachedSequence> seq;
  std::unique_ptr<GenRequest> req;  // null: free
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<ConstraintState> constraint;
  size_t fed = 0;      // prompt tokens in the cache
  int32_t next = -1;   // the last sampled token, fed at the next step
  GenStats stats;
  Clock::time_point admitted, first_token;
  bool prefilling() const { return fed < req->prompt.size(); }
};

Engine::Engine(Gemma4Model& m, EngineOptions o) : model_(m), opt_(o) {}

Result<std::unique_ptr<Engine>> Engine::create(Gemma4Model& model, EngineOptions o) {
  if (o.max_seqs < 1) return make_error("max_seqs must be at least 1 (got %d)", o.max_seqs);
  if (o.context < 2) return make_error("the context per sequence must be at least 2 (got %d)", o.context);
  if (o.max_batch_tokens < 1) return make_error("max_batch_tokens must be at least 1 (got %d)", o.max_batch_tokens);
  if (o.max_queue < 0) return make_error("max_queue must not be negative (got %d)", o.max_queue);
  auto e = std::unique_ptr<Engine>(new Engine(model, o));
  for (int i = 0; i < o.max_seqs; ++i) {
    G4_ASSIGN_OR_RETURN(auto cache, model.new_cache(o.context, o.max_batch_tokens));
    // Reserve every position now: memory is taken at start-up, never at request time.
    auto slot = std::make_unique<Slot>();
    slot->seq = std::make_unique<CachedSequence>(std::move(cache));
    e->slots_.push_back(std::move(slot));
  }
  for (auto& s : e->slots_) {
    e->metrics_.kv_bytes += s->seq->cache().bytes();
    e->metrics_.kv_positions_total += o.context;
  }
  e->metrics_.max_seqs = o.max_seqs;
  e->thread_ = std::thread([p = e.get()] { p->loop(); });
  return e;
}

Engine::~Engine() {
  drain();
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Engine::submit(std::unique_ptr<GenRequest> req, Refusal* why) {
  Refusal ignored;
  if (!why) why = &ignored;
  *why = Refusal::kInvalid;
  if (!req) return make_error("no request");
  if (req->prompt.empty()) return make_error("the prompt is empty");
  if (int64_t(req->prompt.size()) + 1 > opt_.context)
    return make_error("the prompt has %zu tokens; with at least one to generate that needs %zu, but the context "
                      "per sequence is %d",
                      req->prompt.size(), req->prompt.size() + 1, opt_.context);
  const int vocab = model_.config().vocab_size;
  for (int32_t id : req->prompt)
    if (id < 0 || id >= vocab) return make_error("the prompt has token %d, outside the vocabulary (0..%d)", id, vocab - 1);
  if (req->max_tokens < 1) return make_error("max_tokens must be at least 1 (got %d)", req->max_tokens);
  std::lock_guard<std::mutex> lk(mu_);
  if (draining_ || stopping_) {
    *why = Refusal::kStopping;
    return make_error("the server is shutting down");
  }
  // Slots belong to the engine thread; `running` (kept under mu_) says how many are taken.
  const int free_slots = opt_.max_seqs - metrics_.running;
  if (int(queue_.size()) >= opt_.max_queue + free_slots) {
    ++metrics_.requests_refused;
    *why = Refusal::kBusy;
    return make_error("the server is busy: %d requests running and %zu waiting (limit %d); try again later",
                      metrics_.running, queue_.size(), opt_.max_queue);
  }
  queue_.emplace_back(std::move(req), Clock::now());
  metrics_.queued = int(queue_.size());
  cv_.notify_all();
  *why = Refusal::kNone;
  return {};
}

void Engine::drain() {
  std::unique_lock<std::mutex> lk(mu_);
  draining_ = true;
  cv_.notify_all();
  cv_idle_.wait(lk, [&] { return stopping_ || (queue_.empty() && metrics_.running == 0); });
}

EngineMetrics Engine::metrics() const {
  std::lock_guard<std::mutex> lk(mu_);
  return metrics_;
}

// Called with mu_ held: moves queued requests into free slots, each to the free slot that can reuse
// the most of its prompt.
void Engine::admit(std::unique_lock<std::mutex>& lk) {
  std::vector<std::pair<std::unique_ptr<GenRequest>, Clock::time_point>> taken;
  std::vector<Slot*> where;
  for (;;) {
    if (queue_.empty()) break;
    Slot* best = nullptr;
    int best_keep = -1;
    for (auto& s : slots_) {
      if (s->req) continue;
      bool claimed = std::find(where.begin(), where.end(), s.get()) != where.end();
      if (claimed) continue;
      const int keep = s->seq->reusable(queue_.front().first->prompt);
      if (keep > best_keep) best = s.get(), best_keep = keep;
    }
    if (!best) break;
    taken.push_back(std::move(queue_.front()));
    queue_.pop_front();
    where.push_back(best);
  }
  metrics_.queued = int(queue_.size());
  metrics_.running += int(taken.size());
  lk.unlock();
  for (size_t i = 0; i < taken.size(); ++i) start(*where[i], std::move(taken[i].first), seconds_since(taken[i].second));
  lk.lock();
}

void Engine::start(Slot& s, std::unique_ptr<GenRequest> req, double queued_s) {
  s.req = std::move(req);
  s.stats = GenStats{};
  s.stats.queue_s = queued_s;
  s.stats.prompt_tokens = int(s.req->prompt.size());
  s.stats.cached_tokens = s.seq->reuse(s.req->prompt);
  s.fed = size_t(s.stats.cached_tokens);
  s.next = -1;
  s.sampler = std::make_unique<Sampler>(s.req->sampling, model_.config().suppress_ids);
  s.constraint = std::make_unique<ConstraintState>(s.req->constraint);
  s.admitted = Clock::now();
  if (s.req->cancelled->load()) finish(s, {}, "cancelled");
}

void Engine::finish(Slot& s, const Status& st, const std::string& reason) {
  if (!st.ok()) s.seq->reset();  // the cache may hold a half-written step
  if (s.stats.completion_tokens > 0) s.stats.decode_s = seconds_since(s.first_token);
  else s.stats.prefill_s = seconds_since(s.admitted);
  auto req = std::move(s.req);
  s.sampler.reset();
  s.constraint.reset();
  {
    std::lock_guard<std::mutex> lk(mu_);
    --metrics_.running;
    ++metrics_.requests_done;
    metrics_.prompt_tokens += uint64_t(s.stats.prompt_tokens);
    metrics_.cached_tokens += uint64_t(s.stats.cached_tokens);
    metrics_.generated_tokens += uint64_t(s.stats.completion_tokens);
  }
  if (req->on_done) req->on_done(st, reason, s.stats);
}

bool Engine::step() {
  // Requests whose client left end here, before they cost another step.
  for (auto& s : slots_)
    if (s->req && s->req->cancelled->load()) finish(*s, {}, "cancelled");

  std::vector<Gemma4Model::Run> runs;
  std::vector<Slot*> owners;
  int budget = opt_.max_batch_tokens;
  for (auto& s : slots_) {  // every decoding sequence gets its token
    if (!s->req || s->prefilling() || budget < 1) continue;
    runs.push_back({&s->seq->cache(), std::span<const int32_t>(&s->next, 1), false, false});
    owners.push_back(s.get());
    --budget;
  }
  // Prefill chunks share what is left, oldest admission first.
  std::vector<Slot*> pre;
  for (auto& s : slots_)
    if (s->req && s->prefilling()) pre.push_back(s.get());
  std::sort(pre.begin(), pre.end(), [](Slot* a, Slot* b) { return a->admitted < b->admitted; });
  for (Slot* s : pre) {
    if (budget < 1) break;
    const auto& prompt = s->req->prompt;
    size_t n = std::min(prompt.size() - s->fed, size_t(budget));
    const size_t snap = size_t(s->req->snapshot_at);
    if (snap > s->fed && snap < s->fed + n) n = snap - s->fed;  // stop at the snapshot point
    const bool last = s->fed + n == prompt.size();
    runs.push_back({&s->seq->cache(), std::span<const int32_t>(prompt.data() + s->fed, n), false, !last});
    owners.push_back(s);
    budget -= int(n);
  }
  if (runs.empty()) return false;

  std::vector<float> logits;
  const Status st = model_.forward(runs, logits);
  {
    std::lock_guard<std::mutex> lk(mu_);
    ++metrics_.steps;
    metrics_.step_seqs += runs.size();
    metrics_.step_tokens += uint64_t(opt_.max_batch_tokens - budget);
    metrics_.last_batch_seqs = int(runs.size());
    metrics_.last_batch_tokens = opt_.max_batch_tokens - budget;
    metrics_.max_batch_seqs_seen = std::max(metrics_.max_batch_seqs_seen, int(runs.size()));
    int64_t used = 0;
    for (auto& s : slots_) used += s->seq->cache().n_past();
    metrics_.kv_positions_used = used;
  }
  if (!st.ok()) {
    for (Slot* s : owners) finish(*s, st, "error");
    return true;
  }
  const size_t V = size_t(model_.config().vocab_size);
  std::vector<float> masked;
  std::vector<int32_t> allowed;
  size_t row = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    Slot& s = *owners[i];
    s.seq->appended(runs[i].tokens.data(), runs[i].tokens.size());
    if (s.prefilling()) {  // a prompt chunk
      s.fed += runs[i].tokens.size();
      if (s.req->snapshot_at > 0 && s.fed == size_t(s.req->snapshot_at)) s.seq->take_snapshot();
      if (runs[i].no_logits) continue;
    }
    std::span<const float> lg(logits.data() + row * V, V);
    ++row;
    if (s.req->cancelled->load()) {
      finish(s, {}, "cancelled");
      continue;
    }
    TokenEvent ev;
    if (s.constraint->active() && s.constraint->allowed(&allowed)) {
      masked.assign(lg.begin(), lg.end());
      mask_logits(masked, allowed);
      ev.id = s.sampler->sample(masked);
    } else {
      ev.id = s.sampler->sample(lg);
    }
    s.constraint->accept(ev.id);
    if (s.req->top_logprobs >= 0) fill_logprobs(lg, ev.id, s.req->top_logprobs, ev);
    if (s.stats.completion_tokens == 0) {
      s.first_token = Clock::now();
      s.stats.prefill_s = seconds_since(s.admitted);
    }
    ++s.stats.completion_tokens;
    const bool more = s.req->on_token ? s.req->on_token(ev) : true;
    const auto& stops = s.req->stop_ids;
    if (std::find(stops.begin(), stops.end(), ev.id) != stops.end() || !more) {
      finish(s, {}, "stop");
    } else if (s.stats.completion_tokens >= s.req->max_tokens || s.seq->cache().n_past() + 1 > opt_.context) {
      finish(s, {}, "length");
    } else {
      s.next = ev.id;
    }
  }
  return true;
}

void Engine::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      admit(lk);
      if (metrics_.running == 0) {
        if (queue_.empty()) cv_idle_.notify_all();
        if (stopping_ && queue_.empty()) return;
        cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
        continue;
      }
    }
    step();
  }
}

}  // namespace g4
