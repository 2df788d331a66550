// ResponseParser tests: every construct of Gemma 4's output (thinking channel, content, tool calls
// with every kind of argument, end markers), malformed output (content fallback plus a warning, no
// text lost), format_tool_call() against the chat template's rendering and round trips. Every input
// is also fed cut at every byte position, byte by byte, at every pair of positions (short inputs)
// and at marker boundaries, and must give the same events. A deterministic fuzz test builds ~20k
// inputs from the grammar's pieces and random bytes.

#include "testing/response_invariants.h"
#include "text/response_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing/fixtures.h"

namespace g4 {
namespace {

using testing::explains;

using ojson = nlohmann::ordered_json;
using Kind = ResponseEvent::Kind;
using Options = ResponseParserOptions;
using Thinking = ResponseParserOptions::Thinking;

const std::string Q = "<|\"|>";  // the string delimiter token

// A comparable view of an event; tool calls carry their name, arguments (as JSON) and raw text.
struct Ev {
  Kind kind;
  std::string text;
  std::string name;
  std::string args;
  std::string raw;
  bool operator==(const Ev&) const = default;
};

std::string describe(const std::vector<Ev>& evs) {
  static const char* names[] = {"reasoning", "content", "tool_call", "warning"};
  std::string s;
  for (const Ev& e : evs) {
    s += std::string("  ") + names[int(e.kind)] + ": ";
    if (e.kind == Kind::tool_call) {
      s += e.name + " " + e.args + " raw=" + e.raw;
    } else {
      s += "\"" + e.text + "\"";
    }
    s += "\n";
  }
  return s;
}

// Merges consecutive deltas of one kind (how they are split depends on the input's cuts).
void append(std::vector<Ev>& out, const std::vector<ResponseEvent>& evs) {
  for (const ResponseEvent& e : evs) {
    if ((e.kind == Kind::reasoning_delta || e.kind == Kind::content_delta)) {
      EXPECT_FALSE(e.text.empty()) << "empty delta";
      if (!out.empty() && out.back().kind == e.kind) {
        out.back().text += e.text;
        continue;
      }
    }
    Ev v{e.kind, e.text, "", "", ""};
    if (e.kind == Kind::tool_call) {
      v.name = e.tool_call.name;
      v.args = e.tool_call.arguments_json();
      v.raw = e.tool_call.raw;
    }
    out.push_back(std::move(v));
  }
}

std::vector<Ev> run_cuts(std::string_view input, Options opt, std::vector<size_t> cuts) {
  std::sort(cuts.begin(), cuts.end());
  ResponseParser p(opt);
  std::vector<Ev> out;
  size_t prev = 0;
  for (size_t c : cuts) {
    append(out, p.push(input.substr(prev, c - prev)));
    prev = c;
  }
  append(out, p.push(input.substr(prev)));
  append(out, p.finish());
  return out;
}

std::vector<Ev> run(std::string_view input, Options opt = {}) { return run_cuts(input, opt, {}); }

std::string delivered(const std::vector<Ev>& evs) {
  std::string s;
  for (const Ev& e : evs) {
    if (e.kind == Kind::reasoning_delta || e.kind == Kind::content_delta) s += e.text;
    if (e.kind == Kind::tool_call) s += e.raw;
  }
  return s;
}

// Runs the input whole, then cut in every way we test, checks all give the same events and that
// no text is lost; returns the events.
std::vector<Ev> run_all(std::string_view input, Options opt = {}) {
  std::vector<Ev> ref = run(input, opt);
  EXPECT_TRUE(explains(input, delivered(ref))) << "text lost or invented for input: " << input << "\n"
                                               << describe(ref);
  for (size_t c = 0; c <= input.size(); ++c) {
    auto got = run_cuts(input, opt, {c});
    if (got != ref) {
      ADD_FAILURE() << "cut at " << c << " of: " << input << "\nwhole:\n" << describe(ref) << "cut:\n" << describe(got);
      return ref;
    }
  }
  std::vector<size_t> bytes;
  for (size_t c = 1; c < input.size(); ++c) bytes.push_back(c);
  EXPECT_EQ(run_cuts(input, opt, bytes), ref) << "byte by byte: " << input;
  if (input.size() <= 100) {
    for (size_t a = 0; a <= input.size(); ++a) {
      for (size_t b = a; b <= input.size(); ++b) {
        if (run_cuts(input, opt, {a, b}) != ref) {
          ADD_FAILURE() << "cuts at " << a << "," << b << " of: " << input;
          return ref;
        }
      }
    }
  }
  // Token-like cuts: before and after every marker-ish '<' ... '>' run.
  std::vector<size_t> tok;
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i] == '<') tok.push_back(i);
    if (input[i] == '>') tok.push_back(i + 1);
  }
  EXPECT_EQ(run_cuts(input, opt, tok), ref) << "token cuts: " << input;
  return ref;
}

