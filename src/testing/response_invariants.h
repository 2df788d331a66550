// The response parser's "no text lost" invariant, shared by its unit tests and its fuzz target.
#pragma once

#include <string_view>
#include <vector>

namespace g4::testing {

// Can `out` be obtained from `in` by deleting occurrences of the markers the parser may consume
// (channel open with or without its header, channel close, end markers)? Checks that no text is
// lost, duplicated, invented or reordered.
inline bool explains(std::string_view in, std::string_view out) {
  static const std::string_view removable[] = {"<|channel>thought\n", "<|channel>", "<channel|>",
                                               "<turn|>", "<eos>", "<|tool_response>"};
  size_t n = in.size(), m = out.size();
  if (m > n) return false;
  // reach[i][d]: in[0, i) can become out[0, i - d) having deleted d bytes; d never exceeds n - m.
  size_t D = n - m;
  std::vector<char> reach((n + 1) * (D + 1), 0);
  auto at = [&](size_t i, size_t d) -> char& { return reach[i * (D + 1) + d]; };
  at(0, 0) = 1;
  for (size_t i = 0; i <= n; ++i) {
    for (size_t d = 0; d <= D && d <= i; ++d) {
      if (!at(i, d)) continue;
      size_t j = i - d;
      if (i < n && j < m && in[i] == out[j]) at(i + 1, d) = 1;
      if (i < n && in[i] == '<') {
        for (std::string_view r : removable) {
          if (d + r.size() <= D && in.substr(i).starts_with(r)) at(i + r.size(), d + r.size()) = 1;
        }
      }
    }
  }
  return at(n, D);
}

}  // namespace g4::testing
