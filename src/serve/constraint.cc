#include "serve/constraint.h"

#include <algorithm>
#include <cmath>

namespace g4 {

ConstraintState::ConstraintState(const OutputConstraint& c) : c_(c) {
  for (size_t i = 0; i < c.prefixes.size(); ++i)
    if (!c.prefixes[i].empty()) alive_.push_back(i);
  phase_ = c.empty() ? Phase::kDone : Phase::kStart;
}

bool ConstraintState::allowed(std::vector<int32_t>* ids) const {
  ids->clear();
  switch (phase_) {
    case Phase::kDone:
      return false;
    case Phase::kBlock:
      if (c_.block_budget >= 0 && block_tokens_ >= c_.block_budget) {
        ids->push_back(c_.block_close);  // the budget is spent: close the block
        return true;
      }
      return false;
    case Phase::kStart:
    case Phase::kPrefix:
      if (alive_.empty()) return false;  // only a budget: the answer itself is free
      for (size_t i : alive_) ids->push_back(c_.prefixes[i][pos_]);
      if (phase_ == Phase::kStart && c_.block_open >= 0) ids->push_back(c_.block_open);
      std::sort(ids->begin(), ids->end());
      ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
      return true;
  }
  return false;
}

void ConstraintState::accept(int32_t id) {
  switch (phase_) {
    case Phase::kDone:
      return;
    case Phase::kBlock:
      if (id == c_.block_close) phase_ = alive_.empty() ? Phase::kDone : Phase::kPrefix;
      else ++block_tokens_;
      return;
    case Phase::kStart:
      if (c_.block_open >= 0 && id == c_.block_open) {
        phase_ = Phase::kBlock;
        return;
      }
      phase_ = Phase::kPrefix;
      [[fallthrough]];
    case Phase::kPrefix: {
      if (alive_.empty()) {
        phase_ = Phase::kDone;
        return;
      }
      std::vector<size_t> next;
      bool complete = false;
      for (size_t i : alive_) {
        const auto& p = c_.prefixes[i];
        if (p[pos_] != id) continue;
        if (pos_ + 1 == p.size()) complete = true;
        else next.push_back(i);
      }
      ++pos_;
      alive_ = std::move(next);
      if (complete || alive_.empty()) phase_ = Phase::kDone;
      return;
    }
  }
}

void mask_logits(std::span<float> logits, const std::vector<int32_t>& allowed) {
  std::vector<float> keep;
  keep.reserve(allowed.size());
  for (int32_t id : allowed) keep.push_back(id >= 0 && size_t(id) < logits.size() ? logits[size_t(id)] : -INFINITY);
  std::fill(logits.begin(), logits.end(), -INFINITY);
  for (size_t i = 0; i < allowed.size(); ++i)
    if (allowed[i] >= 0 && size_t(allowed[i]) < logits.size()) logits[size_t(allowed[i])] = keep[i];
}

}  // namespace g4
