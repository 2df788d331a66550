// Engine unit tests. Each expectation is the output of Python jinja2 (ImmutableSandboxedEnvironment with
// trim_blocks/lstrip_blocks, loopcontrols and transformers' tojson) for the same template and context.
#include "text/jinja/template.h"

#include <gtest/gtest.h>

namespace g4::jinja {
namespace {

const char* kContext = R"({"d": {}, "l": [], "s": "abc", "m": {"a": 1, "b": [1, 2]}, "u": "héllo wörld ✓"})";

std::string render(const std::string& src) {
  auto t = Template::parse(src, "t.jinja");
  if (!t.ok()) return "PARSE ERROR: " + t.error().message;
  auto r = t->render(nlohmann::ordered_json::parse(kContext));
  if (!r.ok()) return "RENDER ERROR: " + r.error().message;
  return r.value();
}

TEST(JinjaExpressions, MatchesJinja2) {
  EXPECT_EQ(render(R"J({{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 2 ** 3 ** 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 7 / 2 }}|{{ 4 / 2 }})J"), R"J(7|9|64|3|-4|2|3.5|2.0)J");
  EXPECT_EQ(render(R"J({{ 1.5 + 1 }}|{{ 0.1 + 0.2 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ -0.0 }}|{{ 2.50 }}|{{ 7.5 // 2 }}|{{ -7.5 % 2 }})J"), R"J(2.5|0.30000000000000004|1e+16|1000000000000000.0|0.0001|1e-05|-0.0|2.5|3.0|0.5)J");
  EXPECT_EQ(render(R"J({{ true }}|{{ false }}|{{ none }}|{{ True }}|{{ None }}|{{ 'a' ~ 1 ~ none ~ true ~ 2.0 }}|{{ 'a' + 'b' }})J"), R"J(True|False|None|True|None|a1NoneTrue2.0|ab)J");
  EXPECT_EQ(render(R"J({{ [1, 'a', none, true, 2.5] }}|{{ {'k': 'v', 'n': [1]} }}|{{ (1, 'x') }}|{{ (1,) }}|{{ () }}|{{ [] }}|{{ {} }})J"), R"J([1, 'a', None, True, 2.5]|{'k': 'v', 'n': [1]}|(1, 'x')|(1,)|()|[]|{})J");
  EXPECT_EQ(render(R"J({{ "it's" }}|{{ ['it\'s', 'say "hi"', 'both \' "'] }}|{{ ['tab\tnl\n'] }})J"), R"J(it's|["it's", 'say "hi"', 'both \' "']|['tab\tnl\n'])J");
  EXPECT_EQ(render(R"J({{ 1 == 1.0 }}|{{ true == 1 }}|{{ 'a' != 'b' }}|{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 'abc' < 'abd' }}|{{ [1,2] == [1,2] }}|{{ [1,2] < [1,3] }})J"), R"J(True|True|True|True|False|True|True|True)J");
  EXPECT_EQ(render(R"J({{ 'b' in 'abc' }}|{{ 'z' not in 'abc' }}|{{ 1 in [1,2] }}|{{ 'a' in m }}|{{ 'q' in m }}|{{ 2 not in [1] }})J"), R"J(True|True|True|True|False|True)J");
  EXPECT_EQ(render(R"J({{ true and 'x' }}|{{ 0 and 'x' }}|{{ 0 or '' }}|{{ '' or 'y' }}|{{ not none }}|{{ not 'a' }}|{{ not 1 == 2 }})J"), R"J(x|0||y|True|False|True)J");
  EXPECT_EQ(render(R"J({{ 'yes' if m else 'no' }}|{{ 'yes' if d else 'no' }}|{{ 'x' if false }}|{{ 1 if 0 else 2 if 0 else 3 }})J"), R"J(yes|no||3)J");
  EXPECT_EQ(render(R"J({{ s[0] }}{{ s[-1] }}{{ s[1:] }}{{ s[:2] }}{{ s[::-1] }}{{ s[::2] }}{{ s[5:] }}|{{ l[1:] }}|{{ m.b[-1] }}|{{ m['b'][0] }}|{{ m.b.1 }})J"), R"J(acbcabcbaac|[]|2|1|2)J");
  EXPECT_EQ(render(R"J({{ u }}|{{ u[1] }}|{{ u[-1] }}|{{ u[1:3] }}|{{ u | length }}|{{ u[::-1] }})J"), R"J(héllo wörld ✓|é|✓|él|13|✓ dlröw olléh)J");
  EXPECT_EQ(render(R"J({{ -m.a }}|{{ - 2 ** 2 }}|{{ -1 | abs }}|{{ +3 }}|{{ 'ab' * 3 }}|{{ [0] * 2 }}|{{ [1] + [2, 3] }})J"), R"J(-1|4|1|3|ababab|[0, 0]|[1, 2, 3])J");
  EXPECT_EQ(render(R"J({{ 'a' 'b' }}|{{ "x\\y" }}|{{ '\u00e9\x41' }}|{{ 1_000 }}|{{ 2.5e3 }})J"), R"J(ab|x\y|éA|1000|2500.0)J");
}

TEST(JinjaWhitespaceControl, MatchesJinja2) {
  EXPECT_EQ(render(R"J(a  {{- ' b ' -}}  c)J"), R"J(a b c)J");
  EXPECT_EQ(render(R"J(a
  {%- if true %} x {% endif -%}
  b)J"), R"J(a x b)J");
  EXPECT_EQ(render(R"J(x {#- comment -#} y)J"), R"J(xy)J");
  EXPECT_EQ(render(R"J(<{% for i in [1,2] -%}
  {{ i }}
{%- endfor %}>)J"), R"J(<12>)J");
  EXPECT_EQ(render(R"J({%- set x = 1 -%}

  {{- x -}}

)J"), R"J(1)J");
  EXPECT_EQ(render(R"J(a {{+ 'b' }} c)J"), R"J(a b c)J");
  EXPECT_EQ(render(R"J({% raw %}{{ x }} {% if %}{% endraw %})J"), R"J({{ x }} {% if %})J");
  EXPECT_EQ(render(R"J(a
  {% raw %}
  {{ x }}
  {% endraw %}
b)J"), R"J(a

  {{ x }}
b)J");
  EXPECT_EQ(render(R"J(a {%- raw -%}  x  {%- endraw -%}  b)J"), R"J(axb)J");
}

TEST(JinjaTrimLstripBlocks, MatchesJinja2) {
  EXPECT_EQ(render(R"J(  {% if true %}
  x
  {% endif %}
  {{ 'y' }}
  {# c #}
z)J"), R"J(  x
  y
z)J");
  EXPECT_EQ(render(R"J(<ul>
{% for i in [1, 2] %}
    <li>{{ i }}</li>
{% endfor %}
</ul>
)J"), R"J(<ul>
    <li>1</li>
    <li>2</li>
</ul>)J");
  EXPECT_EQ(render(R"J(  {%+ if true %}kept{% endif %}
)J"), R"J(  kept)J");
  EXPECT_EQ(render(R"J({% if true +%}
newline kept{% endif %})J"), R"J(
newline kept)J");
  EXPECT_EQ(render(R"J(a {% if true %}b{% endif %} c
  d)J"), R"J(a b c
  d)J");
  EXPECT_EQ(render(R"J(line
	 {% set x = 1 %}
after)J"), R"J(line
after)J");
  EXPECT_EQ(render(R"J(text   {% if true %}
x{% endif %})J"), R"J(text   x)J");
}

TEST(JinjaLoops, MatchesJinja2) {
  EXPECT_EQ(render(R"J({% for x in [10, 20, 30] %}{{ loop.index }}:{{ loop.index0 }}:{{ loop.revindex }}:{{ loop.revindex0 }}:{{ loop.first }}:{{ loop.last }}:{{ loop.length }} {% endfor %})J"), R"J(1:0:3:2:True:False:3 2:1:2:1:False:False:3 3:2:1:0:False:True:3 )J");
  EXPECT_EQ(render(R"J({% for k, v in m | dictsort %}{{ k }}={{ v }};{% endfor %})J"), R"J(a=1;b=[1, 2];)J");
  EXPECT_EQ(render(R"J({% for k in m %}{{ k }}{% endfor %}|{% for c in 'ab' %}[{{ c }}]{% endfor %}|{% for x in undefined_thing %}never{% endfor %})J"), R"J(ab|[a][b]|)J");
  EXPECT_EQ(render(R"J({% for x in [] %}a{% else %}empty{% endfor %}|{% for x in [1] %}a{% else %}empty{% endfor %})J"), R"J(empty|a)J");
  EXPECT_EQ(render(R"J({% for x in range(10) if x is odd %}{{ x }}{{ ',' if not loop.last }}{% endfor %})J"), R"J(1,3,5,7,9)J");
  EXPECT_EQ(render(R"J({% for x in range(5) %}{% if x == 3 %}{% break %}{% endif %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %})J"), R"J(02)J");
  EXPECT_EQ(render(R"J({% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}|{% for k, v in m.items() %}{{ k }}{% endfor %})J"), R"J(3 7 |ab)J");
  EXPECT_EQ(render(R"J({% for i in range(3) %}{% for j in range(2) %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %})J"), R"J(121|122|123|)J");
  EXPECT_EQ(render(R"J({{ range(3) | list }}|{{ range(1, 4) | list }}|{{ range(5, 0, -2) | list }}|{{ range(0) | list }})J"), R"J([0, 1, 2]|[1, 2, 3]|[5, 3, 1]|[])J");
  EXPECT_EQ(render(R"J({% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }} {% endfor %})J"), R"J(-2 1-3 2- )J");
  EXPECT_EQ(render(R"J({% for x in range(5) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %})J"), R"J(abcab)J");
}

TEST(JinjaScoping, MatchesJinja2) {
  EXPECT_EQ(render(R"J({% for i in range(3) %}[{{ x }}]{% set x = i %}{% endfor %}[{{ x }}])J"), R"J([][][][])J");
  EXPECT_EQ(render(R"J({% set x = 9 %}{% for i in range(3) %}[{{ x }}]{% set x = i %}{{ x }}{% endfor %}[{{ x }}])J"), R"J([9]0[9]1[9]2[9])J");
  EXPECT_EQ(render(R"J({% set x = 9 %}{% for i in range(3) %}{% if i == 1 %}{% set x = i %}{% endif %}[{{ x }}]{% endfor %}{{ x }})J"), R"J([9][1][9]9)J");
  EXPECT_EQ(render(R"J({% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }})J"), R"J(2)J");
  EXPECT_EQ(render(R"J({% macro f() %}{% set x = 5 %}{{ x }}{% endmacro %}{% set x = 1 %}{{ f() }}{{ x }})J"), R"J(51)J");
  EXPECT_EQ(render(R"J({% set x = 'outer' %}{% macro f() %}{{ x }}{% endmacro %}{{ f() }}{% set x = 'later' %}{{ f() }})J"), R"J(outerlater)J");
  EXPECT_EQ(render(R"J({% for i in [1] %}{% set y = 'in' %}{% endfor %}{{ y }}|{% for i in [1, 2] %}{% set z = z ~ i %}{{ z }}{% endfor %})J"), R"J(|12)J");
  EXPECT_EQ(render(R"J({% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = (3, 4) %}{% set c, e = t %}{{ c }}{{ e }})J"), R"J(1234)J");
  EXPECT_EQ(render(R"J({% set blk %}inner {{ 1 + 1 }}{% endset %}[{{ blk }}])J"), R"J([inner 2])J");
}

TEST(JinjaMacros, MatchesJinja2) {
  EXPECT_EQ(render(R"J({% macro f(a, b=2, c='x') %}{{ a }}-{{ b }}-{{ c }}{% endmacro %}{{ f(1) }}|{{ f(1, 3) }}|{{ f(1, c='y') }}|{{ f() }}|{{ f(a=7, b=8) }})J"), R"J(1-2-x|1-3-x|1-2-y|-2-x|7-8-x)J");
  EXPECT_EQ(render(R"J({% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(4) }})J"), R"J(4321)J");
  EXPECT_EQ(render(R"J({% macro w(x) %}  <{{ x }}>  {% endmacro %}[{{ w(1) }}][{{ w(2) | trim }}][{{ w(3) | length }}][{{ 'pre' + w(4) }}])J"), R"J([  <1>  ][<2>][7][pre  <4>  ])J");
  EXPECT_EQ(render(R"J({{ later(1) if false else 'ok' }}{% macro later(x) %}{{ x }}{% endmacro %}{{ later(2) }})J"), R"J(ok2)J");
  EXPECT_EQ(render(R"J({% macro a() %}A{{ b() }}{% endmacro %}{% macro b() %}B{% endmacro %}{{ a() }})J"), R"J(AB)J");
  EXPECT_EQ(render(R"J({% macro f(d) %}{% for k, v in d | dictsort %}{{ k }}{% if v is mapping %}({{ f(v) }}){% endif %}{% endfor %}{% endmacro %}{{ f({'b': {'y': 1, 'x': {'z': 0}}, 'a': 1}) }})J"), R"J(ab(x(z)y))J");
}

TEST(JinjaNamespace, MatchesJinja2) {
  EXPECT_EQ(render(R"J({% set ns = namespace(a=1, b='x') %}{% for i in range(3) %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}{{ ns.b }})J"), R"J(4x)J");
  EXPECT_EQ(render(R"J({% set ns = namespace(found=false) %}{% for x in [1, 2, 3] %}{% if x == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }})J"), R"J(True)J");
  EXPECT_EQ(render(R"J({% set ns = namespace() %}{% set ns.items = [1] %}{{ ns.items }}{{ ns.missing is defined }})J"), R"J([1]False)J");
  EXPECT_EQ(render(R"J({% set ns = namespace(m) %}{{ ns.a }}{{ ns.b }})J"), R"J(1[1, 2])J");
  EXPECT_EQ(render(R"J({% macro f(ns) %}{% set ns.v = ns.v ~ '!' %}{% endmacro %}{% set n = namespace(v='a') %}{{ f(n) }}{{ f(n) }}{{ n.v }})J"), R"J(a!!)J");
}

TEST(JinjaFilters, MatchesJinja2) {
  EXPECT_EQ(render(R"J({{ 'Hello' | upper }}{{ 'Hello' | lower }}{{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }})J"), R"J(HELLOhellox|hi|Hello World|Hello)J");
  EXPECT_EQ(render(R"J({{ d.x | default('u') }}|{{ none | default('u') }}|{{ '' | default('u', true) }}|{{ 0 | default(5) }}|{{ missing | d('dd') }})J"), R"J(u|None|u|0|dd)J");
  EXPECT_EQ(render(R"J({{ m | length }}|{{ 'héllo' | length }}|{{ [1, 2] | count }}|{{ missing | length }})J"), R"J(2|5|2|0)J");
  EXPECT_EQ(render(R"J({{ 'ab' | list }}|{{ m | list }}|{{ (1, 2) | list }})J"), R"J(['a', 'b']|['a', 'b']|[1, 2])J");
  EXPECT_EQ(render(R"J({{ [1, 2, 3] | join(', ') }}|{{ ['a', 'b'] | join }}|{{ [{'n': 'x'}, {'n': 'y'}] | join('-', attribute='n') }})J"), R"J(1, 2, 3|ab|x-y)J");
  EXPECT_EQ(render(R"J({{ [3, 1, 2] | first }}{{ [3, 1, 2] | last }}{{ 'abc' | first }}|{{ [] | first }}|)J"), R"J(32a||)J");
  EXPECT_EQ(render(R"J({{ {'b': 1, 'A': 2, 'a': 3, 'C': 0} | dictsort }}|{{ {'b': 1, 'A': 2} | dictsort(true) }}|{{ {'b': 1, 'a': 2} | dictsort(by='value') }}|{{ {'b': 1, 'a': 2} | dictsort(reverse=true) }})J"), R"J([('A', 2), ('a', 3), ('b', 1), ('C', 0)]|[('A', 2), ('b', 1)]|[('b', 1), ('a', 2)]|[('b', 1), ('a', 2)])J");
  EXPECT_EQ(render(R"J({{ ['a', 'b'] | map('upper') | list }}|{{ [{'a': 1}, {'a': 2}] | map(attribute='a') | list }}|{{ ['x', 'y'] | map('replace', 'x', 'z') | join }})J"), R"J(['A', 'B']|[1, 2]|zy)J");
  EXPECT_EQ(render(R"J({{ [1, 2, 3, 4] | select('even') | list }}|{{ [1, 2, 3, 4] | reject('odd') | list }}|{{ [0, 1, '', 'a'] | select | list }}|{{ [{'k': 1}, {'k': 0}] | selectattr('k') | list }}|{{ [{'k': 1}, {'k': 2}] | rejectattr('k', 'equalto', 1) | list }})J"), R"J([2, 4]|[2, 4]|[1, 'a']|[{'k': 1}]|[{'k': 2}])J");
  EXPECT_EQ(render(R"J({{ [3, 1, 2] | sort }}|{{ ['b', 'A', 'c'] | sort }}|{{ ['b', 'A', 'c'] | sort(case_sensitive=true) }}|{{ [3, 1] | sort(reverse=true) }}|{{ [{'n': 2}, {'n': 1}] | sort(attribute='n') }})J"), R"J([1, 2, 3]|['A', 'b', 'c']|['A', 'b', 'c']|[3, 1]|[{'n': 1}, {'n': 2}])J");
  EXPECT_EQ(render(R"J({{ [1, 2, 1, 'A', 'a'] | unique | list }}|{{ [1, 2] | reverse | list }}|{{ 'abc' | reverse }}|{{ [1, 2, 3] | sum }}|{{ [1, 5, 2] | max }}|{{ [4, 2, 8] | min }})J"), R"J([1, 2, 'A']|[2, 1]|cba|6|5|2)J");
  EXPECT_EQ(render(R"J({{ 3.7 | int }}|{{ '42' | int }}|{{ 'x' | int }}|{{ '3.9' | int }}|{{ 3 | float }}|{{ '2.5' | float }}|{{ 2.5 | round }}|{{ 3.14159 | round(2) }}|{{ 2.1 | round(0, 'ceil') }})J"), R"J(3|42|0|3|3.0|2.5|2.0|3.14|3.0)J");
  EXPECT_EQ(render(R"J({{ 'aXbX' | replace('X', 'y') }}|{{ 'aXbX' | replace('X', 'y', 1) }}|{{ 42 | string }}|{{ [1, 'a'] | string }}|{{ m | items | list }})J"), R"J(ayby|aybX|42|[1, 'a']|[('a', 1), ('b', [1, 2])])J");
  EXPECT_EQ(render(R"J({{ m | tojson }}|{{ m | tojson(indent=2) }}|{{ 'é"<>&\n\u0001' | tojson }}|{{ [1.0, 2.5, none, true] | tojson }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ m | tojson(separators=(',', ':')) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ [] | tojson(indent=2) }})J"), R"J({"a": 1, "b": [1, 2]}|{
  "a": 1,
  "b": [
    1,
    2
  ]
}|"é\"<>&\n\u0001"|[1.0, 2.5, null, true]|{"a": 2, "b": 1}|{"a":1,"b":[1,2]}|"\u00e9"|[])J");
  EXPECT_EQ(render(R"J({{ 'a\nb' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ '<a href="x">' | e }}|{{ 'x' | safe }}|{{ 'one two  three' | wordcount }})J"), R"J(a
  b|  a
  b|&lt;a href=&#34;x&#34;&gt;|x|3)J");
}

TEST(JinjaTests, MatchesJinja2) {
  EXPECT_EQ(render(R"J({{ x is defined }}{{ m is defined }}{{ x is undefined }}{{ none is none }}{{ 1 is not none }})J"), R"J(FalseTrueTrueTrueTrue)J");
  EXPECT_EQ(render(R"J({{ true is boolean }}{{ 1 is boolean }}{{ 1 is number }}{{ true is number }}{{ 1.5 is number }}{{ 'a' is number }}{{ 1 is integer }}{{ 1.0 is float }})J"), R"J(TrueFalseTrueTrueTrueFalseTrueTrue)J");
  EXPECT_EQ(render(R"J({{ 'a' is string }}{{ 1 is string }}{{ m is mapping }}{{ l is mapping }}{{ l is sequence }}{{ 'a' is sequence }}{{ m is sequence }}{{ 1 is sequence }}{{ m is iterable }}{{ 1 is iterable }})J"), R"J(TrueFalseTrueFalseTrueTrueTrueFalseTrueFalse)J");
  EXPECT_EQ(render(R"J({{ 3 is odd }}{{ 3 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}{{ 1 is eq 1 }}{{ 1 is ne 1 }}{{ 2 is gt 1 }}{{ 2 is lt 1 }}{{ 2 is ge 2 }}{{ 1 is le 0 }}{{ 1 is in [1] }})J"), R"J(TrueFalseTrueFalseTrueFalseTrueFalseTrueFalseTrue)J");
  EXPECT_EQ(render(R"J({{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'aB' is lower }}{{ range is callable }}{{ none is sameas none }}{{ true is true }}{{ 1 is true }}{{ false is false }})J"), R"J(TrueTrueFalseTrueTrueTrueFalseTrue)J");
}

TEST(JinjaMethods, MatchesJinja2) {
  EXPECT_EQ(render(R"J({{ 'a,b,,c'.split(',') }}|{{ '  a b\n c  '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'x'.split('y') }})J"), R"J(['a', 'b', '', 'c']|['a', 'b', 'c']|['a', 'b c']|['x'])J");
  EXPECT_EQ(render(R"J({{ '  hi  '.strip() }}|{{ '  hi  '.lstrip() }}|{{ '  hi  '.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ 'Hello'.upper() }}{{ 'Hello'.lower() }})J"), R"J(hi|hi  |  hi|hi|HELLOhello)J");
  EXPECT_EQ(render(R"J({{ 'hello'.startswith('he') }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith(('x', 'h')) }}{{ 'hello'.endswith('x') }})J"), R"J(TrueTrueTrueFalse)J");
  EXPECT_EQ(render(R"J({{ 'aaa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'hello'.find('l') }}|{{ 'hello'.count('l') }}|{{ '-'.join(['a', 'b']) }}|{{ 'hello world'.title() }})J"), R"J(bbb|bba|2|2|a-b|Hello World)J");
  EXPECT_EQ(render(R"J({{ m.get('a') }}|{{ m.get('z') }}|{{ m.get('z', 'dflt') }}|{{ m.keys() | list }}|{{ m.values() | list }}|{{ m.items() | list }})J"), R"J(1|None|dflt|['a', 'b']|[1, [1, 2]]|[('a', 1), ('b', [1, 2])])J");
  EXPECT_EQ(render(R"J({{ [1, 2, 2].count(2) }}|{{ [1, 2].index(2) }}|{{ '123'.isdigit() }}|{{ 'a1'.isalpha() }})J"), R"J(2|1|True|False)J");
}

TEST(JinjaUnicodeCase, MatchesJinja2) {
  EXPECT_EQ(render(R"J({{ 'héllo wörld' | upper }}|{{ 'ÀÉÎÕÜ Ÿ' | lower }}|{{ 'straße' | upper }}|{{ 'ΟΔΟΣ ΣΑΣ' | lower }}|{{ 'привет мир' | title }}|{{ 'élan' | capitalize }}|{{ "it's o'neil" | title }}|{{ "it's".title() }})J"), R"J(HÉLLO WÖRLD|àéîõü ÿ|STRASSE|οδος σας|Привет Мир|Élan|It's O'neil|It'S)J");
  EXPECT_EQ(render(R"J({{ {'Éa': 1, 'éb': 2, 'Ea': 3} | dictsort }}|{{ '  x 　' | trim }}|{{ 'a b'.split() }})J"), R"J([('Ea', 3), ('Éa', 1), ('éb', 2)]|x|['a', 'b'])J");
}

TEST(JinjaFilterBlockAndPercentFormat, MatchesJinja2) {
  EXPECT_EQ(render(R"J({% filter upper %}hello {{ 'world' }}{% endfilter %}|{% filter replace('a', 'b') | upper %}banana{% endfilter %})J"), R"J(HELLO WORLD|BBNBNB)J");
  EXPECT_EQ(render(R"J(  {% filter trim %}
   x
  {% endfilter %}
y)J"), R"J(xy)J");
  EXPECT_EQ(render(R"J({{ '%s' % 1 }}|{{ '%s-%s' % (1, 'a') }}|{{ '%d items' % 3 }}|{{ '%5.2f' % 3.14159 }}|{{ '%-5s|' % 'ab' }}|{{ '%05d' % 42 }}|{{ '100%%' % () }}|{{ '%(a)s and %(b)s' % m }}|{{ '%r' % 'x' }}|{{ '%x' % 255 }}|{{ '%.1s' % 'héllo' }})J"), R"J(1|1-a|3 items| 3.14|ab   ||00042|100%|1 and [1, 2]|'x'|ff|h)J");
}

TEST(JinjaUndefined, MatchesJinja2) {
  EXPECT_EQ(render(R"J([{{ missing }}]|{{ missing is defined }}|{{ missing | default('d') }}|{{ missing ~ 'x' }}|{{ m.zzz }}|{{ m['zzz'] }}|{{ l[3] }}|{{ 'x' if missing else 'y' }})J"), R"J([]|False|d|x||||y)J");
  EXPECT_EQ(render(R"J({% if missing %}yes{% else %}no{% endif %}|{% if not missing %}neg{% endif %}|{{ missing == missing }}|{{ missing == none }}|{{ 'a' in missing }}|{{ missing | length }})J"), R"J(no|neg|True|False|False|0)J");
  EXPECT_EQ(render(R"J({{ d.a is defined }}|{{ d.a is not defined }}|{{ (m.zzz or 'fallback') }}|{{ s.nope }}|{{ missing | upper }}|{{ missing | trim }})J"), R"J(False|True|fallback|||)J");
}

}  // namespace
}  // namespace g4::jinja
