#include "text/jinja/parser.h"

#include "text/jinja/builtins.h"

#include <cerrno>
#include <cstdlib>
#include <initializer_list>

namespace g4::jinja {
namespace {

std::shared_ptr<Expr> node(ExprKind k, int line) {
  auto e = std::make_shared<Expr>();
  e->kind = k;
  e->line = line;
  return e;
}

std::shared_ptr<Stmt> stmt(StmtKind k, int line) {
  auto s = std::make_shared<Stmt>();
  s->kind = k;
  s->line = line;
  return s;
}

std::string describe(const Token& t) {
  switch (t.type) {
    case Tok::Text: return "template data";
    case Tok::BlockBegin: return "'{%'";
    case Tok::BlockEnd: return "end of statement block";
    case Tok::VarBegin: return "'{{'";
    case Tok::VarEnd: return "end of print statement";
    case Tok::String: return "string";
    case Tok::End: return "end of template";
    default: return "'" + t.text + "'";
  }
}

class Parser {
 public:
  Parser(const std::vector<Token>& toks, const std::string& name) : t_(toks), name_(name) {}

  Result<Body> parse_template() {
    std::string which;
    return parse_until({}, &which);
  }

 private:
  const Token& cur() const { return t_[std::min(p_, t_.size() - 1)]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  void next() {
    if (p_ + 1 < t_.size()) ++p_;
  }
  bool is_op(const char* op) const { return cur().type == Tok::Op && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == Tok::Name && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  Error err(int line, const std::string& msg) const { return make_error("%s:%d: %s", name_.c_str(), line, msg.c_str()); }
  Error unexpected(const std::string& expected) const {
    return err(cur().line, "expected " + expected + ", got " + describe(cur()));
  }
  Status expect_op(const char* op) {
    if (!skip_op(op)) return unexpected(std::string("'") + op + "'");
    return {};
  }
  Status expect(Tok type, const char* what) {
    if (cur().type != type) return unexpected(what);
    next();
    return {};
  }
  Result<std::string> expect_name() {
    if (cur().type != Tok::Name) return unexpected("name");
    std::string n = cur().text;
    next();
    return n;
  }

  // Parses statements until a block tag whose keyword is in `ends`; leaves the stream after that keyword.
  Result<Body> parse_until(std::initializer_list<const char*> ends, std::string* which) {
    if (++nesting_ > 256) return err(cur().line, "blocks nested too deeply");
    struct Guard {
      int& d;
      ~Guard() { --d; }
    } guard{nesting_};
    Body body;
    while (true) {
      const Token& tk = cur();
      if (tk.type == Tok::End) {
        if (ends.size() == 0) return body;
        std::string list;
        for (const char* e : ends) list += (list.empty() ? "'" : " or '") + std::string(e) + "'";
        return err(tk.line, "unexpected end of template, expected " + list);
      }
      if (tk.type == Tok::Text) {
        auto s = stmt(StmtKind::Text, tk.line);
        s->text = tk.text;
        body.push_back(s);
        next();
        continue;
      }
      if (tk.type == Tok::VarBegin) {
        next();
        auto s = stmt(StmtKind::Print, tk.line);
        G4_ASSIGN_OR_RETURN(s->expr, parse_tuple());
        G4_TRY(expect(Tok::VarEnd, "end of print statement"));
        body.push_back(s);
        continue;
      }
      if (tk.type == Tok::BlockBegin) {
        const Token& kw = peek();
        if (kw.type != Tok::Name) {
          next();
          return unexpected("statement name");
        }
        for (const char* e : ends) {
          if (kw.text == e) {
            next();
            next();
            *which = kw.text;
            return body;
          }
        }
        next();
        G4_ASSIGN_OR_RETURN(StmtPtr s, parse_statement());
        body.push_back(s);
        continue;
      }
      return unexpected("template data or tag");
    }
  }

  Result<StmtPtr> parse_statement() {
    const Token kw = cur();
    next();
    const std::string& k = kw.text;
    if (k == "for") return parse_for(kw.line);
    if (k == "if") return parse_if(kw.line);
    if (k == "set") return parse_set(kw.line);
    if (k == "macro") return parse_macro(kw.line);
    if (k == "break" || k == "continue") {
      G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
      return StmtPtr(stmt(k == "break" ? StmtKind::Break : StmtKind::Continue, kw.line));
    }
    if (k == "generation") {
      G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
      auto s = stmt(StmtKind::Scope, kw.line);
      std::string which;
      G4_ASSIGN_OR_RETURN(s->body, parse_until({"endgeneration"}, &which));
      G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
      return StmtPtr(s);
    }
    if (k == "filter") {
      auto s = stmt(StmtKind::FilterBlock, kw.line);
      auto body_ref = node(ExprKind::Name, kw.line);
      body_ref->name = kFilterBody;
      auto f = node(ExprKind::Filter, kw.line);
      G4_ASSIGN_OR_RETURN(f->name, expect_name());
      if (!has_filter(f->name)) return err(kw.line, "No filter named '" + f->name + "'.");
      f->args.push_back(body_ref);
      if (is_op("(")) G4_TRY(parse_call_args(*f));
      G4_ASSIGN_OR_RETURN(s->expr, parse_filter_expr(f));
      G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
      std::string which;
      G4_ASSIGN_OR_RETURN(s->body, parse_until({"endfilter"}, &which));
      G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
      return StmtPtr(s);
    }
    return err(kw.line, "Encountered unknown tag '" + k + "'.");
  }

  Result<StmtPtr> parse_for(int line) {
    auto s = stmt(StmtKind::For, line);
    do {
      G4_ASSIGN_OR_RETURN(std::string n, expect_name());
      s->targets.push_back(n);
    } while (skip_op(","));
    if (!skip_name("in")) return unexpected("'in'");
    G4_ASSIGN_OR_RETURN(s->expr, parse_tuple(false));
    if (skip_name("if")) {
      G4_ASSIGN_OR_RETURN(s->filter, parse_expression());
    }
    if (is_name("recursive")) return err(cur().line, "recursive loops are not supported");
    G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
    std::string which;
    G4_ASSIGN_OR_RETURN(s->body, parse_until({"endfor", "else"}, &which));
    if (which == "else") {
      G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
      G4_ASSIGN_OR_RETURN(s->else_body, parse_until({"endfor"}, &which));
    }
    G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
    return StmtPtr(s);
  }

  Result<StmtPtr> parse_if(int line) {
    auto s = stmt(StmtKind::If, line);
    while (true) {
      G4_ASSIGN_OR_RETURN(ExprPtr cond, parse_tuple(false));
      G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
      std::string which;
      G4_ASSIGN_OR_RETURN(Body body, parse_until({"elif", "else", "endif"}, &which));
      s->branches.emplace_back(cond, std::move(body));
      if (which == "elif") continue;
      if (which == "else") {
        G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
        G4_ASSIGN_OR_RETURN(s->else_body, parse_until({"endif"}, &which));
      }
      G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
      return StmtPtr(s);
    }
  }

  Result<StmtPtr> parse_set(int line) {
    auto s = stmt(StmtKind::Set, line);
    G4_ASSIGN_OR_RETURN(std::string first, expect_name());
    s->targets.push_back(first);
    if (skip_op(".")) {
      G4_ASSIGN_OR_RETURN(s->attr, expect_name());
    } else {
      while (skip_op(",")) {
        G4_ASSIGN_OR_RETURN(std::string n, expect_name());
        s->targets.push_back(n);
      }
    }
    if (skip_op("=")) {
      G4_ASSIGN_OR_RETURN(s->expr, parse_tuple());
      G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
      return StmtPtr(s);
    }
    if (!s->attr.empty() || s->targets.size() != 1) return unexpected("'='");
    G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
    s->kind = StmtKind::SetBlock;
    std::string which;
    G4_ASSIGN_OR_RETURN(s->body, parse_until({"endset"}, &which));
    G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
    return StmtPtr(s);
  }

  Result<StmtPtr> parse_macro(int line) {
    auto s = stmt(StmtKind::Macro, line);
    G4_ASSIGN_OR_RETURN(s->name, expect_name());
    G4_TRY(expect_op("("));
    while (!is_op(")")) {
      if (!s->params.empty()) G4_TRY(expect_op(","));
      if (is_op(")")) break;
      G4_ASSIGN_OR_RETURN(std::string pn, expect_name());
      ExprPtr def;
      if (skip_op("=")) {
        G4_ASSIGN_OR_RETURN(def, parse_expression());
      } else if (!s->params.empty() && s->params.back().second) {
        return err(cur().line, "non-default argument follows default argument");
      }
      s->params.emplace_back(pn, def);
    }
    next();
    G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
    std::string which;
    G4_ASSIGN_OR_RETURN(s->body, parse_until({"endmacro"}, &which));
    if (cur().type == Tok::Name) next();  // optional macro name after endmacro
    G4_TRY(expect(Tok::BlockEnd, "end of statement block"));
    return StmtPtr(s);
  }

  // expression [, expression ...] -> tuple when a comma is present.
  Result<ExprPtr> parse_tuple(bool with_condexpr = true) {
    int line = cur().line;
    G4_ASSIGN_OR_RETURN(ExprPtr first, with_condexpr ? parse_expression() : parse_or());
    if (!is_op(",")) return first;
    auto t = node(ExprKind::Tuple, line);
    t->args.push_back(first);
    while (skip_op(",")) {
      if (cur().type == Tok::VarEnd || cur().type == Tok::BlockEnd || is_op(")")) break;
      G4_ASSIGN_OR_RETURN(ExprPtr e, with_condexpr ? parse_expression() : parse_or());
      t->args.push_back(e);
    }
    return ExprPtr(t);
  }

  Result<ExprPtr> parse_expression() {
    if (++depth_ > 200) return err(cur().line, "expression nested too deeply");
    struct Guard {
      int& d;
      ~Guard() { --d; }
    } guard{depth_};
    G4_ASSIGN_OR_RETURN(ExprPtr e, parse_or());
    while (is_name("if")) {
      int line = cur().line;
      next();
      G4_ASSIGN_OR_RETURN(ExprPtr cond, parse_or());
      ExprPtr other;
      if (skip_name("else")) {
        G4_ASSIGN_OR_RETURN(other, parse_expression());
      }
      auto c = node(ExprKind::Cond, line);
      c->args = {cond, e, other};
      e = c;
    }
    return e;
  }

  Result<ExprPtr> parse_or() {
    G4_ASSIGN_OR_RETURN(ExprPtr l, parse_and());
    while (is_name("or")) {
      int line = cur().line;
      next();
      G4_ASSIGN_OR_RETURN(ExprPtr r, parse_and());
      auto n = node(ExprKind::Or, line);
      n->args = {l, r};
      l = n;
    }
    return l;
  }

  Result<ExprPtr> parse_and() {
    G4_ASSIGN_OR_RETURN(ExprPtr l, parse_not());
    while (is_name("and")) {
      int line = cur().line;
      next();
      G4_ASSIGN_OR_RETURN(ExprPtr r, parse_not());
      auto n = node(ExprKind::And, line);
      n->args = {l, r};
      l = n;
    }
    return l;
  }

  Result<ExprPtr> parse_not() {
    if (is_name("not")) {
      int line = cur().line;
      next();
      if (++depth_ > 200) return err(line, "expression nested too deeply");
      auto r = parse_not();
      --depth_;
      G4_ASSIGN_OR_RETURN(ExprPtr e, std::move(r));
      auto n = node(ExprKind::Not, line);
      n->args = {e};
      return ExprPtr(n);
    }
    return parse_compare();
  }

  Result<ExprPtr> parse_compare() {
    int line = cur().line;
    G4_ASSIGN_OR_RETURN(ExprPtr first, parse_math1());
    std::shared_ptr<Expr> cmp;
    while (true) {
      std::string op;
      if (cur().type == Tok::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                    cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
        op = "notin";
        next();
        next();
      } else {
        break;
      }
      G4_ASSIGN_OR_RETURN(ExprPtr rhs, parse_math1());
      if (!cmp) {
        cmp = node(ExprKind::Compare, line);
        cmp->args.push_back(first);
      }
      cmp->args.push_back(rhs);
      cmp->ops.push_back(op);
    }
    if (cmp) return ExprPtr(cmp);
    return first;
  }

  Result<ExprPtr> binary_loop(std::initializer_list<const char*> ops, Result<ExprPtr> (Parser::*sub)()) {
    G4_ASSIGN_OR_RETURN(ExprPtr l, (this->*sub)());
    while (true) {
      const char* hit = nullptr;
      for (const char* o : ops)
        if (is_op(o)) hit = o;
      if (!hit) return l;
      int line = cur().line;
      next();
      G4_ASSIGN_OR_RETURN(ExprPtr r, (this->*sub)());
      auto n = node(ExprKind::Binary, line);
      n->name = hit;
      n->args = {l, r};
      l = n;
    }
  }
  Result<ExprPtr> parse_math1() { return binary_loop({"+", "-"}, &Parser::parse_concat); }
  Result<ExprPtr> parse_concat() { return binary_loop({"~"}, &Parser::parse_math2); }
  Result<ExprPtr> parse_math2() { return binary_loop({"*", "/", "//", "%"}, &Parser::parse_pow); }
  Result<ExprPtr> parse_pow() { return binary_loop({"**"}, &Parser::parse_unary_f); }
  Result<ExprPtr> parse_unary_f() { return parse_unary(true); }

  Result<ExprPtr> parse_unary(bool with_filter) {
    int line = cur().line;
    if (++depth_ > 200) return err(line, "expression nested too deeply");
    struct Guard {
      int& d;
      ~Guard() { --d; }
    } guard{depth_};
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      bool neg = is_op("-");
      next();
      G4_ASSIGN_OR_RETURN(ExprPtr inner, parse_unary(false));
      auto n = node(neg ? ExprKind::Neg : ExprKind::Pos, line);
      n->args = {inner};
      e = n;
    } else {
      G4_ASSIGN_OR_RETURN(e, parse_primary());
    }
    G4_ASSIGN_OR_RETURN(e, parse_postfix(e));
    if (with_filter) {
      G4_ASSIGN_OR_RETURN(e, parse_filter_expr(e));
    }
    return e;
  }

  Result<ExprPtr> parse_primary() {
    const Token tk = cur();
    switch (tk.type) {
      case Tok::Name: {
        next();
        if (tk.text == "true" || tk.text == "True" || tk.text == "false" || tk.text == "False") {
          auto n = node(ExprKind::Literal, tk.line);
          n->literal = Value::boolean(tk.text[0] == 't' || tk.text[0] == 'T');
          return ExprPtr(n);
        }
        if (tk.text == "none" || tk.text == "None") {
          auto n = node(ExprKind::Literal, tk.line);
          n->literal = Value::none();
          return ExprPtr(n);
        }
        auto n = node(ExprKind::Name, tk.line);
        n->name = tk.text;
        return ExprPtr(n);
      }
      case Tok::String: {
        std::string s;
        while (cur().type == Tok::String) {
          s += cur().text;
          next();
        }
        auto n = node(ExprKind::Literal, tk.line);
        n->literal = Value::string(std::move(s));
        return ExprPtr(n);
      }
      case Tok::Int: {
        next();
        errno = 0;
        long long v = std::strtoll(tk.text.c_str(), nullptr, 10);
        auto n = node(ExprKind::Literal, tk.line);
        n->literal = errno == ERANGE ? Value::number(std::strtod(tk.text.c_str(), nullptr)) : Value::integer(v);
        return ExprPtr(n);
      }
      case Tok::Float: {
        next();
        auto n = node(ExprKind::Literal, tk.line);
        n->literal = Value::number(std::strtod(tk.text.c_str(), nullptr));
        return ExprPtr(n);
      }
      case Tok::Op:
        if (tk.text == "(") {
          next();
          if (skip_op(")")) return ExprPtr(node(ExprKind::Tuple, tk.line));
          G4_ASSIGN_OR_RETURN(ExprPtr e, parse_tuple());
          G4_TRY(expect_op(")"));
          return e;
        }
        if (tk.text == "[") {
          next();
          auto n = node(ExprKind::List, tk.line);
          while (!is_op("]")) {
            if (!n->args.empty()) G4_TRY(expect_op(","));
            if (is_op("]")) break;
            G4_ASSIGN_OR_RETURN(ExprPtr e, parse_expression());
            n->args.push_back(e);
          }
          next();
          return ExprPtr(n);
        }
        if (tk.text == "{") {
          next();
          auto n = node(ExprKind::Dict, tk.line);
          while (!is_op("}")) {
            if (!n->args.empty()) G4_TRY(expect_op(","));
            if (is_op("}")) break;
            G4_ASSIGN_OR_RETURN(ExprPtr k, parse_expression());
            G4_TRY(expect_op(":"));
            G4_ASSIGN_OR_RETURN(ExprPtr v, parse_expression());
            n->args.push_back(k);
            n->args.push_back(v);
          }
          next();
          return ExprPtr(n);
        }
        break;
      default:
        break;
    }
    return err(tk.line, "unexpected " + describe(tk));
  }

  Status parse_call_args(Expr& n) {
    // Current token is "(".
    next();
    bool first = true;
    while (!is_op(")")) {
      if (!first) G4_TRY(expect_op(","));
      first = false;
      if (is_op(")")) break;
      if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
        std::string k = cur().text;
        next();
        next();
        G4_ASSIGN_OR_RETURN(ExprPtr v, parse_expression());
        n.kwargs.emplace_back(k, v);
      } else {
        if (!n.kwargs.empty()) return err(cur().line, "positional argument follows keyword argument");
        G4_ASSIGN_OR_RETURN(ExprPtr v, parse_expression());
        n.args.push_back(v);
      }
    }
    next();
    return {};
  }

