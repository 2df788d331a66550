#!/usr/bin/env python3
"""Writes a random-weight Gemma 4 GGUF (llama.cpp's gemma4 layout) of a chosen size, for speed
measurements on machines without real weights. Weights are random (normal, std 0.02; norms near 1);
the output is meaningless text, but every byte the engine reads per token is real.

  make_synthetic_gguf.py OUT.gguf [--preset 12b|1b|tiny] [--type f32|f16|bf16] [--tokenizer tokenizer.json]

Presets keep the 12B's attention geometry (16 query heads; sliding layers 8 KV heads x 256,
global layers 1 KV head x 512 with K = V; window 1024; 5:1 pattern) and vary width and depth.
"""
import argparse
import os
import sys

import numpy as np
import gguf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import gguf_writer  # noqa: E402
from export_gguf import tokenizer_adder  # noqa: E402

PRESETS = {
    "12b": dict(hidden=3840, ffn=15360, layers=48),
    "1b": dict(hidden=1536, ffn=6144, layers=12),
    "tiny": dict(hidden=256, ffn=1024, layers=6),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--preset", default="1b", choices=PRESETS)
    ap.add_argument("--type", default="bf16", choices=["f32", "f16", "bf16"])
    ap.add_argument("--tokenizer")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    p = PRESETS[a.preset]
    H, Fd, L = p["hidden"], p["ffn"], p["layers"]
    nh, kv_s, kv_f, hd_s, hd_f, V, W = 16, 8, 1, 256, 512, 262144, 1024
    sliding = [(i + 1) % 6 != 0 for i in range(L)]
    sliding[-1] = False
    rng = np.random.default_rng(a.seed)

    geo = gguf_writer.Geometry(
        vocab=V, hidden=H, ffn=Fd, n_heads=nh, sliding=sliding, kv_heads=[kv_s if s else kv_f for s in sliding],
        swa_head_dim=hd_s, full_head_dim=hd_f, window=W, context=262144, theta_full=1e6, theta_swa=1e4,
        partial_rotary=0.25)
    w = gguf_writer.begin_gemma4(a.out, f"g4 synthetic {a.preset}", geo,
                                 tokenizer_adder(a.tokenizer) if a.tokenizer else None)

    # Tensors are listed first and written one by one afterwards, in row chunks, so a 24 GB file never
    # has to fit in memory.
    plan = []  # (name, rows, cols, kind)

    def mat(name, rows, cols):
        plan.append((name, rows, cols, "mat"))

    def norm(name, n):
        plan.append((name, 1, n, "norm"))

    mat("token_embd.weight", V, H)
    norm("output_norm.weight", H)
    for i in range(L):
        hd, kv = (hd_s, kv_s) if sliding[i] else (hd_f, kv_f)
        b = f"blk.{i}."
        norm(b + "attn_norm.weight", H)
        mat(b + "attn_q.weight", nh * hd, H)
        mat(b + "attn_k.weight", kv * hd, H)
        if sliding[i]:
            mat(b + "attn_v.weight", kv * hd, H)
        mat(b + "attn_output.weight", H, nh * hd)
        norm(b + "attn_q_norm.weight", hd)
        norm(b + "attn_k_norm.weight", hd)
        norm(b + "post_attention_norm.weight", H)
        norm(b + "ffn_norm.weight", H)
        mat(b + "ffn_gate.weight", Fd, H)
        mat(b + "ffn_up.weight", Fd, H)
        mat(b + "ffn_down.weight", H, Fd)
        norm(b + "post_ffw_norm.weight", H)
        plan.append((b + "layer_output_scale.weight", 1, 1, "scalar"))

    mat_type = {"f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16,
                "bf16": gguf.GGMLQuantizationType.BF16}[a.type]
    mat_bytes = {"f32": 4, "f16": 2, "bf16": 2}[a.type]
    for name, rows, cols, kind in plan:
        if kind == "mat":
            w.add_tensor_info(name, [rows, cols], np.dtype(np.uint16), rows * cols * mat_bytes, raw_dtype=mat_type)
        else:
            w.add_tensor_info(name, [cols], np.dtype(np.float32), cols * 4)

    def encode(x):
        if a.type == "f32":
            return x
        if a.type == "f16":
            return x.astype(np.float16)
        return ((x.view(np.uint32) + 0x8000) >> 16).astype(np.uint16)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.write_tensor_data(w.tensors[0]["rope_freqs.weight"].tensor)
    fout = w.fout[0]
    for name, rows, cols, kind in plan:
        ti = w.tensors[0].pop(name)
        w.write_padding(fout, fout.tell())
        if kind == "mat":
            step = max(1, (1 << 24) // cols)
            for r in range(0, rows, step):
                n = min(step, rows - r)
                encode(rng.standard_normal((n, cols), dtype=np.float32) * np.float32(0.02)).tofile(fout)
        elif kind == "norm":
            (1.0 + 0.1 * rng.standard_normal(cols)).astype(np.float32).tofile(fout)
        else:
            np.array([0.9], dtype=np.float32).tofile(fout)
        w.write_padding(fout, ti.nbytes)
    w.close()


if __name__ == "__main__":
    main()
