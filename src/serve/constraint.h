// How a generation must begin, enforced on the logits before sampling: the output starts with one
// of several token sequences (a forced tool call: "<|tool_call>call:NAME{" for a named tool_choice,
// one per tool for "required"), optionally after a free block (the thinking channel), and that
// block can be given a token budget (Anthropic's thinking.budget_tokens), after which it is closed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace g4 {

struct OutputConstraint {
  std::vector<std::vector<int32_t>> prefixes;  // empty: the answer is free
  int32_t block_open = -1, block_close = -1;   // a block that may come first, as free text (-1: none)
  int block_budget = -1;                       // -1: unlimited; else tokens inside the block before it is closed
  bool empty() const { return prefixes.empty() && block_budget < 0; }
};

// The constraint's state over one generation.
class ConstraintState {
 public:
  explicit ConstraintState(const OutputConstraint& c);
  // The tokens allowed next, or false when any token is (the constraint does not bind now).
  bool allowed(std::vector<int32_t>* ids) const;
  // The token that was chosen.
  void accept(int32_t id);
  // True while it may still restrict a later token.
  bool active() const { return phase_ != Phase::kDone; }

 private:
  enum class Phase { kStart, kBlock, kPrefix, kDone };
  const OutputConstraint& c_;
  Phase phase_;
  int block_tokens_ = 0;
  size_t pos_ = 0;             // tokens of the prefix generated so far
  std::vector<size_t> alive_;  // prefixes that agree with them
};

// Sets every logit but the allowed ones to -infinity.
void mask_logits(std::span<float> logits, const std::vector<int32_t>& allowed);

}  // namespace g4
