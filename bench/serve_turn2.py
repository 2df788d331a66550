#!/usr/bin/env python3
"""Time to first token of a chat's next turn, against a cold prefill of the same prompt.

A long conversation (a system prompt and earlier turns, about --history-words words) is sent once;
then its next turn (the history, the reply just received, a new question) is sent and timed: the
server should reuse the cached history, including the sliding layers' window state, and compute only
the new tokens. The same next-turn prompt with its first character changed defeats any reuse and
gives the cold prefill time. Works with any OpenAI-compatible server; the standard library only.

  bench/serve_turn2.py --url http://127.0.0.1:8080 --history-words 3000 --repeat 3
"""
import argparse
import json
import random
import statistics
import time
import urllib.request

WORDS = ("time person year way day thing man world life hand part child eye woman place work week case "
         "point government company number group problem fact river stone light music city market").split()


def chat(url, key, messages, max_tokens):
    body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(), headers=headers)
    t0 = time.perf_counter()
    ttft, text, usage = None, "", {}
    with urllib.request.urlopen(req, timeout=3600) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            ev = json.loads(line[6:])
            if "error" in ev:
                raise RuntimeError(ev["error"]["message"])
            usage = ev.get("usage") or usage
            for ch in ev.get("choices", []):
                d = ch.get("delta", {})
                piece = (d.get("content") or "") + (d.get("reasoning_content") or "")
                if piece or d.get("tool_calls"):
                    if ttft is None:
                        ttft = time.perf_counter() - t0
                    text += d.get("content") or ""
    return ttft, text, usage


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--history-words", type=int, default=3000)
    ap.add_argument("--turns", type=int, default=6, help="earlier user/assistant pairs the history is cut into")
    ap.add_argument("--reply-tokens", type=int, default=64, help="length of the reply turn 2 builds on")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    warm, cold = [], []
    for rep in range(a.repeat):
        per = a.history_words // (2 * a.turns)
        history = [{"role": "system", "content": f"Run {rep}. You are a helpful assistant."}]
        for _ in range(a.turns):
            history.append({"role": "user", "content": " ".join(rng.choice(WORDS) for _ in range(per))})
            history.append({"role": "assistant", "content": " ".join(rng.choice(WORDS) for _ in range(per))})
        first = history + [{"role": "user", "content": "Summarise what we discussed."}]
        _, reply, u1 = chat(a.url, a.api_key, first, a.reply_tokens)
        second = first + [{"role": "assistant", "content": reply}, {"role": "user", "content": "And in one word?"}]
        t_warm, _, u2 = chat(a.url, a.api_key, second, 4)
        other = [dict(second[0], content="X" + second[0]["content"])] + second[1:]
        t_cold, _, u3 = chat(a.url, a.api_key, other, 4)
        cached = (u2.get("prompt_tokens_details") or {}).get("cached_tokens")
        print(f"run {rep}: turn-2 prompt {u2.get('prompt_tokens')} tokens, {cached} reused: "
              f"TTFT {t_warm * 1000:.0f} ms; cold prefill of the same prompt: {t_cold * 1000:.0f} ms "
              f"(first turn: {u1.get('prompt_tokens')} tokens)")
        warm.append(t_warm)
        cold.append(t_cold)
    w, c = statistics.median(warm), statistics.median(cold)
    print(f"median: turn 2 {w * 1000:.0f} ms, cold {c * 1000:.0f} ms, {c / w:.1f}x faster")


if __name__ == "__main__":
    main()
