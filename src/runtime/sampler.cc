#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace g4 {

Sampler::Sampler(SamplingParams p, std::vector<int32_t> suppressed)
    : p_(p), suppressed_(std::move(suppressed)), rng_(p.seed) {}

void Sampler::set_prompt(std::span<const int32_t> prompt) {
  prompt_.assign(prompt.begin(), prompt.end());
  std::sort(prompt_.begin(), prompt_.end());
  prompt_.erase(std::unique(prompt_.begin(), prompt_.end()), prompt_.end());
}

bool Sampler::adjusts() const {
  return !p_.logit_bias.empty() || p_.repetition_penalty != 1.0f || p_.presence_penalty != 0.0f ||
         p_.frequency_penalty != 0.0f;
}

std::span<const float> Sampler::adjust(std::span<const float> logits) {
  if (!adjusts()) return logits;
  const size_t V = logits.size();
  adjusted_.assign(logits.begin(), logits.end());
  for (const auto& [id, bias] : p_.logit_bias)
    if (id >= 0 && size_t(id) < V) adjusted_[size_t(id)] += bias;
  if (p_.repetition_penalty != 1.0f) {
    auto penalize = [&](int32_t id) {
      if (id < 0 || size_t(id) >= V) return;
      float& l = adjusted_[size_t(id)];
      l = l > 0 ? l / p_.repetition_penalty : l * p_.repetition_penalty;
    };
    // Each distinct token once, whether it is in the prompt, the output or both.
    size_t i = 0, j = 0;
    while (i < prompt_.size() || j < counts_.size()) {
      if (j == counts_.size() || (i < prompt_.size() && prompt_[i] < counts_[j].first)) {
        penalize(prompt_[i++]);
      } else {
        if (i < prompt_.size() && prompt_[i] == counts_[j].first) ++i;
        penalize(counts_[j++].first);
      }
    }
  }
  for (const auto& [id, n] : counts_)
    if (id >= 0 && size_t(id) < V) adjusted_[size_t(id)] -= p_.presence_penalty + p_.frequency_penalty * float(n);
  return adjusted_;
}

int32_t Sampler::sample(std::span<const float> raw) {
  const int32_t id = pick(adjust(raw));
  auto it = std::lower_bound(counts_.begin(), counts_.end(), std::make_pair(id, 0));
  if (it != counts_.end() && it->first == id) ++it->second;
  else counts_.insert(it, {id, 1});
  return id;
}

int32_t Sampler::pick(std::span<const float> logits) {
  const int32_t V = int32_t(logits.size());
  auto allowed = [&](int32_t id) {
    return std::find(suppressed_.begin(), suppressed_.end(), id) == suppressed_.end();
  };
  if (p_.temperature <= 0.0f) {
    int32_t best = -1;
    for (int32_t i = 0; i < V; ++i)
      if (allowed(i) && (best < 0 || logits[size_t(i)] > logits[size_t(best)])) best = i;
    return best;
  }
  cand_.clear();
  for (int32_t i = 0; i < V; ++i)
    if (allowed(i) && std::isfinite(logits[size_t(i)])) cand_.emplace_back(logits[size_t(i)] / p_.temperature, i);
  if (cand_.empty()) return 0;
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  // Only as much of the vocabulary is sorted as the filters need: the top k; for top-p, a growing
  // head until its mass reaches p. With neither, the draw runs over the candidates unsorted.
  size_t n = cand_.size();
  bool sorted = false;
  if (p_.top_k > 0 && size_t(p_.top_k) < n) {
    n = size_t(p_.top_k);
    std::partial_sort(cand_.begin(), cand_.begin() + ptrdiff_t(n), cand_.end(), by_logit);
    cand_.resize(n);
    sorted = true;
  }
  float mx = -INFINITY;
  for (const auto& c : cand_) mx = std::max(mx, c.first);
  double sum = 0;
  for (const auto& c : cand_) sum += std::exp(double(c.first - mx));
  size_t keep = n;
  if (p_.top_p < 1.0f) {
    // top-p: the smallest head (in logit order) whose mass reaches p (at least one token).
    size_t head = sorted ? n : std::min(n, size_t(256));
    for (;;) {
      if (!sorted) std::partial_sort(cand_.begin(), cand_.begin() + ptrdiff_t(head), cand_.end(), by_logit);
      double acc = 0;
      keep = 0;
      for (size_t i = 0; i < head && keep == 0; ++i) {
        acc += std::exp(double(cand_[i].first - mx)) / sum;
        if (acc >= p_.top_p) keep = i + 1;
      }
      if (keep > 0 || head == n) {
        if (keep == 0) keep = n;
        break;
      }
      head = std::min(n, head * 8);
    }
    sorted = true;
  }
  // min-p: drop tokens below min_p times the top probability (exp(l - mx) < min_p).
  prob_.clear();
  size_t kept = 0;
  for (size_t i = 0; i < keep; ++i) {
    const double pr = std::exp(double(cand_[i].first - mx));
    if (p_.min_p > 0.0f && pr < double(p_.min_p) && !(i == 0 && sorted)) continue;
    cand_[kept] = cand_[i];
    prob_.push_back(pr);
    ++kept;
  }
  if (kept == 0) {  // min-p dropped everything but the top token, which it always keeps
    const auto top = *std::min_element(cand_.begin(), cand_.begin() + ptrdiff_t(keep), by_logit);
    return top.second;
  }
  double total = 0;
  for (double pr : prob_) total += pr;
  double r = std::uniform_real_distribution<double>(0.0, total)(rng_);
  for (size_t i = 0; i < kept; ++i) {
    r -= prob_[i];
    if (r <= 0) return cand_[i].second;
  }
  return cand_[kept - 1].second;
}

}  // namespace g4