  Result<ExprPtr> parse_postfix(ExprPtr e) {
    while (true) {
      int line = cur().line;
      if (is_op(".")) {
        next();
        if (cur().type == Tok::Name) {
          auto n = node(ExprKind::GetAttr, line);
          n->args = {e};
          n->name = cur().text;
          next();
          e = n;
        } else if (cur().type == Tok::Int) {
          auto n = node(ExprKind::GetItem, line);
          auto k = node(ExprKind::Literal, line);
          k->literal = Value::integer(std::strtoll(cur().text.c_str(), nullptr, 10));
          n->args = {e, k};
          next();
          e = n;
        } else {
          return unexpected("name or number");
        }
      } else if (is_op("[")) {
        next();
        G4_ASSIGN_OR_RETURN(e, parse_subscript(e, line));
      } else if (is_op("(")) {
        auto n = node(ExprKind::Call, line);
        n->args.push_back(e);
        G4_TRY(parse_call_args(*n));
        e = n;
      } else {
        return e;
      }
    }
  }

  Result<ExprPtr> parse_subscript(ExprPtr obj, int line) {
    ExprPtr start, stop, step;
    if (!is_op(":")) {
      G4_ASSIGN_OR_RETURN(start, parse_expression());
      if (!is_op(":")) {
        G4_TRY(expect_op("]"));
        auto n = node(ExprKind::GetItem, line);
        n->args = {obj, start};
        return ExprPtr(n);
      }
    }
    next();  // ':'
    if (!is_op(":") && !is_op("]")) {
      G4_ASSIGN_OR_RETURN(stop, parse_expression());
    }
    if (skip_op(":")) {
      if (!is_op("]")) {
        G4_ASSIGN_OR_RETURN(step, parse_expression());
      }
    }
    G4_TRY(expect_op("]"));
    auto n = node(ExprKind::Slice, line);
    n->args = {obj, start, stop, step};
    return ExprPtr(n);
  }

