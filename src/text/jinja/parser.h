// Builds the statement tree from tokens (jinja2 grammar and operator precedence).
#pragma once

#include <string>
#include <vector>

#include "text/jinja/ast.h"
#include "text/jinja/lexer.h"

namespace g4::jinja {

// Errors are "<name>:<line>: message".
Result<Body> parse_tokens(const std::vector<Token>& tokens, const std::string& name);

}  // namespace g4::jinja
