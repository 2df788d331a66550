// Splits template source into tokens the way jinja2's lexer does, applying whitespace control
// (`{%-`, `-%}`, `{%+`, `+%}`) and the trim_blocks / lstrip_blocks environment settings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace g4::jinja {

enum class Tok { Text, BlockBegin, BlockEnd, VarBegin, VarEnd, Name, String, Int, Float, Op, End };

struct Token {
  Tok type;
  std::string text;  // Text: the data; String: the decoded literal; Name/Op/Int/Float: the spelling
  int line;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Errors are "<name>:<line>: message".
Result<std::vector<Token>> tokenize(std::string_view source, const std::string& name, const LexOptions& opt);

}  // namespace g4::jinja
