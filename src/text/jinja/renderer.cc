#include "text/jinja/renderer.h"

#include "text/jinja/builtins.h"

namespace g4::jinja {
namespace {

constexpr int kMaxCallDepth = 200;

Error undefined_error(const Value& u) { return Error{u.s.empty() ? "value is undefined" : u.s}; }

}  // namespace

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent.get())
    for (const auto& [k, v] : s->vars)
      if (k == name) return &v;
  return nullptr;
}

void Scope::set(const std::string& name, Value v) {
  for (auto& [k, old] : vars) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

Error Renderer::at(int line, const Error& e) const {
  // Errors raised inside a macro body already carry their own location.
  const std::string prefix = name_ + ":";
  if (e.message.compare(0, prefix.size(), prefix) == 0 && e.message.size() > prefix.size() &&
      e.message[prefix.size()] >= '0' && e.message[prefix.size()] <= '9')
    return e;
  return make_error("%s:%d: %s", name_.c_str(), line, e.message.c_str());
}

Status Renderer::exec(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const StmtPtr& s : body) {
    G4_TRY(exec_stmt(*s, scope, out));
    if (flow_ != Flow::Normal) return {};
  }
  return {};
}

Status Renderer::exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out) {
  switch (s.kind) {
    case StmtKind::Text:
      out += s.text;
      return {};
    case StmtKind::Print: {
      G4_ASSIGN_OR_RETURN(Value v, eval(*s.expr, scope));
      out += to_str(v);
      return {};
    }
    case StmtKind::If:
      for (const auto& [cond, body] : s.branches) {
        G4_ASSIGN_OR_RETURN(Value c, eval(*cond, scope));
        if (truthy(c)) return exec(body, scope, out);
      }
      return exec(s.else_body, scope, out);
    case StmtKind::For:
      return exec_for(s, scope, out);
    case StmtKind::Set: {
      G4_ASSIGN_OR_RETURN(Value v, eval(*s.expr, scope));
      return assign(s, scope, std::move(v));
    }
    case StmtKind::SetBlock: {
      std::string body;
      G4_TRY(exec(s.body, scope, body));
      scope->set(s.targets[0], Value::string(std::move(body)));
      return {};
    }
    case StmtKind::Macro:
      scope->set(s.name, make_macro(s, scope));
      return {};
    case StmtKind::Break:
      flow_ = Flow::Break;
      return {};
    case StmtKind::Continue:
      flow_ = Flow::Continue;
      return {};
    case StmtKind::Scope:
      return exec(s.body, scope, out);
    case StmtKind::FilterBlock: {
      auto sc = std::make_shared<Scope>();
      sc->parent = scope;
      std::string body;
      G4_TRY(exec(s.body, sc, body));
      sc->set(kFilterBody, Value::string(std::move(body)));
      G4_ASSIGN_OR_RETURN(Value v, eval(*s.expr, sc));
      out += to_str(v);
      return {};
    }
  }
  return {};
}

Status Renderer::assign(const Stmt& s, const ScopePtr& scope, Value v) {
  if (!s.attr.empty()) {
    const Value* ns = scope->find(s.targets[0]);
    if (!ns || ns->is_undefined()) return at(s.line, make_error("'%s' is undefined", s.targets[0].c_str()));
    if (ns->kind != Kind::Namespace) return at(s.line, make_error("Cannot assign attribute on non-namespace object"));
    if (!s.attr.empty() && s.attr[0] == '_')
      return at(s.line, make_error("Chat templates cannot store underscore-prefixed attributes on a namespace, but got '%s'. Please rename the attribute.", s.attr.c_str()));
    ns->dict->set(s.attr, std::move(v));
    return {};
  }
  if (s.targets.size() == 1) {
    scope->set(s.targets[0], std::move(v));
    return {};
  }
  Result<List> items = iterate(v);
  if (!items.ok()) return at(s.line, make_error("cannot unpack non-iterable %s object", type_name(v).c_str()));
  if (items->size() != s.targets.size())
    return at(s.line, items->size() > s.targets.size()
                          ? make_error("too many values to unpack (expected %zu)", s.targets.size())
                          : make_error("not enough values to unpack (expected %zu, got %zu)", s.targets.size(), items->size()));
  for (size_t k = 0; k < s.targets.size(); ++k) scope->set(s.targets[k], (*items)[k]);
  return {};
}

