"""`g4 serve`'s Anthropic Messages API (POST /v1/messages, /v1/messages/count_tokens) driven by the
official `anthropic` Python package.

    .venv-test/bin/python tests/serve/anthropic_client_test.py G4_BINARY TESTS_DATA_DIR

The served model is tiny and has random weights: its replies are gibberish, so the checks are
about the protocol (content blocks, stop reasons, usage, the streaming events, errors) and the
server's behaviour (determinism, stop sequences, forced tool use), never about what the text says.
One line per check, then a count; the exit code is 0 when every check passed.
"""
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, expect, summary  # noqa: E402
from g4server import G4Server  # noqa: E402

import anthropic  # noqa: E402
from anthropic import Anthropic  # noqa: E402

# Tools without parameters: a forced call to one has a single possible form, which the server forces
# whole, so even this random model makes a valid call. (For a tool with parameters only the call's
# opening is forced and the model writes the arguments, which a random model does not.)
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The current weather where the user is.",
    "input_schema": {"type": "object", "properties": {}},
}
TIME_TOOL = {
    "name": "get_time",
    "description": "The current time where the user is.",
    "input_schema": {"type": "object", "properties": {}},
}
CITY_TOOL = {
    "name": "get_city_weather",
    "description": "The current weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}

def expect_raises(cls, fn, status=None):
    """fn() must raise the anthropic exception class `cls`, with Anthropic's error body."""
    try:
        fn()
    except cls as e:
        if status is not None:
            expect(e.status_code == status, f"status {e.status_code}, expected {status}")
        body = e.body if isinstance(e.body, dict) else {}
        # Anthropic's shape: {"type": "error", "error": {"type": ..., "message": ...}}
        expect(body.get("type") == "error" and isinstance(body.get("error"), dict), f"error body {body}")
        expect(isinstance(body["error"].get("type"), str) and body["error"].get("message"), f"error body {body}")
        return e
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"raised {type(e).__name__} ({e}), expected {cls.__name__}")
    raise AssertionError(f"no exception, expected {cls.__name__}")


def http_post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def sampling_in_extra_body(kw):
    """anthropic 2.x's messages.create/stream have no temperature, top_p or top_k parameters (models that
    take them still exist, and so does the API field): they go in extra_body."""
    eb = dict(kw.pop("extra_body", None) or {})
    for k in ("temperature", "top_p", "top_k"):
        if k in kw:
            eb[k] = kw.pop(k)
    if eb:
        kw["extra_body"] = eb
    return kw


def text_of(msg):
    return "".join(b.text for b in msg.content if b.type == "text")


def check_message(m, model):
    """The fields every Messages reply has."""
    expect(m.id.startswith("msg_"), f"id {m.id}")
    expect(m.type == "message" and m.role == "assistant", f"type {m.type} role {m.role}")
    expect(m.model == model, f"model {m.model}")
    expect(m.stop_reason in ("end_turn", "max_tokens", "stop_sequence", "tool_use"), f"stop_reason {m.stop_reason}")
    expect(m.stop_sequence is None or m.stop_reason == "stop_sequence", f"stop_sequence {m.stop_sequence}")
    u = m.usage
    expect(u.input_tokens >= 0 and u.output_tokens > 0, f"usage {u}")
    for f in ("cache_read_input_tokens", "cache_creation_input_tokens"):
        expect(isinstance(getattr(u, f), int), f"usage.{f} {getattr(u, f)!r}")
    kinds = [b.type for b in m.content]
    expect(all(k in ("thinking", "redacted_thinking", "text", "tool_use") for k in kinds), f"blocks {kinds}")
    # Thinking comes first, tool use last.
    expect(kinds == sorted(kinds, key=lambda k: {"thinking": 0, "redacted_thinking": 0, "text": 1, "tool_use": 2}[k]),
           f"block order {kinds}")


