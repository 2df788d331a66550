// Built-in filters and tests (jinja2 semantics; tojson as transformers overrides it: json.dumps with
// ensure_ascii=False).
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "text/jinja/builtins.h"
#include "text/jinja/pystr.h"

namespace g4::jinja {
namespace {

bool arg_bool(const CallArgs& a, size_t pos, const char* name, bool def) {
  const Value* v = a.get(pos, name);
  return v ? truthy(*v) : def;
}

const Value* arg_str(const CallArgs& a, size_t pos, const char* name) {
  const Value* v = a.get(pos, name);
  return (v && v->is_string()) ? v : nullptr;
}

CallArgs shift(const CallArgs& a, size_t n) {
  CallArgs out;
  for (size_t k = n; k < a.positional.size(); ++k) out.positional.push_back(a.positional[k]);
  out.keyword = a.keyword;
  return out;
}

// jinja2's make_attrgetter: "a.b.0" walks attributes / items.
Result<Value> attr_path(const Value& v, const std::string& path) {
  Value cur = v;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    G4_ASSIGN_OR_RETURN(cur, get_item(cur, numeric ? Value::integer(std::atoll(part.c_str())) : Value::string(part)));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

// Key used for sorting: lowercased strings unless case sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(pystr::lower(v.s));
  return v;
}

Status sort_values(List& items, bool reverse, bool case_sensitive, const std::string* attribute, bool by_value_pair, int pair_index) {
  std::vector<std::pair<Value, size_t>> keyed;
  for (size_t k = 0; k < items.size(); ++k) {
    Value key = items[k];
    if (by_value_pair) key = (*items[k].list)[size_t(pair_index)];
    if (attribute) {
      G4_ASSIGN_OR_RETURN(key, attr_path(key, *attribute));
    }
    keyed.emplace_back(sort_key(key, case_sensitive), k);
  }
  Status err;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    if (!err.ok()) return false;
    Result<bool> r = reverse ? less_than(y.first, x.first) : less_than(x.first, y.first);
    if (!r.ok()) {
      err = r.error();
      return false;
    }
    return *r;
  });
  if (!err.ok()) return err;
  List out;
  for (const auto& kv : keyed) out.push_back(items[kv.second]);
  items = std::move(out);
  return {};
}

Result<Value> length_of(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
      return Value::integer(0);
    case Kind::String:
      return Value::integer(int64_t(pystr::length(v.s)));
    case Kind::List:
    case Kind::Tuple:
      return Value::integer(int64_t(v.list->size()));
    case Kind::Dict:
      return Value::integer(int64_t(v.dict->items.size()));
    default:
      return make_error("object of type '%s' has no len()", type_name(v).c_str());
  }
}

Result<Value> select_impl(const Value& v, const CallArgs& a, bool select, bool by_attr) {
  G4_ASSIGN_OR_RETURN(List items, iterate(v));
  size_t off = 0;
  const Value* attr = nullptr;
  if (by_attr) {
    attr = arg_str(a, 0, "attribute");
    if (!attr) return make_error("selectattr/rejectattr needs an attribute name");
    off = 1;
  }
  const Value* test = a.positional.size() > off ? &a.positional[off] : nullptr;
  CallArgs rest = shift(a, off + 1);
  rest.keyword.clear();
  List out;
  for (const Value& item : items) {
    Value subject = item;
    if (attr) {
      G4_ASSIGN_OR_RETURN(subject, attr_path(item, attr->s));
    }
    bool ok;
    if (test) {
      if (!test->is_string()) return make_error("test name must be a string");
      G4_ASSIGN_OR_RETURN(ok, apply_test(test->s, subject, rest));
    } else {
      ok = truthy(subject);
    }
    if (ok == select) out.push_back(item);
  }
  return Value::make_list(std::move(out));
}