  Result<ExprPtr> parse_filter_expr(ExprPtr e) {
    while (true) {
      int line = cur().line;
      if (is_op("|")) {
        next();
        auto n = node(ExprKind::Filter, line);
        G4_ASSIGN_OR_RETURN(n->name, expect_name());
        while (is_op(".")) {
          next();
          G4_ASSIGN_OR_RETURN(std::string more, expect_name());
          n->name += "." + more;
        }
        if (!has_filter(n->name)) return err(line, "No filter named '" + n->name + "'.");
        n->args.push_back(e);
        if (is_op("(")) G4_TRY(parse_call_args(*n));
        e = n;
      } else if (is_name("is")) {
        next();
        auto n = node(ExprKind::Test, line);
        n->negated = skip_name("not");
        if (is_op("==") || is_op("!=") || is_op("<") || is_op(">") || is_op("<=") || is_op(">=")) {
          n->name = cur().text;
          next();
        } else {
          G4_ASSIGN_OR_RETURN(n->name, expect_name());
        }
        if (!has_test(n->name)) return err(line, "No test named '" + n->name + "'.");
        n->args.push_back(e);
        if (is_op("(")) {
          G4_TRY(parse_call_args(*n));
        } else if ((cur().type == Tok::Name || cur().type == Tok::String || cur().type == Tok::Int ||
                    cur().type == Tok::Float || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          G4_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());
          G4_ASSIGN_OR_RETURN(arg, parse_postfix(arg));
          n->args.push_back(arg);
        }
        e = n;
      } else if (is_op("(")) {
        auto n = node(ExprKind::Call, line);
        n->args.push_back(e);
        G4_TRY(parse_call_args(*n));
        e = n;
      } else {
        return e;
      }
    }
  }

  const std::vector<Token>& t_;
  const std::string& name_;
  size_t p_ = 0;
  int depth_ = 0;
  int nesting_ = 0;
};

}  // namespace

Result<Body> parse_tokens(const std::vector<Token>& tokens, const std::string& name) {
  if (tokens.empty()) return Body{};
  Parser p(tokens, name);
  return p.parse_template();
}

}  // namespace g4::jinja