Ev C(std::string t) { return {Kind::content_delta, std::move(t), "", "", ""}; }
Ev R(std::string t) { return {Kind::reasoning_delta, std::move(t), "", "", ""}; }
Ev T(std::string name, std::string args_json, std::string raw) {
  return {Kind::tool_call, "", std::move(name), ojson::parse(args_json).dump(), std::move(raw)};
}
Ev W(std::string substring) { return {Kind::warning, std::move(substring), "", "", ""}; }

// Like ==, but an expected warning matches any warning whose message contains its text.
void expect_events(const std::vector<Ev>& got, const std::vector<Ev>& want) {
  bool same = got.size() == want.size();
  for (size_t i = 0; same && i < got.size(); ++i) {
    if (want[i].kind == Kind::warning) {
      same = got[i].kind == Kind::warning && got[i].text.find(want[i].text) != std::string::npos;
    } else {
      same = got[i] == want[i];
    }
  }
  EXPECT_TRUE(same) << "got:\n" << describe(got) << "want:\n" << describe(want);
}

void check(std::string_view input, const std::vector<Ev>& want, Options opt = {}) {
  expect_events(run_all(input, opt), want);
}

// ---------------------------------------------------------------------------------------------
// Content and thinking

TEST(ResponseParser, PlainContent) {
  const std::string plain = "Hello, world! 2 < 3 and a <b>tag</b> <|not a marker|>";
  check(plain, {C(plain)});
  check("", {});
  check("Unicode: héllo 日本語 🎉\n\nnew lines", {C("Unicode: héllo 日本語 🎉\n\nnew lines")});
}

TEST(ResponseParser, ThinkingThenContent) {
  check("<|channel>thought\nLet me think: 2+2=4.\n<channel|>The answer is 4.",
        {R("Let me think: 2+2=4.\n"), C("The answer is 4.")});
  check("<|channel>thought\nA<channel|>B<turn|>", {R("A"), C("B")});
}

TEST(ResponseParser, ThinkingOnly) {
  check("<|channel>thought\nonly thoughts<channel|>", {R("only thoughts")});
  check("<|channel>thought\n<channel|>", {});
  check("<|channel>thought\n<channel|><turn|>", {});
}

TEST(ResponseParser, ThinkingUnterminated) {
  check("<|channel>thought\nstill thinking", {R("still thinking"), W("inside the thinking channel")});
  check("<|channel>thought\nstill<turn|>", {R("still"), W("inside the thinking channel")});
  check("<|channel>thought", {R("thought"), W("inside the thinking channel")});
  check("<|channel>", {W("inside the thinking channel")});
}

TEST(ResponseParser, ChannelNotNamedThought) {
  check("<|channel>analysis\nhmm<channel|>ok", {R("analysis\nhmm"), C("ok")});
  check("<|channel>thoughtful<channel|>ok", {R("thoughtful"), C("ok")});
  check("<|channel><channel|>ok", {C("ok")});
}

TEST(ResponseParser, ThinkingOpenAtStart) {
  Options opt;
  opt.thinking = Thinking::open;
  check("reasoning here<channel|>answer", {R("reasoning here"), C("answer")}, opt);
  check("thought\nkept<channel|>", {R("thought\nkept")}, opt);
}

TEST(ResponseParser, ThinkingDisabled) {
  Options opt;
  opt.thinking = Thinking::disabled;
  check("Just the answer.", {C("Just the answer.")}, opt);
  check("<|channel>thought\nsneaky<channel|>answer", {W("thinking is disabled"), R("sneaky"), C("answer")}, opt);
}

