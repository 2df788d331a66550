// Built-in filters, tests, methods of str/dict/list values, attribute and item access, operators and the
// globals of the transformers chat-template environment (range, namespace, raise_exception, dict,
// strftime_now). Errors returned here are bare messages; the renderer prefixes template name and line.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace g4::jinja {

// Calls another filter or test by name (used by map/select and friends).
Result<Value> apply_filter(const std::string& name, const Value& subject, const CallArgs& args);
Result<bool> apply_test(const std::string& name, const Value& subject, const CallArgs& args);
bool has_filter(const std::string& name);
bool has_test(const std::string& name);

// jinja2's environment.getattr / getitem: missing keys give Undefined with a hint, bound methods for
// str/dict/list methods; an error when `obj` itself is Undefined.
Result<Value> get_attr(const Value& obj, const std::string& name);
Result<Value> get_item(const Value& obj, const Value& key);
Result<Value> slice(const Value& obj, const Value* start, const Value* stop, const Value* step);

// Python binary operators (+ - * / // % **), `~` concatenation and `in`.
Result<Value> binary_op(const std::string& op, const Value& a, const Value& b);
Result<bool> contains(const Value& container, const Value& item);
// Items a for loop visits (list items, dict keys, string characters; nothing for Undefined).
Result<List> iterate(const Value& v);

std::vector<std::pair<std::string, Value>> make_globals();

}  // namespace g4::jinja
