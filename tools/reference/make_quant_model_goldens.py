#!/usr/bin/env python3
"""Builds tests/data/tiny-q: a tiny Gemma 4 whose matrices are stored in every ggml block type g4
reads (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, Q4_K, Q5_K, Q6_K, IQ4_XS), as a GGUF, with HF
transformers' outputs for the *dequantized* weights as the goldens.

The reference is therefore gguf.quants (what the bytes mean) plus HF (what the model computes); g4's
quantizer is not involved. The quantized bytes come from gguf.quants for the 32-element types and
from the simple quantizers below for the others (any valid encoding serves: the test is about reading
and computing with the blocks, not about how well they approximate the float weights).

Tiny-Q is Tiny-A with hidden size 256 and 4 layers (S, S, F, F: HF wants a full last layer), so that every matrix's rows are whole
256-element super-blocks.

Run: .venv/bin/python tools/reference/make_quant_model_goldens.py   (after scripts/setup --venv)
"""
import importlib.metadata
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from gguf import GGMLQuantizationType as Q
from gguf import quants
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_writer  # noqa: E402
from make_goldens import S, F, ROOT, build_model, greedy, record, tiny_config, xz_file  # noqa: E402

KV = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], dtype=np.float32)

# Which type each matrix gets: every type appears, on matrices of both input widths (256 and 512).
TYPES = {
    "token_embd.weight": Q.Q6_K,
    0: {"attn_q": Q.Q4_0, "attn_k": Q.Q4_1, "attn_v": Q.Q5_0, "attn_output": Q.Q5_1,
        "ffn_gate": Q.Q8_0, "ffn_up": Q.IQ4_NL, "ffn_down": Q.Q4_K},
    1: {"attn_q": Q.Q4_K, "attn_k": Q.Q5_K, "attn_v": Q.Q6_K, "attn_output": Q.IQ4_XS,
        "ffn_gate": Q.Q4_0, "ffn_up": Q.Q8_0, "ffn_down": Q.Q5_K},
    2: {"attn_q": Q.Q8_0, "attn_k": Q.Q6_K, "attn_output": Q.Q4_K,
        "ffn_gate": Q.Q5_0, "ffn_up": Q.Q4_1, "ffn_down": Q.IQ4_XS},
    3: {"attn_q": Q.Q4_0, "attn_k": Q.Q4_0, "attn_v": Q.Q4_0, "attn_output": Q.Q4_0,
        "ffn_gate": Q.Q4_0, "ffn_up": Q.Q4_0, "ffn_down": Q.Q6_K},
}


def f16(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16)


def pack_k_scales(sc, m):
    """Eight 6-bit scales and mins into Q4_K / Q5_K's 12 bytes."""
    out = np.zeros(12, dtype=np.uint8)
    for j in range(4):
        out[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6)
        out[j + 4] = (m[j] & 63) | ((m[j + 4] >> 4) << 6)
        out[j + 8] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4)
    return out