TEST(ResponseParser, SeveralChannels) {
  check("<|channel>thought\na<channel|>b<|channel>thought\nc<channel|>d", {R("a"), C("b"), R("c"), C("d")});
}

TEST(ResponseParser, StrayMarkers) {
  check("a<channel|>b", {C("a"), W("stray <channel|>"), C("<channel|>b")});
  check("a<tool_call|>b", {C("a"), W("stray <tool_call|>"), C("<tool_call|>b")});
  check("a" + Q + "b", {C("a"), W("stray"), C(Q + "b")});
  check("<|channel>thought\nx<|channel>y<channel|>z",
        {R("x"), W("stray <|channel> in reasoning"), R("<|channel>y"), C("z")});
}

TEST(ResponseParser, EndMarkers) {
  check("done<turn|>", {C("done")});
  check("done<eos>", {C("done")});
  check("done<|tool_response>", {C("done")});
  check("done<turn|>\nmore<eos>", {C("done"), W("after the end"), C("\nmore<eos>")});
}

TEST(ResponseParser, PushAfterFinish) {
  ResponseParser p;
  std::vector<Ev> out;
  append(out, p.push("a"));
  append(out, p.finish());
  EXPECT_TRUE(p.ended());
  append(out, p.push("b"));
  append(out, p.finish());
  expect_events(out, {C("a"), W("after the end"), C("b")});
}

// ---------------------------------------------------------------------------------------------
// Streaming: prompt deltas, hold back only possible marker starts

TEST(ResponseParser, StreamsPromptly) {
  ResponseParser p;
  auto e = p.push("Hello");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].text, "Hello");
  e = p.push(" wor<");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].text, " wor");  // "<" could start a marker
  e = p.push("|chan");
  EXPECT_TRUE(e.empty());
  e = p.push("nel>thou");
  EXPECT_TRUE(e.empty());  // "thou" could be the channel header
  e = p.push("ght\nidea");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, Kind::reasoning_delta);
  EXPECT_EQ(e[0].text, "idea");
  e = p.push("<chan");
  EXPECT_TRUE(e.empty());
  e = p.push("ge>");  // not a marker after all
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].text, "<change>");
  e = p.push("<b");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].text, "<b");  // no marker starts with "<b"
  e = p.push("2 <");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].text, "2 ");
  e = p.finish();  // the held "<", then the unterminated channel is reported
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].kind, Kind::reasoning_delta);
  EXPECT_EQ(e[0].text, "<");
  EXPECT_EQ(e[1].kind, Kind::warning);
}

TEST(ResponseParser, HoldsUnfinishedUtf8) {
  ResponseParser p;
  std::string s = "é日";  // c3 a9 e6 97 a5
  auto e = p.push(s.substr(0, 1));
  EXPECT_TRUE(e.empty());
  e = p.push(s.substr(1, 2));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].text, "é");
  e = p.push(s.substr(3));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].text, "日");
  // Invalid bytes are not held: they can never complete.
  e = p.push("\x80\xff");
  ASSERT_EQ(e.size(), 1u);
  e = p.push("\xe6");
  EXPECT_TRUE(e.empty());
  e = p.finish();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].text, "\xe6");
}

// ---------------------------------------------------------------------------------------------
// Tool calls

TEST(ResponseParser, ToolCallSimple) {
  std::string call = "<|tool_call>call:get_weather{city:" + Q + "Paris" + Q + "}<tool_call|>";
  check(call, {T("get_weather", R"({"city":"Paris"})", call)});
  check(call + "<|tool_response>", {T("get_weather", R"({"city":"Paris"})", call)});
  std::string empty = "<|tool_call>call:ping{}<tool_call|>";
  check(empty, {T("ping", "{}", empty)});
}

TEST(ResponseParser, ToolCallStringsWithAnything) {
  const std::string hard =
      "a {brace} [bracket] \"quote\" 'single' , comma : colon\nnewline\ttab é日本🎉 <b> < > <| |> "
      "<tool_call|> <|tool_call> <|channel> <channel|> call:x{y:1} \\ backslash";
  std::string call = "<|tool_call>call:f{s:" + Q + hard + Q + "}<tool_call|>";
  auto evs = run_all(call);
  ASSERT_EQ(evs.size(), 1u) << describe(evs);
  EXPECT_EQ(evs[0].kind, Kind::tool_call);
  ojson args = ojson::parse(evs[0].args);
  EXPECT_EQ(args["s"], hard);
  EXPECT_EQ(evs[0].raw, call);
  // Empty string and a string of only whitespace.
  std::string c2 = "<|tool_call>call:f{a:" + Q + Q + ",b:" + Q + "  \n" + Q + "}<tool_call|>";
  check(c2, {T("f", R"({"a":"","b":"  \n"})", c2)});
}

