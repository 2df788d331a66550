// A Jinja2-compatible template engine, enough to run HF chat templates byte-for-byte like transformers'
// apply_chat_template (jinja2 ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the
// transformers tojson filter and the raise_exception / strftime_now / namespace / dict globals).
//
// Values come from nlohmann::ordered_json so object key order (Python dict insertion order) is kept.
// Errors (parse and render) are Result errors "<template name>:<line>: message", never exceptions.
//
// Not supported: template inheritance and includes (extends/block/include/import), call blocks and
// `caller`, recursive loops, loop.changed, macro varargs/kwargs, str.format (printf-style `%` handles
// s r d i f e g x o), integers beyond 64 bits, dict literals with non-string keys, and case mapping
// outside ASCII/Latin-1/Latin Extended-A/basic Greek/Cyrillic (upper, lower, title, capitalize and
// case-insensitive dictsort leave other scripts unchanged). Printing a dict view (`d.items()`) shows a
// plain list rather than Python's `dict_items([...])`.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace g4::jinja {

struct Stmt;

struct TemplateOptions {
  // Defaults are the transformers chat-template environment.
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

class Template {
 public:
  static Result<Template> parse(std::string_view source, std::string name, TemplateOptions options = {});

  // `context` must be an object; its keys become template variables (next to the globals).
  Result<std::string> render(const nlohmann::ordered_json& context) const;
  // Convenience: converts (keys of nlohmann::json objects are sorted, so insertion order is lost).
  Result<std::string> render(const nlohmann::json& context) const;

  const std::string& name() const { return *name_; }

 private:
  std::shared_ptr<const std::string> name_;
  std::shared_ptr<const std::vector<std::shared_ptr<const Stmt>>> body_;
};

}  // namespace g4::jinja
