#!/usr/bin/env python3
"""Builds the spec's Tiny-B (real 262144-token vocabulary and special ids, 12 layers in the real 5:1
pattern, window 128) with random weights as an HF folder, for local cross-checks that need the real
tokenizer (e.g. g4 against llama.cpp on a text prompt). Too large to commit (~150 MB in f32).

  make_tiny_b.py OUT_DIR --tokenizer tokenizer.json [--embed-std 0.05]
"""
import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--embed-std", type=float, default=0.05)
    a = ap.parse_args()
    model = make_goldens.build_model(make_goldens.tiny_b_config(), seed=2, embed_std=a.embed_std)
    model.save_pretrained(a.out_dir, safe_serialization=True)
    shutil.copy(a.tokenizer, os.path.join(a.out_dir, "tokenizer.json"))


if __name__ == "__main__":
    main()