TEST(ResponseParser, ToolCallNested) {
  std::string call = "<|tool_call>call:search{filters:{tags:[" + Q + "a" + Q + "," + Q + "b,c" + Q +
                     "],range:{max:10,min:-1}},items:[[1,2],[],{}],q:" + Q + "x" + Q + "}<tool_call|>";
  check(call, {T("search",
                 R"({"filters":{"tags":["a","b,c"],"range":{"max":10,"min":-1}},"items":[[1,2],[],{}],"q":"x"})",
                 call)});
}

TEST(ResponseParser, ToolCallNumbersAndLiterals) {
  std::string call = "<|tool_call>call:n{a:0,b:42,c:-7,d:3.25,e:-0.5,f:1e-05,g:2.5e+20,h:1E3,i:true,j:false,"
                     "k:None,l:null,"
                     "m:18446744073709551615,o:123456789012345678901234567890}<tool_call|>";
  auto evs = run_all(call);
  ASSERT_EQ(evs.size(), 1u) << describe(evs);
  ojson a = ojson::parse(evs[0].args);
  EXPECT_EQ(a["a"], 0);
  EXPECT_EQ(a["b"], 42);
  EXPECT_TRUE(a["b"].is_number_integer());
  EXPECT_EQ(a["c"], -7);
  EXPECT_EQ(a["d"], 3.25);
  EXPECT_TRUE(a["d"].is_number_float());
  EXPECT_EQ(a["e"], -0.5);
  EXPECT_EQ(a["f"], 1e-05);
  EXPECT_EQ(a["g"], 2.5e20);
  EXPECT_EQ(a["h"], 1000.0);
  EXPECT_EQ(a["i"], true);
  EXPECT_EQ(a["j"], false);
  EXPECT_TRUE(a["k"].is_null());
  EXPECT_TRUE(a["l"].is_null());
  EXPECT_EQ(a["m"].get<uint64_t>(), 18446744073709551615ull);
  EXPECT_TRUE(a["o"].is_number_float());
}

TEST(ResponseParser, ToolCallWhitespaceTolerated) {
  std::string call = "<|tool_call>call: f { a : 1 , b : [ 1 , " + Q + "x" + Q + " ] }\n<tool_call|>";
  check(call, {T("f", R"({"a":1,"b":[1,"x"]})", call)});
}

TEST(ResponseParser, ToolCallQuotedKeys) {
  std::string call = "<|tool_call>call:f{" + Q + "a key" + Q + ":{" + Q + "k:1" + Q + ":2}}<tool_call|>";
  check(call, {T("f", R"({"a key":{"k:1":2}})", call)});
}

TEST(ResponseParser, SeveralCallsAndContent) {
  std::string c1 = "<|tool_call>call:a{x:1}<tool_call|>";
  std::string c2 = "<|tool_call>call:b{y:" + Q + "}" + Q + "}<tool_call|>";
  check(c1 + c2, {T("a", R"({"x":1})", c1), T("b", R"({"y":"}"})", c2)});
  check("Let me check. " + c1 + "\n" + c2 + "<|tool_response>",
        {C("Let me check. "), T("a", R"({"x":1})", c1), C("\n"), T("b", R"({"y":"}"})", c2)});
  check("<|channel>thought\nneed a tool\n<channel|>" + c1, {R("need a tool\n"), T("a", R"({"x":1})", c1)});
}

TEST(ResponseParser, ToolCallInsideThinkingEndsIt) {
  std::string c1 = "<|tool_call>call:a{x:1}<tool_call|>";
  check("<|channel>thought\nplan" + c1 + "after",
        {R("plan"), W("inside the thinking channel"), T("a", R"({"x":1})", c1), C("after")});
}