def q45k_block(x, bits):
    """One Q4_K (bits 4) or Q5_K (bits 5) super-block: x = d*sc*q - dmin*m per 32-element sub-block."""
    top = (1 << bits) - 1
    sub = x.reshape(8, 32)
    lo = np.minimum(sub.min(axis=1), 0)
    scale, mins = (sub.max(axis=1) - lo) / top, -lo
    d = f16(scale.max() / 63 if scale.max() > 0 else 0)
    dmin = f16(mins.max() / 63 if mins.max() > 0 else 0)
    sc = np.clip(np.rint(scale / np.float32(d)) if d else np.zeros(8), 0, 63).astype(np.uint8)
    m = np.clip(np.rint(mins / np.float32(dmin)) if dmin else np.zeros(8), 0, 63).astype(np.uint8)
    step = np.float32(d) * sc.astype(np.float32)
    q = np.where(step[:, None] > 0, np.rint((sub + np.float32(dmin) * m[:, None]) / np.maximum(step[:, None], 1e-30)), 0)
    q = np.clip(q, 0, top).astype(np.uint8)
    qs = np.zeros(128, dtype=np.uint8)
    qh = np.zeros(32, dtype=np.uint8)
    for j in range(8):  # sub-block j: nibble (j % 2) of bytes 32*(j//2)..; fifth bit j of qh
        c = 32 * (j // 2)
        qs[c:c + 32] |= ((q[j] & 15) << (4 * (j % 2))).astype(np.uint8)
        qh |= (((q[j] >> 4) & 1) << j).astype(np.uint8)
    head = np.concatenate([np.array([d, dmin], dtype=np.float16).view(np.uint8), pack_k_scales(sc, m)])
    return np.concatenate([head, qh, qs]) if bits == 5 else np.concatenate([head, qs])


def q6k_block(x):
    """One Q6_K super-block: x = d*sc*(q - 32) per 16-element group, sc signed 8-bit."""
    g = x.reshape(16, 16)
    scale = np.abs(g).max(axis=1) / 31
    d = f16(scale.max() / 127 if scale.max() > 0 else 0)
    sc = np.clip(np.rint(scale / np.float32(d)) if d else np.zeros(16), -128, 127).astype(np.int8)
    # Use negative scales on alternate groups so their sign handling is exercised.
    sc[1::2] = -sc[1::2]
    step = np.float32(d) * sc.astype(np.float32)
    q = np.where(step[:, None] != 0, np.rint(g / np.where(step[:, None] != 0, step[:, None], 1)), 0)
    q = (np.clip(q, -32, 31) + 32).astype(np.uint8).reshape(256)
    ql = np.zeros(128, dtype=np.uint8)
    qh = np.zeros(64, dtype=np.uint8)
    for half in range(2):
        e, L, H = 128 * half, 64 * half, 32 * half
        for l in range(32):
            q1, q2, q3, q4 = q[e + l], q[e + l + 32], q[e + l + 64], q[e + l + 96]
            ql[L + l] = (q1 & 15) | ((q3 & 15) << 4)
            ql[L + l + 32] = (q2 & 15) | ((q4 & 15) << 4)
            qh[H + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
    return np.concatenate([ql, qh, sc.view(np.uint8), np.array([d], dtype=np.float16).view(np.uint8)])


def iq4_indices(x, step):
    return np.abs(x[:, None] / step - KV[None, :]).argmin(axis=1).astype(np.uint8) if step else np.zeros(len(x), np.uint8)


def iq4nl_block(x):
    d = f16(np.abs(x).max() / 127)
    q = iq4_indices(x, np.float32(d))
    return np.concatenate([np.array([d], dtype=np.float16).view(np.uint8), q[:16] | (q[16:] << 4)])


def iq4xs_block(x):
    sub = x.reshape(8, 32)
    scale = np.abs(sub).max(axis=1) / 127
    d = f16(scale.max() / 31 if scale.max() > 0 else 0)
    ls = np.clip(np.rint(scale / np.float32(d)) if d else np.zeros(8), -32, 31).astype(np.int32)
    ls[2] = -ls[2]  # one negative sub-block scale
    qs = np.zeros(128, dtype=np.uint8)
    for j in range(8):
        q = iq4_indices(sub[j], np.float32(d) * ls[j])
        qs[16 * j:16 * j + 16] = q[:16] | (q[16:] << 4)
    u = (ls + 32).astype(np.uint32)
    scales_h = sum(int(u[j] >> 4) << (2 * j) for j in range(8))
    scales_l = np.array([(u[2 * i] & 15) | ((u[2 * i + 1] & 15) << 4) for i in range(4)], dtype=np.uint8)
    return np.concatenate([np.array([d], dtype=np.float16).view(np.uint8),
                           np.array([scales_h], dtype=np.uint16).view(np.uint8), scales_l, qs])


BLOCK_FNS = {Q.Q4_K: lambda b: q45k_block(b, 4), Q.Q5_K: lambda b: q45k_block(b, 5), Q.Q6_K: q6k_block,
             Q.IQ4_NL: iq4nl_block, Q.IQ4_XS: iq4xs_block}


def quantize(a, qtype):
    """Row-major float32 matrix -> (raw uint8 rows, dequantized float32 matrix per gguf.quants)."""
    if qtype in BLOCK_FNS:
        bs = 32 if qtype == Q.IQ4_NL else 256
        raw = np.stack([BLOCK_FNS[qtype](blk) for blk in a.reshape(-1, bs)]).reshape(a.shape[0], -1)
    else:
        raw = quants.quantize(a, qtype)
    return raw, quants.dequantize(raw, qtype).reshape(a.shape)


def main():
    name = "tiny-q"
    out_dir = os.path.join(ROOT, "tests", "data", name)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    cfg = tiny_config(
        1024, [S, S, F, F], sliding_window=8, max_positions=4096,
        vision=dict(patch_size=4, pooling_kernel_size=2, mm_embed_dim=96, output_proj_dims=96, mm_posemb_size=32),
        audio_embed_dim=32, eos_token_id=1, hidden_size=256, intermediate_size=512,
        boi_token_id=1000, eoi_token_id=1001, image_token_id=1002, video_token_id=1003,
        boa_token_id=1004, eoa_token_index=1005, audio_token_id=1006)
    model = build_model(cfg, seed=3, embed_std=0.05)
    tc = model.config.text_config
    lm = model.model.language_model

    # Quantize each matrix, and put the dequantized values back into the reference model.
    w = gguf_writer.begin_gemma4(os.path.join(out_dir, "model.gguf"), f"g4 {name}", gguf_writer.geometry_from_hf(tc))
    counts = {}

    def add_matrix(gname, param):
        qtype = TYPES["token_embd.weight"] if gname == "token_embd.weight" else TYPES[int(gname.split(".")[1])][gname.split(".")[2]]
        raw, deq = quantize(param.detach().numpy().astype(np.float32), qtype)
        with torch.no_grad():
            param.copy_(torch.from_numpy(deq))
        w.add_tensor(gname, raw, raw_dtype=qtype)  # raw is [rows, bytes per row]
        counts[qtype.name] = counts.get(qtype.name, 0) + 1

    add_matrix("token_embd.weight", lm.embed_tokens.weight)
    w.add_tensor("output_norm.weight", lm.norm.weight.detach().numpy().astype(np.float32))
    for i, layer in enumerate(lm.layers):
        params = dict(layer.named_parameters())
        params["layer_scalar"] = layer.layer_scalar
        for hf, gg in gguf_writer.HF_TO_GGUF.items():
            if hf not in params:
                continue
            base = gg.rsplit(".", 1)[0]
            if base in TYPES[i]:
                add_matrix(f"blk.{i}.{gg}", params[hf])
            else:
                w.add_tensor(f"blk.{i}.{gg}", params[hf].detach().numpy().astype(np.float32).reshape(-1))
    gguf_writer.finish(w)
    assert len(counts) == 10, counts

    rng = np.random.default_rng(99)
    prompts = {"short": [2, 17, 300, 45, 999], "window": [2] + rng.integers(5, 1000, size=39).tolist()}
    goldens = {}
    for pname, ids in prompts.items():
        hidden, logits = record(model, ids)
        goldens[f"{pname}.ids"] = torch.tensor(ids, dtype=torch.int32)
        for i, h in enumerate(hidden):
            goldens[f"{pname}.hidden.{i}"] = h.contiguous()
        goldens[f"{pname}.logits"] = logits.contiguous()
        goldens[f"{pname}.greedy"] = torch.tensor(greedy(model, ids, 16), dtype=torch.int32)
    save_file(goldens, os.path.join(out_dir, "goldens.safetensors"),
              metadata={"transformers": transformers.__version__, "torch": torch.__version__,
                        "types": ",".join(f"{k}:{v}" for k, v in sorted(counts.items()))})
    for fname in os.listdir(out_dir):
        xz_file(os.path.join(out_dir, fname))
    with open(os.path.join(out_dir, "VERSIONS"), "w") as f:
        f.write(f"transformers {transformers.__version__}\ntorch {torch.__version__}\n"
                f"numpy {np.__version__}\ngguf {importlib.metadata.version('gguf')}\n")
    print(counts)


if __name__ == "__main__":
    main()
