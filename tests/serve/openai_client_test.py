"""`g4 serve` driven by the official `openai` Python package.

    .venv-test/bin/python tests/serve/openai_client_test.py G4_BINARY TESTS_DATA_DIR

The served model is tiny and has random weights: its replies are gibberish, so the checks are
about the protocol (shapes, finish reasons, token counts, streaming, errors) and the server's
behaviour (determinism, stop sequences, forced tool calls), never about what the text says.
One line per check, then a count; the exit code is 0 when every check passed.
"""
import concurrent.futures
import http.client
import json
import os
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, expect, summary  # noqa: E402
from g4server import G4Server  # noqa: E402

import openai  # noqa: E402
from openai import OpenAI  # noqa: E402

# Tools without parameters: a forced call to one has a single possible form, which the server forces
# whole ("<|tool_call>call:NAME{}<tool_call|>"), so even this random model makes a valid call. (For a
# tool with parameters only "<|tool_call>call:NAME{" is forced and the model writes the arguments,
# which a random model does not.)
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather where the user is.",
        "parameters": {"type": "object", "properties": {}},
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The current time where the user is.",
        "parameters": {"type": "object", "properties": {}},
    },
}
CITY_TOOL = {
    "type": "function",
    "function": {
        "name": "get_city_weather",
        "description": "The current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

def expect_raises(cls, fn, status=None, code=None, param=None):
    """fn() must raise the openai exception class `cls` (with that status, error code and param)."""
    try:
        fn()
    except cls as e:
        if status is not None:
            expect(e.status_code == status, f"status {e.status_code}, expected {status}")
        body = e.body if isinstance(e.body, dict) else {}
        if code is not None:
            expect(body.get("code") == code, f"error code {body.get('code')!r}, expected {code!r} ({body})")
        if param is not None:
            expect(body.get("param") == param, f"error param {body.get('param')!r}, expected {param!r} ({body})")
        return e
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"raised {type(e).__name__} ({e}), expected {cls.__name__}")
    raise AssertionError(f"no exception, expected {cls.__name__}")


def http_post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def extra(obj, name):
    """A field the openai types do not declare (reasoning_content): kept in model_extra."""
    v = getattr(obj, name, None)
    if v is None and getattr(obj, "model_extra", None):
        v = obj.model_extra.get(name)
    return v


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: openai_client_test.py G4_BINARY TESTS_DATA_DIR")
    g4, data_dir = sys.argv[1], sys.argv[2]
    t_start = time.time()

    with G4Server(g4, data_dir, "-np", "4", "-c", "512") as s:
        client = OpenAI(base_url=s.url + "/v1", api_key="unused", max_retries=0, timeout=120)
        model = None
        msgs = [{"role": "user", "content": "Tell me a story about a lighthouse."}]

        @check("models.list: one model, the served one")
        def _():
            nonlocal model
            ms = list(client.models.list())
            expect(len(ms) == 1, f"{len(ms)} models")
            expect(ms[0].id and ms[0].object == "model", f"model entry {ms[0]}")
            model = ms[0].id

        if model is None:  # the later checks name it; fall back to what the server logs
            model = "unknown"

        # ---- chat ----
        plain = {}

        @check("chat: plain reply (id, object, role, content, finish_reason, usage)")
        def _():
            r = client.chat.completions.create(model=model, messages=msgs, max_tokens=24, temperature=0, seed=7)
            expect(r.id.startswith("chatcmpl-"), f"id {r.id}")
            expect(r.object == "chat.completion", r.object)
            expect(r.model == model, f"model {r.model}")
            expect(isinstance(r.created, int) and abs(r.created - time.time()) < 3600, f"created {r.created}")
            expect(len(r.choices) == 1 and r.choices[0].index == 0, f"choices {r.choices}")
            c = r.choices[0]
            expect(c.message.role == "assistant", c.message.role)
            expect(isinstance(c.message.content, str) and c.message.content, f"content {c.message.content!r}")
            expect(c.finish_reason in ("stop", "length"), c.finish_reason)
            u = r.usage
            expect(u.prompt_tokens > 0 and 0 < u.completion_tokens <= 24, f"usage {u}")
            expect(u.total_tokens == u.prompt_tokens + u.completion_tokens, f"usage {u}")
            plain["r"] = r

        @check("chat: streaming chunks well-formed, joined text equals the plain reply (same seed, temperature 0)")
        def _():
            stream = client.chat.completions.create(model=model, messages=msgs, max_tokens=24, temperature=0, seed=7,
                                                    stream=True)
            text, finishes, roles, ids = "", [], [], set()
            n = 0
            for chunk in stream:
                n += 1
                expect(chunk.object == "chat.completion.chunk", chunk.object)
                expect(chunk.model == model, chunk.model)
                ids.add(chunk.id)
                expect(len(chunk.choices) == 1 and chunk.choices[0].index == 0, f"chunk choices {chunk.choices}")
                d = chunk.choices[0].delta
                if d.role:
                    roles.append(d.role)
                text += d.content or ""
                if chunk.choices[0].finish_reason:
                    finishes.append(chunk.choices[0].finish_reason)
            expect(len(ids) == 1 and next(iter(ids)).startswith("chatcmpl-"), f"chunk ids {ids}")
            expect(roles == ["assistant"], f"roles {roles}")
            expect(len(finishes) == 1, f"finish reasons {finishes}")
            ref = plain["r"].choices[0]
            expect(finishes[0] == ref.finish_reason, f"{finishes[0]} vs {ref.finish_reason}")
            expect(text == ref.message.content, f"streamed {text!r}\n    plain    {ref.message.content!r}")

        @check("chat: stream_options.include_usage gives a last chunk with usage and no choices")
        def _():
            stream = client.chat.completions.create(model=model, messages=msgs, max_tokens=9, temperature=0, stream=True,
                                                    stream_options={"include_usage": True})
            chunks = list(stream)
            with_usage = [c for c in chunks if c.usage is not None]
            expect(len(with_usage) == 1 and with_usage[0] is chunks[-1], "usage must come once, in the last chunk")
            expect(chunks[-1].choices == [], f"usage chunk choices {chunks[-1].choices}")
            u = chunks[-1].usage
            expect(u.completion_tokens == 9, f"completion_tokens {u.completion_tokens}")
            expect(u.prompt_tokens == plain["r"].usage.prompt_tokens, f"prompt_tokens {u.prompt_tokens}")
            expect(u.total_tokens == u.prompt_tokens + u.completion_tokens, f"usage {u}")
            # Without the option there is no usage chunk.
            chunks = list(client.chat.completions.create(model=model, messages=msgs, max_tokens=3, temperature=0,
                                                         stream=True))
            expect(all(c.usage is None for c in chunks), "usage sent without stream_options.include_usage")

        @check("chat: max_tokens gives finish_reason length and completion_tokens == max_tokens")
        def _():
            for mt in (1, 5, 17):
                r = client.chat.completions.create(model=model, messages=msgs, max_tokens=mt, temperature=0)
                expect(r.choices[0].finish_reason == "length", f"max_tokens={mt}: {r.choices[0].finish_reason}")
                expect(r.usage.completion_tokens == mt, f"max_tokens={mt}: completion_tokens {r.usage.completion_tokens}")
            r = client.chat.completions.create(model=model, messages=msgs, max_completion_tokens=4, temperature=0)
            expect(r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 4,
                   f"max_completion_tokens=4: {r.choices[0].finish_reason} {r.usage.completion_tokens}")

        @check("chat: a stop sequence cuts the reply before it (plain and streamed), finish_reason stop")
        def _():
            r = client.chat.completions.create(model=model, messages=msgs, max_tokens=40, temperature=0, seed=3)
            full = r.choices[0].message.content
            # A stop string from the middle of the reply, whose first occurrence is there.
            stop = None
            for at in range(len(full) // 2, len(full) - 3):
                cand = full[at:at + 3]
                if cand.strip() and full.find(cand) == at:
                    stop = cand
                    break
            expect(stop is not None, f"no usable stop string in {full!r}")
            cut = full[:full.find(stop)]
            r2 = client.chat.completions.create(model=model, messages=msgs, max_tokens=40, temperature=0, seed=3,
                                                stop=[stop, "\x00never"])
            c = r2.choices[0]
            expect(c.message.content == cut, f"stop {stop!r}: got {c.message.content!r}, expected {cut!r}")
            expect(c.finish_reason == "stop", f"finish_reason {c.finish_reason}")
            expect(r2.usage.completion_tokens < r.usage.completion_tokens, f"usage {r2.usage} vs {r.usage}")
            text = "".join(ch.choices[0].delta.content or "" for ch in client.chat.completions.create(
                model=model, messages=msgs, max_tokens=40, temperature=0, seed=3, stop=stop, stream=True) if ch.choices)
            expect(text == cut, f"streamed with stop {stop!r}: got {text!r}, expected {cut!r}")

        @check("chat: logprobs with top_logprobs: one entry per token, top list sorted, greedy token is the top one")
        def _():
            r = client.chat.completions.create(model=model, messages=msgs, max_tokens=12, temperature=0, logprobs=True,
                                               top_logprobs=3)
            c = r.choices[0]
            lp = c.logprobs.content
            expect(len(lp) == r.usage.completion_tokens == 12, f"{len(lp)} entries, usage {r.usage.completion_tokens}")
            raw = b""
            for e in lp:
                expect(isinstance(e.token, str) and e.logprob <= 0, f"entry {e}")
                expect(e.bytes is not None and bytes(e.bytes).decode("utf-8", "replace") is not None, f"bytes {e}")
                raw += bytes(e.bytes)
                expect(len(e.top_logprobs) == 3, f"{len(e.top_logprobs)} top_logprobs")
                tops = [t.logprob for t in e.top_logprobs]
                expect(tops == sorted(tops, reverse=True), f"top_logprobs not sorted: {tops}")
                expect(e.token == e.top_logprobs[0].token and abs(e.logprob - tops[0]) < 1e-6,
                       f"greedy pick {e.token!r} {e.logprob} is not the top one {e.top_logprobs[0]}")
            expect(raw.decode("utf-8", "replace") == c.message.content,
                   f"token bytes {raw.decode('utf-8', 'replace')!r} != content {c.message.content!r}")
            # Streamed: the same entries, spread over the chunks.
            entries = []
            for ch in client.chat.completions.create(model=model, messages=msgs, max_tokens=12, temperature=0,
                                                     logprobs=True, top_logprobs=3, stream=True):
                if ch.choices and ch.choices[0].logprobs and ch.choices[0].logprobs.content:
                    entries += ch.choices[0].logprobs.content
            expect([(e.token, round(e.logprob, 4)) for e in entries] == [(e.token, round(e.logprob, 4)) for e in lp],
                   "streamed logprobs differ from the plain reply's")
            # logprobs without top_logprobs: entries with empty top lists.
            r = client.chat.completions.create(model=model, messages=msgs, max_tokens=3, temperature=0, logprobs=True)
            expect(len(r.choices[0].logprobs.content) == 3, "logprobs=True alone")
            r = client.chat.completions.create(model=model, messages=msgs, max_tokens=3, temperature=0)
            expect(r.choices[0].logprobs is None, f"logprobs {r.choices[0].logprobs} without asking")

        @check("chat: the same seed gives the same sampled reply, another seed another one")
        def _():
            def go(seed, **kw):
                return client.chat.completions.create(model=model, messages=msgs, max_tokens=16, temperature=1.0,
                                                      seed=seed, **kw).choices[0].message.content
            a, b, c = go(1234), go(1234), go(999)
            expect(a == b, f"seed 1234 twice: {a!r} vs {b!r}")
            expect(a != c, f"seeds 1234 and 999 gave the same text {a!r}")
            a, b = go(5, top_p=0.9, extra_body={"top_k": 50}), go(5, top_p=0.9, extra_body={"top_k": 50})
            expect(a == b, f"seed 5 with top_p/top_k twice: {a!r} vs {b!r}")

        @check("chat: batching does not change results (4 concurrent streams == the lone request)")
        def _():
            kw = dict(model=model, messages=msgs, max_tokens=32, temperature=0.8, seed=42, extra_body={"top_k": 100})
            ref = client.chat.completions.create(**kw).choices[0].message.content

            def streamed(_):
                return "".join(ch.choices[0].delta.content or ""
                               for ch in client.chat.completions.create(stream=True, **kw) if ch.choices)
            with concurrent.futures.ThreadPoolExecutor(4) as ex:
                got = list(ex.map(streamed, range(4)))
            for g in got:
                expect(g == ref, f"concurrent {g!r}\n    alone      {ref!r}")

        @check("chat: thinking on (reasoning_effort / enable_thinking) accepted; reasoning and content split right")
        def _():
            thinking_variants = [dict(reasoning_effort="high"), dict(reasoning_effort="low"),
                                 dict(extra_body={"chat_template_kwargs": {"enable_thinking": True}})]
            off_variants = [dict(), dict(reasoning_effort="none"),
                            dict(extra_body={"chat_template_kwargs": {"enable_thinking": False}})]
            prompts = {}
            for on, variants in ((True, thinking_variants), (False, off_variants)):
                for kw in variants:
                    r = client.chat.completions.create(model=model, messages=msgs, max_tokens=30, temperature=0,
                                                       logprobs=True, **kw)
                    m = r.choices[0].message
                    reasoning = extra(m, "reasoning_content") or ""
                    content = m.content or ""
                    prompts.setdefault(on, set()).add(r.usage.prompt_tokens)
                    # The generated tokens as text: what the model said, special tokens included.
                    raw = "".join(e.token for e in r.choices[0].logprobs.content)
                    if "<|channel>" not in raw:
                        # No thinking channel was opened: every word belongs to the answer.
                        expect(reasoning == "", f"{kw}: reasoning_content {reasoning!r} but no <|channel> in {raw!r}")
                        expect(content != "", f"{kw}: empty content for {raw!r}")
                    else:
                        # Text before the channel is answer, the channel's inside reasoning.
                        before = raw.partition("<|channel>")[0]
                        expect(before == "" or content.startswith(before), f"{kw}: text before the channel lost")
                        expect(reasoning, f"{kw}: a thinking channel in {raw!r} but no reasoning_content")
                        expect(reasoning not in content, f"{kw}: reasoning repeated in content")
            # The template differs with thinking on (the system turn asks for it), so the prompts do.
            expect(len(prompts[True]) == 1 and len(prompts[False]) == 1 and prompts[True] != prompts[False],
                   f"prompt sizes with thinking on/off: {prompts}")
            # A reply that is all thinking (the model made to open the channel and stay in it) goes
            # to reasoning_content, nothing of it to content; streamed as reasoning_content deltas.
            channel = http_post(s.url + "/tokenize", {"content": "<|channel>"})["tokens"]
            kw = dict(model=model, messages=msgs, max_tokens=12, temperature=0, reasoning_effort="high",
                      logit_bias={str(channel[0]): 100})
            m = client.chat.completions.create(**kw).choices[0].message
            expect(extra(m, "reasoning_content") and not m.content,
                   f"all thinking: content {m.content!r}, reasoning {extra(m, 'reasoning_content')!r}")
            reasoning, content = "", ""
            for ch in client.chat.completions.create(stream=True, **kw):
                for c in ch.choices:
                    reasoning += extra(c.delta, "reasoning_content") or ""
                    content += c.delta.content or ""
            expect(reasoning == extra(m, "reasoning_content") and content == "",
                   f"streamed: reasoning {reasoning!r}, content {content!r}")

        @check("chat: n=3 gives 3 choices with indexes 0..2 (plain and streamed)")
        def _():
            r = client.chat.completions.create(model=model, messages=msgs, max_tokens=8, temperature=1.0, seed=11, n=3)
            expect([c.index for c in r.choices] == [0, 1, 2], f"indexes {[c.index for c in r.choices]}")
            for c in r.choices:
                expect(c.message.role == "assistant" and c.message.content, f"choice {c}")
                expect(c.finish_reason == "length", f"finish_reason {c.finish_reason}")
            texts = [c.message.content for c in r.choices]
            expect(len(set(texts)) > 1, f"three samples at temperature 1 are identical: {texts}")
            expect(r.usage.completion_tokens == 24, f"completion_tokens {r.usage.completion_tokens}, expected 3 x 8")
            # Streamed: chunks for every index, one finish_reason each; the same texts (same seed).
            parts, finishes = {0: "", 1: "", 2: ""}, {}
            for ch in client.chat.completions.create(model=model, messages=msgs, max_tokens=8, temperature=1.0, seed=11,
                                                     n=3, stream=True):
                for c in ch.choices:
                    expect(c.index in parts, f"chunk index {c.index}")
                    parts[c.index] += c.delta.content or ""
                    if c.finish_reason:
                        expect(c.index not in finishes, f"two finish reasons for index {c.index}")
                        finishes[c.index] = c.finish_reason
            expect(sorted(finishes) == [0, 1, 2], f"finish reasons {finishes}")
            expect([parts[i] for i in range(3)] == texts, f"streamed {parts} vs plain {texts}")

        # ---- tool calls ----
        tool_close = http_post(s.url + "/tokenize", {"content": "<tool_call|>"})["tokens"]
        weather_msgs = [{"role": "user", "content": "What is the weather in Paris?"}]

        @check("tools: /tokenize gives one id for <tool_call|>")
        def _():
            expect(len(tool_close) == 1, f"<tool_call|> is {tool_close}")

        # As the brief of these tests has it: a strong bias for <tool_call|> makes the model close a
        # forced call at once. With the parameterless tools above the server forces the whole call
        # anyway; the bias must not get in the way.
        close_bias = {str(tool_close[0]): 100} if tool_close else {}

        @check("tools: named tool_choice forces the call; round trip with the tool's result")
        def _():
            r = client.chat.completions.create(
                model=model, messages=weather_msgs, tools=[WEATHER_TOOL, TIME_TOOL], max_tokens=30, temperature=0,
                tool_choice={"type": "function", "function": {"name": "get_weather"}}, logit_bias=close_bias)
            c = r.choices[0]
            expect(c.finish_reason == "tool_calls", f"finish_reason {c.finish_reason}, message {c.message}")
            calls = c.message.tool_calls or []
            expect(len(calls) == 1, f"tool_calls {calls}")
            call = calls[0]
            expect(call.type == "function" and call.function.name == "get_weather", f"call {call}")
            expect(call.id and isinstance(call.id, str), f"call id {call.id!r}")
            expect(call.function.arguments == "{}" and json.loads(call.function.arguments) == {},
                   f"arguments {call.function.arguments!r}")
            expect(not c.message.content, f"content next to the call: {c.message.content!r}")
            # The history goes back with the result; the reply is a normal one.
            history = weather_msgs + [
                {"role": "assistant", "content": None,
                 "tool_calls": [{"id": call.id, "type": "function",
                                 "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
                {"role": "tool", "tool_call_id": call.id, "content": "{\"temperature_c\": 18, \"sky\": \"clear\"}"},
            ]
            r2 = client.chat.completions.create(model=model, messages=history, tools=[WEATHER_TOOL, TIME_TOOL],
                                                max_tokens=12, temperature=0)
            c2 = r2.choices[0]
            expect(c2.finish_reason in ("stop", "length"), f"after the result: finish_reason {c2.finish_reason}")
            expect(c2.message.content and not c2.message.tool_calls, f"after the result: {c2.message}")
            expect(r2.usage.prompt_tokens > r.usage.prompt_tokens, "the history did not reach the prompt")

        @check("tools: named tool_choice streamed: one tool_calls delta (index 0, id, name, arguments {})")
        def _():
            calls, finishes = [], []
            for ch in client.chat.completions.create(
                    model=model, messages=weather_msgs, tools=[WEATHER_TOOL], max_tokens=30, temperature=0, stream=True,
                    tool_choice={"type": "function", "function": {"name": "get_weather"}}, logit_bias=close_bias):
                for c in ch.choices:
                    calls += c.delta.tool_calls or []
                    if c.finish_reason:
                        finishes.append(c.finish_reason)
            expect(finishes == ["tool_calls"], f"finish reasons {finishes}")
            expect(len(calls) == 1, f"tool call deltas {calls}")
            tc = calls[0]
            expect(tc.index == 0 and tc.id and tc.function.name == "get_weather" and tc.function.arguments == "{}",
                   f"delta {tc}")

        @check("tools: tool_choice required with two tools calls one of them")
        def _():
            r = client.chat.completions.create(model=model, messages=weather_msgs, tools=[WEATHER_TOOL, TIME_TOOL],
                                               tool_choice="required", max_tokens=30, temperature=0,
                                               logit_bias=close_bias)
            c = r.choices[0]
            expect(c.finish_reason == "tool_calls", f"finish_reason {c.finish_reason}, message {c.message}")
            expect(len(c.message.tool_calls or []) >= 1, f"tool_calls {c.message.tool_calls}")
            for call in c.message.tool_calls:
                expect(call.function.name in ("get_weather", "get_time"), f"call {call}")
                expect(json.loads(call.function.arguments) == {}, f"arguments {call.function.arguments!r}")

        @check("tools: tool_choice none with tools: no tool call")
        def _():
            r = client.chat.completions.create(model=model, messages=weather_msgs, tools=[WEATHER_TOOL, CITY_TOOL],
                                               tool_choice="none", max_tokens=10, temperature=0)
            expect(not r.choices[0].message.tool_calls and r.choices[0].finish_reason != "tool_calls",
                   f"{r.choices[0]}")

        # ---- text completions ----
        @check("completions: plain and streamed (same text at temperature 0), usage, finish_reason")
        def _():
            prompt = "Once upon a time"
            r = client.completions.create(model=model, prompt=prompt, max_tokens=20, temperature=0)
            expect(r.object == "text_completion" and r.id.startswith("cmpl-"), f"{r.object} {r.id}")
            expect(len(r.choices) == 1 and r.choices[0].index == 0, f"choices {r.choices}")
            c = r.choices[0]
            expect(isinstance(c.text, str) and c.text, f"text {c.text!r}")
            expect(c.finish_reason == "length" and r.usage.completion_tokens == 20, f"{c.finish_reason} {r.usage}")
            expect(r.usage.total_tokens == r.usage.prompt_tokens + 20, f"usage {r.usage}")
            text, finishes, usage = "", [], None
            for ch in client.completions.create(model=model, prompt=prompt, max_tokens=20, temperature=0, stream=True,
                                                stream_options={"include_usage": True}):
                expect(ch.object == "text_completion", ch.object)
                for cc in ch.choices:
                    text += cc.text or ""
                    if cc.finish_reason:
                        finishes.append(cc.finish_reason)
                if ch.usage:
                    usage = ch.usage
            expect(text == c.text, f"streamed {text!r}\n    plain    {c.text!r}")
            expect(finishes == ["length"], f"finish reasons {finishes}")
            expect(usage is not None and usage.completion_tokens == 20, f"usage {usage}")
            # A prompt of token ids (BOS first, as the server adds it to text) gives the same completion.
            ids = http_post(s.url + "/tokenize", {"content": prompt, "add_special": True})["tokens"]
            r2 = client.completions.create(model=model, prompt=ids, max_tokens=20, temperature=0)
            expect(r2.choices[0].text == c.text, f"token prompt: {r2.choices[0].text!r} vs {c.text!r}")
            # logprobs in the legacy shape.
            r = client.completions.create(model=model, prompt=prompt, max_tokens=4, temperature=0, logprobs=2)
            lp = r.choices[0].logprobs
            expect(len(lp.tokens) == 4 and len(lp.token_logprobs) == 4 and len(lp.top_logprobs) == 4, f"logprobs {lp}")
            expect(all(len(t) <= 2 for t in lp.top_logprobs), f"top_logprobs {lp.top_logprobs}")

        @check("completions: echo returns the prompt as sent, then the completion")
        def _():
            prompt = "Once upon a time"
            plain = client.completions.create(model=model, prompt=prompt, max_tokens=5, temperature=0).choices[0].text
            r = client.completions.create(model=model, prompt=prompt, max_tokens=5, temperature=0, echo=True)
            # Not the BOS token the server put before the text: the client never sent it.
            expect(r.choices[0].text == prompt + plain, f"echo: {r.choices[0].text!r}, expected {prompt + plain!r}")

        @check("completions: stop sequence")
        def _():
            r = client.completions.create(model=model, prompt="Numbers:", max_tokens=30, temperature=0)
            full = r.choices[0].text
            at = len(full) // 2
            while at < len(full) - 2 and (not full[at:at + 2].strip() or full.find(full[at:at + 2]) != at):
                at += 1
            stop = full[at:at + 2]
            r2 = client.completions.create(model=model, prompt="Numbers:", max_tokens=30, temperature=0, stop=stop)
            expect(r2.choices[0].text == full[:full.find(stop)] and r2.choices[0].finish_reason == "stop",
                   f"stop {stop!r}: {r2.choices[0].text!r} ({r2.choices[0].finish_reason}), full {full!r}")

        # ---- errors ----
        @check("errors: temperature out of range -> BadRequestError, param temperature")
        def _():
            expect_raises(openai.BadRequestError, lambda: client.chat.completions.create(
                model=model, messages=msgs, temperature=5), status=400, param="temperature")

        @check("errors: a field of the wrong type -> BadRequestError naming it")
        def _():
            expect_raises(openai.BadRequestError, lambda: client.chat.completions.create(
                model=model, messages=msgs, max_tokens=4, extra_body={"top_k": "many"}), status=400, param="top_k")
            expect_raises(openai.BadRequestError, lambda: client.chat.completions.create(
                model=model, messages=msgs, max_tokens="four"), status=400, param="max_tokens")
            expect_raises(openai.BadRequestError, lambda: client.chat.completions.create(
                model=model, messages=[{"role": "wizard", "content": "hi"}]), status=400)
            expect_raises(openai.BadRequestError, lambda: client.chat.completions.create(
                model=model, messages=msgs, tools=[WEATHER_TOOL],
                tool_choice={"type": "function", "function": {"name": "not_a_tool"}}), status=400, param="tool_choice")
            # Unknown fields are ignored.
            r = client.chat.completions.create(model=model, messages=msgs, max_tokens=2,
                                               extra_body={"no_such_field": {"x": 1}})
            expect(r.choices[0].message.content is not None, "unknown field")

        @check("errors: a prompt over the context -> BadRequestError code context_length_exceeded")
        def _():
            long = [{"role": "user", "content": "lighthouse " * 700}]
            e = expect_raises(openai.BadRequestError, lambda: client.chat.completions.create(
                model=model, messages=long, max_tokens=4), status=400, code="context_length_exceeded")
            expect("512" in str(e), f"the message should give the context size: {e}")
            expect_raises(openai.BadRequestError, lambda: client.chat.completions.create(
                model=model, messages=msgs, max_tokens=100000), status=400, code="context_length_exceeded")
            expect_raises(openai.BadRequestError, lambda: client.completions.create(
                model=model, prompt="word " * 700, max_tokens=4), status=400, code="context_length_exceeded")

        @check("errors: a wrong model name -> NotFoundError code model_not_found")
        def _():
            expect_raises(openai.NotFoundError, lambda: client.chat.completions.create(
                model="gpt-4o", messages=msgs, max_tokens=2), status=404, code="model_not_found")
            expect_raises(openai.NotFoundError, lambda: client.completions.create(
                model="gpt-4o", prompt="x", max_tokens=2), status=404, code="model_not_found")

        @check("server: one clean log line per request, no crash")
        def _():
            expect(s.proc.poll() is None, "the server exited")
            log = s.log()
            expect("chat 200" in log and "completions 200" in log, "request log lines missing")

        client.close()  # no idle keep-alive connection to hold up the server's exit

    # ---- API key ----
    # --timeout 15: a connection stuck in a read gives up after 15 s (instead of 600), so a server that
    # waits on one at exit still exits well within G4Server's 60 s.
    with G4Server(g4, data_dir, "-np", "1", "-c", "256", "--api-key", "sesame", "--timeout", "15") as s:
        hi = [{"role": "user", "content": "hi"}]

        @check("auth: --api-key: a wrong key -> AuthenticationError (again and again), the right one works")
        def _():
            bad = OpenAI(base_url=s.url + "/v1", api_key="wrong", max_retries=0)
            # The client keeps its connection: every refusal must be a clean 401 on it.
            for _ in range(4):
                expect_raises(openai.AuthenticationError, lambda: bad.chat.completions.create(
                    model="any", messages=hi, max_tokens=2), status=401, code="invalid_api_key")
            expect_raises(openai.AuthenticationError, lambda: list(bad.models.list()), status=401)
            bad.close()
            good = OpenAI(base_url=s.url + "/v1", api_key="sesame", max_retries=0)
            name = list(good.models.list())[0].id
            for _ in range(2):
                r = good.chat.completions.create(model=name, messages=hi, max_tokens=2)
                expect(r.usage.completion_tokens == 2, f"usage {r.usage}")
            good.close()
            with urllib.request.urlopen(s.url + "/health", timeout=10) as h:
                expect(h.status == 200, "/health needs no key")

        @check("auth: refused POSTs on one keep-alive connection all get 401 (the body of each is consumed)")
        def _():
            u = urllib.parse.urlparse(s.url)
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
            body = json.dumps({"messages": hi, "max_tokens": 2})
            got = []
            for _ in range(4):
                c.request("POST", "/v1/chat/completions", body,
                          {"Content-Type": "application/json", "Authorization": "Bearer wrong"})
                r = c.getresponse()
                r.read()
                got.append(r.status)
            c.close()
            expect(got == [401] * 4, f"statuses {got}")

        @check("auth: SIGTERM with a refused client's connection still open: the server exits at once")
        def _():
            u = urllib.parse.urlparse(s.url)
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
            c.request("POST", "/v1/chat/completions", json.dumps({"messages": hi, "max_tokens": 2}),
                      {"Content-Type": "application/json", "Authorization": "Bearer wrong"})
            r = c.getresponse()
            r.read()
            expect(r.status == 401, f"status {r.status}")
            t0 = time.time()
            code = s.stop()  # the connection stays open meanwhile
            took = time.time() - t0
            c.close()
            # An idle keep-alive connection holds it for up to 5 s (cpp-httplib's keep-alive wait).
            expect(code == 0 and took < 8, f"exit code {code} after {took:.1f}s")

    return summary(t_start)


if __name__ == "__main__":
    sys.exit(main())