TEST(ResponseParser, ToolsNotOffered) {
  Options opt;
  opt.tools_offered = false;
  std::string c1 = "<|tool_call>call:a{x:1}<tool_call|>";
  check("hi " + c1, {C("hi "), W("no tools were offered"), C(c1)}, opt);
}

// ---------------------------------------------------------------------------------------------
// Malformed tool calls: content fallback with the raw text, plus a warning

TEST(ResponseParser, MalformedUnterminatedCall) {
  std::string c = "<|tool_call>call:a{x:1}";
  check("pre " + c, {C("pre "), W("unterminated tool call"), C(c)});
  check(c + "<turn|>", {W("ended inside the call"), C(c)});
}

TEST(ResponseParser, MalformedUnterminatedString) {
  std::string c = "<|tool_call>call:a{x:" + Q + "abc}<tool_call|>more text";
  check(c, {W("unterminated tool call"), C(c)});
  // An end marker inside a string is string text (the caller would have stopped there).
  std::string c2 = "<|tool_call>call:a{x:" + Q + "abc}<tool_call|>more<turn|>after";
  check(c2, {W("unterminated tool call"), C(c2)});
  std::string c3 = "<|tool_call>call:a{x:" + Q + "a<turn|>b<eos>c<|tool_response>" + Q + "}<tool_call|>";
  check(c3, {T("a", R"({"x":"a<turn|>b<eos>c<|tool_response>"})", c3)});
}

TEST(ResponseParser, MalformedArguments) {
  const std::vector<std::string> bad = {
      "<|tool_call>call:a{x:1,,y:2}<tool_call|>",
      "<|tool_call>call:a{x 1}<tool_call|>",
      "<|tool_call>call:a{x:}<tool_call|>",
      "<|tool_call>call:a{x:hello}<tool_call|>",
      "<|tool_call>call:a{x:1,}<tool_call|>",
      "<|tool_call>call:a{x:[1,2}<tool_call|>",
      "<|tool_call>call:a{x:{y:1}<tool_call|>",
      "<|tool_call>call:a{x:1}}<tool_call|>",
      "<|tool_call>call:a{x:1} trailing<tool_call|>",
      "<|tool_call>call:a{:1}<tool_call|>",
      "<|tool_call>call:a{x:01}<tool_call|>",
      "<|tool_call>call:a{x:1.}<tool_call|>",
      "<|tool_call>call:a{x:1e999}<tool_call|>",
      "<|tool_call>call:{x:1}<tool_call|>",
      "<|tool_call>call:a b{x:1}<tool_call|>",
      "<|tool_call>a{x:1}<tool_call|>",
      "<|tool_call>call:a<tool_call|>",
      "<|tool_call>call:a{x:<channel|>}<tool_call|>",
      "<|tool_call><tool_call|>",
  };
  for (const std::string& c : bad) {
    SCOPED_TRACE(c);
    check("x" + c + "y", {C("x"), W("malformed tool call"), C(c + "y")});
  }
}

TEST(ResponseParser, MalformedCallInterruptedByNewCallOrChannel) {
  std::string good = "<|tool_call>call:b{y:2}<tool_call|>";
  check("<|tool_call>call:a{x:1" + good,
        {W("new <|tool_call>"), C("<|tool_call>call:a{x:1"), T("b", R"({"y":2})", good)});
  check("<|tool_call>call:a{<|channel>thought\nt<channel|>c",
        {W("<|channel> started"), C("<|tool_call>call:a{"), R("t"), C("c")});
}

TEST(ResponseParser, DeepNestingRejectedNotCrashing) {
  std::string deep = "<|tool_call>call:a{x:" + std::string(5000, '[') + std::string(5000, ']') + "}<tool_call|>";
  auto evs = run(deep);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].kind, Kind::warning);
  EXPECT_EQ(evs[1].text, deep);
}