Status Renderer::exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
  G4_ASSIGN_OR_RETURN(Value seq, eval(*s.expr, scope));
  Result<List> all = iterate(seq);
  if (!all.ok()) return at(s.line, all.error());
  auto bind = [&](const ScopePtr& sc, const Value& item) -> Status {
    if (s.targets.size() == 1) {
      sc->set(s.targets[0], item);
      return {};
    }
    Stmt fake;
    fake.kind = StmtKind::Set;
    fake.line = s.line;
    fake.targets = s.targets;
    return assign(fake, sc, item);
  };
  List items;
  if (s.filter) {
    for (const Value& item : *all) {
      auto sc = std::make_shared<Scope>();
      sc->parent = scope;
      G4_TRY(bind(sc, item));
      G4_ASSIGN_OR_RETURN(Value keep, eval(*s.filter, sc));
      if (truthy(keep)) items.push_back(item);
    }
  } else {
    items = std::move(*all);
  }
  if (items.empty()) return exec(s.else_body, scope, out);
  const int64_t n = int64_t(items.size());
  // One loop object updated in place, like jinja2's LoopContext.
  Value loop = Value::make_dict();
  Dict& d = *loop.dict;
  for (const char* key : {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
                          "previtem", "nextitem"})
    d.items.emplace_back(key, Value());
  d.items[6].second = Value::integer(n);
  d.items[7].second = Value::integer(1);
  d.items[8].second = Value::integer(0);
  std::weak_ptr<Dict> weak_loop = loop.dict;
  d.items.emplace_back("cycle", Value::function([weak_loop](CallArgs& a) -> Result<Value> {
    auto ld = weak_loop.lock();
    if (!ld || a.positional.empty()) return make_error("no items for cycling given");
    return a.positional[size_t(ld->items[1].second.i) % a.positional.size()];
  }));
  for (int64_t k = 0; k < n; ++k) {
    auto sc = std::make_shared<Scope>();
    sc->parent = scope;
    G4_TRY(bind(sc, items[size_t(k)]));
    d.items[0].second = Value::integer(k + 1);
    d.items[1].second = Value::integer(k);
    d.items[2].second = Value::integer(n - k);
    d.items[3].second = Value::integer(n - k - 1);
    d.items[4].second = Value::boolean(k == 0);
    d.items[5].second = Value::boolean(k == n - 1);
    d.items[9].second = k > 0 ? items[size_t(k - 1)] : Value::undefined("there is no previous item");
    d.items[10].second = k + 1 < n ? items[size_t(k + 1)] : Value::undefined("there is no next item");
    sc->set("loop", loop);
    G4_TRY(exec(s.body, sc, out));
    if (flow_ == Flow::Break) {
      flow_ = Flow::Normal;
      break;
    }
    flow_ = Flow::Normal;
  }
  return {};
}

Value Renderer::make_macro(const Stmt& s, const ScopePtr& scope) {
  std::weak_ptr<Scope> weak = scope;
  const Stmt* stmt = &s;
  return Value::function([this, stmt, weak](CallArgs& a) -> Result<Value> {
    const Stmt& m = *stmt;
    if (a.positional.size() > m.params.size())
      return at(m.line, make_error("macro '%s' takes not more than %zu argument(s)", m.name.c_str(), m.params.size()));
    for (const auto& [k, v] : a.keyword) {
      bool known = false;
      for (const auto& p : m.params) known = known || p.first == k;
      if (!known) return at(m.line, make_error("macro '%s' takes no keyword argument '%s'", m.name.c_str(), k.c_str()));
    }
    if (depth_ >= kMaxCallDepth) return at(m.line, make_error("maximum recursion depth exceeded"));
    auto sc = std::make_shared<Scope>();
    sc->parent = weak.lock();
    for (size_t k = 0; k < m.params.size(); ++k) {
      const auto& [pname, def] = m.params[k];
      const Value* given = nullptr;
      if (k < a.positional.size()) {
        given = &a.positional[k];
      } else {
        for (const auto& [kn, kv] : a.keyword)
          if (kn == pname) given = &kv;
      }
      if (given) {
        sc->set(pname, *given);
      } else if (def) {
        G4_ASSIGN_OR_RETURN(Value dv, eval(*def, sc));
        sc->set(pname, std::move(dv));
      } else {
        sc->set(pname, Value::undefined("parameter '" + pname + "' was not provided"));
      }
    }
    ++depth_;
    Flow saved = flow_;
    flow_ = Flow::Normal;
    std::string out;
    Status st = exec(m.body, sc, out);
    flow_ = saved;
    --depth_;
    if (!st.ok()) return st.error();
    return Value::string(std::move(out));
  });
}

