#!/usr/bin/env python3
"""Compares two per-position top-K logit dumps in g4's `g4 logits --json` format
({"pos", "id", "top": [[id, logit], ...]} per line), e.g. g4 against llama.cpp or HF on the same file.

  compare_logits.py A.jsonl B.jsonl [--tol 1e-3]

Reports, over all positions: top-1 agreement, the largest |logit difference| over ids present in both
top-K lists, and top-K set overlap. Exits non-zero if top-1 disagrees where B's top-2 margin exceeds
--tol, or the largest difference exceeds --max-diff.
"""
import argparse
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tol", type=float, default=1e-3, help="top-2 margin below which a top-1 swap is a near-tie")
    ap.add_argument("--max-diff", type=float, default=float("inf"))
    args = ap.parse_args()
    a, b = load(args.a), load(args.b)
    if len(a) != len(b):
        sys.exit(f"{len(a)} positions in {args.a}, {len(b)} in {args.b}")
    worst, worst_pos, agree, ties, overlap = 0.0, -1, 0, 0, 0.0
    bad = []
    for ra, rb in zip(a, b):
        if ra["id"] != rb["id"]:
            sys.exit(f"position {ra['pos']}: token {ra['id']} vs {rb['id']}: not the same prompt")
        da, db = dict((int(i), float(l)) for i, l in ra["top"]), dict((int(i), float(l)) for i, l in rb["top"])
        for i in set(da) & set(db):
            d = abs(da[i] - db[i])
            if d > worst:
                worst, worst_pos = d, ra["pos"]
        overlap += len(set(da) & set(db)) / max(1, min(len(da), len(db)))
        ta, tb = ra["top"][0][0], rb["top"][0][0]
        if ta == tb:
            agree += 1
        else:
            margin = rb["top"][0][1] - rb["top"][1][1]
            if margin <= args.tol:
                ties += 1
            else:
                bad.append((ra["pos"], ta, tb, margin))
    n = len(a)
    print(f"positions {n}: top-1 agree {agree}/{n} (near-ties {ties}), mean top-K overlap {overlap / n:.3f}, "
          f"max |logit diff| {worst:.3g} at position {worst_pos}")
    for pos, ta, tb, m in bad[:10]:
        print(f"  top-1 differs at {pos}: {ta} vs {tb} (margin {m:.3g})")
    if bad or worst > args.max_diff:
        sys.exit(1)


if __name__ == "__main__":
    main()