TEST(ResponseParser, ParseResponseWhole) {
  std::string c1 = "<|tool_call>call:a{x:1}<tool_call|>";
  std::string c2 = "<|tool_call>call:b{y:" + Q + "z" + Q + "}<tool_call|>";
  auto r = parse_response("<|channel>thought\nplan<channel|>Calling." + c1 + c2 + "<|tool_response>");
  EXPECT_EQ(r.reasoning, "plan");
  EXPECT_EQ(r.content, "Calling.");
  ASSERT_EQ(r.tool_calls.size(), 2u);
  EXPECT_EQ(r.tool_calls[0].name, "a");
  EXPECT_EQ(r.tool_calls[0].arguments_json(), R"({"x":1})");
  EXPECT_EQ(r.tool_calls[1].raw, c2);
  EXPECT_TRUE(r.warnings.empty());
  auto bad = parse_response("x<|tool_call>call:a{x:1}");
  EXPECT_EQ(bad.content, "x<|tool_call>call:a{x:1}");
  EXPECT_EQ(bad.warnings.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// format_tool_call: the template's rendering, and round trips

TEST(ResponseParser, FormatMatchesTemplate) {
  // Spec §7.3's example, as the template renders {"city": "Paris"}.
  EXPECT_EQ(format_tool_call("get_weather", ojson{{"city", "Paris"}}),
            "<|tool_call>call:get_weather{city:" + Q + "Paris" + Q + "}<tool_call|>");
  // dictsort: case-insensitive, stable; nested objects sorted too; arrays keep order.
  ojson args = ojson::parse(R"({"b":1,"B":2,"a":{"z":true,"Y":false},"c":[3,"s",null,{"q":1,"p":2}]})");
  EXPECT_EQ(format_tool_call("f", args),
            "<|tool_call>call:f{a:{Y:false,z:true},b:1,B:2,c:[3," + Q + "s" + Q + ",None,{p:2,q:1}]}<tool_call|>");
  // Python's number printing.
  EXPECT_EQ(format_tool_argument(ojson(1.0)), "1.0");
  EXPECT_EQ(format_tool_argument(ojson(0.1)), "0.1");
  EXPECT_EQ(format_tool_argument(ojson(-2.5)), "-2.5");
  EXPECT_EQ(format_tool_argument(ojson(1e-05)), "1e-05");
  EXPECT_EQ(format_tool_argument(ojson(0.0001)), "0.0001");
  EXPECT_EQ(format_tool_argument(ojson(1e16)), "1e+16");
  EXPECT_EQ(format_tool_argument(ojson(1e15)), "1000000000000000.0");
  EXPECT_EQ(format_tool_argument(ojson(1.5e300)), "1.5e+300");
  EXPECT_EQ(format_tool_argument(ojson(123456.789)), "123456.789");
  EXPECT_EQ(format_tool_argument(ojson(-0.0)), "-0.0");
  EXPECT_EQ(format_tool_argument(ojson(int64_t(-9223372036854775807LL - 1))), "-9223372036854775808");
  EXPECT_EQ(format_tool_argument(ojson(uint64_t(18446744073709551615ull))), "18446744073709551615");
  // Non-object arguments: a string is inserted verbatim, anything else gives {}.
  EXPECT_EQ(format_tool_call("f", ojson("x:1")), "<|tool_call>call:f{x:1}<tool_call|>");
  EXPECT_EQ(format_tool_call("f", ojson::array({1})), "<|tool_call>call:f{}<tool_call|>");
  EXPECT_EQ(format_tool_call("f", ojson()), "<|tool_call>call:f{}<tool_call|>");
}

TEST(ResponseParser, FormatFromJsonText) {
  auto r = format_tool_call_json("get_weather", R"({"unit":"C","city":"Paris","days":3,"x":1.0})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "<|tool_call>call:get_weather{city:" + Q + "Paris" + Q + ",days:3,unit:" + Q + "C" + Q +
                    ",x:1.0}<tool_call|>");
  EXPECT_FALSE(format_tool_call_json("f", "{not json").ok());
}

TEST(ResponseParser, ArgumentsJson) {
  std::string call = "<|tool_call>call:f{z:" + Q + "é\"\n" + Q + ",a:[1,2.5,true,None]}<tool_call|>";
  auto evs = ResponseParser().push(call);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].tool_call.arguments_json(), "{\"z\":\"é\\\"\\n\",\"a\":[1,2.5,true,null]}");  // model's key order
  auto bad = parse_tool_call("<|tool_call>call:f{z:" + Q + "\xff" + Q + "}<tool_call|>");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->arguments_json(), "{\"z\":\"\xEF\xBF\xBD\"}");  // invalid UTF-8 replaced, no throw
}

