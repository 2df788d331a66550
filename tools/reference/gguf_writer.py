"""Writes a Gemma 4 text model as a GGUF in llama.cpp's `gemma4` layout, with the `gguf` package.

Keys and tensor names follow llama.cpp's gemma4 architecture: per-layer arrays for the head counts and
the sliding pattern, `rope_freqs` (F32, 1.0 for rotated pairs and 1e30 for the rest) for the
proportional RoPE of full layers, norm weights stored as they are (Gemma 4 scales by w, not 1 + w),
`layer_output_scale` for layer_scalar, and no `output.weight` (tied embeddings).

Tensor types are mixed on purpose (F32 norms and embeddings, F16 and BF16 matrices) so that one file
exercises every float type the loader reads.
"""
from dataclasses import dataclass

import numpy as np
import torch
import gguf

HF_TO_GGUF = {
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "layer_scalar": "layer_output_scale.weight",
}

# Which float type each matrix is stored in (the rest stay F32).
MATRIX_TYPES = {
    "attn_q.weight": "f16", "attn_k.weight": "bf16", "attn_v.weight": "f16",
    "attn_output.weight": "bf16", "ffn_gate.weight": "f16", "ffn_up.weight": "bf16",
    "ffn_down.weight": "f16",
}


def _add(writer, name, t, kind="f32"):
    a = t.detach().to(torch.float32).contiguous()
    if kind == "f16":
        writer.add_tensor(name, a.numpy().astype(np.float16))
    elif kind == "bf16":
        raw = a.view(torch.int32).numpy().astype(np.uint32)
        assert np.all((raw & 0xFFFF) == 0), f"{name}: not bf16-representable"
        writer.add_tensor(name, (raw >> 16).astype(np.uint16), raw_shape=list(a.shape),
                          raw_dtype=gguf.GGMLQuantizationType.BF16)
    else:
        writer.add_tensor(name, a.numpy())


@dataclass
class Geometry:
    """What the gemma4 GGUF keys describe: per-layer types and KV heads, two head sizes, RoPE."""
    vocab: int
    hidden: int
    ffn: int
    n_heads: int
    sliding: list  # per layer: True for sliding-window attention
    kv_heads: list  # per layer
    swa_head_dim: int
    full_head_dim: int
    window: int
    context: int
    theta_full: float
    theta_swa: float
    partial_rotary: float  # fraction of the full layers' pairs that rotate (proportional RoPE)
    eps: float = 1e-6
    softcap: float = 30.0


def geometry_from_hf(tc):
    n = tc.num_hidden_layers
    sliding = [t == "sliding_attention" for t in tc.layer_types]
    # Head geometry differs per layer type; HF resolves it into per_layer_config.
    hd = [tc.per_layer_config[i].head_dim for i in range(n)]
    rp = tc.rope_parameters
    return Geometry(
        vocab=tc.vocab_size, hidden=tc.hidden_size, ffn=tc.intermediate_size, n_heads=tc.num_attention_heads,
        sliding=sliding, kv_heads=[tc.per_layer_config[i].num_key_value_heads for i in range(n)],
        swa_head_dim=next((hd[i] for i in range(n) if sliding[i]), hd[0]),
        full_head_dim=next((hd[i] for i in range(n) if not sliding[i]), hd[0]),
        window=tc.sliding_window, context=tc.max_position_embeddings,
        theta_full=rp["full_attention"]["rope_theta"], theta_swa=rp["sliding_attention"]["rope_theta"],
        partial_rotary=rp["full_attention"].get("partial_rotary_factor", 1.0), eps=tc.rms_norm_eps,
        softcap=tc.final_logit_softcapping or 0.0)


def begin_gemma4(path, name, g, tokenizer=None):
    """Opens a GGUF writer with every gemma4 key for geometry `g` and the rope_freqs table.
    tokenizer: optional callback that adds tokenizer.* keys (without one the file says tokenizer model
    "none" and gives the vocabulary size, which llama.cpp accepts for token-id input)."""
    arch = "gemma4"
    n = len(g.sliding)
    w = gguf.GGUFWriter(path, arch)
    w.add_name(name)
    w.add_block_count(n)
    w.add_context_length(g.context)
    w.add_embedding_length(g.hidden)
    w.add_feed_forward_length([g.ffn] * n)
    w.add_head_count(g.n_heads)
    w.add_head_count_kv(g.kv_heads)
    w.add_key_length(g.full_head_dim)
    w.add_value_length(g.full_head_dim)
    w.add_uint32(f"{arch}.attention.key_length_swa", g.swa_head_dim)
    w.add_uint32(f"{arch}.attention.value_length_swa", g.swa_head_dim)
    w.add_rope_dimension_count(g.full_head_dim)
    w.add_uint32(f"{arch}.rope.dimension_count_swa", g.swa_head_dim)
    w.add_rope_freq_base(g.theta_full)
    w.add_float32(f"{arch}.rope.freq_base_swa", g.theta_swa)
    w.add_sliding_window(g.window)
    w.add_array(f"{arch}.attention.sliding_window_pattern", g.sliding)
    w.add_uint32(f"{arch}.attention.shared_kv_layers", 0)
    w.add_uint32(f"{arch}.embedding_length_per_layer_input", 0)
    w.add_layer_norm_rms_eps(g.eps)
    w.add_final_logit_softcapping(g.softcap)
    if tokenizer:
        tokenizer(w)
    else:
        w.add_tokenizer_model("none")
        w.add_uint32(f"{arch}.vocab_size", g.vocab)
    # Proportional RoPE: the first n_rot pairs keep their frequency, the rest are divided by 1e30.
    n_rot = int(g.partial_rotary * g.full_head_dim / 2)
    freqs = np.full(g.full_head_dim // 2, 1e30, dtype=np.float32)
    freqs[:n_rot] = 1.0
    w.add_tensor("rope_freqs.weight", freqs)
    return w


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_gemma4_gguf(path, tc, tensors, name, tokenizer=None, all_f32=False):
    """tc: the HF text config; tensors: HF tensor name -> torch tensor; tokenizer: see begin_gemma4;
    all_f32: store every tensor as F32 (for tight comparisons with llama.cpp, which rounds
    activations to the weight type)."""
    if tc.num_kv_shared_layers:
        raise ValueError("KV-shared layers are not part of this layout")
    w = begin_gemma4(path, name, geometry_from_hf(tc), tokenizer)
    lm = "model.language_model."
    _add(w, "token_embd.weight", tensors[lm + "embed_tokens.weight"])
    _add(w, "output_norm.weight", tensors[lm + "norm.weight"])
    for i in range(tc.num_hidden_layers):
        for hf, gg in HF_TO_GGUF.items():
            key = f"{lm}layers.{i}.{hf}"
            if key in tensors:
                _add(w, f"blk.{i}.{gg}", tensors[key], "f32" if all_f32 else MATRIX_TYPES.get(gg, "f32"))
    finish(w)