Result<Value> min_max(const Value& v, const CallArgs& a, bool want_max) {
  G4_ASSIGN_OR_RETURN(List items, iterate(v));
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  bool cs = arg_bool(a, 0, "case_sensitive", false);
  const Value* attr = arg_str(a, 1, "attribute");
  size_t best = 0;
  Value best_key;
  for (size_t k = 0; k < items.size(); ++k) {
    Value key = items[k];
    if (attr) {
      G4_ASSIGN_OR_RETURN(key, attr_path(key, attr->s));
    }
    key = sort_key(key, cs);
    if (k == 0) {
      best_key = key;
      continue;
    }
    G4_ASSIGN_OR_RETURN(bool better, want_max ? less_than(best_key, key) : less_than(key, best_key));
    if (better) {
      best = k;
      best_key = key;
    }
  }
  return items[best];
}

Result<Value> to_int(const Value& v, const CallArgs& a) {
  const Value* def = a.get(0, "default");
  Value d = def ? *def : Value::integer(0);
  switch (v.kind) {
    case Kind::Int:
      return v;
    case Kind::Bool:
      return Value::integer(v.as_int());
    case Kind::Float:
      if (!std::isfinite(v.f)) return d;
      return Value::integer(int64_t(v.f));
    case Kind::String: {
      std::string s = pystr::strip(v.s, nullptr, true, true);
      std::string t;
      for (char c : s)
        if (c != '_') t += c;
      if (t.empty()) return d;
      char* end = nullptr;
      long long x = std::strtoll(t.c_str(), &end, 10);
      if (end && *end == '\0') return Value::integer(x);
      double f = std::strtod(t.c_str(), &end);
      if (end && *end == '\0' && std::isfinite(f)) return Value::integer(int64_t(f));
      return d;
    }
    default:
      return d;
  }
}

Result<Value> to_float(const Value& v, const CallArgs& a) {
  const Value* def = a.get(0, "default");
  Value d = def ? *def : Value::number(0.0);
  if (v.is_numeric()) return Value::number(v.as_double());
  if (v.is_string()) {
    std::string s = pystr::strip(v.s, nullptr, true, true);
    char* end = nullptr;
    double f = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return Value::number(f);
  }
  return d;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Result<Value> tojson(const Value& v, const CallArgs& a) {
  JsonDumpOptions opt;
  opt.ensure_ascii = arg_bool(a, 0, "ensure_ascii", false);
  const Value* indent = a.get(1, "indent");
  if (indent && !indent->is_none()) {
    opt.has_indent = true;
    if (indent->is_string()) opt.indent_str = indent->s;
    else if (indent->kind == Kind::Int) opt.indent_str = std::string(size_t(std::max<int64_t>(0, indent->i)), ' ');
    else return make_error("tojson indent must be an int or a string");
    opt.item_sep = ",";
  }
  const Value* seps = a.get(2, "separators");
  if (seps && !seps->is_none()) {
    if (!seps->is_list_like() || seps->list->size() != 2 || !(*seps->list)[0].is_string() || !(*seps->list)[1].is_string())
      return make_error("tojson separators must be a pair of strings");
    opt.item_sep = (*seps->list)[0].s;
    opt.key_sep = (*seps->list)[1].s;
  }
  opt.sort_keys = arg_bool(a, 3, "sort_keys", false);
  G4_ASSIGN_OR_RETURN(std::string s, json_dumps(v, opt));
  return Value::string(std::move(s));
}

}  // namespace

static const char* kFilters[] = {"default", "d", "upper", "lower", "trim", "length", "count", "list", "tojson",
                                 "string", "join", "first", "last", "dictsort", "map", "select", "reject",
                                 "selectattr", "rejectattr", "sort", "unique", "reverse", "sum", "min", "max",
                                 "abs", "int", "float", "round", "replace", "title", "capitalize", "items",
                                 "indent", "safe", "escape", "e", "attr", "wordcount"};

bool has_filter(const std::string& name) {
  for (const char* f : kFilters)
    if (name == f) return true;
  return false;
}