TEST(ResponseParser, ParseThenFormatGivesModelText) {
  // Canonical calls (as the template writes them: sorted keys, no spaces, Python numbers).
  const std::vector<std::string> canonical = {
      "<|tool_call>call:get_weather{city:" + Q + "Paris" + Q + "}<tool_call|>",
      "<|tool_call>call:ping{}<tool_call|>",
      "<|tool_call>call:f{a:1,b:-2,c:3.5,d:1e-05,e:1e+20,f:true,g:false,h:None,i:[],j:{}}<tool_call|>",
      "<|tool_call>call:search{filters:{range:{max:10,min:0},tags:[" + Q + "x, y" + Q + "," + Q + "{}" + Q +
          "]},query:" + Q + "multi\nline \"quoted\" 日本" + Q + "}<tool_call|>",
      "<|tool_call>call:mcp.server-tool_1{A:1,b:2,C:[[1],[2,[3]]]}<tool_call|>",
  };
  for (const std::string& c : canonical) {
    SCOPED_TRACE(c);
    auto evs = ResponseParser().push(c);
    ASSERT_EQ(evs.size(), 1u);
    ASSERT_EQ(evs[0].kind, Kind::tool_call);
    EXPECT_EQ(format_tool_call(evs[0].tool_call.name, evs[0].tool_call.arguments), c);
    EXPECT_EQ(*format_tool_call_json(evs[0].tool_call.name, evs[0].tool_call.arguments_json()), c);
  }
}

// Ground truth from Python: transformers rendered the official templates (tests/data/chat). Every
// call in a rendered prompt must parse back to the message's call, and format_tool_call() of the
// message's arguments must give exactly the rendered text.
TEST(ResponseParser, MatchesTemplateGoldens) {
  std::ifstream f(testing::fixture("chat/template_goldens.jsonl"));
  ASSERT_TRUE(f.good());
  std::string line;
  int checked = 0;
  std::set<std::string> seen;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    ojson c = ojson::parse(line);
    if (!c["expected"].is_string()) continue;
    const std::string& expected = c["expected"].get_ref<const std::string&>();
    std::vector<ojson> calls;
    for (const ojson& m : c["messages"]) {
      if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
        for (const ojson& tc : m["tool_calls"]) calls.push_back(tc["function"]);
      }
    }
    size_t pos = 0;
    for (const ojson& fn : calls) {
      SCOPED_TRACE(c["name"].get<std::string>() + " / " + c["template"].get<std::string>());
      const std::string name = fn["name"].get<std::string>();
      const std::string raw = format_tool_call(name, fn["arguments"]);
      size_t b = expected.find(raw, pos);
      ASSERT_NE(b, std::string::npos) << raw << "\nnot in:\n" << expected;
      ASSERT_EQ(expected.find("<|tool_call>", pos), b);  // the next call in the prompt
      pos = b + raw.size();
      ++checked;
      if (!fn["arguments"].is_object()) continue;  // a string is inserted verbatim: not the model's syntax
      auto evs = seen.insert(raw).second ? run_all(raw) : run(raw);  // every cut once per distinct call
      ASSERT_EQ(evs.size(), 1u) << describe(evs);
      ASSERT_EQ(evs[0].kind, Kind::tool_call);
      EXPECT_EQ(evs[0].name, name);
      EXPECT_EQ(evs[0].raw, raw);
      EXPECT_EQ(nlohmann::json::parse(evs[0].args), nlohmann::json::parse(fn["arguments"].dump()));
      EXPECT_EQ(*format_tool_call_json(name, fn["arguments"].dump()), raw);
    }
  }
  EXPECT_GE(checked, 20);
}

