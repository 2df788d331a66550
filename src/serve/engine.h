// The serving engine: many sequences share each forward pass (continuous batching).
//
// A fixed set of slots, each with its own KV cache made when the engine starts (so memory is
// reserved up front and a request can never fail for lack of it later), runs the admitted requests.
// One engine thread loops: it admits queued requests into free slots, then builds one batch from
// every running sequence (one token for each decoding sequence, then prefill chunks up to the
// batch's token budget), runs it, samples, and hands each request its new token. Requests join and
// leave between steps without waiting for each other. A full queue refuses new requests at once.
//
// A slot remembers the tokens its cache holds; a new request goes to the free slot sharing the
// longest prefix with its prompt and reuses those positions (a chat's earlier turns, a shared system
// prompt). Rolling back the sliding layers' rings only reaches a few positions, so a request may name
// a point of its prompt (`snapshot_at`, the end of a chat's history) where the slot keeps a snapshot
// of the rings that the next turn can restore.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/gemma4.h"
#include "runtime/sampler.h"
#include "serve/constraint.h"
#include "util/result.h"

namespace g4 {

struct EngineOptions {
  int max_seqs = 4;            // sequences decoding at once (slots)
  int context = 4096;          // positions per sequence
  int max_batch_tokens = 512;  // tokens per forward step (prefill chunks are cut to fit)
  int max_queue = 64;          // requests waiting for a slot; more are refused
};

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
};

// What the engine reports for each generated token (on the engine thread; keep it short).
struct TokenEvent {
  int32_t id = 0;
  float logprob = 0;                // of the sampled token under the model's distribution
  std::vector<TokenLogprob> top;    // the most likely tokens, when asked for
};

struct GenStats {
  int prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
  double queue_s = 0, prefill_s = 0, decode_s = 0;  // waiting for a slot; admission to first token; after
};

struct GenRequest {
  std::vector<int32_t> prompt;
  int snapshot_at = 0;  // 0 < snapshot_at < prompt.size(): keep a snapshot after this many tokens
  SamplingParams sampling;
  int max_tokens = 256;
  std::vector<int32_t> stop_ids;  // generation ends after one of these (it is still reported)
  int top_logprobs = -1;          // -1: no logprobs; 0..20: the sampled token's and this many others
  OutputConstraint constraint;    // how the output must begin (a forced tool call), a thinking budget
  // Called for every token; returns false to end the generation ("stop": a stop string matched).
  std::function<bool(const TokenEvent&)> on_token;
  // Called once at the end: finish reason "stop", "length" or "cancelled", or an error.
  std::function<void(const Status& status, const std::string& finish_reason, const GenStats& stats)> on_done;
  // Set from any thread to drop the request (a client that went away); it ends within one step.
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
};

struct EngineMetrics {
  uint64_t requests_done = 0, requests_refused = 0, prompt_tokens = 0, cached_tokens = 0, generated_tokens = 0;
  uint64_t steps = 0, step_tokens = 0, step_seqs = 0;  // sums over forward steps
  int running = 0, queued = 0, max_seqs = 0;
  int last_batch_seqs = 0, last_batch_tokens = 0, max_batch_seqs_seen = 0;
  size_t kv_bytes = 0;
  int64_t kv_positions_used = 0, kv_positions_total = 0;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(Gemma4Model& model, EngineOptions options);
  ~Engine();  // drains: finishes the running requests, fails the queued ones

  // Queues a request. Fails at once (no callback is called) when the prompt is empty or does not fit
  // the context with at least one token to generate (kInvalid), the queue is full (kBusy) or the
  // engine is draining (kStopping).
  enum class Refusal { kNone, kInvalid, kBusy, kStopping };
  Status submit(std::unique_ptr<GenRequest> req, Refusal* why = nullptr);

  // Stops taking requests and returns when the running and queued ones are done.
  void drain();

  const EngineOptions& options() const { return opt_; }
  EngineMetrics metrics() const;

 private:
  struct Slot;
  Engine(Gemma4Model& m, EngineOptions o);
  void loop();
  void admit(std::unique_lock<std::mutex>& lk);
  void start(Slot& s, std::unique_ptr<GenRequest> req, double queued_s);
  void finish(Slot& s, const Status& st, const std::string& reason);
  bool step();  // one forward pass over the running slots; false when none runs

  Gemma4Model& model_;
  EngineOptions opt_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_, cv_idle_;
  std::deque<std::pair<std::unique_ptr<GenRequest>, std::chrono::steady_clock::time_point>> queue_;  // with its arrival
  bool stopping_ = false, draining_ = false;
  EngineMetrics metrics_;
};

}  // namespace g4
