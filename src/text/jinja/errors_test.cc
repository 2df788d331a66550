// Parse and render errors: Result errors naming template and line, with jinja2's messages.
#include <gtest/gtest.h>

#include "text/jinja/template.h"

namespace g4::jinja {
namespace {

std::string parse_error(const std::string& src) {
  auto t = Template::parse(src, "chat_template.jinja");
  return t.ok() ? std::string("<parsed>") : t.error().message;
}

std::string render_error(const std::string& src, const char* ctx = "{}") {
  auto t = Template::parse(src, "chat_template.jinja");
  if (!t.ok()) return "PARSE ERROR: " + t.error().message;
  auto r = t->render(nlohmann::ordered_json::parse(ctx));
  return r.ok() ? "<rendered: " + r.value() + ">" : r.error().message;
}

TEST(JinjaErrors, ParseErrorsNameTemplateAndLine) {
  EXPECT_EQ(parse_error("a\n{% if x %}\nb"), "chat_template.jinja:3: unexpected end of template, expected 'elif' or 'else' or 'endif'");
  EXPECT_EQ(parse_error("{{ 1 + }}"), "chat_template.jinja:1: unexpected end of print statement");
  EXPECT_EQ(parse_error("\n\n{% frobnicate %}"), "chat_template.jinja:3: Encountered unknown tag 'frobnicate'.");
  EXPECT_EQ(parse_error("{{ x | nosuchfilter }}"), "chat_template.jinja:1: No filter named 'nosuchfilter'.");
  EXPECT_EQ(parse_error("{{ x is nosuchtest }}"), "chat_template.jinja:1: No test named 'nosuchtest'.");
  EXPECT_EQ(parse_error("{{ 'abc }}"), "chat_template.jinja:1: unexpected end of string");
  EXPECT_EQ(parse_error("{# never closed"), "chat_template.jinja:1: Missing end of comment tag");
  EXPECT_EQ(parse_error("{{ x "), "chat_template.jinja:1: unexpected end of template, expected '}}'");
  EXPECT_EQ(parse_error("{% for %}{% endfor %}"), "chat_template.jinja:1: expected name, got end of statement block");
  EXPECT_EQ(parse_error("{{ a $ b }}"), "chat_template.jinja:1: unexpected char '$'");
}

TEST(JinjaErrors, RaiseExceptionCarriesLine) {
  EXPECT_EQ(render_error("line1\n{% if true %}\n{{ raise_exception('Conversation roles must alternate') }}\n{% endif %}"),
            "chat_template.jinja:3: Conversation roles must alternate");
}

TEST(JinjaErrors, RaiseInsideMacroReportsMacroLine) {
  EXPECT_EQ(render_error("{% macro f() %}\n{{ raise_exception('boom') }}\n{% endmacro %}\n\n{{ f() }}"),
            "chat_template.jinja:2: boom");
}

TEST(JinjaErrors, RuntimeErrorsUsePythonMessages) {
  EXPECT_EQ(render_error("{{ 1 + 'a' }}"), "chat_template.jinja:1: unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(render_error("{{ 'a' + 1 }}"), "chat_template.jinja:1: can only concatenate str (not \"int\") to str");
  EXPECT_EQ(render_error("\n{{ x.y }}"), "chat_template.jinja:2: 'x' is undefined");
  EXPECT_EQ(render_error("{{ d.a.b }}", R"({"d": {}})"), "chat_template.jinja:1: 'dict object' has no attribute 'a'");
  EXPECT_EQ(render_error("{{ l[0]['b'] }}", R"({"l": []})"), "chat_template.jinja:1: list object has no element 0");
  EXPECT_EQ(render_error("{{ 1 < 'a' }}"), "chat_template.jinja:1: '<' not supported between instances of 'int' and 'str'");
  EXPECT_EQ(render_error("{{ 1 / 0 }}"), "chat_template.jinja:1: division by zero");
  EXPECT_EQ(render_error("{{ nope() }}"), "chat_template.jinja:1: 'nope' is undefined");
  EXPECT_EQ(render_error("{{ 'abc'() }}"), "chat_template.jinja:1: 'str' object is not callable");
  EXPECT_EQ(render_error("{% set x = 1 %}{% set x.a = 2 %}"), "chat_template.jinja:1: Cannot assign attribute on non-namespace object");
  EXPECT_EQ(render_error("{% for x in 5 %}{% endfor %}"), "chat_template.jinja:1: 'int' object is not iterable");
  EXPECT_EQ(render_error("{{ range(200000) | length }}"),
            "chat_template.jinja:1: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  EXPECT_EQ(render_error("{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}"), "chat_template.jinja:1: macro 'f' takes not more than 1 argument(s)");
  EXPECT_EQ(render_error("{{ missing | dictsort }}"), "chat_template.jinja:1: 'missing' is undefined");
  EXPECT_EQ(render_error("{{ '%s %s' % 1 }}"), "chat_template.jinja:1: not enough arguments for format string");
  EXPECT_EQ(render_error("{{ '%s' % (1, 2) }}"), "chat_template.jinja:1: not all arguments converted during string formatting");
  EXPECT_EQ(render_error("{{ '%d' % 'a' }}"), "chat_template.jinja:1: %d format: a real number is required, not str");
}

TEST(JinjaErrors, InfiniteMacroRecursionIsAnError) {
  std::string e = render_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}");
  EXPECT_NE(e.find("maximum recursion depth exceeded"), std::string::npos) << e;
}

TEST(JinjaErrors, NamespaceRejectsUnderscoreNames) {
  std::string e = render_error("{% set ns = namespace(_x=1) %}");
  EXPECT_NE(e.find("underscore-prefixed"), std::string::npos) << e;
}

TEST(JinjaErrors, ContextMustBeObject) {
  auto t = Template::parse("x", "t");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->render(nlohmann::ordered_json::array()).ok());
}

TEST(JinjaOptions, PlainJinjaDefaultsWithoutTrimming) {
  TemplateOptions opt;
  opt.trim_blocks = false;
  opt.lstrip_blocks = false;
  auto t = Template::parse("  {% if true %}\nx\n  {% endif %}\n", "t", opt);
  ASSERT_TRUE(t.ok());
  auto r = t->render(nlohmann::ordered_json::object());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), "  \nx\n  ");
  opt.keep_trailing_newline = true;
  auto t2 = Template::parse("a\n", "t", opt);
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(t2->render(nlohmann::ordered_json::object()).value(), "a\n");
}

TEST(JinjaOptions, SortedJsonContextOverload) {
  auto t = Template::parse("{% for k in x %}{{ k }}{% endfor %}", "t");
  ASSERT_TRUE(t.ok());
  nlohmann::json ctx = {{"x", {{"b", 1}, {"a", 2}}}};
  EXPECT_EQ(t->render(ctx).value(), "ab");
}

}  // namespace
}  // namespace g4::jinja

namespace g4::jinja {
namespace {

TEST(JinjaErrors, DeepNestingIsAnErrorNotACrash) {
  std::string blocks, exprs;
  for (int k = 0; k < 5000; ++k) blocks += "{% if true %}";
  for (int k = 0; k < 5000; ++k) exprs += "(";
  exprs += "1" + std::string(5000, ')');
  EXPECT_NE(parse_error(blocks).find("nested too deeply"), std::string::npos);
  EXPECT_NE(parse_error("{{ " + exprs + " }}").find("nested too deeply"), std::string::npos);
  EXPECT_NE(parse_error("{{ " + std::string(5000, '-') + "1 }}").find("nested too deeply"), std::string::npos);
  EXPECT_NE(parse_error("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}").find("nested too deeply"), std::string::npos);
}

}  // namespace
}  // namespace g4::jinja
