// Stop sequences over streamed text: passes text on as soon as it cannot be the start of a stop
// sequence, holds back a tail that still could, and cuts the output where one appears (the stop
// sequence itself is not part of the output, as in OpenAI's API).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace g4::serve {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // The text that is certain now. Once a stop sequence is found, *hit is set, the text before it is
  // returned and everything after is dropped (later calls return nothing).
  std::string push(std::string_view text, bool* hit);
  // What was held back, at the end of the generation.
  std::string flush();
  bool stopped() const { return stopped_; }
  // The stop sequence that ended the output (empty while none did).
  const std::string& matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string held_, matched_;
  bool stopped_ = false;
};

}  // namespace g4::serve
