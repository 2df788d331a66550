#include "serve/metrics.h"

#include <cstdio>

namespace g4::serve {

namespace {

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

void metric(std::string& out, const char* name, const char* type, const char* help, const std::string& value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value + "\n";
}

}  // namespace

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++n_;
}

std::string Histogram::text(const std::string& name) const {
  std::string out;
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
  out += name + "_sum " + num(sum_) + "\n" + name + "_count " + std::to_string(n_) + "\n";
  return out;
}

void ServerMetrics::request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lk(mu_);
  ++requests_[{endpoint, status}];
}
void ServerMetrics::ttft(double s) {
  std::lock_guard<std::mutex> lk(mu_);
  ttft_.observe(s);
}
void ServerMetrics::inter_token(double s) {
  std::lock_guard<std::mutex> lk(mu_);
  itl_.observe(s);
}

std::string ServerMetrics::prometheus(const EngineMetrics& e) const {
  std::lock_guard<std::mutex> lk(mu_);
  std::string out = "# HELP g4_requests_total HTTP requests by endpoint and status.\n# TYPE g4_requests_total counter\n";
  for (const auto& [k, n] : requests_)
    out += "g4_requests_total{endpoint=\"" + k.first + "\",status=\"" + std::to_string(k.second) + "\"} " +
           std::to_string(n) + "\n";
  metric(out, "g4_requests_refused_total", "counter", "Requests refused because the queue was full.", std::to_string(e.requests_refused));
  metric(out, "g4_generations_total", "counter", "Generations the engine finished.", std::to_string(e.requests_done));
  metric(out, "g4_prompt_tokens_total", "counter", "Prompt tokens of finished generations.", std::to_string(e.prompt_tokens));
  metric(out, "g4_cached_prompt_tokens_total", "counter", "Prompt tokens reused from the KV cache.", std::to_string(e.cached_tokens));
  metric(out, "g4_generation_tokens_total", "counter", "Tokens generated.", std::to_string(e.generated_tokens));
  metric(out, "g4_requests_running", "gauge", "Sequences in the running batch.", std::to_string(e.running));
  metric(out, "g4_requests_waiting", "gauge", "Requests waiting for a slot.", std::to_string(e.queued));
  metric(out, "g4_max_sequences", "gauge", "Slots (sequences that can run at once).", std::to_string(e.max_seqs));
  metric(out, "g4_steps_total", "counter", "Forward passes.", std::to_string(e.steps));
  metric(out, "g4_step_tokens_total", "counter", "Tokens over all forward passes.", std::to_string(e.step_tokens));
  metric(out, "g4_step_sequences_total", "counter", "Sequences over all forward passes.", std::to_string(e.step_seqs));
  metric(out, "g4_batch_sequences", "gauge", "Sequences in the last forward pass.", std::to_string(e.last_batch_seqs));
  metric(out, "g4_batch_tokens", "gauge", "Tokens in the last forward pass.", std::to_string(e.last_batch_tokens));
  metric(out, "g4_batch_sequences_max", "gauge", "Most sequences seen in one forward pass.", std::to_string(e.max_batch_seqs_seen));
  metric(out, "g4_kv_cache_bytes", "gauge", "KV cache memory reserved.", std::to_string(e.kv_bytes));
  metric(out, "g4_kv_cache_usage_ratio", "gauge", "Share of the KV positions in use.",
         num(e.kv_positions_total ? double(e.kv_positions_used) / double(e.kv_positions_total) : 0.0));
  out += "# HELP g4_time_to_first_token_seconds Time from arrival to the first token.\n"
         "# TYPE g4_time_to_first_token_seconds histogram\n" + ttft_.text("g4_time_to_first_token_seconds");
  out += "# HELP g4_inter_token_latency_seconds Mean time between tokens, per request.\n"
         "# TYPE g4_inter_token_latency_seconds histogram\n" + itl_.text("g4_inter_token_latency_seconds");
  return out;
}

}  // namespace g4::serve
