#!/usr/bin/env python3
"""Render conversations through the official Gemma 4 chat templates with transformers' own chat-template
renderer (the code path of `apply_chat_template(..., tokenize=False)`) and write golden outputs for the
C++ Jinja engine to tests/data/chat/template_goldens.jsonl.

Each line: {"name", "template", "messages", "tools", "add_generation_prompt", "kwargs", "expected", "error"}.
`messages` are the raw inputs; like apply_chat_template, the C++ side drops None-valued message keys and
aliases reasoning fields before rendering. `error` is the exception message when rendering raises
(then `expected` is null).

Run from the repository root with the project virtualenv:  .venv/bin/python tools/reference/make_template_goldens.py
"""
import copy
import json
import os
import random

from transformers.utils.chat_template_utils import _normalize_chat_messages, render_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "chat")
TEMPLATES = ["gemma4-chat_template.jinja", "gemma4-chat_template-interleaved.jinja"]
# The named special tokens of the Gemma 4 tokenizer, which apply_chat_template passes to the template.
SPECIAL_TOKENS = {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"},
            },
            "required": ["city"],
        },
    },
}

COMPLEX_TOOL = {
    "type": "function",
    "function": {
        "name": "create_event",
        "description": "Create a calendar event with \"quotes\" & {braces}.",
        "parameters": {
            "type": "object",
            "properties": {
                "title": {"type": "string", "description": "Event title"},
                "attendees": {
                    "type": "array",
                    "description": "People to invite",
                    "items": {"type": "string"},
                },
                "location": {
                    "type": "object",
                    "description": "Where it happens",
                    "properties": {
                        "name": {"type": "string", "description": "Venue"},
                        "lat": {"type": "number"},
                        "lng": {"type": "number"},
                    },
                    "required": ["name"],
                },
                "priority": {"type": "integer", "enum": [1, 2, 3], "description": "Priority", "nullable": True},
                "Zeta": {"type": "boolean", "description": "Upper-case key sorts case-insensitively"},
                "notes": {"type": "string", "nullable": True},
                "slots": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
                        "required": ["start", "end"],
                    },
                },
                "tags": {"type": "array", "items": {"type": ["string", "null"]}},
                "meta": {"type": "object"},
            },
            "required": ["title", "attendees"],
        },
        "response": {"type": "object", "description": "The created event"},
    },
}

NO_PARAMS_TOOL = {"type": "function", "function": {"name": "get_time", "description": "Current time."}}

EMPTY_PARAMS_TOOL = {
    "type": "function",
    "function": {"name": "ping", "description": "Ping.", "parameters": {"type": "object", "properties": {}}},
}

SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Web search",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Query"},
                "max_results": {"type": "integer", "description": "Max results"},
                "filters": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
            },
            "required": ["query"],
        },
    },
}


def call(name, args, id=None):
    c = {"type": "function", "function": {"name": name, "arguments": args}}
    if id is not None:
        c["id"] = id
    return c


U = lambda t: {"role": "user", "content": t}
A = lambda t: {"role": "assistant", "content": t}

CASES = []


def case(name, messages, tools=None, agp=True, **kwargs):
    CASES.append({"name": name, "messages": messages, "tools": tools, "add_generation_prompt": agp, "kwargs": kwargs})


