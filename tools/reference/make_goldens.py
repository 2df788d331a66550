#!/usr/bin/env python3
"""Builds the tiny Gemma 4 "unified" test models and records HF transformers' outputs for them.

Writes tests/data/tiny-a/ and tests/data/tiny-a-bf16/ (compressed with xz): the model as an HF folder
(config.json, model.safetensors) and, for tiny-a, as a GGUF in llama.cpp's gemma4 layout (mixed
F32/F16/BF16 tensors), plus goldens.safetensors holding, per prompt, the input ids, the hidden state after the embedding and
after every layer, the post-final-norm state, the logits, and a 32-token greedy continuation.

Weights are randomised away from their init (norm weights, layer_scalar, embeddings with std 1 so the
softcap is active) and then rounded to values that f32, f16 and bf16 all represent exactly, so every
file holds the same numbers and one f32 reference covers them all.

Run: .venv/bin/python tools/reference/make_goldens.py   (after scripts/setup --venv)
"""
import importlib.metadata
import lzma
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from transformers import Gemma4UnifiedConfig, Gemma4UnifiedForConditionalGeneration

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_writer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
S, F = "sliding_attention", "full_attention"


def tiny_config(vocab_size, layer_types, sliding_window, max_positions, vision, audio_embed_dim, eos_token_id,
                hidden_size=128, intermediate_size=512, **token_ids):
    """The spec's tiny Gemma 4 configs: hidden 128, 4 query heads, GQA 2:1 on sliding layers (head dim 64),
    MQA with K = V on full layers (head dim 128), proportional RoPE, softcap 30."""
    return Gemma4UnifiedConfig(
        text_config=dict(
            model_type="gemma4_unified_text", vocab_size=vocab_size, hidden_size=hidden_size,
            intermediate_size=intermediate_size,
            num_hidden_layers=len(layer_types), layer_types=layer_types, num_attention_heads=4,
            num_key_value_heads=2, head_dim=64, global_head_dim=128, num_global_key_value_heads=1,
            attention_k_eq_v=True, sliding_window=sliding_window, max_position_embeddings=max_positions,
            rope_parameters={
                S: {"rope_type": "default", "rope_theta": 10000.0},
                F: {"rope_type": "proportional", "partial_rotary_factor": 0.25, "rope_theta": 1000000.0},
            },
            rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh", final_logit_softcapping=30.0,
            use_bidirectional_attention="vision", num_kv_shared_layers=0, use_double_wide_mlp=False,
            attention_bias=False, tie_word_embeddings=True, pad_token_id=0, eos_token_id=eos_token_id,
            bos_token_id=2, initializer_range=0.02,
        ),
        vision_config=dict(model_type="gemma4_unified_vision", rms_norm_eps=1e-6, **vision),
        audio_config=dict(model_type="gemma4_unified_audio", audio_embed_dim=audio_embed_dim, rms_norm_eps=1e-6),
        tie_word_embeddings=True, **token_ids,
    )


def tiny_a_config():
    # Tiny-A: every 12B code path in 2 M parameters; a 1024-token vocabulary with remapped special ids.
    return tiny_config(
        1024, [S, S, F, S, S, F], sliding_window=8, max_positions=4096,
        vision=dict(patch_size=4, pooling_kernel_size=2, mm_embed_dim=96, output_proj_dims=96, mm_posemb_size=32),
        audio_embed_dim=32, eos_token_id=1,
        boi_token_id=1000, eoi_token_id=1001, image_token_id=1002, video_token_id=1003,
        boa_token_id=1004, eoa_token_index=1005, audio_token_id=1006)


def tiny_b_config():
    # Tiny-B: the real vocabulary and special ids, the real 5:1 layer pattern, 48-px patches and 640-sample
    # frames (too large to commit: its embedding alone is 33.6 M parameters).
    return tiny_config(
        262144, [S, S, S, S, S, F] * 2, sliding_window=128, max_positions=262144,
        vision=dict(patch_size=16, pooling_kernel_size=3, mm_embed_dim=128, output_proj_dims=128,
                    mm_posemb_size=1120),
        audio_embed_dim=640, eos_token_id=[1, 106])


def exactly_representable(t):
    """Rounds to bf16 and flushes values below f16's normal range, so f32/f16/bf16 agree exactly."""
    t = t.to(torch.bfloat16).to(torch.float32)
    t[t.abs() < 2.0 ** -14] = 0.0
    return t


def build_model(cfg, seed, embed_std=1.0):
    torch.manual_seed(seed)
    model = Gemma4UnifiedForConditionalGeneration(cfg).eval().to(torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and name.endswith("weight"):
                p.normal_(1.0, 0.2)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.1)
        for layer in model.model.language_model.layers:
            layer.layer_scalar.uniform_(0.5, 1.5)
        model.model.language_model.embed_tokens.weight.normal_(0.0, embed_std)
        model.model.embed_vision.pos_embedding.normal_(0.0, 0.5)
        # Weights only: buffers such as embed_scale and the RoPE tables stay as the model computes them.
        for p in list(model.parameters()) + [layer.layer_scalar for layer in model.model.language_model.layers]:
            p.copy_(exactly_representable(p))
    model.config._attn_implementation = "eager"
    return model


