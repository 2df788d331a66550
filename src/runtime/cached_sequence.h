// A sequence's KV cache together with the tokens it holds, so that a new prompt can reuse the
// positions it shares with what was computed before (the earlier turns of a chat, a system prompt).
//
// Rolling back the sliding layers' rings only reaches back a little (see SequenceCache::rollback),
// so the owner can also keep one snapshot at a point of a prompt (a chat's history, before the
// generation prompt and the reply, which the next turn renders again unchanged): a prompt that starts
// with the snapshot's tokens restores it when a rollback no longer can.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/kv_cache.h"

namespace g4 {

class CachedSequence {
 public:
  explicit CachedSequence(std::unique_ptr<SequenceCache> cache) : cache_(std::move(cache)) {}

  SequenceCache& cache() { return *cache_; }
  const SequenceCache& cache() const { return *cache_; }
  // The tokens whose keys and values the cache holds, in order.
  const std::vector<int32_t>& ids() const { return ids_; }

  // Positions of `prompt` reuse() would keep (at most prompt.size() - 1: the last prompt token must
  // run to give the logits of the first new token). Changes nothing.
  int reusable(const std::vector<int32_t>& prompt) const;
  // Brings the cache to the longest usable prefix of `prompt`; returns how many positions it kept.
  int reuse(const std::vector<int32_t>& prompt);

  // After a forward call appended `tokens` to the cache.
  void appended(const int32_t* tokens, size_t n) { ids_.insert(ids_.end(), tokens, tokens + n); }
  // Keeps a snapshot of the cache as it is now (replacing the previous one).
  void take_snapshot();
  // Forgets everything (after an error left the cache in doubt).
  void reset();

 private:
  enum class Plan { kRollback, kRestore, kClear };
  Plan plan(const std::vector<int32_t>& prompt, int* keep) const;

  std::unique_ptr<SequenceCache> cache_;
  std::vector<int32_t> ids_;
  std::unique_ptr<SequenceCache::Snapshot> snap_;
  std::vector<int32_t> snap_ids_;
};

}  // namespace g4
