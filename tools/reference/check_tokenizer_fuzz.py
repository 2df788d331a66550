#!/usr/bin/env python3
"""Random-string check of g4's tokenizer against HF `tokenizers` (100k cases, fixed seeds).

The strings come from a small portable generator (splitmix64, integer-only) that
src/text/tokenizer_random_test.cc implements identically, so only hashes need to be committed:
  * random code points across all planes (no surrogates), ASCII and C0/C1 controls;
  * substrings of the tokenizer corpus (tests/data/tokenizer/corpus.txt.xz) with characters
    inserted, deleted or replaced from the corpus' character set;
  * concatenations of special-token fragments ("<|tu", "<0x41>", "<bos>", "turn|>", ...);
  * runs of whitespace (space, tab, CR, LF, NBSP, ideographic space, '▁', VT, FF) between words;
  * invalid UTF-8: one of the above as bytes with random bytes inserted or replaced, truncation, or
    known ill-formed sequences (overlong, surrogate, > U+10FFFF, truncated) spliced in;
  * concatenations of the first four kinds.
For invalid UTF-8, HF is given bytes.decode("utf-8", "replace") (one U+FFFD per maximal subpart),
which is what g4 documents doing itself (src/text/tokenizer.h).

Modes:
  (default)            generate, run HF, compare with the committed tests/data/tokenizer/fuzz_hashes.bin
  --write              (re)write fuzz_hashes.bin: "G4TF", version 1, case count, seed, then per case
                       three little-endian uint32 FNV-1a hashes: input bytes, HF ids with special tokens
                       parsed, HF ids with special tokens as text
  --g4-tests BIN       also write every case with its HF ids to a temporary JSON-lines file and run
                       BIN --gtest_filter='TokenizerRandom.*' with G4_TOKENIZER_FUZZ_FILE pointing at it,
                       which compares g4's ids case by case and prints each mismatch in full
  --dump FILE          just write that JSON-lines file

Run: .venv/bin/python tools/reference/check_tokenizer_fuzz.py [--write] [--g4-tests build/g4_tests]
"""
import argparse
import importlib.metadata
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from tokenizers import Tokenizer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "tests", "data", "tokenizer")
SEED = 20261129
CASES = 100_000
M64 = (1 << 64) - 1

# Keep identical to src/text/tokenizer_random_test.cc.
FRAGMENTS = [
    "<", ">", "|", "<|", "|>", "<|tu", "rn>", "<|turn>", "<turn|>", "turn|>", "<|turn", "<bos>", "<bos",
    "os>", "<eos>", "<pad>", "<unk>", "<mask>", "<0x41>", "<0x0A>", "<0xZZ>", "<0x", "<unused0>",
    "<unused99>", "<table>", "</table>", "<td>", "<b>", "</b", "[multimodal]", "[multi", "<|\"|>", "<|\"",
    "<|think|>", "<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>", "<|tool>", "<tool|>",
    "<|tool_response>", "<|image|>", "<|image>", "<image|>", "<|audio|>", "<|video|>",
    "<image_soft_token>", "<start_of_turn>", " ", "  ", "\n", "\n\n", "\t", "\r\n", "\u2581",
    "\u2581\u2581", "a", "the", " the", "\u00e9", "\u4e2d", "\U0001f999", "1", "23", ".", "'s", "\u200d",
    "\ufffd",
]
WHITESPACE = [0x20, 0x09, 0x0A, 0x0D, 0xA0, 0x3000, 0x2581, 0x0B, 0x0C]
BAD = [b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf0\x9f\xa6", b"\xe2\x82", b"\x80", b"\xff",
       b"\xfe", b"\xc3", b"\xe0\x80\x80", b"\xf8\x88\x80\x80\x80"]
KINDS = [0, 0, 1, 1, 2, 2, 3, 4, 4, 5]  # by case index % 10


class Rng:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def range(self, lo, hi):  # inclusive
        return lo + self.below(hi - lo + 1)


