// Building the added-token trie.

#include "text/added_matcher.h"

namespace g4::tokenizer_detail {

void AddedMatcher::add(std::string_view pattern, int32_t token) {
  if (pattern.empty()) return;
  uint32_t node = 0;
  for (unsigned char c : pattern) {
    uint64_t key = (uint64_t(node) << 8) | c;
    if (const uint64_t* child = edges_.find(key)) {
      node = uint32_t(*child);
    } else {
      uint32_t next = uint32_t(node_token_.size());
      node_token_.push_back(-1);
      edges_.put(key, next);
      node = next;
    }
  }
  node_token_[node] = token;  // a later duplicate wins, like a map keyed by content
  first_[static_cast<unsigned char>(pattern[0])] = true;
}

}  // namespace g4::tokenizer_detail
