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

import torch
from transformers import Gemma4UnifiedConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens  # noqa: E402

S, F = "sliding_attention", "full_attention"


def tiny_b_config():
    return Gemma4UnifiedConfig(
        text_config=dict(
            model_type="gemma4_unified_text", vocab_size=262144, hidden_size=128, intermediate_size=512,
            num_hidden_layers=12, layer_types=[S, S, S, S, S, F] * 2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=64, global_head_dim=128, num_global_key_value_heads=1,
            attention_k_eq_v=True, sliding_window=128, max_position_embeddings=262144,
            rope_parameters={
                S: {"rope_type": "default", "rope_theta": 10000.0},
                F: {"rope_type": "proportional", "partial_rotary_factor": 0.25, "rope_theta": 1000000.0},
            },
            rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh", final_logit_softcapping=30.0,
            use_bidirectional_attention="vision", num_kv_shared_layers=0, use_double_wide_mlp=False,
            attention_bias=False, tie_word_embeddings=True, pad_token_id=0, eos_token_id=[1, 106],
            bos_token_id=2,
        ),
        vision_config=dict(model_type="gemma4_unified_vision", patch_size=16, pooling_kernel_size=3,
                           mm_embed_dim=128, output_proj_dims=128, mm_posemb_size=1120, rms_norm_eps=1e-6),
        audio_config=dict(model_type="gemma4_unified_audio", audio_embed_dim=640, rms_norm_eps=1e-6),
        tie_word_embeddings=True,
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--embed-std", type=float, default=0.05)
    a = ap.parse_args()
    model = make_goldens.build_model(tiny_b_config(), seed=2, embed_std=a.embed_std)
    model.save_pretrained(a.out_dir, safe_serialization=True)
    shutil.copy(a.tokenizer, os.path.join(a.out_dir, "tokenizer.json"))


if __name__ == "__main__":
    main()