def collect_raw_stream(stream):
    """Checks the order of raw stream events and rebuilds the message from them."""
    events = list(stream)
    types = [e.type for e in events]
    expect(types[0] == "message_start", f"first event {types[0]}")
    expect(types[-1] == "message_stop", f"last event {types[-1]}")
    expect(types.count("message_delta") == 1 and types[-2] == "message_delta", f"events {types}")
    start = events[0].message
    expect(start.id.startswith("msg_") and start.role == "assistant" and start.content == [], f"message_start {start}")
    blocks, open_index = [], None
    for e in events[1:-2]:
        if e.type == "ping":
            continue
        if e.type == "content_block_start":
            expect(open_index is None, "a block started before the previous one stopped")
            expect(e.index == len(blocks), f"block index {e.index}, expected {len(blocks)}")
            open_index = e.index
            b = e.content_block
            blocks.append({"type": b.type, "text": getattr(b, "text", "") or "",
                           "thinking": getattr(b, "thinking", "") or "", "signature": getattr(b, "signature", "") or "",
                           "name": getattr(b, "name", None), "id": getattr(b, "id", None), "json": ""})
        elif e.type == "content_block_delta":
            expect(e.index == open_index, f"delta for block {e.index}, open {open_index}")
            d, b = e.delta, blocks[e.index]
            if d.type == "text_delta":
                expect(b["type"] == "text", "text_delta in a non-text block")
                b["text"] += d.text
            elif d.type == "thinking_delta":
                expect(b["type"] == "thinking", "thinking_delta in a non-thinking block")
                b["thinking"] += d.thinking
            elif d.type == "signature_delta":
                b["signature"] += d.signature
            elif d.type == "input_json_delta":
                expect(b["type"] == "tool_use", "input_json_delta in a non-tool_use block")
                b["json"] += d.partial_json
            else:
                raise AssertionError(f"delta type {d.type}")
        elif e.type == "content_block_stop":
            expect(e.index == open_index, f"stop of block {e.index}, open {open_index}")
            open_index = None
        else:
            raise AssertionError(f"unexpected event {e.type} between message_start and message_delta")
    expect(open_index is None, "a block was never stopped")
    return start, blocks, events[-2]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: anthropic_client_test.py G4_BINARY TESTS_DATA_DIR")
    g4, data_dir = sys.argv[1], sys.argv[2]
    t_start = time.time()

    with G4Server(g4, data_dir, "-np", "4", "-c", "512") as s:
        client = Anthropic(base_url=s.url, api_key="unused", max_retries=0, timeout=120)

        def create(**kw):
            return client.messages.create(**sampling_in_extra_body(kw))

        def stream_(**kw):
            return client.messages.stream(**sampling_in_extra_body(kw))
        with urllib.request.urlopen(s.url + "/v1/models", timeout=10) as r:
            model = json.loads(r.read())["data"][0]["id"]
        msgs = [{"role": "user", "content": "Tell me a story about a lighthouse."}]
        plain = {}

        @check("messages: plain reply (id, type, role, model, a text block, stop_reason, usage)")
        def _():
            m = create(model=model, max_tokens=24, messages=msgs, temperature=0)
            check_message(m, model)
            expect([b.type for b in m.content] == ["text"], f"blocks {[b.type for b in m.content]}")
            expect(m.content[0].text, "empty text")
            expect(m.stop_reason in ("end_turn", "max_tokens"), m.stop_reason)
            expect(0 < m.usage.output_tokens <= 24 and m.usage.input_tokens > 0, f"usage {m.usage}")
            plain["m"] = m

        @check("messages: content as text blocks gives the same reply as a string")
        def _():
            blocks = [{"role": "user", "content": [{"type": "text", "text": "Tell me a story about a lighthouse."}]}]
            m = create(model=model, max_tokens=24, messages=blocks, temperature=0)
            expect(text_of(m) == text_of(plain["m"]), f"{text_of(m)!r} vs {text_of(plain['m'])!r}")

        @check("messages.stream: text_stream joined == final message == the plain reply (temperature 0)")
        def _():
            with stream_(model=model, max_tokens=24, messages=msgs, temperature=0) as stream:
                pieces = list(stream.text_stream)
                final = stream.get_final_message()
            check_message(final, model)
            expect("".join(pieces) == text_of(final), f"deltas {''.join(pieces)!r} vs final {text_of(final)!r}")
            expect(text_of(final) == text_of(plain["m"]), f"streamed {text_of(final)!r}\n    plain    "
                                                            f"{text_of(plain['m'])!r}")
            expect(final.stop_reason == plain["m"].stop_reason, f"{final.stop_reason} vs {plain['m'].stop_reason}")
            expect(final.usage.output_tokens == plain["m"].usage.output_tokens, f"{final.usage} vs {plain['m'].usage}")

        @check("messages stream=True: raw events in order (message_start, blocks, message_delta, message_stop)")
        def _():
            start, blocks, delta = collect_raw_stream(
                create(model=model, max_tokens=24, messages=msgs, temperature=0, stream=True))
            expect(start.model == model, f"model {start.model}")
            expect([b["type"] for b in blocks] == ["text"], f"blocks {blocks}")
            expect(blocks[0]["text"] == text_of(plain["m"]), f"{blocks[0]['text']!r} vs {text_of(plain['m'])!r}")
            expect(delta.delta.stop_reason == plain["m"].stop_reason, f"stop_reason {delta.delta.stop_reason}")
            expect(delta.usage.output_tokens == plain["m"].usage.output_tokens, f"usage {delta.usage}")

        @check("messages: max_tokens -> stop_reason max_tokens, output_tokens == max_tokens")
        def _():
            for mt in (1, 7):
                m = create(model=model, max_tokens=mt, messages=msgs, temperature=0)
                expect(m.stop_reason == "max_tokens" and m.usage.output_tokens == mt,
                       f"max_tokens={mt}: {m.stop_reason}, output_tokens {m.usage.output_tokens}")
                expect(m.stop_sequence is None, f"stop_sequence {m.stop_sequence}")

        @check("messages: stop_sequences -> stop_reason stop_sequence with the matched string (plain and streamed)")
        def _():
            m = create(model=model, max_tokens=40, messages=msgs, temperature=0)
            full = text_of(m)
            stop = None
            for at in range(len(full) // 2, len(full) - 3):
                if full[at:at + 3].strip() and full.find(full[at:at + 3]) == at:
                    stop = full[at:at + 3]
                    break
            expect(stop is not None, f"no usable stop string in {full!r}")
            cut = full[:full.find(stop)]
            m2 = create(model=model, max_tokens=40, messages=msgs, temperature=0,
                                        stop_sequences=["\x00never", stop])
            expect(m2.stop_reason == "stop_sequence", f"stop_reason {m2.stop_reason}")
            expect(m2.stop_sequence == stop, f"stop_sequence {m2.stop_sequence!r}, expected {stop!r}")
            expect(text_of(m2) == cut, f"text {text_of(m2)!r}, expected {cut!r}")
            expect(m2.usage.output_tokens < m.usage.output_tokens, f"usage {m2.usage} vs {m.usage}")
            with stream_(model=model, max_tokens=40, messages=msgs, temperature=0,
                                        stop_sequences=[stop]) as stream:
                streamed = "".join(stream.text_stream)
                final = stream.get_final_message()
            expect(streamed == cut and final.stop_reason == "stop_sequence" and final.stop_sequence == stop,
                   f"streamed {streamed!r} {final.stop_reason} {final.stop_sequence!r}")

        @check("messages: system prompt (string or text blocks) accepted and reaches the prompt")
        def _():
            base = create(model=model, max_tokens=2, messages=msgs, temperature=0)
            total = base.usage.input_tokens + base.usage.cache_read_input_tokens + base.usage.cache_creation_input_tokens
            sys_text = "You are a lighthouse keeper who answers in rhymes."
            a = create(model=model, max_tokens=2, messages=msgs, temperature=0, system=sys_text)
            b = create(model=model, max_tokens=2, messages=msgs, temperature=0,
                                       system=[{"type": "text", "text": sys_text}])
            ta = a.usage.input_tokens + a.usage.cache_read_input_tokens + a.usage.cache_creation_input_tokens
            tb = b.usage.input_tokens + b.usage.cache_read_input_tokens + b.usage.cache_creation_input_tokens
            expect(ta > total + 5, f"prompt tokens with the system prompt {ta}, without {total}")
            expect(ta == tb, f"system as a string {ta} tokens, as blocks {tb}")
            expect(text_of(a) == text_of(b), f"{text_of(a)!r} vs {text_of(b)!r}")

        @check("messages: temperature 0 is deterministic; top_p and top_k accepted")
        def _():
            a = create(model=model, max_tokens=10, messages=msgs, temperature=0)
            b = create(model=model, max_tokens=10, messages=msgs, temperature=0, top_k=40, top_p=0.9)
            expect(text_of(a) == text_of(b), f"{text_of(a)!r} vs {text_of(b)!r}")
            c = create(model=model, max_tokens=10, messages=msgs, temperature=0.7, top_k=40, top_p=0.9)
            check_message(c, model)

        @check("messages: thinking enabled with a small budget accepted; a thinking block precedes the text")
        def _():
            for thinking in ({"type": "enabled", "budget_tokens": 16}, {"type": "disabled"}):
                m = create(model=model, max_tokens=40, messages=msgs, temperature=0, thinking=thinking)
                check_message(m, model)
                kinds = [b.type for b in m.content]
                expect("text" in kinds or "thinking" in kinds, f"{thinking}: blocks {kinds}")
                if thinking["type"] == "disabled":
                    expect("thinking" not in kinds, f"thinking disabled, but blocks {kinds}")
                for b in m.content:
                    if b.type == "thinking":
                        expect(isinstance(b.thinking, str) and isinstance(b.signature, str), f"thinking block {b}")
            # The model, made to open its thinking channel (a bias for <|channel>), is cut off at the
            # budget: the server closes the channel after budget_tokens tokens. The bias then opens it
            # again, so the output is <|channel> + 5 x <|channel> + <channel|> + <|channel>: the
            # thinking text holds the 5 <|channel> tokens written inside the block, not 7.
            channel = http_post(s.url + "/tokenize", {"content": "<|channel>"})["tokens"]
            expect(len(channel) == 1, f"<|channel> is {channel}")
            budget = 5
            with stream_(model=model, max_tokens=budget + 3, messages=msgs, temperature=0,
                         thinking={"type": "enabled", "budget_tokens": budget},
                         extra_body={"logit_bias": {str(channel[0]): 100}}) as stream:
                for _ in stream:
                    pass
                m = stream.get_final_message()
            kinds = [b.type for b in m.content]
            expect(kinds[:1] == ["thinking"], f"blocks {kinds} (the thinking channel was forced open)")
            inside = sum(b.thinking.count("<|channel>") for b in m.content if b.type == "thinking")
            expect(inside <= budget, f"{inside} tokens in the thinking block with budget_tokens {budget}: {m.content}")
            expect(m.usage.output_tokens == budget + 3, f"usage {m.usage}")

        tool_close = http_post(s.url + "/tokenize", {"content": "<tool_call|>"})["tokens"]
        close_bias = {str(tool_close[0]): 100}
        weather_msgs = [{"role": "user", "content": "What is the weather in Paris?"}]

        @check("tools: tool_choice tool forces get_weather -> tool_use block, input {}; tool_result round trip")
        def _():
            m = create(model=model, max_tokens=30, messages=weather_msgs, temperature=0,
                                       tools=[WEATHER_TOOL, TIME_TOOL],
                                       tool_choice={"type": "tool", "name": "get_weather"},
                                       extra_body={"logit_bias": close_bias})
            check_message(m, model)
            expect(m.stop_reason == "tool_use", f"stop_reason {m.stop_reason}, content {m.content}")
            uses = [b for b in m.content if b.type == "tool_use"]
            expect(len(uses) == 1, f"blocks {m.content}")
            u = uses[0]
            expect(u.name == "get_weather" and u.input == {} and isinstance(u.id, str) and u.id, f"tool_use {u}")
            history = weather_msgs + [
                {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": u.id,
                                              "content": "18 degrees, clear sky"}]},
            ]
            m2 = create(model=model, max_tokens=12, messages=history, temperature=0,
                                        tools=[WEATHER_TOOL, TIME_TOOL])
            check_message(m2, model)
            expect(m2.stop_reason in ("end_turn", "max_tokens") and text_of(m2), f"after the result: {m2}")
            expect(m2.usage.input_tokens + m2.usage.cache_read_input_tokens > m.usage.input_tokens,
                   "the history did not reach the prompt")
            # tool_result content as blocks too.
            history[-1]["content"][0]["content"] = [{"type": "text", "text": "18 degrees, clear sky"}]
            m3 = create(model=model, max_tokens=12, messages=history, temperature=0,
                                        tools=[WEATHER_TOOL, TIME_TOOL])
            expect(text_of(m3) == text_of(m2), f"tool_result as blocks: {text_of(m3)!r} vs {text_of(m2)!r}")

        @check("tools: forced tool use streamed: content_block_start tool_use, input_json_delta '{}', stop tool_use")
        def _():
            start, blocks, delta = collect_raw_stream(create(
                model=model, max_tokens=30, messages=weather_msgs, temperature=0, tools=[WEATHER_TOOL],
                tool_choice={"type": "tool", "name": "get_weather"}, extra_body={"logit_bias": close_bias},
                stream=True))
            uses = [b for b in blocks if b["type"] == "tool_use"]
            expect(len(uses) == 1 and uses[0]["name"] == "get_weather" and uses[0]["id"], f"blocks {blocks}")
            expect(json.loads(uses[0]["json"] or "{}") == {}, f"input json {uses[0]['json']!r}")
            expect(delta.delta.stop_reason == "tool_use", f"stop_reason {delta.delta.stop_reason}")
            with stream_(model=model, max_tokens=30, messages=weather_msgs, temperature=0,
                                        tools=[WEATHER_TOOL], tool_choice={"type": "tool", "name": "get_weather"},
                                        extra_body={"logit_bias": close_bias}) as stream:
                final = stream.get_final_message()
            uses = [b for b in final.content if b.type == "tool_use"]
            expect(len(uses) == 1 and uses[0].input == {} and final.stop_reason == "tool_use", f"final {final}")

        @check("tools: tool_choice any with two tools uses one of them; none uses none")
        def _():
            m = create(model=model, max_tokens=30, messages=weather_msgs, temperature=0,
                                       tools=[WEATHER_TOOL, TIME_TOOL], tool_choice={"type": "any"},
                                       extra_body={"logit_bias": close_bias})
            uses = [b for b in m.content if b.type == "tool_use"]
            expect(m.stop_reason == "tool_use" and len(uses) >= 1, f"{m.stop_reason} {m.content}")
            expect(all(u.name in ("get_weather", "get_time") and u.input == {} for u in uses), f"{uses}")
            m = create(model=model, max_tokens=10, messages=weather_msgs, temperature=0,
                                       tools=[WEATHER_TOOL, CITY_TOOL], tool_choice={"type": "none"})
            expect(m.stop_reason != "tool_use" and all(b.type != "tool_use" for b in m.content), f"{m.content}")
            m = create(model=model, max_tokens=10, messages=weather_msgs, temperature=0,
                                       tools=[WEATHER_TOOL, CITY_TOOL], tool_choice={"type": "auto"})
            check_message(m, model)

        @check("count_tokens: input_tokens, the same as a reply's input tokens; system and tools count")
        def _():
            n = client.messages.count_tokens(model=model, messages=msgs).input_tokens
            m = create(model=model, max_tokens=1, messages=msgs, temperature=0)
            used = m.usage.input_tokens + m.usage.cache_read_input_tokens + m.usage.cache_creation_input_tokens
            expect(isinstance(n, int) and n == used, f"count_tokens {n}, the reply's input {used} ({m.usage})")
            n_sys = client.messages.count_tokens(model=model, messages=msgs, system="Answer in French.").input_tokens
            n_tools = client.messages.count_tokens(model=model, messages=msgs, tools=[WEATHER_TOOL]).input_tokens
            expect(n_sys > n and n_tools > n, f"plain {n}, with system {n_sys}, with tools {n_tools}")

        # ---- errors ----
        @check("errors: temperature over 1 / missing max_tokens / bad role -> BadRequestError")
        def _():
            expect_raises(anthropic.BadRequestError, lambda: create(
                model=model, max_tokens=4, messages=msgs, temperature=1.5), status=400)
            expect_raises(anthropic.BadRequestError, lambda: client.post(
                "/v1/messages", body={"model": model, "messages": msgs}, cast_to=object), status=400)
            expect_raises(anthropic.BadRequestError, lambda: create(
                model=model, max_tokens=4, messages=[{"role": "wizard", "content": "hi"}]), status=400)
            expect_raises(anthropic.BadRequestError, lambda: create(
                model=model, max_tokens=4, messages=msgs, tools=[WEATHER_TOOL],
                tool_choice={"type": "tool", "name": "not_a_tool"}), status=400)

        @check("errors: a prompt over the context -> BadRequestError")
        def _():
            e = expect_raises(anthropic.BadRequestError, lambda: create(
                model=model, max_tokens=4, messages=[{"role": "user", "content": "lighthouse " * 700}]), status=400)
            expect("512" in str(e), f"the message should give the context size: {e}")

        @check("errors: a wrong model name -> NotFoundError")
        def _():
            expect_raises(anthropic.NotFoundError, lambda: create(
                model="claude-sonnet-4-5", max_tokens=4, messages=msgs), status=404)

        client.close()  # no idle keep-alive connection to hold up the server's exit

        @check("server: still running, request lines logged")
        def _():
            expect(s.proc.poll() is None, "the server exited")
            expect("messages 200" in s.log(), "no log line for /v1/messages")

    with G4Server(g4, data_dir, "-np", "1", "-c", "256", "--api-key", "sesame", "--timeout", "15") as s:
        @check("auth: --api-key: a wrong x-api-key -> AuthenticationError (again and again), the right one works")
        def _():
            hi = [{"role": "user", "content": "hi"}]
            bad = Anthropic(base_url=s.url, api_key="wrong", max_retries=0)
            for _ in range(3):
                expect_raises(anthropic.AuthenticationError, lambda: bad.messages.create(
                    model="any", max_tokens=2, messages=hi), status=401)
            expect_raises(anthropic.AuthenticationError, lambda: bad.messages.count_tokens(
                model="any", messages=hi), status=401)
            bad.close()
            req = urllib.request.Request(s.url + "/v1/models", headers={"x-api-key": "sesame"})
            with urllib.request.urlopen(req, timeout=10) as r:
                name = json.loads(r.read())["data"][0]["id"]
            good = Anthropic(base_url=s.url, api_key="sesame", max_retries=0)
            for _ in range(2):
                m = good.messages.create(model=name, max_tokens=2, messages=hi)
                expect(m.usage.output_tokens == 2, f"usage {m.usage}")
            n = good.messages.count_tokens(model=name, messages=hi).input_tokens
            expect(n > 0, f"count_tokens {n}")
            good.close()

    return summary(t_start)


if __name__ == "__main__":
    sys.exit(main())
