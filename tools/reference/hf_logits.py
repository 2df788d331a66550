#!/usr/bin/env python3
"""Top-K logits per position from HF transformers, in `g4 logits --json` format, for cross-checks.

  hf_logits.py HF_DIR (-p TEXT | --ids 2,17,300) [--top 10] > out.jsonl

Text is tokenized with the folder's tokenizer.json (HF `tokenizers`) with BOS first, like g4 logits.
"""
import argparse
import json

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForImageTextToText


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hf_dir")
    ap.add_argument("-p", "--prompt")
    ap.add_argument("--ids")
    ap.add_argument("--top", type=int, default=10)
    a = ap.parse_args()
    if a.ids:
        ids = [int(x) for x in a.ids.split(",")]
    else:
        tok = Tokenizer.from_file(f"{a.hf_dir}/tokenizer.json")
        ids = [2] + tok.encode(a.prompt, add_special_tokens=False).ids
    model = AutoModelForImageTextToText.from_pretrained(a.hf_dir, dtype=torch.float32, attn_implementation="eager")
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    for p, row in enumerate(logits):
        vals, idx = torch.sort(row, descending=True, stable=True)
        top = [[int(i), float(v)] for i, v in zip(idx[: a.top], vals[: a.top])]
        print(json.dumps({"pos": p, "id": ids[p], "top": top}))


if __name__ == "__main__":
    main()
