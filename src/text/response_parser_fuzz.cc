// libFuzzer target for ResponseParser: the first bytes choose the options and where the text is
// cut; the rest is the generated text. It must never crash or throw, cutting the text must not
// change the events (beyond how deltas are split), no text may be lost or invented (the delivered
// text is the input minus consumed markers), and every tool call must re-parse.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "testing/response_invariants.h"
#include "text/response_parser.h"

namespace {

using g4::testing::explains;

using g4::ResponseEvent;
using Kind = ResponseEvent::Kind;

struct Flat {
  std::vector<ResponseEvent::Kind> kinds;
  std::vector<std::string> texts;  // merged deltas, warning messages, tool-call raw + arguments
  std::string delivered;
};

void add(Flat& f, const std::vector<ResponseEvent>& evs) {
  for (const ResponseEvent& e : evs) {
    bool delta = e.kind == Kind::reasoning_delta || e.kind == Kind::content_delta;
    if (delta && e.text.empty()) std::abort();
    if (delta && !f.kinds.empty() && f.kinds.back() == e.kind) {
      f.texts.back() += e.text;
    } else {
      f.kinds.push_back(e.kind);
      f.texts.push_back(e.kind == Kind::tool_call ? e.tool_call.raw + "\n" + e.tool_call.arguments_json() : e.text);
    }
    if (delta) f.delivered += e.text;
    if (e.kind == Kind::tool_call) {
      f.delivered += e.tool_call.raw;
      auto again = g4::parse_tool_call(e.tool_call.raw);
      if (!again.ok() || again->arguments != e.tool_call.arguments) std::abort();
      (void)g4::format_tool_call(e.tool_call.name, e.tool_call.arguments);
    }
  }
}

Flat run(std::string_view text, g4::ResponseParserOptions opt, const std::vector<size_t>& cuts) {
  g4::ResponseParser p(opt);
  Flat f;
  size_t prev = 0;
  for (size_t c : cuts) {
    if (c < prev || c > text.size()) continue;
    add(f, p.push(text.substr(prev, c - prev)));
    prev = c;
  }
  add(f, p.push(text.substr(prev)));
  add(f, p.finish());
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  g4::ResponseParserOptions opt;
  opt.thinking = g4::ResponseParserOptions::Thinking(data[0] % 3);
  opt.tools_offered = (data[0] & 4) == 0;
  unsigned seed = data[1];
  std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);

  Flat whole = run(text, opt, {});
  if (text.size() <= 4096 && !explains(text, whole.delivered)) std::abort();

  // Cut pseudo-randomly (seeded by the input), and byte by byte.
  std::vector<size_t> cuts;
  uint32_t x = seed * 2654435761u + 1;
  for (size_t pos = 0; pos < text.size();) {
    x = x * 1664525u + 1013904223u;
    pos += 1 + (x >> 24) % 16;
    if (pos < text.size()) cuts.push_back(pos);
  }
  Flat cut = run(text, opt, cuts);
  if (cut.kinds != whole.kinds || cut.texts != whole.texts) std::abort();
  if (text.size() <= 512) {
    std::vector<size_t> bytes;
    for (size_t i = 1; i < text.size(); ++i) bytes.push_back(i);
    Flat b = run(text, opt, bytes);
    if (b.kinds != whole.kinds || b.texts != whole.texts) std::abort();
  }
  return 0;
}
