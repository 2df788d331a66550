// The g4 subcommands and the helpers they share for reporting errors.
#pragma once

#include <cstdio>

#include "cli/args.h"

namespace g4::cli {

int cmd_run(int argc, char** argv);
int cmd_logits(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_template(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
int cmd_serve(int argc, char** argv);

inline int fail(const Error& e) {
  std::fprintf(stderr, "g4: error: %s\n", e.message.c_str());
  return 1;
}
inline int print_usage(const Args& a) {
  std::fputs(a.usage().c_str(), stdout);
  return 0;
}
// The first error among several parsed values, or null.
template <typename... R>
const Error* first_error(const R&... rs) {
  const Error* e = nullptr;
  ((e = (!e && !rs.ok()) ? &rs.error() : e), ...);
  return e;
}

}  // namespace g4::cli