Result<Value> apply_filter(const std::string& name, const Value& v, const CallArgs& a) {
  if (name == "default" || name == "d") {
    const Value* def = a.get(0, "default_value");
    bool boolean = arg_bool(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !truthy(v))) return def ? *def : Value::string("");
    return v;
  }
  if (v.is_undefined() && (name == "dictsort" || name == "abs" || name == "round" || name == "attr" || name == "int" ||
                           name == "float"))
    return Error{v.s.empty() ? "value is undefined" : v.s};
  if (name == "upper") return Value::string(pystr::upper(to_str(v)));
  if (name == "lower") return Value::string(pystr::lower(to_str(v)));
  if (name == "title") return Value::string(pystr::title_words(to_str(v)));
  if (name == "capitalize") return Value::string(pystr::capitalize(to_str(v)));
  if (name == "trim") {
    const Value* chars = arg_str(a, 0, "chars");
    return Value::string(pystr::strip(to_str(v), chars ? &chars->s : nullptr, true, true));
  }
  if (name == "length" || name == "count") return length_of(v);
  if (name == "string") return Value::string(to_str(v));
  if (name == "safe") return v;
  if (name == "escape" || name == "e") return Value::string(html_escape(to_str(v)));
  if (name == "tojson") return tojson(v, a);
  if (name == "list") {
    G4_ASSIGN_OR_RETURN(List items, iterate(v));
    return Value::make_list(std::move(items));
  }
  if (name == "join") {
    const Value* sep = a.get(0, "d");
    const Value* attr = arg_str(a, 1, "attribute");
    G4_ASSIGN_OR_RETURN(List items, iterate(v));
    std::string out;
    for (size_t k = 0; k < items.size(); ++k) {
      Value x = items[k];
      if (attr) {
        G4_ASSIGN_OR_RETURN(x, attr_path(x, attr->s));
      }
      if (k && sep) out += to_str(*sep);
      out += to_str(x);
    }
    return Value::string(out);
  }
  if (name == "first" || name == "last") {
    G4_ASSIGN_OR_RETURN(List items, iterate(v));
    if (items.empty()) return Value::undefined(name == "first" ? "No first item, sequence was empty." : "No last item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "reverse") {
    if (v.is_string()) {
      auto cps = pystr::decode(v.s);
      std::reverse(cps.begin(), cps.end());
      return Value::string(pystr::encode(cps, 0, cps.size()));
    }
    G4_ASSIGN_OR_RETURN(List items, iterate(v));
    std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
  }
  if (name == "dictsort") {
    if (!v.is_dict()) return make_error("'%s' object has no attribute 'items'", type_name(v).c_str());
    bool cs = arg_bool(a, 0, "case_sensitive", false);
    const Value* by = arg_str(a, 1, "by");
    bool reverse = arg_bool(a, 2, "reverse", false);
    int idx = 0;
    if (by && by->s == "value") idx = 1;
    else if (by && by->s != "key") return make_error("You can only sort by either \"key\" or \"value\"");
    List items;
    for (const auto& [k, x] : v.dict->items) items.push_back(Value::make_tuple({Value::string(k), x}));
    G4_TRY(sort_values(items, reverse, cs, nullptr, true, idx));
    return Value::make_list(std::move(items));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::make_list();
    if (!v.is_dict()) return make_error("Can only get item pairs from a mapping.");
    List items;
    for (const auto& [k, x] : v.dict->items) items.push_back(Value::make_tuple({Value::string(k), x}));
    return Value::make_list(std::move(items));
  }
  if (name == "sort") {
    G4_ASSIGN_OR_RETURN(List items, iterate(v));
    bool reverse = arg_bool(a, 0, "reverse", false);
    bool cs = arg_bool(a, 1, "case_sensitive", false);
    const Value* attr = arg_str(a, 2, "attribute");
    G4_TRY(sort_values(items, reverse, cs, attr ? &attr->s : nullptr, false, 0));
    return Value::make_list(std::move(items));
  }
  if (name == "unique") {
    G4_ASSIGN_OR_RETURN(List items, iterate(v));
    bool cs = arg_bool(a, 0, "case_sensitive", false);
    const Value* attr = arg_str(a, 1, "attribute");
    List out, seen;
    for (const Value& x : items) {
      Value key = x;
      if (attr) {
        G4_ASSIGN_OR_RETURN(key, attr_path(x, attr->s));
      }
      key = sort_key(key, cs);
      bool dup = false;
      for (const Value& s : seen) dup = dup || equals(s, key);
      if (!dup) {
        seen.push_back(key);
        out.push_back(x);
      }
    }
    return Value::make_list(std::move(out));
  }
  if (name == "map") {
    G4_ASSIGN_OR_RETURN(List items, iterate(v));
    List out;
    const Value* attr = nullptr;
    for (const auto& [k, x] : a.keyword)
      if (k == "attribute" && x.is_string()) attr = &x;
    if (attr) {
      const Value* def = nullptr;
      for (const auto& [k, x] : a.keyword)
        if (k == "default") def = &x;
      for (const Value& x : items) {
        G4_ASSIGN_OR_RETURN(Value y, attr_path(x, attr->s));
        out.push_back((y.is_undefined() && def) ? *def : y);
      }
      return Value::make_list(std::move(out));
    }
    if (a.positional.empty() || !a.positional[0].is_string()) return make_error("map requires a filter name");
    std::string f = a.positional[0].s;
    if (!has_filter(f)) return make_error("No filter named '%s'.", f.c_str());
    CallArgs rest = shift(a, 1);
    for (const Value& x : items) {
      G4_ASSIGN_OR_RETURN(Value y, apply_filter(f, x, rest));
      out.push_back(y);
    }
    return Value::make_list(std::move(out));
  }
  if (name == "select" || name == "reject") return select_impl(v, a, name == "select", false);
  if (name == "selectattr" || name == "rejectattr") return select_impl(v, a, name == "selectattr", true);
  if (name == "sum") {
    G4_ASSIGN_OR_RETURN(List items, iterate(v));
    const Value* attr = arg_str(a, 0, "attribute");
    const Value* start = a.get(1, "start");
    Value acc = start ? *start : Value::integer(0);
    for (const Value& x : items) {
      Value y = x;
      if (attr) {
        G4_ASSIGN_OR_RETURN(y, attr_path(x, attr->s));
      }
      G4_ASSIGN_OR_RETURN(acc, binary_op("+", acc, y));
    }
    return acc;
  }
  if (name == "min" || name == "max") return min_max(v, a, name == "max");
  if (name == "abs") {
    if (v.kind == Kind::Int) return Value::integer(v.i < 0 ? -v.i : v.i);
    if (v.kind == Kind::Bool) return Value::integer(v.as_int());
    if (v.kind == Kind::Float) return Value::number(std::fabs(v.f));
    return make_error("bad operand type for abs(): '%s'", type_name(v).c_str());
  }
  if (name == "int") return to_int(v, a);
  if (name == "float") return to_float(v, a);
  if (name == "round") {
    const Value* p = a.get(0, "precision");
    const Value* m = arg_str(a, 1, "method");
    int64_t prec = p && p->is_numeric() ? p->as_int() : 0;
    std::string method = m ? m->s : "common";
    if (!v.is_numeric()) return make_error("type %s doesn't define __round__ method", type_name(v).c_str());
    double x = v.as_double(), scale = std::pow(10.0, double(prec));
    if (method == "common") return Value::number(std::nearbyint(x * scale) / scale);
    if (method == "ceil") return Value::number(std::ceil(x * scale) / scale);
    if (method == "floor") return Value::number(std::floor(x * scale) / scale);
    return make_error("method must be common, ceil or floor");
  }
  if (name == "replace") {
    const Value* from = a.get(0, "old");
    const Value* to = a.get(1, "new");
    const Value* cnt = a.get(2, "count");
    if (!from || !to) return make_error("replace() needs old and new");
    return Value::string(pystr::replace(to_str(v), to_str(*from), to_str(*to), cnt && cnt->is_numeric() ? cnt->as_int() : -1));
  }
  if (name == "indent") {
    const Value* w = a.get(0, "width");
    std::string pad = w ? (w->is_string() ? w->s : std::string(size_t(std::max<int64_t>(0, w->as_int())), ' ')) : "    ";
    bool first = arg_bool(a, 1, "first", false);
    bool blank = arg_bool(a, 2, "blank", false);
    std::string s = to_str(v), out;
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t k = 0; k <= s.size(); ++k) {
      if (k == s.size() || s[k] == '\n') {
        lines.push_back(s.substr(start, k - start));
        start = k + 1;
      }
    }
    for (size_t k = 0; k < lines.size(); ++k) {
      if (k) out += "\n";
      bool do_pad = (k == 0 ? first : true) && (blank || !lines[k].empty());
      if (k == 0 && !first) do_pad = false;
      out += (do_pad ? pad : "") + lines[k];
    }
    return Value::string(out);
  }
  if (name == "attr") {
    const Value* n = arg_str(a, 0, "name");
    if (!n) return make_error("attr() needs a name");
    return get_attr(v, n->s);
  }
  if (name == "wordcount") return Value::integer(int64_t(pystr::split(to_str(v), nullptr, -1).size()));
  return make_error("filter '%s' is not supported", name.c_str());
}