// Random argument trees with simple keys and strings free of the delimiter token.
ojson random_value(std::mt19937& rng, int depth) {
  auto pick = [&](int n) { return int(rng() % unsigned(n)); };
  static const std::vector<std::string> strings = {"", "x", "hello world", "a,b:c{d}[e]", "\"q\"", "line\nbreak",
                                                    "é日🎉", "<tool_call|>", "<|channel>", "<", "call:f{}"};
  switch (pick(depth > 3 ? 6 : 8)) {
    case 0: return strings[size_t(pick(int(strings.size())))];
    case 1: return int64_t(int64_t(rng()) - int64_t(rng()));
    case 2: {
      double d = std::ldexp(double(rng()) / 4294967296.0 - 0.5, pick(200) - 100);
      return d;
    }
    case 3: return pick(2) == 1;
    case 4: return nullptr;
    case 5: return pick(3) - 1;
    case 6: {
      ojson a = ojson::array();
      for (int i = pick(4); i > 0; --i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      ojson o = ojson::object();
      static const std::vector<std::string> keys = {"a", "B", "key", "Key2", "under_score", "x1", "z", "mixed-Dash"};
      for (int i = pick(4); i > 0; --i) o[keys[size_t(pick(int(keys.size())))]] = random_value(rng, depth + 1);
      return o;
    }
  }
}

TEST(ResponseParser, FormatThenParseRoundTrip) {
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 2000; ++iter) {
    ojson args = ojson::object();
    for (int i = int(rng() % 5); i > 0; --i) args["k" + std::to_string(rng() % 10)] = random_value(rng, 0);
    std::string text = format_tool_call("tool_" + std::to_string(iter), args);
    ResponseParser p;
    auto evs = p.push(text);
    auto fin = p.finish();
    ASSERT_EQ(evs.size(), 1u) << text;
    ASSERT_TRUE(fin.empty()) << text;
    ASSERT_EQ(evs[0].kind, Kind::tool_call) << text << "\n" << evs[0].text;
    // Same call (key order aside: the template sorts), and formatting again gives the same text.
    EXPECT_EQ(nlohmann::json::parse(evs[0].tool_call.arguments.dump()), nlohmann::json::parse(args.dump())) << text;
    EXPECT_EQ(format_tool_call(evs[0].tool_call.name, evs[0].tool_call.arguments), text);
    EXPECT_EQ(evs[0].tool_call.raw, text);
  }
}

// ---------------------------------------------------------------------------------------------
// Deterministic fuzz: inputs built from the grammar's pieces and random bytes, random cuts.

TEST(ResponseParser, DeterministicFuzz) {
  std::mt19937 rng(20260601);
  const std::vector<std::string> pieces = {
      "<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>", Q, "<turn|>", "<eos>", "<|tool_response>",
      "thought\n", "thought", "call:", "f", "get_weather", "{", "}", "[", "]", ":", ",", "a", "key", "1", "-2.5e3",
      "0.5", "true", "null", "None", " ", "\n", "é", "日本", "<", "|", ">", "<|tool", "call|>", "<|\"", "<chan",
      "text ", "x", "\"", "'"};
  auto pick = [&](size_t n) { return size_t(rng() % n); };
  int calls_seen = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string in;
    size_t n = 1 + pick(24);
    for (size_t i = 0; i < n; ++i) {
      size_t r = pick(100);
      if (r < 8) {
        in += char(rng() & 0xff);
      } else if (r < 14) {
        ojson args = ojson::object();
        for (int k = int(pick(3)); k > 0; --k) args["k" + std::to_string(pick(3))] = random_value(rng, 2);
        in += format_tool_call("t" + std::to_string(pick(3)), args);
      } else {
        in += pieces[pick(pieces.size())];
      }
    }
    Options opt;
    opt.thinking = Thinking(pick(3));
    opt.tools_offered = pick(4) != 0;
    std::vector<Ev> ref;
    ASSERT_NO_THROW(ref = run(in, opt)) << in;
    ASSERT_TRUE(explains(in, delivered(ref))) << "text lost: " << in << "\n" << describe(ref);
    std::vector<size_t> cuts;
    size_t ncuts = pick(6) == 0 ? in.size() : pick(6);
    for (size_t c = 0; c < ncuts; ++c) cuts.push_back(pick(in.size() + 1));
    std::vector<Ev> got = run_cuts(in, opt, cuts);
    ASSERT_EQ(got, ref) << "cuts change the events for: " << in << "\nwhole:\n"
                        << describe(ref) << "cut:\n"
                        << describe(got);
    for (const Ev& e : ref) {
      if (e.kind != Kind::tool_call) continue;
      ++calls_seen;
      ASSERT_TRUE(e.raw.starts_with("<|tool_call>") && e.raw.ends_with("<tool_call|>")) << e.raw;
      ASSERT_TRUE(parse_tool_call(e.raw).ok()) << e.raw;
    }
  }
  EXPECT_GT(calls_seen, 1000);
}

}  // namespace
}  // namespace g4
