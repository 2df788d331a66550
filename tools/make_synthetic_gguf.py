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

    arch = "gemma4"
    w = gguf.GGUFWriter(a.out, arch)
    w.add_name(f"g4 synthetic {a.preset}")
    w.add_block_count(L)
    w.add_context_length(262144)
    w.add_embedding_length(H)
    w.add_feed_forward_length([Fd] * L)
    w.add_head_count(nh)
    w.add_head_count_kv([kv_s if s else kv_f for s in sliding])
    w.add_key_length(hd_f)
    w.add_value_length(hd_f)
    w.add_uint32(f"{arch}.attention.key_length_swa", hd_s)
    w.add_uint32(f"{arch}.attention.value_length_swa", hd_s)
    w.add_rope_dimension_count(hd_f)
    w.add_uint32(f"{arch}.rope.dimension_count_swa", hd_s)
    w.add_rope_freq_base(1e6)
    w.add_float32(f"{arch}.rope.freq_base_swa", 1e4)
    w.add_sliding_window(W)
    w.add_array(f"{arch}.attention.sliding_window_pattern", sliding)
    w.add_uint32(f"{arch}.attention.shared_kv_layers", 0)
    w.add_uint32(f"{arch}.embedding_length_per_layer_input", 0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_final_logit_softcapping(30.0)
    if a.tokenizer:
        tokenizer_adder(a.tokenizer)(w)
    else:
        w.add_tokenizer_model("none")
        w.add_uint32(f"{arch}.vocab_size", V)

    def mat(name, rows, cols):
        x = rng.standard_normal((rows, cols), dtype=np.float32) * 0.02
        if a.type == "f32":
            w.add_tensor(name, x)
        elif a.type == "f16":
            w.add_tensor(name, x.astype(np.float16))
        else:
            bits = (x.view(np.uint32) + 0x8000) >> 16
            w.add_tensor(name, bits.astype(np.uint16), raw_shape=[rows, cols],
                         raw_dtype=gguf.GGMLQuantizationType.BF16)

    def norm(name, n):
        w.add_tensor(name, (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32))

    freqs = np.full(hd_f // 2, 1e30, dtype=np.float32)
    freqs[: hd_f // 8] = 1.0
    w.add_tensor("rope_freqs.weight", freqs)
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
        w.add_tensor(b + "layer_output_scale.weight", np.array([0.9], dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
