// Runtime values of the Jinja engine, modelled on the Python objects jinja2 works with:
// Undefined, None, bool, int, float, str, list, tuple, dict (insertion ordered), namespace and callables.
// Strings are UTF-8; operations that Python does per code point (len, index, slice) decode on demand.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace g4::jinja {

struct Value;
struct Dict;
struct CallArgs;

using List = std::vector<Value>;
// A callable (global function, bound method, macro). Errors carry only the message; the caller adds
// the template name and line.
using Function = std::function<Result<Value>(CallArgs&)>;

enum class Kind { Undefined, None, Bool, Int, Float, String, List, Tuple, Dict, Namespace, Function };

struct Value {
  Kind kind = Kind::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                    // String payload; for Undefined the hint ("'x' is undefined").
  std::shared_ptr<List> list;       // List and Tuple.
  std::shared_ptr<Dict> dict;       // Dict and Namespace.
  std::shared_ptr<Function> fn;     // Function.

  static Value undefined(std::string hint = {});
  static Value none();
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value number(double v);
  static Value string(std::string v);
  static Value make_list(List items = {});
  static Value make_tuple(List items);
  static Value make_dict();
  static Value make_namespace();
  static Value function(Function f);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_list_like() const { return kind == Kind::List || kind == Kind::Tuple; }
  bool is_dict() const { return kind == Kind::Dict; }
  bool is_numeric() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
  double as_double() const { return kind == Kind::Float ? f : kind == Kind::Bool ? (b ? 1 : 0) : double(i); }
  int64_t as_int() const { return kind == Kind::Bool ? (b ? 1 : 0) : i; }
};

// Insertion-ordered string-keyed mapping (Python dicts built from JSON keep key order).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v);
};

struct CallArgs {
  List positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // The keyword argument `name`, else positional argument `pos`, else nullptr.
  const Value* get(size_t pos, std::string_view name) const;
};

// Python truthiness.
bool truthy(const Value& v);
// Python str() (Undefined prints as "").
std::string to_str(const Value& v);
// Python repr().
std::string repr(const Value& v);
// The type name Python reports ("str", "int", "dict", ...).
std::string type_name(const Value& v);
// Python ==.
bool equals(const Value& a, const Value& b);
// Python <; an error for unorderable types (message like Python's TypeError).
Result<bool> less_than(const Value& a, const Value& b);
// Python float repr (shortest round trip: 1.0, 0.1, 1e+16, 1e-05, inf, nan).
std::string float_repr(double d);

// JSON <-> values. Integers stay ints, reals become floats, object key order is kept.
Value from_json(const nlohmann::ordered_json& j);

struct JsonDumpOptions {
  bool ensure_ascii = false;
  int indent = -1;  // < 0: no indentation
  std::string indent_str;
  bool has_indent = false;
  std::string item_sep = ", ";
  std::string key_sep = ": ";
  bool sort_keys = false;
};
// Python json.dumps with the given options; an error for values JSON cannot hold.
Result<std::string> json_dumps(const Value& v, const JsonDumpOptions& opt);

}  // namespace g4::jinja
