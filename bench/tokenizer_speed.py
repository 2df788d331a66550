#!/usr/bin/env python3
"""Tokenizer speed on one core: g4 (bench/tokenizer_bench.cc) against HF `tokenizers`.

Both load the Gemma 4 tokenizer.json (tests/data/tokenizer/gemma4-tokenizer.json.xz, decompressed
to a temporary folder) and encode every unit of the tokenizer corpus
(tests/data/tokenizer/corpus.txt.xz, 4859 units, 2.6 MB, 54 languages plus code, markup, emoji)
with special tokens parsed and no BOS. HF runs in this process with RAYON_NUM_THREADS=1 and
TOKENIZERS_PARALLELISM=false, one unit at a time (encode) and as one batch (encode_batch); both
programs are pinned to one CPU. Times are the best of --rounds rounds (g4 then HF) of --reps
runs each.

Run: .venv/bin/python bench/tokenizer_speed.py [--build-dir build] [--cpu 0] [--reps 5] [--rounds 3]
(builds the g4_tokenizer_bench target in --build-dir if it is missing)
"""
import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers starts its thread pool
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import json  # noqa: E402
import lzma  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DATA = os.path.join(ROOT, "tests", "data", "tokenizer")


def best(fn, reps):
    t = float("inf")
    out = None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    bench = os.path.join(args.build_dir, "g4_tokenizer_bench")
    if not os.path.exists(bench):
        subprocess.check_call(["cmake", "--build", args.build_dir, "--target", "g4_tokenizer_bench"])
    os.sched_setaffinity(0, {args.cpu})

    tmp = tempfile.mkdtemp(prefix="g4tokbench")
    try:
        tok_json = os.path.join(tmp, "tokenizer.json")
        corpus_path = os.path.join(tmp, "corpus.txt")
        for src, dst in ((os.path.join(DATA, "gemma4-tokenizer.json.xz"), tok_json),
                         (os.path.join(DATA, "corpus.txt.xz"), corpus_path)):
            with lzma.open(src) as fi, open(dst, "wb") as fo:
                shutil.copyfileobj(fi, fo)

        with open(corpus_path, "rb") as f:
            units = [u.decode("utf-8") for u in f.read().split(b"\x1e") if u]
        nbytes = sum(len(u.encode("utf-8")) for u in units)
        # Rounds alternate g4 and HF so that both see the same background load; best of all.
        g4 = None
        hf_load = hf_single = hf_batch = float("inf")
        for _ in range(args.rounds):
            out = json.loads(subprocess.check_output(["taskset", "-c", str(args.cpu), bench, tok_json, corpus_path,
                                                      str(args.reps)]))
            assert out["bytes"] == nbytes and out["units"] == len(units)
            if g4 is None:
                g4 = out
            for k in ("load_s", "encode_s", "decode_s"):
                g4[k] = min(g4[k], out[k])
            t, tok = best(lambda: Tokenizer.from_file(tok_json), args.reps)
            hf_load = min(hf_load, t)
            tok.encode_special_tokens = False
            t, ids = best(lambda: [tok.encode(u, add_special_tokens=False).ids for u in units], args.reps)
            hf_single = min(hf_single, t)
            t, _ = best(lambda: tok.encode_batch(units, add_special_tokens=False), args.reps)
            hf_batch = min(hf_batch, t)
        ntok = sum(map(len, ids))
        if ntok != g4["tokens"]:
            print(f"warning: token counts differ (g4 {g4['tokens']}, HF {ntok})")
    finally:
        shutil.rmtree(tmp)

    mb = nbytes / 1e6
    rows = [
        ("g4", g4["load_s"], g4["encode_s"]),
        ("HF encode (one call per unit)", hf_load, hf_single),
        ("HF encode_batch (1 thread)", hf_load, hf_batch),
    ]
    print(f"corpus: {len(units)} units, {mb:.2f} MB, {ntok} tokens; one core (CPU {args.cpu}); "
          f"best of {args.rounds}x{args.reps}; tokenizers {tokenizers.__version__}")
    print(f"{'':32} {'load ms':>9} {'encode s':>9} {'MB/s':>7} {'M tok/s':>8} {'g4 speedup':>10}")
    for name, load, enc in rows:
        print(f"{name:32} {load * 1e3:9.1f} {enc:9.3f} {mb / enc:7.2f} {ntok / enc / 1e6:8.3f} "
              f"{enc / g4['encode_s']:9.2f}x")
    print(f"g4 load is {hf_load / g4['load_s']:.1f}x faster than HF's; g4 decode: "
          f"{g4['decoded_bytes'] / g4['decode_s'] / 1e6:.0f} MB/s")


if __name__ == "__main__":
    main()