# Basics.
case("single_user", [U("Hello!")])
case("single_user_no_gen", [U("Hello!")], agp=False)
case("user_whitespace_trim", [U("  \n Hello there \n\n ")])
case("system_prompt", [{"role": "system", "content": "You are helpful."}, U("Hi")])
case("developer_prompt", [{"role": "developer", "content": "  Be brief.  "}, U("Hi")])
case("multi_turn", [U("Hi"), A("Hello! How can I help?"), U("Tell me a joke."), A("Why did the chicken..."), U("Another")])
case("multi_turn_no_gen", [U("Hi"), A("Hello!"), U("Bye")], agp=False)
case("ends_with_assistant_no_gen", [U("Hi"), A("Hello!")], agp=False)
case("system_multi_turn", [{"role": "system", "content": "Sys"}, U("a"), A("b"), U("c")])
# Thinking.
case("thinking_on", [U("Solve 2+2")], enable_thinking=True)
case("thinking_off_explicit", [U("Solve 2+2")], enable_thinking=False)
case("thinking_on_system", [{"role": "system", "content": "Think hard."}, U("Q")], enable_thinking=True)
case("thinking_on_no_gen", [U("Q"), A("A")], agp=False, enable_thinking=True)
case(
    "strip_thinking_history",
    [U("Q1"), A("<|channel>thought\nsecret reasoning<channel|>The answer is 4."), U("Q2")],
    enable_thinking=True,
)
case("strip_thinking_multiple", [U("Q"), A("pre <|channel>t1<channel|>mid<|channel>t2<channel|> post  "), U("again")])
case("reasoning_without_tool_calls", [U("Q"), {"role": "assistant", "content": "A", "reasoning_content": "hidden"}, U("Q2")])
# Tools declared.
case("tools_weather", [U("Weather in Paris?")], tools=[WEATHER_TOOL])
case("tools_complex", [U("Plan a meeting")], tools=[COMPLEX_TOOL])
case("tools_several", [{"role": "system", "content": "Use tools."}, U("Go")], tools=[WEATHER_TOOL, SEARCH_TOOL, NO_PARAMS_TOOL, EMPTY_PARAMS_TOOL])
case("tools_thinking", [U("Weather?")], tools=[WEATHER_TOOL], enable_thinking=True)
case("tools_no_gen", [U("Weather?")], tools=[WEATHER_TOOL], agp=False)
# Tool calls in history (OpenAI style).
case(
    "tool_call_and_result",
    [
        U("Weather in Paris?"),
        {"role": "assistant", "content": None, "tool_calls": [call("get_weather", {"city": "Paris"}, "call_1")]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
    ],
    tools=[WEATHER_TOOL],
)
case(
    "tool_call_result_then_answer",
    [
        U("Weather in Paris?"),
        {"role": "assistant", "content": "", "tool_calls": [call("get_weather", {"city": "Paris", "unit": "celsius"}, "c1")]},
        {"role": "tool", "tool_call_id": "c1", "content": "21 degrees"},
        A("It is 21 °C in Paris."),
        U("And in Rome?"),
    ],
    tools=[WEATHER_TOOL],
)
case(
    "several_tool_calls",
    [
        U("Weather in Paris and Rome?"),
        {
            "role": "assistant",
            "tool_calls": [call("get_weather", {"city": "Paris"}, "a"), call("get_weather", {"city": "Rome"}, "b")],
        },
        {"role": "tool", "tool_call_id": "a", "content": "sunny"},
        {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "rainy"}, {"type": "text", "text": " and cold"}]},
    ],
    tools=[WEATHER_TOOL],
)
case(
    "tool_call_reasoning_after_last_user",
    [
        U("Weather?"),
        {
            "role": "assistant",
            "reasoning_content": "I should call the weather tool.",
            "tool_calls": [call("get_weather", {"city": "Oslo"}, "x")],
        },
        {"role": "tool", "tool_call_id": "x", "content": "cold"},
    ],
    tools=[WEATHER_TOOL],
    enable_thinking=True,
)
case(
    "tool_call_reasoning_field_reasoning",
    [
        U("Weather?"),
        {"role": "assistant", "reasoning": "Use the tool.", "tool_calls": [call("get_weather", {"city": "Oslo"})]},
    ],
    tools=[WEATHER_TOOL],
)
case(
    "tool_call_reasoning_before_last_user",
    [
        U("Weather?"),
        {"role": "assistant", "thinking": "old thought", "tool_calls": [call("get_weather", {"city": "Oslo"}, "x")]},
        {"role": "tool", "tool_call_id": "x", "content": "cold"},
        A("It is cold."),
        U("Thanks"),
    ],
    tools=[WEATHER_TOOL],
)
case(
    "tool_call_pending_no_result",
    [U("Weather?"), {"role": "assistant", "tool_calls": [call("get_weather", {"city": "Lima"})]}],
    tools=[WEATHER_TOOL],
)
case(
    "tool_call_pending_no_gen",
    [U("Weather?"), {"role": "assistant", "tool_calls": [call("get_weather", {"city": "Lima"})]}],
    tools=[WEATHER_TOOL],
    agp=False,
)
case(
    "tool_call_string_arguments",
    [
        U("Search"),
        {"role": "assistant", "tool_calls": [call("search", 'query:<|"|>cats<|"|>', "s")]},
        {"role": "tool", "tool_call_id": "s", "name": "search", "content": "results"},
    ],
    tools=[SEARCH_TOOL],
)
case(
    "tool_call_nested_arguments",
    [
        U("Plan"),
        {
            "role": "assistant",
            "tool_calls": [
                call(
                    "create_event",
                    {
                        "title": 'Say "hi" {now}\nplease',
                        "attendees": ["Zoë", "李雷", "O'Brien"],
                        "location": {"name": "Café", "lat": 48.85, "lng": 2.35},
                        "priority": 2,
                        "notes": None,
                        "Zeta": True,
                        "meta": {"b": False, "a": [1, 2.5, -3, 1e-7, 1e20], "A": {}},
                    },
                    "e1",
                )
            ],
        },
        {"role": "tool", "tool_call_id": "e1", "content": "ok"},
    ],
    tools=[COMPLEX_TOOL],
)
case(
    "tool_result_name_fallback",
    [
        U("Time?"),
        {"role": "assistant", "tool_calls": [call("get_time", {}, "t1")]},
        {"role": "tool", "tool_call_id": "other", "name": "get_time", "content": "12:00"},
        {"role": "tool", "content": "no name"},
    ],
    tools=[NO_PARAMS_TOOL],
)
case(
    "tool_result_name_fallback_named",
    [
        U("Time?"),
        {"role": "assistant", "tool_calls": [call("get_time", {}, "t1")]},
        {"role": "tool", "tool_call_id": "other", "name": "clock", "content": "12:00"},
        {"role": "tool", "name": "get_time", "content": {"hour": 12}},
    ],
    tools=[NO_PARAMS_TOOL],
)
case(
    "tool_result_then_user",
    [
        U("Time?"),
        {"role": "assistant", "tool_calls": [call("get_time", {}, "t1")]},
        {"role": "tool", "tool_call_id": "t1", "content": "12:00"},
        U("Thanks, and now?"),
    ],
    tools=[NO_PARAMS_TOOL],
)
case(
    "assistant_continuation_after_tools",
    [
        U("Weather?"),
        {"role": "assistant", "content": "Let me check.", "tool_calls": [call("get_weather", {"city": "Bern"}, "w")]},
        {"role": "tool", "tool_call_id": "w", "content": "mild"},
        {"role": "assistant", "content": "It is mild in Bern."},
    ],
    tools=[WEATHER_TOOL],
    agp=False,
)
# Legacy tool_responses.
case(
    "legacy_tool_responses",
    [
        U("Weather?"),
        {
            "role": "assistant",
            "tool_calls": [call("get_weather", {"city": "Paris"})],
            "tool_responses": [{"name": "get_weather", "response": {"temp": 21, "sky": "clear", "wind": {"kmh": 5}}}],
        },
    ],
    tools=[WEATHER_TOOL],
)
case(
    "legacy_tool_responses_scalar_and_content",
    [
        U("Weather?"),
        {
            "role": "assistant",
            "content": "Done.",
            "tool_calls": [call("get_weather", {"city": "Paris"})],
            "tool_responses": [{"name": "get_weather", "response": "sunny"}, {"response": [1, True, None]}],
        },
        U("ok"),
    ],
    tools=[WEATHER_TOOL],
)
# Multimodal content parts.
case(
    "image_part",
    [{"role": "user", "content": [{"type": "image", "url": "https://example.com/cat.png"}, {"type": "text", "text": "What is this?"}]}],
)
case(
    "audio_video_parts",
    [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare "},
                {"type": "audio", "path": "a.wav"},
                {"type": "video", "path": "v.mp4"},
                {"type": "text", "text": " please "},
            ],
        }
    ],
)
case("image_last_part", [{"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image"}]}])
case(
    "assistant_list_content",
    [U("Hi"), {"role": "assistant", "content": [{"type": "text", "text": "<|channel>x<channel|> Hello "}]}, U("Bye")],
)
case("system_list_content", [{"role": "system", "content": [{"type": "text", "text": "Sys A"}, {"type": "text", "text": "Sys B"}]}, U("Hi")])
# Unicode and special characters.
case("unicode_content", [U("Grüße! 你好 🌍 — «quotes» \"double\" 'single' {braces} \\ backslash\ttab\n\nnew lines")])
case("special_tokens_in_content", [U("literal <|turn> and <turn|> and {{ not_a_var }} {% raw %}")])
case("nbsp_trim", [U("\u00a0\u3000text\u2003")])
case("empty_content", [U(""), A(""), U("x")])
case("content_none_dropped", [U("Hi"), {"role": "assistant", "content": None}, U("Again")])
case("extra_kwarg_ignored", [U("Hi")], custom_flag="yes")

