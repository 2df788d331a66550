#include "text/jinja/template.h"

#include "text/jinja/builtins.h"
#include "text/jinja/lexer.h"
#include "text/jinja/parser.h"
#include "text/jinja/renderer.h"

namespace g4::jinja {

Result<Template> Template::parse(std::string_view source, std::string name, TemplateOptions options) {
  LexOptions lo;
  lo.trim_blocks = options.trim_blocks;
  lo.lstrip_blocks = options.lstrip_blocks;
  lo.keep_trailing_newline = options.keep_trailing_newline;
  G4_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(source, name, lo));
  G4_ASSIGN_OR_RETURN(Body body, parse_tokens(tokens, name));
  Template t;
  t.name_ = std::make_shared<const std::string>(std::move(name));
  t.body_ = std::make_shared<const Body>(std::move(body));
  return t;
}

Result<std::string> Template::render(const nlohmann::ordered_json& context) const {
  if (!context.is_object() && !context.is_null())
    return make_error("%s: render context must be a JSON object", name_->c_str());
  auto globals = std::make_shared<Scope>();
  for (auto& [k, v] : make_globals()) globals->set(k, std::move(v));
  auto top = std::make_shared<Scope>();
  top->parent = globals;
  if (context.is_object())
    for (auto it = context.begin(); it != context.end(); ++it) top->set(it.key(), from_json(it.value()));
  Renderer r(*name_);
  std::string out;
  G4_TRY(r.exec(*body_, top, out));
  return out;
}

Result<std::string> Template::render(const nlohmann::json& context) const {
  return render(nlohmann::ordered_json::parse(context.dump()));
}

}  // namespace g4::jinja
