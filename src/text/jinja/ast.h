// Syntax tree of a parsed template: expressions and statements, each tagged with its source line.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace g4::jinja {

enum class ExprKind { Literal, Name, List, Tuple, Dict, GetAttr, GetItem, Slice, Call, Filter, Test, Neg, Pos, Not, Binary, And, Or, Compare, Cond };

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

// Child layout per kind:
//   List/Tuple: args = items.             Dict: args = key0, value0, key1, value1, ...
//   GetAttr: args[0] = object, name.      GetItem: args = object, key.
//   Slice: args = object, start, stop, step (null when omitted).
//   Call: args[0] = callee, args[1..] = positional, kwargs.
//   Filter/Test: args[0] = subject, args[1..] = positional, kwargs, name (Test: negated for `is not`).
//   Neg/Pos/Not: args[0].                 Binary: name = operator, args = left, right.
//   And/Or: args = left, right.           Compare: args[0], then args[k+1] compared with ops[k].
//   Cond: args = condition, then-value, else-value (null when omitted).
struct Expr {
  ExprKind kind;
  int line = 0;
  Value literal;
  std::string name;
  bool negated = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
};

enum class StmtKind { Text, Print, If, For, Set, SetBlock, Macro, Break, Continue, Scope, FilterBlock };

// Variable holding the rendered body inside a `{% filter %}` block's filter chain.
inline constexpr const char* kFilterBody = "\x01filter_body";

struct Stmt;
using StmtPtr = std::shared_ptr<const Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;                                  // Text: the data
  ExprPtr expr;                                      // Print/Set: value; For: iterable;
                                                     // FilterBlock: filter chain applied to kFilterBody
  std::vector<std::pair<ExprPtr, Body>> branches;    // If: (condition, body) for if and each elif
  Body body;                                         // For/SetBlock/Macro/Scope body
  Body else_body;                                    // If/For else
  std::vector<std::string> targets;                  // For/Set: names (several = tuple unpacking)
  std::string attr;                                  // Set: `set ns.attr = ...` (targets[0] = ns)
  ExprPtr filter;                                    // For: `for x in y if cond`
  std::string name;                                  // Macro name
  std::vector<std::pair<std::string, ExprPtr>> params;  // Macro parameters with optional defaults
};

}  // namespace g4::jinja