def record(model, ids):
    """Hidden states after the embedding, after each layer and after the final norm; and logits."""
    lm = model.model.language_model
    captured = []
    hooks = [lm.embed_tokens.register_forward_hook(lambda m, i, o: captured.append(o.detach().clone()))]
    for layer in lm.layers:
        hooks.append(layer.register_forward_hook(
            lambda m, i, o: captured.append((o[0] if isinstance(o, tuple) else o).detach().clone())))
    hooks.append(lm.norm.register_forward_hook(lambda m, i, o: captured.append(o.detach().clone())))
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), use_cache=False)
    for h in hooks:
        h.remove()
    return [c[0] for c in captured], out.logits[0].detach().clone()


def greedy(model, ids, n):
    """Greedy decoding with <image|>/<audio|> suppressed, as the IT generation_config does."""
    cfg = model.config
    suppress = [cfg.eoi_token_id, cfg.eoa_token_index]
    ids = list(ids)
    out = []
    with torch.no_grad():
        for _ in range(n):
            logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, -1].clone()
            logits[suppress] = -float("inf")
            nxt = int(torch.argmax(logits))
            out.append(nxt)
            ids.append(nxt)
    return out


def xz_file(path):
    with open(path, "rb") as f:
        data = f.read()
    with lzma.open(path + ".xz", "wb", preset=9 | lzma.PRESET_EXTREME) as f:
        f.write(data)
    os.remove(path)


def make_variant(name, seed, embed_std, dtype, gguf):
    """One Tiny-A variant: weights in `dtype`, goldens from an f32 run on the same numbers."""
    out_dir = os.path.join(ROOT, "tests", "data", name)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    model = build_model(tiny_a_config(), seed=seed, embed_std=embed_std)

    with tempfile.TemporaryDirectory() as tmp:
        saved = build_model(tiny_a_config(), seed=seed, embed_std=embed_std).to(dtype)
        saved.save_pretrained(tmp, safe_serialization=True)
        shutil.copy(os.path.join(tmp, "config.json"), os.path.join(out_dir, "config.json"))
        shutil.copy(os.path.join(tmp, "model.safetensors"), os.path.join(out_dir, "model.safetensors"))
    if dtype == torch.bfloat16:
        # HF multiplies the embeddings by sqrt(hidden) cast to the weights' dtype; reproduce that scale
        # in the f32 reference run (everything else stays f32, as g4 computes).
        emb = model.model.language_model.embed_tokens
        emb.embed_scale.fill_(float(torch.tensor(emb.scalar_embed_scale).to(torch.bfloat16)))
    from safetensors import safe_open
    with safe_open(os.path.join(out_dir, "model.safetensors"), "pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if gguf:
        gguf_writer.write_gemma4_gguf(os.path.join(out_dir, "model.gguf"), model.config.text_config, tensors,
                                      name=f"g4 {name}")

    rng = np.random.default_rng(1234)
    prompts = {
        "short": [2, 17, 300, 45, 999],
        "window": [2] + rng.integers(5, 1000, size=39).tolist(),  # 40 tokens, W = 8: the ring wraps
        "long": [2] + rng.integers(5, 1000, size=95).tolist(),
    }
    goldens = {}
    for pname, ids in prompts.items():
        hidden, logits = record(model, ids)
        goldens[f"{pname}.ids"] = torch.tensor(ids, dtype=torch.int32)
        for i, h in enumerate(hidden):
            goldens[f"{pname}.hidden.{i}"] = h.contiguous()
        goldens[f"{pname}.logits"] = logits.contiguous()
        goldens[f"{pname}.greedy"] = torch.tensor(greedy(model, ids, 32), dtype=torch.int32)
    save_file(goldens, os.path.join(out_dir, "goldens.safetensors"),
              metadata={"transformers": transformers.__version__, "torch": torch.__version__,
                        "hidden": "embedding, each layer's output, post-final-norm"})

    for fname in os.listdir(out_dir):
        if fname.endswith((".safetensors", ".gguf")):
            xz_file(os.path.join(out_dir, fname))
    with open(os.path.join(out_dir, "VERSIONS"), "w") as f:
        f.write(f"transformers {transformers.__version__}\ntorch {torch.__version__}\n"
                f"numpy {np.__version__}\ngguf {importlib.metadata.version('gguf')}\n")


if __name__ == "__main__":
    # The spec's Tiny-A: f32 HF folder and a mixed F32/F16/BF16 GGUF; embeddings with std 1 drive the
    # logits into the softcap.
    make_variant("tiny-a", seed=0, embed_std=1.0, dtype=torch.float32, gguf=True)
    # A bf16 checkpoint (the 12B's storage type) with small embeddings, so that greedy continuations
    # vary instead of repeating the last token.
    make_variant("tiny-a-bf16", seed=1, embed_std=0.05, dtype=torch.bfloat16, gguf=False)
