"""Writes a Gemma 4 text model as a GGUF in llama.cpp's `gemma4` layout, with the `gguf` package.

Keys and tensor names follow llama.cpp's gemma4 architecture: per-layer arrays for the head counts and
the sliding pattern, `rope_freqs` (F32, 1.0 for rotated pairs and 1e30 for the rest) for the
proportional RoPE of full layers, norm weights stored as they are (Gemma 4 scales by w, not 1 + w),
`layer_output_scale` for layer_scalar, and no `output.weight` (tied embeddings).

Tensor types are mixed on purpose (F32 norms and embeddings, F16 and BF16 matrices) so that one file
exercises every float type the loader reads.
"""
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


def write_gemma4_gguf(path, tc, tensors, name, tokenizer=None, all_f32=False):
    """tc: the HF text config; tensors: HF tensor name -> torch tensor; tokenizer: optional callback
    that adds tokenizer.* keys to the writer (without one the file says tokenizer model "none" and
    gives the vocabulary size, which llama.cpp accepts for token-id input); all_f32: store every
    tensor as F32 (for tight comparisons with llama.cpp, which rounds activations to the weight type)."""
    arch = "gemma4"
    w = gguf.GGUFWriter(path, arch)
    w.add_name(name)
    n = tc.num_hidden_layers
    sliding = [t == "sliding_attention" for t in tc.layer_types]
    # Head geometry differs per layer type; HF resolves it into per_layer_config.
    hd = [tc.per_layer_config[i].head_dim for i in range(n)]
    kv = [tc.per_layer_config[i].num_key_value_heads for i in range(n)]
    swa_hd = next((hd[i] for i in range(n) if sliding[i]), hd[0])
    g_hd = next((hd[i] for i in range(n) if not sliding[i]), hd[0])

    w.add_block_count(n)
    w.add_context_length(tc.max_position_embeddings)
    w.add_embedding_length(tc.hidden_size)
    w.add_feed_forward_length([tc.intermediate_size] * n)
    w.add_head_count(tc.num_attention_heads)
    w.add_head_count_kv(kv)
    w.add_key_length(g_hd)
    w.add_value_length(g_hd)
    w.add_uint32(f"{arch}.attention.key_length_swa", swa_hd)
    w.add_uint32(f"{arch}.attention.value_length_swa", swa_hd)
    w.add_rope_dimension_count(g_hd)
    w.add_uint32(f"{arch}.rope.dimension_count_swa", swa_hd)
    rp = tc.rope_parameters
    w.add_rope_freq_base(rp["full_attention"]["rope_theta"])
    w.add_float32(f"{arch}.rope.freq_base_swa", rp["sliding_attention"]["rope_theta"])
    w.add_sliding_window(tc.sliding_window)
    w.add_array(f"{arch}.attention.sliding_window_pattern", sliding)
    w.add_uint32(f"{arch}.attention.shared_kv_layers", tc.num_kv_shared_layers)
    w.add_uint32(f"{arch}.embedding_length_per_layer_input", 0)
    w.add_layer_norm_rms_eps(tc.rms_norm_eps)
    w.add_final_logit_softcapping(tc.final_logit_softcapping)
    if tokenizer:
        tokenizer(w)
    else:
        w.add_tokenizer_model("none")
        w.add_uint32(f"{arch}.vocab_size", tc.vocab_size)

    # Proportional RoPE: the first n_rot pairs keep their frequency, the rest are divided by 1e30.
    factor = rp["full_attention"].get("partial_rotary_factor", 1.0)
    n_rot = int(factor * g_hd / 2)
    freqs = np.full(g_hd // 2, 1e30, dtype=np.float32)
    freqs[:n_rot] = 1.0
    w.add_tensor("rope_freqs.weight", freqs)

    lm = "model.language_model."
    _add(w, "token_embd.weight", tensors[lm + "embed_tokens.weight"])
    _add(w, "output_norm.weight", tensors[lm + "norm.weight"])
    for i in range(n):
        for hf, gg in HF_TO_GGUF.items():
            key = f"{lm}layers.{i}.{hf}"
            if key in tensors:
                _add(w, f"blk.{i}.{gg}", tensors[key], "f32" if all_f32 else MATRIX_TYPES.get(gg, "f32"))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