static const char* kTests[] = {"defined", "undefined", "none", "boolean", "true", "false", "integer", "float",
                               "number", "string", "mapping", "sequence", "iterable", "callable", "odd", "even",
                               "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le",
                               "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "lower", "upper", "sameas"};

bool has_test(const std::string& name) {
  for (const char* t : kTests)
    if (name == t) return true;
  return false;
}

Result<bool> apply_test(const std::string& name, const Value& v, const CallArgs& a) {
  const Value* arg = a.get(0, "value");
  auto need_arg = [&]() -> Status {
    if (!arg) return make_error("test '%s' needs an argument", name.c_str());
    return {};
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind == Kind::Bool;
  if (name == "true") return v.kind == Kind::Bool && v.b;
  if (name == "false") return v.kind == Kind::Bool && !v.b;
  if (name == "integer") return v.kind == Kind::Int;
  if (name == "float") return v.kind == Kind::Float;
  if (name == "number") return v.is_numeric();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "sequence") return v.is_string() || v.is_list_like() || v.is_dict() || v.is_undefined();
  if (name == "iterable") return v.is_string() || v.is_list_like() || v.is_dict() || v.is_undefined();
  if (name == "callable") return v.kind == Kind::Function;
  if (name == "odd" || name == "even") {
    if (v.kind != Kind::Int && v.kind != Kind::Bool) return make_error("test '%s' needs an integer", name.c_str());
    return (v.as_int() % 2 != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    G4_TRY(need_arg());
    G4_ASSIGN_OR_RETURN(Value r, binary_op("%", v, *arg));
    return !truthy(r);
  }
  if (name == "lower" || name == "upper") {
    std::string s = to_str(v);
    return name == "lower" ? pystr::lower(s) == s : pystr::upper(s) == s;
  }
  if (name == "eq" || name == "equalto" || name == "==") {
    G4_TRY(need_arg());
    return equals(v, *arg);
  }
  if (name == "ne" || name == "!=") {
    G4_TRY(need_arg());
    return !equals(v, *arg);
  }
  if (name == "lt" || name == "lessthan" || name == "<") {
    G4_TRY(need_arg());
    return less_than(v, *arg);
  }
  if (name == "gt" || name == "greaterthan" || name == ">") {
    G4_TRY(need_arg());
    return less_than(*arg, v);
  }
  if (name == "le" || name == "<=") {
    G4_TRY(need_arg());
    G4_ASSIGN_OR_RETURN(bool gt, less_than(*arg, v));
    return !gt;
  }
  if (name == "ge" || name == ">=") {
    G4_TRY(need_arg());
    G4_ASSIGN_OR_RETURN(bool lt, less_than(v, *arg));
    return !lt;
  }
  if (name == "in") {
    G4_TRY(need_arg());
    return contains(*arg, v);
  }
  if (name == "sameas") {
    G4_TRY(need_arg());
    if (v.kind != arg->kind) return false;
    if (v.is_list_like()) return v.list == arg->list;
    if (v.is_dict() || v.kind == Kind::Namespace) return v.dict == arg->dict;
    return equals(v, *arg) && (v.is_none() || v.kind == Kind::Bool || v.is_undefined());
  }
  return make_error("No test named '%s'.", name.c_str());
}

}  // namespace g4::jinja
