// Attribute/item access, slicing, operators, iteration, str/dict/list methods and globals.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "text/jinja/builtins.h"
#include "text/jinja/pystr.h"

namespace g4::jinja {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

std::string quoted(const std::string& s) { return repr(Value::string(s)); }

// jinja2's object_type_repr: "dict object", "None", ...
std::string object_type(const Value& v) {
  if (v.is_none()) return "None";
  return type_name(v) + " object";
}

Value missing_attr(const Value& obj, const std::string& name) {
  return Value::undefined(quoted(object_type(obj)) + " has no attribute " + quoted(name));
}

Value missing_element(const Value& obj, const Value& key) {
  return Value::undefined(object_type(obj) + " has no element " + repr(key));
}

Error undefined_error(const Value& u) { return Error{u.s.empty() ? "value is undefined" : u.s}; }

Result<std::string> str_arg(const CallArgs& a, size_t pos, const char* name, const char* fn) {
  const Value* v = a.get(pos, name);
  if (!v || !v->is_string()) return make_error("%s() argument '%s' must be str", fn, name);
  return v->s;
}

bool starts_or_ends(const std::string& s, const Value& fix, bool start) {
  auto one = [&](const std::string& p) {
    if (p.size() > s.size()) return false;
    return start ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
  };
  if (fix.is_string()) return one(fix.s);
  if (fix.is_list_like())
    for (const Value& x : *fix.list)
      if (x.is_string() && one(x.s)) return true;
  return false;
}

Result<Value> str_method(const std::string& s, const std::string& m, const CallArgs& a) {
  if (m == "upper") return Value::string(pystr::upper(s));
  if (m == "lower") return Value::string(pystr::lower(s));
  if (m == "title") return Value::string(pystr::title(s));
  if (m == "capitalize") return Value::string(pystr::capitalize(s));
  if (m == "strip" || m == "lstrip" || m == "rstrip") {
    const Value* c = a.get(0, "chars");
    const std::string* chars = (c && c->is_string()) ? &c->s : nullptr;
    return Value::string(pystr::strip(s, chars, m != "rstrip", m != "lstrip"));
  }
  if (m == "split" || m == "rsplit") {
    const Value* sep = a.get(0, "sep");
    const Value* mx = a.get(1, "maxsplit");
    int64_t maxsplit = mx && mx->is_numeric() ? mx->as_int() : -1;
    const std::string* sp = (sep && sep->is_string()) ? &sep->s : nullptr;
    if (sp && sp->empty()) return make_error("empty separator");
    if (m == "rsplit" && maxsplit >= 0) return make_error("rsplit with maxsplit is not supported");
    List out;
    for (auto& part : pystr::split(s, sp, maxsplit)) out.push_back(Value::string(std::move(part)));
    return Value::make_list(std::move(out));
  }
  if (m == "splitlines") {
    List out;
    size_t start = 0;
    for (size_t k = 0; k < s.size(); ++k) {
      if (s[k] == '\n' || s[k] == '\r') {
        out.push_back(Value::string(s.substr(start, k - start)));
        if (s[k] == '\r' && k + 1 < s.size() && s[k + 1] == '\n') ++k;
        start = k + 1;
      }
    }
    if (start < s.size()) out.push_back(Value::string(s.substr(start)));
    return Value::make_list(std::move(out));
  }
  if (m == "startswith" || m == "endswith") {
    const Value* fix = a.get(0, "prefix");
    if (!fix) return make_error("%s() takes at least 1 argument (0 given)", m.c_str());
    return Value::boolean(starts_or_ends(s, *fix, m == "startswith"));
  }
  if (m == "replace") {
    G4_ASSIGN_OR_RETURN(std::string from, str_arg(a, 0, "old", "replace"));
    G4_ASSIGN_OR_RETURN(std::string to, str_arg(a, 1, "new", "replace"));
    const Value* c = a.get(2, "count");
    return Value::string(pystr::replace(s, from, to, c && c->is_numeric() ? c->as_int() : -1));
  }
  if (m == "find" || m == "rfind" || m == "index" || m == "rindex" || m == "count") {
    G4_ASSIGN_OR_RETURN(std::string sub, str_arg(a, 0, "sub", m.c_str()));
    if (m == "count") {
      if (sub.empty()) return Value::integer(int64_t(pystr::length(s)) + 1);
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::integer(n);
    }
    size_t p = (m[0] == 'r') ? s.rfind(sub) : s.find(sub);
    if (p == std::string::npos) {
      if (m == "index" || m == "rindex") return make_error("substring not found");
      return Value::integer(-1);
    }
    return Value::integer(int64_t(pystr::length(std::string_view(s).substr(0, p))));
  }
  if (m == "join") {
    const Value* it = a.get(0, "iterable");
    if (!it) return make_error("join() takes exactly one argument (0 given)");
    G4_ASSIGN_OR_RETURN(List items, iterate(*it));
    std::string out;
    for (size_t k = 0; k < items.size(); ++k) {
      if (!items[k].is_string())
        return make_error("sequence item %zu: expected str instance, %s found", k, type_name(items[k]).c_str());
      if (k) out += s;
      out += items[k].s;
    }
    return Value::string(out);
  }
  if (m == "isdigit" || m == "isalpha" || m == "isalnum" || m == "isspace" || m == "isupper" || m == "islower") {
    auto cps = pystr::decode(s);
    if (cps.empty()) return Value::boolean(false);
    bool any_cased = false, ok = true;
    for (char32_t c : cps) {
      bool digit = c >= '0' && c <= '9';
      bool up = c >= 'A' && c <= 'Z', lo = c >= 'a' && c <= 'z';
      if (m == "isdigit") ok = ok && digit;
      else if (m == "isalpha") ok = ok && (up || lo);
      else if (m == "isalnum") ok = ok && (up || lo || digit);
      else if (m == "isspace") ok = ok && pystr::is_space(c);
      else if (m == "isupper") { ok = ok && !lo; any_cased = any_cased || up; }
      else { ok = ok && !up; any_cased = any_cased || lo; }
    }
    if (m == "isupper" || m == "islower") ok = ok && any_cased;
    return Value::boolean(ok);
  }
  return make_error("str object has no method '%s'", m.c_str());
}

bool is_str_method(const std::string& m) {
  static const char* names[] = {"upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "split",
                                "rsplit", "splitlines", "startswith", "endswith", "replace", "find", "rfind",
                                "index", "rindex", "count", "join", "isdigit", "isalpha", "isalnum", "isspace",
                                "isupper", "islower"};
  for (const char* n : names)
    if (m == n) return true;
  return false;
}

Result<Value> dict_method(const Value& d, const std::string& m, const CallArgs& a) {
  if (m == "get") {
    const Value* k = a.get(0, "key");
    if (!k) return make_error("get expected at least 1 argument, got 0");
    const Value* def = a.get(1, "default");
    const Value* found = k->is_string() ? d.dict->find(k->s) : nullptr;
    if (found) return *found;
    return def ? *def : Value::none();
  }
  if (m == "items") {
    List out;
    for (const auto& [k, v] : d.dict->items) out.push_back(Value::make_tuple({Value::string(k), v}));
    return Value::make_list(std::move(out));
  }
  if (m == "keys") {
    List out;
    for (const auto& kv : d.dict->items) out.push_back(Value::string(kv.first));
    return Value::make_list(std::move(out));
  }
  if (m == "values") {
    List out;
    for (const auto& kv : d.dict->items) out.push_back(kv.second);
    return Value::make_list(std::move(out));
  }
  return make_error("dict object has no method '%s'", m.c_str());
}

Result<Value> list_method(const Value& l, const std::string& m, const CallArgs& a) {
  const Value* x = a.get(0, "value");
  if (!x) return make_error("%s() takes exactly one argument (0 given)", m.c_str());
  int64_t n = 0;
  for (size_t k = 0; k < l.list->size(); ++k) {
    if (equals((*l.list)[k], *x)) {
      if (m == "index") return Value::integer(int64_t(k));
      ++n;
    }
  }
  if (m == "index") return make_error("%s is not in list", repr(*x).c_str());
  return Value::integer(n);
}

Value bind(const Value& obj, const std::string& m) {
  return Value::function([obj, m](CallArgs& a) -> Result<Value> {
    if (obj.is_string()) return str_method(obj.s, m, a);
    if (obj.is_dict()) return dict_method(obj, m, a);
    return list_method(obj, m, a);
  });
}

int64_t py_floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t py_mod(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Error operand_error(const std::string& op, const Value& a, const Value& b) {
  if (op == "+" && (a.is_string() || a.is_list_like()))
    return make_error("can only concatenate %s (not \"%s\") to %s", type_name(a).c_str(), type_name(b).c_str(),
                      type_name(a).c_str());
  return make_error("unsupported operand type(s) for %s: '%s' and '%s'", op == "**" ? "** or pow()" : op.c_str(),
                    type_name(a).c_str(), type_name(b).c_str());
}

Value repeat(const Value& seq, int64_t n) {
  if (seq.is_string()) {
    std::string out;
    for (int64_t k = 0; k < n; ++k) out += seq.s;
    return Value::string(out);
  }
  List out;
  for (int64_t k = 0; k < n; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
  return seq.kind == Kind::Tuple ? Value::make_tuple(std::move(out)) : Value::make_list(std::move(out));
}


// Python's printf-style `str % args` for the common conversions (s r d i f F e E g G x X o %).
Result<Value> percent_format(const std::string& fmt, const Value& args) {
  List positional;
  const Value* mapping = nullptr;
  if (args.kind == Kind::Tuple) positional = *args.list;
  else if (args.is_dict()) mapping = &args;
  else positional.push_back(args);
  if (mapping) positional.push_back(args);
  size_t next = 0;
  std::string out;
  for (size_t k = 0; k < fmt.size(); ++k) {
    if (fmt[k] != '%') {
      out += fmt[k];
      continue;
    }
    if (++k >= fmt.size()) return make_error("incomplete format");
    const Value* arg = nullptr;
    Value keyed;
    if (fmt[k] == '(') {
      size_t close = fmt.find(')', k);
      if (close == std::string::npos) return make_error("incomplete format key");
      if (!mapping) return make_error("format requires a mapping");
      const Value* v = mapping->dict->find(fmt.substr(k + 1, close - k - 1));
      if (!v) return make_error("%s", repr(Value::string(fmt.substr(k + 1, close - k - 1))).c_str());
      keyed = *v;
      arg = &keyed;
      k = close + 1;
    }
    std::string spec = "%";
    while (k < fmt.size() && std::string_view("-+ #0").find(fmt[k]) != std::string_view::npos) spec += fmt[k++];
    while (k < fmt.size() && ((fmt[k] >= '0' && fmt[k] <= '9') || fmt[k] == '.')) spec += fmt[k++];
    if (k >= fmt.size()) return make_error("incomplete format");
    char type = fmt[k];
    if (type == '%') {
      out += '%';
      continue;
    }
    if (!arg) {
      if (next >= positional.size()) return make_error("not enough arguments for format string");
      arg = &positional[next++];
    }
    char buf[512];
    if (type == 's' || type == 'r') {
      std::string text = type == 's' ? to_str(*arg) : repr(*arg);
      // Width and precision count code points.
      if (spec == "%") out += text;
      else {
        int width = 0, prec = -1;
        bool left = spec.find('-') != std::string::npos;
        size_t dot = spec.find('.');
        std::string w = spec.substr(1, dot == std::string::npos ? std::string::npos : dot - 1);
        for (char c : w)
          if (c >= '0' && c <= '9') width = width * 10 + (c - '0');
        if (dot != std::string::npos) prec = std::atoi(spec.c_str() + dot + 1);
        auto cps = pystr::decode(text);
        if (prec >= 0 && size_t(prec) < cps.size()) cps.resize(size_t(prec));
        std::string body = pystr::encode(cps, 0, cps.size());
        std::string pad(cps.size() < size_t(width) ? size_t(width) - cps.size() : 0, ' ');
        out += left ? body + pad : pad + body;
      }
      continue;
    }
    if (!arg->is_numeric())
      return make_error("%%%c format: a real number is required, not %s", type, type_name(*arg).c_str());
    if (type == 'd' || type == 'i' || type == 'x' || type == 'X' || type == 'o') {
      long long v = arg->kind == Kind::Float ? (long long)arg->f : (long long)arg->as_int();
      std::snprintf(buf, sizeof(buf), (spec + "ll" + (type == 'i' ? 'd' : type)).c_str(), v);
    } else if (std::string_view("fFeEgG").find(type) != std::string_view::npos) {
      std::snprintf(buf, sizeof(buf), (spec + type).c_str(), arg->as_double());
    } else {
      return make_error("unsupported format character '%c'", type);
    }
    out += buf;
  }
  if (!mapping && next < positional.size()) return make_error("not all arguments converted during string formatting");
  return Value::string(out);
}

}  // namespace

Result<Value> get_attr(const Value& obj, const std::string& name) {
  switch (obj.kind) {
    case Kind::Undefined:
      return undefined_error(obj);
    case Kind::Dict: {
      if (name == "get" || name == "items" || name == "keys" || name == "values") return bind(obj, name);
      const Value* v = obj.dict->find(name);
      return v ? *v : missing_attr(obj, name);
    }
    case Kind::Namespace: {
      const Value* v = obj.dict->find(name);
      return v ? *v : Value::undefined(quoted("Namespace object") + " has no attribute " + quoted(name));
    }
    case Kind::String:
      if (is_str_method(name)) return bind(obj, name);
      return missing_attr(obj, name);
    case Kind::List:
    case Kind::Tuple:
      if (name == "index" || name == "count") return bind(obj, name);
      return missing_attr(obj, name);
    default:
      return missing_attr(obj, name);
  }
}

Result<Value> get_item(const Value& obj, const Value& key) {
  switch (obj.kind) {
    case Kind::Undefined:
      return undefined_error(obj);
    case Kind::Dict:
      if (key.is_string()) {
        const Value* v = obj.dict->find(key.s);
        return v ? *v : missing_attr(obj, key.s);
      }
      return missing_element(obj, key);
    case Kind::List:
    case Kind::Tuple:
    case Kind::String: {
      if (key.kind == Kind::Int || key.kind == Kind::Bool) {
        int64_t k = key.as_int();
        if (obj.is_string()) {
          auto cps = pystr::decode(obj.s);
          int64_t n = int64_t(cps.size());
          if (k < 0) k += n;
          if (k < 0 || k >= n) return missing_element(obj, key);
          return Value::string(pystr::encode(cps, size_t(k), size_t(k) + 1));
        }
        int64_t n = int64_t(obj.list->size());
        if (k < 0) k += n;
        if (k < 0 || k >= n) return missing_element(obj, key);
        return (*obj.list)[size_t(k)];
      }
      if (key.is_string()) return get_attr(obj, key.s);
      return missing_element(obj, key);
    }
    default:
      if (key.is_string()) return get_attr(obj, key.s);
      return missing_element(obj, key);
  }
}

Result<Value> slice(const Value& obj, const Value* start, const Value* stop, const Value* step) {
  if (obj.is_undefined()) return undefined_error(obj);
  auto as_index = [](const Value* v, int64_t* out) -> Status {
    if (!v || v->is_none()) return {};
    if (v->kind != Kind::Int && v->kind != Kind::Bool)
      return make_error("slice indices must be integers or None or have an __index__ method");
    *out = v->as_int();
    return {};
  };
  int64_t st = 1;
  G4_TRY(as_index(step, &st));
  if (st == 0) return make_error("slice step cannot be zero");
  std::vector<char32_t> cps;
  int64_t n;
  if (obj.is_string()) {
    cps = pystr::decode(obj.s);
    n = int64_t(cps.size());
  } else if (obj.is_list_like()) {
    n = int64_t(obj.list->size());
  } else {
    return make_error("'%s' object is not subscriptable", type_name(obj).c_str());
  }
  int64_t b = st > 0 ? 0 : n - 1, e = st > 0 ? n : -1;
  bool has_b = start && !start->is_none(), has_e = stop && !stop->is_none();
  int64_t bi = 0, ei = 0;
  G4_TRY(as_index(start, &bi));
  G4_TRY(as_index(stop, &ei));
  auto clamp = [&](int64_t x) {
    if (x < 0) x += n;
    if (st > 0) return x < 0 ? 0 : (x > n ? n : x);
    return x < -1 ? -1 : (x > n - 1 ? n - 1 : x);
  };
  if (has_b) b = clamp(bi);
  if (has_e) e = clamp(ei);
  std::vector<int64_t> idx;
  for (int64_t k = b; st > 0 ? k < e : k > e; k += st) idx.push_back(k);
  if (obj.is_string()) {
    std::string out;
    for (int64_t k : idx) pystr::append_utf8(out, cps[size_t(k)]);
    return Value::string(out);
  }
  List out;
  for (int64_t k : idx) out.push_back((*obj.list)[size_t(k)]);
  return obj.kind == Kind::Tuple ? Value::make_tuple(std::move(out)) : Value::make_list(std::move(out));
}

Result<Value> binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value::string(to_str(a) + to_str(b));
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  bool num = a.is_numeric() && b.is_numeric();
  bool flt = num && (a.kind == Kind::Float || b.kind == Kind::Float);
  if (op == "+") {
    if (num) {
      int64_t r;
      if (!flt && !__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return Value::integer(r);
      return Value::number(a.as_double() + b.as_double());
    }
    if (a.is_string() && b.is_string()) return Value::string(a.s + b.s);
    if (a.is_list_like() && b.kind == a.kind) {
      List out = *a.list;
      out.insert(out.end(), b.list->begin(), b.list->end());
      return a.kind == Kind::Tuple ? Value::make_tuple(std::move(out)) : Value::make_list(std::move(out));
    }
    return operand_error(op, a, b);
  }
  if (op == "-") {
    if (!num) return operand_error(op, a, b);
    int64_t r;
    if (!flt && !__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) return Value::integer(r);
    return Value::number(a.as_double() - b.as_double());
  }
  if (op == "*") {
    if (num) {
      int64_t r;
      if (!flt && !__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) return Value::integer(r);
      return Value::number(a.as_double() * b.as_double());
    }
    const Value* seq = (a.is_string() || a.is_list_like()) ? &a : (b.is_string() || b.is_list_like()) ? &b : nullptr;
    const Value* cnt = seq == &a ? &b : &a;
    if (seq && (cnt->kind == Kind::Int || cnt->kind == Kind::Bool)) {
      int64_t n = cnt->as_int();
      size_t unit = seq->is_string() ? seq->s.size() : seq->list->size();
      if (n > 0 && unit > 0 && uint64_t(n) * unit > (uint64_t(1) << 26)) return make_error("result too large");
      return repeat(*seq, n);
    }
    return make_error("can't multiply sequence by non-int of type '%s'", type_name(*cnt).c_str());
  }
  if (op == "/") {
    if (!num) return operand_error(op, a, b);
    if (b.as_double() == 0) return make_error("division by zero");
    return Value::number(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") {
    if (!num) {
      if (op == "%" && a.is_string()) return percent_format(a.s, b);
      return operand_error(op, a, b);
    }
    if (!flt) {
      if (b.as_int() == 0) return make_error(op == "//" ? "integer division or modulo by zero" : "integer modulo by zero");
      if (a.as_int() == INT64_MIN && b.as_int() == -1) return Value::number(-double(INT64_MIN));
      return Value::integer(op == "//" ? py_floordiv(a.as_int(), b.as_int()) : py_mod(a.as_int(), b.as_int()));
    }
    double x = a.as_double(), y = b.as_double();
    if (y == 0) return make_error(op == "//" ? "float floor division by zero" : "float modulo");
    double mod = std::fmod(x, y);
    double div = (x - mod) / y;
    if (mod != 0 && ((y < 0) != (mod < 0))) {
      mod += y;
      div -= 1.0;
    }
    if (op == "%") return Value::number(mod == 0 ? std::copysign(0.0, y) : mod);
    double fd;
    if (div != 0) {
      fd = std::floor(div);
      if (div - fd > 0.5) fd += 1.0;
    } else {
      fd = std::copysign(0.0, x / y);
    }
    return Value::number(fd);
  }
  if (op == "**") {
    if (!num) return operand_error(op, a, b);
    if (!flt && b.as_int() >= 0) {
      int64_t base = a.as_int(), e = b.as_int(), r = 1;
      bool overflow = false;
      while (e > 0 && !overflow) {
        if (e & 1) overflow = __builtin_mul_overflow(r, base, &r);
        e >>= 1;
        if (e > 0 && !overflow) overflow = __builtin_mul_overflow(base, base, &base);
      }
      if (!overflow) return Value::integer(r);
    }
    return Value::number(std::pow(a.as_double(), b.as_double()));
  }
  return make_error("unknown operator '%s'", op.c_str());
}

Result<bool> contains(const Value& container, const Value& item) {
  switch (container.kind) {
    case Kind::String:
      if (!item.is_string())
        return make_error("'in <string>' requires string as left operand, not %s", type_name(item).c_str());
      return container.s.find(item.s) != std::string::npos;
    case Kind::List:
    case Kind::Tuple:
      for (const Value& x : *container.list)
        if (equals(x, item)) return true;
      return false;
    case Kind::Dict:
      return item.is_string() && container.dict->find(item.s) != nullptr;
    case Kind::Undefined:
      return false;
    default:
      return make_error("argument of type '%s' is not iterable", type_name(container).c_str());
  }
}

Result<List> iterate(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
      return List{};
    case Kind::List:
    case Kind::Tuple:
      return *v.list;
    case Kind::Dict: {
      List out;
      for (const auto& kv : v.dict->items) out.push_back(Value::string(kv.first));
      return out;
    }
    case Kind::String: {
      List out;
      auto cps = pystr::decode(v.s);
      for (size_t k = 0; k < cps.size(); ++k) out.push_back(Value::string(pystr::encode(cps, k, k + 1)));
      return out;
    }
    default:
      return make_error("'%s' object is not iterable", type_name(v).c_str());
  }
}

std::vector<std::pair<std::string, Value>> make_globals() {
  std::vector<std::pair<std::string, Value>> g;
  g.emplace_back("range", Value::function([](CallArgs& a) -> Result<Value> {
    if (!a.keyword.empty()) return make_error("range() takes no keyword arguments");
    if (a.positional.empty() || a.positional.size() > 3)
      return make_error("range expected at most 3 arguments, got %zu", a.positional.size());
    for (const Value& v : a.positional)
      if (v.kind != Kind::Int && v.kind != Kind::Bool)
        return make_error("'%s' object cannot be interpreted as an integer", type_name(v).c_str());
    int64_t start = 0, stop, step = 1;
    if (a.positional.size() == 1) {
      stop = a.positional[0].as_int();
    } else {
      start = a.positional[0].as_int();
      stop = a.positional[1].as_int();
      if (a.positional.size() == 3) step = a.positional[2].as_int();
    }
    if (step == 0) return make_error("range() arg 3 must not be zero");
    int64_t count = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                             : (start > stop ? (start - stop - step - 1) / -step : 0);
    if (count > kMaxRange)
      return make_error("Range too big. The sandbox blocks ranges larger than MAX_RANGE (%lld).", (long long)kMaxRange);
    List out;
    for (int64_t k = 0; k < count; ++k) out.push_back(Value::integer(start + k * step));
    return Value::make_list(std::move(out));
  }));
  g.emplace_back("namespace", Value::function([](CallArgs& a) -> Result<Value> {
    Value ns = Value::make_namespace();
    if (a.positional.size() > 1) return make_error("dict expected at most 1 argument, got %zu", a.positional.size());
    if (!a.positional.empty()) {
      if (!a.positional[0].is_dict()) return make_error("namespace() positional argument must be a mapping");
      for (const auto& [k, v] : a.positional[0].dict->items) ns.dict->set(k, v);
    }
    for (const auto& [k, v] : a.keyword) ns.dict->set(k, v);
    for (const auto& kv : ns.dict->items)
      if (!kv.first.empty() && kv.first[0] == '_')
        return make_error(
            "Chat templates cannot store underscore-prefixed attributes on a namespace, but got %s. Please rename "
            "the attribute.",
            quoted(kv.first).c_str());
    return ns;
  }));
  g.emplace_back("raise_exception", Value::function([](CallArgs& a) -> Result<Value> {
    const Value* m = a.get(0, "message");
    return Error{m ? to_str(*m) : std::string("raise_exception() called")};
  }));
  g.emplace_back("dict", Value::function([](CallArgs& a) -> Result<Value> {
    Value d = Value::make_dict();
    if (!a.positional.empty()) {
      if (!a.positional[0].is_dict()) return make_error("dict() positional argument must be a mapping");
      for (const auto& [k, v] : a.positional[0].dict->items) d.dict->set(k, v);
    }
    for (const auto& [k, v] : a.keyword) d.dict->set(k, v);
    return d;
  }));
  g.emplace_back("strftime_now", Value::function([](CallArgs& a) -> Result<Value> {
    const Value* f = a.get(0, "format");
    if (!f || !f->is_string()) return make_error("strftime_now() argument must be str");
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[512];
    size_t n = std::strftime(buf, sizeof(buf), f->s.c_str(), &tm);
    return Value::string(std::string(buf, n));
  }));
  return g;
}

}  // namespace g4::jinja