Result<CallArgs> Renderer::eval_args(const Expr& e, size_t first, const ScopePtr& scope) {
  CallArgs a;
  for (size_t k = first; k < e.args.size(); ++k) {
    G4_ASSIGN_OR_RETURN(Value v, eval(*e.args[k], scope));
    a.positional.push_back(std::move(v));
  }
  for (const auto& [name, x] : e.kwargs) {
    G4_ASSIGN_OR_RETURN(Value v, eval(*x, scope));
    a.keyword.emplace_back(name, std::move(v));
  }
  return a;
}

Result<Value> Renderer::eval(const Expr& e, const ScopePtr& scope) {
  auto wrap = [&](Result<Value> r) -> Result<Value> {
    if (!r.ok()) return at(e.line, r.error());
    return r;
  };
  switch (e.kind) {
    case ExprKind::Literal:
      return e.literal;
    case ExprKind::Name: {
      const Value* v = scope->find(e.name);
      if (v) return *v;
      return Value::undefined(repr(Value::string(e.name)) + " is undefined");
    }
    case ExprKind::List:
    case ExprKind::Tuple: {
      List items;
      for (const ExprPtr& x : e.args) {
        G4_ASSIGN_OR_RETURN(Value v, eval(*x, scope));
        items.push_back(std::move(v));
      }
      return e.kind == ExprKind::List ? Value::make_list(std::move(items)) : Value::make_tuple(std::move(items));
    }
    case ExprKind::Dict: {
      Value d = Value::make_dict();
      for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
        G4_ASSIGN_OR_RETURN(Value key, eval(*e.args[k], scope));
        G4_ASSIGN_OR_RETURN(Value v, eval(*e.args[k + 1], scope));
        if (!key.is_string()) return at(e.line, make_error("dict literal keys must be strings, got %s", type_name(key).c_str()));
        d.dict->set(key.s, std::move(v));
      }
      return d;
    }
    case ExprKind::GetAttr: {
      G4_ASSIGN_OR_RETURN(Value obj, eval(*e.args[0], scope));
      return wrap(get_attr(obj, e.name));
    }
    case ExprKind::GetItem: {
      G4_ASSIGN_OR_RETURN(Value obj, eval(*e.args[0], scope));
      G4_ASSIGN_OR_RETURN(Value key, eval(*e.args[1], scope));
      return wrap(get_item(obj, key));
    }
    case ExprKind::Slice: {
      G4_ASSIGN_OR_RETURN(Value obj, eval(*e.args[0], scope));
      Value parts[3];
      const Value* ptrs[3] = {nullptr, nullptr, nullptr};
      for (int k = 0; k < 3; ++k) {
        if (e.args[size_t(k) + 1]) {
          G4_ASSIGN_OR_RETURN(parts[k], eval(*e.args[size_t(k) + 1], scope));
          ptrs[k] = &parts[k];
        }
      }
      return wrap(slice(obj, ptrs[0], ptrs[1], ptrs[2]));
    }
    case ExprKind::Call: {
      G4_ASSIGN_OR_RETURN(Value fn, eval(*e.args[0], scope));
      if (fn.is_undefined()) return at(e.line, undefined_error(fn));
      if (fn.kind != Kind::Function) return at(e.line, make_error("'%s' object is not callable", type_name(fn).c_str()));
      G4_ASSIGN_OR_RETURN(CallArgs a, eval_args(e, 1, scope));
      return wrap((*fn.fn)(a));
    }
    case ExprKind::Filter: {
      G4_ASSIGN_OR_RETURN(Value v, eval(*e.args[0], scope));
      G4_ASSIGN_OR_RETURN(CallArgs a, eval_args(e, 1, scope));
      return wrap(apply_filter(e.name, v, a));
    }
    case ExprKind::Test: {
      G4_ASSIGN_OR_RETURN(Value v, eval(*e.args[0], scope));
      G4_ASSIGN_OR_RETURN(CallArgs a, eval_args(e, 1, scope));
      Result<bool> r = apply_test(e.name, v, a);
      if (!r.ok()) return at(e.line, r.error());
      return Value::boolean(*r != e.negated);
    }
    case ExprKind::Neg:
    case ExprKind::Pos: {
      G4_ASSIGN_OR_RETURN(Value v, eval(*e.args[0], scope));
      if (v.is_undefined()) return at(e.line, undefined_error(v));
      if (!v.is_numeric())
        return at(e.line, make_error("bad operand type for unary %s: '%s'", e.kind == ExprKind::Neg ? "-" : "+", type_name(v).c_str()));
      if (e.kind == ExprKind::Pos) return v.kind == Kind::Bool ? Value::integer(v.as_int()) : v;
      if (v.kind == Kind::Float) return Value::number(-v.f);
      if (v.as_int() == INT64_MIN) return Value::number(-double(INT64_MIN));
      return Value::integer(-v.as_int());
    }
    case ExprKind::Not: {
      G4_ASSIGN_OR_RETURN(Value v, eval(*e.args[0], scope));
      return Value::boolean(!truthy(v));
    }
    case ExprKind::Binary: {
      G4_ASSIGN_OR_RETURN(Value l, eval(*e.args[0], scope));
      G4_ASSIGN_OR_RETURN(Value r, eval(*e.args[1], scope));
      return wrap(binary_op(e.name, l, r));
    }
    case ExprKind::And: {
      G4_ASSIGN_OR_RETURN(Value l, eval(*e.args[0], scope));
      if (!truthy(l)) return l;
      return eval(*e.args[1], scope);
    }
    case ExprKind::Or: {
      G4_ASSIGN_OR_RETURN(Value l, eval(*e.args[0], scope));
      if (truthy(l)) return l;
      return eval(*e.args[1], scope);
    }
    case ExprKind::Compare: {
      G4_ASSIGN_OR_RETURN(Value left, eval(*e.args[0], scope));
      for (size_t k = 0; k < e.ops.size(); ++k) {
        G4_ASSIGN_OR_RETURN(Value right, eval(*e.args[k + 1], scope));
        const std::string& op = e.ops[k];
        Result<bool> r = false;
        if (op == "==") r = equals(left, right);
        else if (op == "!=") r = !equals(left, right);
        else if (op == "<") r = less_than(left, right);
        else if (op == ">") r = less_than(right, left);
        else if (op == "<=") {
          Result<bool> gt = less_than(right, left);
          r = gt.ok() ? Result<bool>(!*gt) : gt;
        } else if (op == ">=") {
          Result<bool> lt = less_than(left, right);
          r = lt.ok() ? Result<bool>(!*lt) : lt;
        } else if (op == "in") {
          r = contains(right, left);
        } else {
          Result<bool> in = contains(right, left);
          r = in.ok() ? Result<bool>(!*in) : in;
        }
        if (!r.ok()) {
          if (left.is_undefined()) return at(e.line, undefined_error(left));
          if (right.is_undefined()) return at(e.line, undefined_error(right));
          if (op[0] == '<' || op[0] == '>')
            return at(e.line, make_error("'%s' not supported between instances of '%s' and '%s'", op.c_str(),
                                         type_name(left).c_str(), type_name(right).c_str()));
          return at(e.line, r.error());
        }
        if (!*r) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case ExprKind::Cond: {
      G4_ASSIGN_OR_RETURN(Value c, eval(*e.args[0], scope));
      if (truthy(c)) return eval(*e.args[1], scope);
      if (e.args[2]) return eval(*e.args[2], scope);
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined.");
    }
  }
  return at(e.line, make_error("unknown expression"));
}

}  // namespace g4::jinja
