#!/usr/bin/env python3
"""Writes tests/data/quant/goldens.json.xz: the fixtures src/quant/quant_test.cc checks the reference
quantizers and dequantizers against.

For every block type: a set of f32 input rows (random at several scales, uniform, outliers, zeros,
constants, negative-only, tiny, huge, exact ties, mixed sub-block scales), the bytes they quantize to,
what those bytes dequantize to, and random byte blocks (f16 scale fields forced finite) with their
dequantization.

  * dequantization: gguf.quants (the `gguf` PyPI package)
  * quantization: gguf.quants for Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 (and F16/BF16); llama.cpp through ctypes
    for Q4_K Q5_K Q6_K IQ4_NL IQ4_XS (ggml_quantize_chunk without an importance matrix, which is what
    llama-quantize does), so --libggml is required.
  * cross-checks: where both exist, llama.cpp's quantization and dequantization must agree with
    gguf.quants bit for bit, else the script stops.

Usage: make_quant_goldens.py --libggml path/to/libggml-base.so [--out tests/data/quant]
"""
import argparse
import ctypes
import json
import lzma
import pathlib

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

N = 256  # elements per input row: a multiple of every block size
SEED = 20260818

BLOCK_TYPES = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"]
GGUF_QUANTIZES = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"}
# Byte offsets of the f16 fields inside one block (forced finite in the random blocks).
F16_FIELDS = {"Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0], "Q4_K": [0, 2],
              "Q5_K": [0, 2], "Q6_K": [208], "IQ4_NL": [0], "IQ4_XS": [0]}
RANDOM_BLOCKS_32 = 16   # random byte blocks for the 32-element types
RANDOM_BLOCKS_256 = 4   # ... and for the 256-element types
# Extra random rows whose quantization (not dequantization) is stored: the k-quant and IQ4 searches
# compare float errors, and only many inputs make a last-bit slip (a fused multiply-add, a reordered
# sum) flip one of their choices; these add breadth at little size.
EXTRA_ROWS = 16


