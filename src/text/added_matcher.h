// Leftmost-longest matching of added-token contents in text (HF's AddedVocabulary). The lookup is
// inline: encoding tries it at every byte that may start an added token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "text/hash_tables.h"

namespace g4::tokenizer_detail {

// Byte trie over added-token contents, for leftmost-longest matching.
class AddedMatcher {
 public:
  AddedMatcher() { node_token_.push_back(-1); }
  bool empty() const { return node_token_.size() == 1; }

  // Adds a pattern (an empty one is ignored) for which longest_at returns `token`.
  void add(std::string_view pattern, int32_t token);

  // Longest pattern starting at text[pos]: its token, or -1. *len gets its length.
  int32_t longest_at(std::string_view text, size_t pos, size_t* len) const {
    int32_t best = -1;
    uint32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      const uint64_t* child = edges_.find((uint64_t(node) << 8) | static_cast<unsigned char>(text[i]));
      if (!child) break;
      node = uint32_t(*child);
      if (node_token_[node] >= 0) {
        best = node_token_[node];
        *len = i + 1 - pos;
      }
    }
    return best;
  }
  bool may_start(unsigned char c) const { return first_[c]; }

 private:
  U64Map edges_;  // (node << 8 | byte) -> child node
  std::vector<int32_t> node_token_;
  bool first_[256] = {};
};

}  // namespace g4::tokenizer_detail