# Error cases: the template fails while rendering.
ERRORS = []


def error_case(name, messages, tools=None, agp=True, **kwargs):
    ERRORS.append({"name": name, "messages": messages, "tools": tools, "add_generation_prompt": agp, "kwargs": kwargs})


error_case("error_tool_call_without_function", [U("x"), {"role": "assistant", "tool_calls": [{"id": "1"}]}])
error_case("error_message_without_role", [U("x"), {"content": "no role"}])
error_case(
    "error_legacy_tool_response_bad_name",
    [U("x"), {"role": "assistant", "tool_calls": [call("f", {})], "tool_responses": [{"name": 7, "response": {"a": 1}}]}],
)
error_case("error_tool_without_function", [U("x")], tools=[{"type": "function"}])


# Seeded random conversations: odd mixes of roles, content shapes, tool calls/results and values.
def random_cases(seed, count):
    rng = random.Random(seed)
    words = ["hi", "  spaced  ", "Grüße", "你好", "🌍", "{x}", '"q"', "'s'", "\n", "\t", "<|channel>th<channel|>",
             "a\\b", "", "é", "\u00a0", "None", "True", "1.5", "<turn|>"]

    def text():
        return "".join(rng.choice(words) + rng.choice(["", " ", "\n"]) for _ in range(rng.randint(0, 5)))

    def val(d=0):
        k = rng.randint(0, 8 if d < 2 else 5)
        if k in (0, 8):
            return text()
        if k == 1:
            return rng.randint(-100, 100)
        if k == 2:
            return rng.choice([0.5, 1e-7, 1e20, -2.25, 3.0, 1e16, 123456.789])
        if k == 3:
            return rng.choice([True, False])
        if k == 4:
            return None
        if k == 5:
            return rng.randint(0, 3)
        if k == 6:
            return [val(d + 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice(["a", "B", "b", "z", "Key", "key2", "ü"]): val(d + 1) for _ in range(rng.randint(0, 3))}

    def content():
        r = rng.random()
        if r < 0.6:
            return text()
        if r < 0.7:
            return None
        parts = [{"type": "text", "text": "x"}, {"type": "image"}, {"type": "audio"}, {"type": "video"}]
        out = []
        for _ in range(rng.randint(0, 3)):
            p = dict(rng.choice(parts))
            if p["type"] == "text":
                p["text"] = text()
            out.append(p)
        return out

    tools = [WEATHER_TOOL, COMPLEX_TOOL, SEARCH_TOOL, NO_PARAMS_TOOL, EMPTY_PARAMS_TOOL]
    for i in range(count):
        msgs = []
        if rng.random() < 0.3:
            msgs.append({"role": rng.choice(["system", "developer"]), "content": text()})
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            if r < 0.4:
                msgs.append({"role": "user", "content": content()})
            elif r < 0.65:
                msgs.append({"role": "assistant", "content": content()})
            elif r < 0.85:
                calls = []
                for _ in range(rng.randint(1, 2)):
                    args = {rng.choice(["city", "q", "Z", "a"]): val() for _ in range(rng.randint(0, 3))}
                    calls.append(call(rng.choice(["get_weather", "search", "f"]), args if rng.random() < 0.8 else text(),
                                      rng.choice(["1", "2", None])))
                m = {"role": "assistant", "tool_calls": calls}
                if rng.random() < 0.5:
                    m[rng.choice(["reasoning", "reasoning_content", "thinking"])] = text()
                if rng.random() < 0.3:
                    m["content"] = content()
                if rng.random() < 0.2:
                    m["tool_responses"] = [{"name": rng.choice(["f", "g"]), "response": val()}]
                msgs.append(m)
            else:
                m = {"role": "tool", "content": rng.choice([text(), [{"type": "text", "text": text()}], val()]),
                     "name": rng.choice(["f", "tool"])}
                if rng.random() < 0.6:
                    m["tool_call_id"] = rng.choice(["1", "2"])
                msgs.append(m)
        kwargs = rng.choice([{}, {"enable_thinking": True}, {"enable_thinking": False}])
        case(f"random_{i}", msgs, tools=rng.sample(tools, rng.randint(0, 3)) or None, agp=rng.random() < 0.7, **kwargs)


random_cases(2026, 60)


def render(template_text, c):
    messages = _normalize_chat_messages(copy.deepcopy(c["messages"]))
    kwargs = {**SPECIAL_TOKENS, **c["kwargs"]}
    out, _ = render_jinja_template(
        conversations=[messages],
        tools=copy.deepcopy(c["tools"]),
        chat_template=template_text,
        add_generation_prompt=c["add_generation_prompt"],
        **kwargs,
    )
    return out[0]


def main():
    lines = []
    for tname in TEMPLATES:
        with open(os.path.join(DATA, tname), encoding="utf-8") as f:
            text = f.read()
        for c in CASES + ERRORS:
            rec = {"name": c["name"], "template": tname, "messages": c["messages"], "tools": c["tools"],
                   "add_generation_prompt": c["add_generation_prompt"], "kwargs": c["kwargs"],
                   "expected": None, "error": None}
            try:
                rec["expected"] = render(text, c)
            except Exception as e:  # noqa: BLE001 - the message is the golden
                rec["error"] = str(e)
            if c in ERRORS and rec["error"] is None:
                raise SystemExit(f"error case {c['name']} rendered without error on {tname}")
            lines.append(json.dumps(rec, ensure_ascii=False))
    out = os.path.join(DATA, "template_goldens.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} cases to {os.path.relpath(out, ROOT)}")


if __name__ == "__main__":
    main()