def input_rows(rng):
    """(name, row) pairs, each row N float32 values."""
    rows = []
    add = lambda name, v: rows.append((name, np.asarray(v, dtype=np.float32).reshape(N)))
    for i, s in enumerate([1.0, 1.0, 1.0, 0.02, 0.02, 100.0]):
        add(f"normal_{s}_{i}", rng.standard_normal(N) * s)
    add("student_t3", rng.standard_t(3, N))
    add("uniform_pm1", rng.uniform(-1, 1, N))
    add("uniform_0_1", rng.uniform(0, 1, N))
    v = rng.standard_normal(N) * 0.02
    v[77] = 50.0
    add("outlier_pos", v)
    v = rng.standard_normal(N) * 0.02
    v[200] = -30.0
    add("outlier_neg", v)
    add("zeros", np.zeros(N))
    add("const_pos", np.full(N, 0.75))
    add("const_neg", np.full(N, -3.0))
    add("negative_only", -np.abs(rng.standard_normal(N)))
    add("tiny_1e-30", rng.standard_normal(N) * 1e-30)
    add("f16_subnormal_scale_1e-6", rng.standard_normal(N) * 1e-6)
    add("f16_subnormal_scale_3e-5", rng.standard_normal(N) * 3e-5)
    add("large_1e4", rng.standard_normal(N) * 1e4)
    v = rng.uniform(-60000, 60000, N)
    v[5] = 65000.0
    add("near_f16_max", v)
    add("half_steps_ties", rng.integers(-16, 17, N) * 0.5)
    # Max 127 (or -8 / -16 for the symmetric 4/5-bit types) makes the inverse scale exactly 1, so
    # halves are exact ties: roundf (Q8_0) and ties-to-even (nearest_int) tell apart here.
    v = rng.integers(-254, 255, N) * 0.5
    v[::32] = 127.0
    add("ties_scale_1_q8", v)
    v = rng.integers(-16, 17, N) * 0.5
    v[::32] = -16.0
    add("ties_scale_1_q5", v)
    # Each 32-block (and 16-block) at its own scale: exercises the k-quants' sub-block scale packing.
    scales = np.repeat(10.0 ** rng.uniform(-3, 1, N // 16), 16)
    add("mixed_subblock_scales", rng.standard_normal(N) * scales)
    v = rng.standard_normal(N)
    v[32:64] = 0.0
    v[160:192] = 1e-3 * rng.standard_normal(32)
    add("zero_and_small_subblocks", v)
    v = np.abs(rng.standard_normal(N)) + 2.0
    add("positive_offset", v)
    return rows


class LlamaCpp:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        f = self.lib.ggml_quantize_chunk
        f.restype = ctypes.c_size_t
        f.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                      ctypes.c_int64, ctypes.c_void_p]

    def quantize(self, name, x):
        qt = T[name]
        x = np.ascontiguousarray(x, dtype=np.float32)
        block, size = gguf.GGML_QUANT_SIZES[qt]
        rows, n = x.shape
        out = np.zeros(rows * n // block * size, dtype=np.uint8)
        written = self.lib.ggml_quantize_chunk(int(qt), x.ctypes.data, out.ctypes.data, 0, rows, n, None)
        assert written == out.size, (name, written, out.size)
        return out.reshape(rows, -1)

    def dequantize(self, name, data, n):
        fn = getattr(self.lib, f"dequantize_row_{name.lower().replace('_k', '_K')}")
        fn.restype = None
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        data = np.ascontiguousarray(data, dtype=np.uint8)
        out = np.zeros(n, dtype=np.float32)
        fn(data.ctypes.data, out.ctypes.data, n)
        return out


def same_bits(a, b):
    a = np.asarray(a, dtype=np.float32).ravel()
    b = np.asarray(b, dtype=np.float32).ravel()
    both_nan = np.isnan(a) & np.isnan(b)
    return a.shape == b.shape and bool(np.all(both_nan | (a.view(np.uint32) == b.view(np.uint32))))


def random_blocks(rng, name):
    block, size = gguf.GGML_QUANT_SIZES[T[name]]
    count = RANDOM_BLOCKS_32 if block == 32 else RANDOM_BLOCKS_256
    data = rng.integers(0, 256, (count, size), dtype=np.uint8)
    for off in F16_FIELDS[name]:
        h = data[:, off:off + 2].copy().view(np.uint16)
        inf_or_nan = (h >> 10 & 0x1F) == 0x1F
        h[inf_or_nan] &= np.uint16(0xBFFF)  # drop the exponent's top bit: a finite value
        data[:, off:off + 2] = h.view(np.uint8)
    return data


def hexf(a):
    return np.ascontiguousarray(a, dtype=np.float32).tobytes().hex()


def hexb(a):
    return np.ascontiguousarray(a, dtype=np.uint8).tobytes().hex()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--libggml", required=True, help="llama.cpp's libggml-base shared library")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[2] / "tests/data/quant"))
    args = ap.parse_args()
    llama = LlamaCpp(args.libggml)
    rng = np.random.default_rng(SEED)

    named = input_rows(rng)
    x = np.stack([r for _, r in named])
    # Heavy-tailed rows at a weight-like scale, each 32-block at its own scale.
    extra = (rng.standard_t(5, (EXTRA_ROWS, N)) * np.repeat(10.0 ** rng.uniform(-2.5, -0.5, (EXTRA_ROWS, N // 32)),
                                                            32, axis=1)).astype(np.float32)
    doc = {"n_per_row": N, "row_names": [n for n, _ in named], "inputs": hexf(x), "types": {},
           "extra_inputs": hexf(extra)}

    for name in BLOCK_TYPES:
        from_llama = llama.quantize(name, x)
        if name in GGUF_QUANTIZES:
            q = quants.quantize(x, T[name])
            if not np.array_equal(q, from_llama):
                bad = np.argwhere(q != from_llama)[:5]
                raise SystemExit(f"{name}: gguf.quants and llama.cpp quantize differently at {bad.tolist()}")
        else:
            q = from_llama
        deq = quants.dequantize(q, T[name])
        blocks = random_blocks(rng, name)
        block = gguf.GGML_QUANT_SIZES[T[name]][0]
        rdeq = quants.dequantize(blocks, T[name]).reshape(-1)
        for data, expect, what in [(q, deq, "quantized rows"), (blocks, rdeq, "random blocks")]:
            got = llama.dequantize(name, data, expect.size)
            if not same_bits(got, expect):
                raise SystemExit(f"{name}: llama.cpp and gguf.quants dequantize {what} differently")
        assert rdeq.size == blocks.shape[0] * block
        extra_q = llama.quantize(name, extra)
        if name in GGUF_QUANTIZES and not np.array_equal(extra_q, quants.quantize(extra, T[name])):
            raise SystemExit(f"{name}: gguf.quants and llama.cpp quantize the extra rows differently")
        doc["types"][name] = {"quant": hexb(q), "dequant": hexf(deq), "random_blocks": hexb(blocks),
                              "random_dequant": hexf(rdeq), "extra_quant": hexb(extra_q)}
        print(f"{name}: {q.nbytes} quantized bytes, {blocks.shape[0]} random blocks")

    # Plain float types: every bit pattern class (NaN, inf, subnormal) in the random data.
    for name, width in [("F16", 2), ("BF16", 2), ("F32", 4)]:
        raw = rng.integers(0, 256, 512 * width, dtype=np.uint8)
        entry = {"random_blocks": hexb(raw), "random_dequant": hexf(quants.dequantize(raw, T[name]).reshape(-1))}
        if name != "F32":
            q = quants.quantize(x, T[name])
            entry["quant"] = hexb(q.view(np.uint8))
            entry["dequant"] = hexf(quants.dequantize(q.view(np.uint8), T[name]))
        doc["types"][name] = entry

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=0, sort_keys=True).encode()
    path = out / "goldens.json.xz"
    path.write_bytes(lzma.compress(text, preset=9 | lzma.PRESET_EXTREME))
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(text)} uncompressed)")


if __name__ == "__main__":
    main()
