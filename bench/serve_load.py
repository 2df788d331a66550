#!/usr/bin/env python3
"""Load test for `g4 serve` (or any OpenAI-compatible server): streaming chat requests from N
concurrent clients, for each N in --concurrency. Reports request and token throughput and the
percentiles of time to first token (TTFT) and inter-token latency (ITL), measured at the client.

  bench/serve_load.py --url http://127.0.0.1:8080 --concurrency 1,4,16,64 --requests 64 \
      --prompt-words 200 --max-tokens 64

Only the Python standard library is used.
"""
import argparse
import json
import random
import statistics
import threading
import time
import urllib.request


def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


WORDS = ("time person year way day thing man world life hand part child eye woman place work week case "
         "point government company number group problem fact").split()


def one_request(url, model, prompt, max_tokens, key):
    body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "temperature": 0.7,
            "stream": True, "stream_options": {"include_usage": True}}
    if model:
        body["model"] = model
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(), headers=headers)
    t0 = time.perf_counter()
    stamps, usage = [], None
    with urllib.request.urlopen(req, timeout=3600) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                break
            ev = json.loads(data)
            if "error" in ev:
                raise RuntimeError(ev["error"]["message"])
            if ev.get("usage"):
                usage = ev["usage"]
            for ch in ev.get("choices", []):
                d = ch.get("delta", {})
                if d.get("content") or d.get("reasoning_content") or d.get("tool_calls"):
                    stamps.append(time.perf_counter())
    t1 = time.perf_counter()
    ttft = (stamps[0] - t0) if stamps else float("nan")
    itl = [b - a for a, b in zip(stamps, stamps[1:])]
    return {"ttft": ttft, "itl": itl, "total": t1 - t0, "tokens": usage["completion_tokens"] if usage else len(stamps)}


def run_level(args, n_clients):
    rnd = random.Random(n_clients)
    prompts = [" ".join(rnd.choice(WORDS) for _ in range(args.prompt_words)) + " Summarize."
               for _ in range(args.requests)]
    results, errors, lock = [], [], threading.Lock()
    todo = list(range(args.requests))

    def client():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            try:
                r = one_request(args.url, args.model, prompts[i], args.max_tokens, args.api_key)
                with lock:
                    results.append(r)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(str(e))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    tokens = sum(r["tokens"] for r in results)
    ttft = [r["ttft"] * 1000 for r in results]
    itl = [x * 1000 for r in results for x in r["itl"]]
    return {"clients": n_clients, "requests": len(results), "errors": len(errors), "wall_s": wall,
            "req_per_s": len(results) / wall, "tok_per_s": tokens / wall,
            "ttft_p50": percentile(ttft, 50), "ttft_p90": percentile(ttft, 90), "ttft_p99": percentile(ttft, 99),
            "itl_p50": percentile(itl, 50), "itl_p90": percentile(itl, 90), "itl_p99": percentile(itl, 99),
            "first_error": errors[0] if errors else ""}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--model", default="")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--concurrency", default="1,4,16,64")
    ap.add_argument("--requests", type=int, default=64, help="requests per concurrency level")
    ap.add_argument("--prompt-words", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=64)
    args = ap.parse_args()
    print("| clients | requests | errors | req/s | gen tok/s | TTFT p50 / p90 / p99 ms | ITL p50 / p90 / p99 ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in [int(x) for x in args.concurrency.split(",")]:
        r = run_level(args, n)
        print(f"| {r['clients']} | {r['requests']} | {r['errors']} | {r['req_per_s']:.2f} | {r['tok_per_s']:.1f} | "
              f"{r['ttft_p50']:.0f} / {r['ttft_p90']:.0f} / {r['ttft_p99']:.0f} | "
              f"{r['itl_p50']:.1f} / {r['itl_p90']:.1f} / {r['itl_p99']:.1f} |", flush=True)
        if r["first_error"]:
            print("  first error:", r["first_error"])


if __name__ == "__main__":
    main()
