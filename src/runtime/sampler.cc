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
  size_t k = p_.top_k > 0 ? std::min(cand_.size(), size_t(p_.top_k)) : cand_.size();
  std::partial_sort(cand_.begin(), cand_.begin() + ptrdiff_t(k), cand_.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  cand_.resize(k);
  // Softmax over the kept candidates.
  const float mx = cand_[0].first;
  std::vector<double> prob(cand_.size());
  double sum = 0;
  for (size_t i = 0; i < cand_.size(); ++i) sum += prob[i] = std::exp(double(cand_[i].first - mx));
  for (auto& pr : prob) pr /= sum;
  // top-p: the smallest prefix whose mass reaches p (at least one token).
  size_t keep = prob.size();
  if (p_.top_p < 1.0f) {
    double acc = 0;
    for (size_t i = 0; i < prob.size(); ++i) {
      acc += prob[i];
      if (acc >= p_.top_p) { keep = i + 1; break; }
    }
  }
  // min-p: drop tokens below min_p times the top probability.
  if (p_.min_p > 0.0f)
    while (keep > 1 && prob[keep - 1] < p_.min_p * prob[0]) --keep;
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += prob[i];
  double r = std::uniform_real_distribution<double>(0.0, total)(rng_);
  for (size_t i = 0; i < keep; ++i) {
    r -= prob[i];
    if (r <= 0) return cand_[i].second;
  }
  return cand_[keep - 1].second;
}

}  // namespace g4