class Gen:
    def __init__(self, corpus):
        self.corpus = [ord(c) for c in corpus]
        self.charset = sorted(set(self.corpus))
        self.fragments = [[ord(c) for c in f] for f in FRAGMENTS]

    def random_cp(self, r):
        k = r.below(16)
        if k < 6:
            cp = r.range(0x20, 0xFFFF)
            if 0xD800 <= cp < 0xE000:
                cp += 0x800
            return cp
        if k < 8:
            return r.range(0x20, 0x7E)
        if k == 8:
            if r.below(2) == 0:
                return r.below(0x20)
            return r.range(0x7F, 0x9F)
        if k < 12:
            return r.range(0x10000, 0x1FFFF)
        if k == 12:
            return r.range(0x20000, 0x3FFFF)
        if k == 13:
            return r.range(0xE0000, 0x10FFFF)
        return self.charset[r.below(len(self.charset))]

    def substring(self, r, lo, hi):
        n = r.range(lo, hi)
        start = r.below(len(self.corpus) - n)
        return self.corpus[start:start + n]

    def text(self, r, kind):  # list of code points
        s = []
        if kind == 0:
            for _ in range(r.range(1, 32)):
                s.append(self.random_cp(r))
        elif kind == 1:
            s = self.substring(r, 1, 80)
            for _ in range(r.below(4)):
                op = r.below(3)
                if op == 0 or not s:
                    pos = r.below(len(s) + 1)
                    s.insert(pos, self.charset[r.below(len(self.charset))])
                elif op == 1:
                    del s[r.below(len(s))]
                else:
                    pos = r.below(len(s))
                    s[pos] = self.charset[r.below(len(self.charset))]
        elif kind == 2:
            for _ in range(r.range(1, 12)):
                s += self.fragments[r.below(len(self.fragments))]
        elif kind == 3:
            for _ in range(r.range(1, 10)):
                if r.below(2) == 0:
                    ch = WHITESPACE[r.below(len(WHITESPACE))]
                    s += [ch] * r.range(1, 70)
                else:
                    s += self.substring(r, 1, 8)
        else:  # 5: mixture
            for _ in range(r.range(2, 4)):
                s += self.text(r, r.below(4))
        return s

    def case(self, i):
        """Returns (input bytes, the string HF is given)."""
        r = Rng((SEED << 32) | i)
        kind = KINDS[i % 10]
        if kind != 4:
            t = "".join(map(chr, self.text(r, kind)))
            return t.encode("utf-8"), t
        b = bytearray("".join(map(chr, self.text(r, r.below(4)))).encode("utf-8"))
        for _ in range(r.range(1, 4)):
            op = r.below(4)
            if op == 0:
                pos = r.below(len(b) + 1)
                b.insert(pos, r.below(256))
            elif op == 1:
                if b:
                    pos = r.below(len(b))
                    b[pos] = r.below(256)
            elif op == 2:
                if b:
                    b = b[:r.below(len(b))]
            else:
                pos = r.below(len(b) + 1)
                b[pos:pos] = BAD[r.below(len(BAD))]
        b = bytes(b)
        return b, b.decode("utf-8", "replace")


def fnv32(data):
    h = 0x811C9DC5
    for x in data:
        h = ((h ^ x) * 0x01000193) & 0xFFFFFFFF
    return h


def ids_hash(ids):
    return fnv32(struct.pack(f"<{len(ids)}I", *ids))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", default=os.path.join(DATA, "gemma4-tokenizer.json.xz"))
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--dump")
    ap.add_argument("--g4-tests")
    args = ap.parse_args()

    with lzma.open(os.path.join(DATA, "corpus.txt.xz"), "rt", encoding="utf-8", newline="") as f:
        gen = Gen(f.read())
    cases = [gen.case(i) for i in range(CASES)]
    texts = [t for _, t in cases]
    with lzma.open(args.tokenizer, "rt", encoding="utf-8") as f:
        tok = Tokenizer.from_str(f.read())
    tok.encode_special_tokens = False
    ids = [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    tok.encode_special_tokens = True
    ids_text = [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    invalid = sum(1 for b, t in cases if b != t.encode("utf-8"))
    differ = sum(1 for a, b in zip(ids, ids_text) if a != b)
    print(f"{CASES} cases ({invalid} invalid UTF-8, {differ} where parse_special matters), "
          f"{sum(map(len, ids))} HF tokens; tokenizers {importlib.metadata.version('tokenizers')}")

    hashes = bytearray(b"G4TF" + struct.pack("<III", 1, CASES, SEED))
    for (b, _), a, t in zip(cases, ids, ids_text):
        hashes += struct.pack("<III", fnv32(b), ids_hash(a), ids_hash(t))
    path = os.path.join(DATA, "fuzz_hashes.bin")
    if args.write:
        with open(path, "wb") as f:
            f.write(hashes)
        print(f"wrote {os.path.relpath(path, ROOT)} ({len(hashes)} bytes)")
    else:
        with open(path, "rb") as f:
            committed = f.read()
        print("committed hashes:", "identical" if committed == bytes(hashes) else "DIFFERENT")

    dump = args.dump
    if args.g4_tests and not dump:
        dump = os.path.join(tempfile.mkdtemp(prefix="g4fuzz"), "cases.jsonl")
    if dump:
        with open(dump, "w", encoding="utf-8") as f:
            for (b, t), a, tt in zip(cases, ids, ids_text):
                f.write(json.dumps({"hex": b.hex(), "ids": a, "ids_text": tt}) + "\n")
        print(f"wrote {dump}")
    if args.g4_tests:
        env = dict(os.environ, G4_TOKENIZER_FUZZ_FILE=dump)
        rc = subprocess.call([args.g4_tests, "--gtest_filter=TokenizerRandom.*"], env=env)
        if not args.dump:
            shutil.rmtree(os.path.dirname(dump))
        sys.exit(rc)


if __name__ == "__main__":
    main()
