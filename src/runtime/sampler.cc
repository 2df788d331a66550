#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace g4 {

Sampler::Sampler(SamplingParams p, std::vector<int32_t> suppressed)
    : p_(p), suppressed_(std::move(suppressed)), rng_(p.seed) {}

int32_t Sampler::sample(std::span<const float> logits) {
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
