#!/usr/bin/env python3
"""Writes an HF Gemma 4 folder (config.json + model.safetensors) as a gemma4 GGUF.

  export_gguf.py HF_DIR OUT.gguf [--f32] [--tokenizer tokenizer.json]

--f32 stores every tensor as F32 (for comparing logits with llama.cpp, which rounds activations to
the weight type before each matmul). --tokenizer adds the vocabulary and merges of an HF tokenizer.json
in llama.cpp's gemma4 tokenizer keys; without it the file carries no vocabulary (token-id input only).
"""
import argparse
import json
import os
import sys

import torch
from safetensors import safe_open
from transformers import AutoConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_writer  # noqa: E402


def tokenizer_adder(path):
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    vocab = tj["model"]["vocab"]
    tokens = [None] * len(vocab)
    for piece, i in vocab.items():
        tokens[i] = piece
    special = {t["id"] for t in tj.get("added_tokens", []) if t.get("special")}
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]

    def add(w):
        import gguf
        w.add_tokenizer_model("gemma4")
        w.add_tokenizer_pre("gemma4")
        w.add_token_list(tokens)
        types = []
        for i, t in enumerate(tokens):
            if i in special:
                types.append(gguf.TokenType.CONTROL)
            elif t.startswith("<0x") and t.endswith(">") and len(t) == 6:
                types.append(gguf.TokenType.BYTE)
            else:
                types.append(gguf.TokenType.NORMAL)
        w.add_token_types(types)
        w.add_token_merges(merges)
        w.add_bos_token_id(2)
        w.add_eos_token_id(1)
        w.add_pad_token_id(0)
        w.add_unk_token_id(3)
    return add


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hf_dir")
    ap.add_argument("out")
    ap.add_argument("--f32", action="store_true")
    ap.add_argument("--tokenizer")
    a = ap.parse_args()
    cfg = AutoConfig.from_pretrained(a.hf_dir)
    with safe_open(os.path.join(a.hf_dir, "model.safetensors"), "pt") as f:
        tensors = {k: f.get_tensor(k).to(torch.float32) for k in f.keys()}
    gguf_writer.write_gemma4_gguf(a.out, cfg.get_text_config(), tensors, name=os.path.basename(a.hf_dir),
                                  tokenizer=tokenizer_adder(a.tokenizer) if a.tokenizer else None, all_f32=a.f32)


if __name__ == "__main__":
    main()
