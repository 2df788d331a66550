#include "serve/stop_matcher.h"

#include <algorithm>

namespace g4::serve {

std::string StopMatcher::push(std::string_view text, bool* hit) {
  if (hit) *hit = false;
  if (stopped_) return {};
  held_.append(text);
  size_t cut = std::string::npos;
  for (const auto& s : stops_)
    if (const size_t at = held_.find(s); at < cut) {
      cut = at;
      matched_ = s;
    }
  if (cut != std::string::npos) {
    stopped_ = true;
    if (hit) *hit = true;
    std::string out = held_.substr(0, cut);
    held_.clear();
    return out;
  }
  // Keep the longest tail that is a proper prefix of some stop sequence.
  size_t keep = 0;
  for (const auto& s : stops_)
    for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n)
      if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopMatcher::flush() {
  std::string out;
  if (!stopped_) out.swap(held_);
  return out;
}

}  // namespace g4::serve
