#!/usr/bin/env python3
"""Writes tests/data/tiny-chat/: a random Gemma 4 text model with the real 262144-token vocabulary,
small enough to commit (hidden 16, three layers), for end-to-end tests of `g4 chat` and `g4 template`
with the real tokenizer and chat template. Its replies are meaningless; what is tested is the
pipeline (template, tokenizer, prefix reuse, parser, output format), not the model.

The embedding takes only a few distinct values so that it compresses to a few hundred KB.
"""
import json
import lzma
import os

import numpy as np
from safetensors.numpy import save_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONFIG = {
    "model_type": "gemma4_unified_text", "vocab_size": 262144, "hidden_size": 16, "intermediate_size": 32,
    "num_hidden_layers": 3, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8,
    "global_head_dim": 16, "num_global_key_value_heads": 1, "attention_k_eq_v": True, "sliding_window": 16,
    "layer_types": ["sliding_attention", "sliding_attention", "full_attention"],
    "final_logit_softcapping": 30.0, "eos_token_id": [1, 106, 50], "bos_token_id": 2, "pad_token_id": 0,
    "max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
}


def main():
    rng = np.random.default_rng(11)
    out = os.path.join(ROOT, "tests", "data", "tiny-chat")
    os.makedirs(out, exist_ok=True)
    t = {}
    p = "model.language_model."
    t[p + "embed_tokens.weight"] = (rng.integers(-1, 2, size=(262144, 16)) * 0.05).astype(np.float32)
    t[p + "norm.weight"] = (1 + 0.1 * rng.standard_normal(16)).astype(np.float32)
    for i in range(3):
        hd = 16 if i == 2 else 8
        l = f"{p}layers.{i}."
        for n in ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                  "post_feedforward_layernorm"]:
            t[l + n + ".weight"] = (1 + 0.1 * rng.standard_normal(16)).astype(np.float32)
        t[l + "self_attn.q_proj.weight"] = (0.3 * rng.standard_normal((2 * hd, 16))).astype(np.float32)
        t[l + "self_attn.k_proj.weight"] = (0.3 * rng.standard_normal((hd, 16))).astype(np.float32)
        if i != 2:
            t[l + "self_attn.v_proj.weight"] = (0.3 * rng.standard_normal((hd, 16))).astype(np.float32)
        t[l + "self_attn.o_proj.weight"] = (0.3 * rng.standard_normal((16, 2 * hd))).astype(np.float32)
        t[l + "self_attn.q_norm.weight"] = (1 + 0.1 * rng.standard_normal(hd)).astype(np.float32)
        t[l + "self_attn.k_norm.weight"] = (1 + 0.1 * rng.standard_normal(hd)).astype(np.float32)
        t[l + "mlp.gate_proj.weight"] = (0.3 * rng.standard_normal((32, 16))).astype(np.float32)
        t[l + "mlp.up_proj.weight"] = (0.3 * rng.standard_normal((32, 16))).astype(np.float32)
        t[l + "mlp.down_proj.weight"] = (0.3 * rng.standard_normal((16, 32))).astype(np.float32)
        t[l + "layer_scalar"] = np.array([0.9], dtype=np.float32)
    path = os.path.join(out, "model.safetensors")
    save_file(t, path)
    with open(path, "rb") as f:
        data = f.read()
    with lzma.open(path + ".xz", "wb", preset=9 | lzma.PRESET_EXTREME) as f:
        f.write(data)
    os.remove(path)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    write_expected_prompts(out)


CONVERSATION = {
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What's the weather in Paris? Use °C."},
        {"role": "assistant", "content": "",
         "tool_calls": [{"id": "c1", "type": "function",
                         "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "{\"temp\": 21, \"sky\": \"clear\"}"},
        {"role": "assistant", "content": "21 °C and clear."},
        {"role": "user", "content": "Thanks! And tomorrow?"},
    ],
    "tools": [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["C", "F"]}}, "required": ["city"]}}}],
}


def write_expected_prompts(out):
    """The prompts HF renders (transformers' chat-template renderer, official template) and HF
    tokenizers' ids for them, for the CLI tests of g4 template and g4 chat."""
    from tokenizers import Tokenizer
    from transformers.utils.chat_template_utils import render_jinja_template
    shared = os.path.join(ROOT, "src", "text", "builtin", "gemma4_chat_template.jinja")
    with open(shared, encoding="utf-8") as f:
        template = f.read()
    tok_path = os.path.join(ROOT, "tests", "data", "tokenizer", "gemma4-tokenizer.json.xz")
    with lzma.open(tok_path) as f:
        tok = Tokenizer.from_str(f.read().decode("utf-8"))
    with open(os.path.join(out, "conversation.json"), "w", encoding="utf-8") as f:
        json.dump(CONVERSATION, f, indent=2, ensure_ascii=False)
    for think in (False, True):
        rendered = render_jinja_template(conversations=[CONVERSATION["messages"]], tools=CONVERSATION["tools"],
                                         chat_template=template, add_generation_prompt=True, bos_token="<bos>",
                                         eos_token="<eos>", enable_thinking=think)[0][0]
        name = "think" if think else "nothink"
        with open(os.path.join(out, f"prompt_{name}.txt"), "w", encoding="utf-8", newline="") as f:
            f.write(rendered)
        ids = tok.encode(rendered, add_special_tokens=False).ids
        with open(os.path.join(out, f"prompt_{name}.ids"), "w") as f:
            f.write(",".join(map(str, ids)) + "\n")


if __name__ == "__main__":
    main()
