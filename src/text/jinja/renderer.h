// Executes a parsed template: variable scopes (jinja2 rules: for-loop bodies and macro calls get their
// own scope per iteration/call, if blocks do not), loops with the `loop` object, macros, namespaces.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/ast.h"

namespace g4::jinja {

struct Scope {
  std::vector<std::pair<std::string, Value>> vars;
  std::shared_ptr<Scope> parent;
  const Value* find(const std::string& name) const;
  void set(const std::string& name, Value v);
};
using ScopePtr = std::shared_ptr<Scope>;

class Renderer {
 public:
  explicit Renderer(const std::string& name) : name_(name) {}
  // Runs `body` in `scope`, appending output. Errors are "<name>:<line>: message".
  Status exec(const Body& body, const ScopePtr& scope, std::string& out);
  Result<Value> eval(const Expr& e, const ScopePtr& scope);

 private:
  enum class Flow { Normal, Break, Continue };

  Status exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out);
  Status exec_for(const Stmt& s, const ScopePtr& scope, std::string& out);
  Status assign(const Stmt& s, const ScopePtr& scope, Value v);
  Result<CallArgs> eval_args(const Expr& e, size_t first, const ScopePtr& scope);
  Value make_macro(const Stmt& s, const ScopePtr& scope);
  Error at(int line, const Error& e) const;

  const std::string& name_;
  Flow flow_ = Flow::Normal;
  int depth_ = 0;
};

}  // namespace g4::jinja
