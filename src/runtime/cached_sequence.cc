#include "runtime/cached_sequence.h"

#include <algorithm>

namespace g4 {

namespace {

int common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return int(n);
}

}  // namespace

CachedSequence::Plan CachedSequence::plan(const std::vector<int32_t>& prompt, int* keep) const {
  const int limit = int(prompt.size()) - 1;
  *keep = std::min(common_prefix(ids_, prompt), limit);
  if (*keep > 0 && cache_->can_rollback(*keep)) return Plan::kRollback;
  const int snap = int(snap_ids_.size());
  if (snap_ && snap > 0 && snap <= limit && common_prefix(snap_ids_, prompt) == snap) {
    *keep = snap;
    return Plan::kRestore;
  }
  *keep = 0;
  return Plan::kClear;
}

int CachedSequence::reusable(const std::vector<int32_t>& prompt) const {
  int keep = 0;
  plan(prompt, &keep);
  return keep;
}

int CachedSequence::reuse(const std::vector<int32_t>& prompt) {
  int keep = 0;
  switch (plan(prompt, &keep)) {
    case Plan::kRollback:
      (void)cache_->rollback(keep);
      ids_.resize(size_t(keep));
      break;
    case Plan::kRestore:
      if (cache_->restore(*snap_).ok()) {
        ids_ = snap_ids_;
        return keep;  // the snapshot describes the cache again
      }
      keep = 0;
      [[fallthrough]];
    case Plan::kClear:
      cache_->clear();
      ids_.clear();
      break;
  }
  // Positions from `keep` on will be rewritten: a snapshot past them no longer describes the cache.
  if (keep < int(snap_ids_.size())) {
    snap_.reset();
    snap_ids_.clear();
  }
  return keep;
}

void CachedSequence::take_snapshot() {
  snap_ = std::make_unique<SequenceCache::Snapshot>(cache_->snapshot());
  snap_ids_ = ids_;
}

void CachedSequence::reset() {
  cache_->clear();
  ids_.clear();
  snap_.reset();
  snap_ids_.clear();
}

}  // namespace g4
