#!/usr/bin/env python3
"""Builds g4's multilingual tokenizer corpus and records HF `tokenizers` ids for every unit.

Writes, in tests/data/tokenizer/:
  corpus.txt.xz      UTF-8 text: units (paragraphs, code blocks, documents) each followed by one
                     0x1E byte (ASCII record separator, which no unit contains).
  corpus_ids.bin.xz  HF ids per unit, little-endian uint32:
                       "G4TC", version 1, unit count, then per unit: byte length, n, n ids with
                       special tokens parsed (encode(add_special_tokens=False)), then m and m ids
                       with special tokens as text (encode_special_tokens=True), or m = 0xFFFFFFFF
                       when those equal the first list.
The corpus: everyday sentences in 54 languages (tools/reference/tokenizer_corpus_text.py, written
for this project) combined into paragraphs with varying numbers, names, emoji and punctuation;
mixed-language paragraphs; emoji with ZWJ sequences, flags and skin tones; code written here in
several languages plus source files of BSD/MIT-licensed Python packages installed in the venv
(jinja2, markdown-it-py, numpy's C headers); HTML, Markdown, JSON and LaTeX documents generated
from the sentences; numbers; long runs of spaces, tabs and newlines; chat turns with Gemma 4's
control tokens. Everything is drawn from a fixed seed.

Run: .venv/bin/python tools/reference/make_tokenizer_corpus.py
The committed files came from jinja2 3.1.6, markdown-it-py 4.3.0, numpy 2.4.6 and tokenizers 0.23.3;
other versions of those packages give a different corpus. After regenerating, rerun
tools/reference/check_tokenizer_fuzz.py --write: its strings draw on the corpus.
"""
import argparse
import glob
import importlib.metadata
import json
import lzma
import os
import random
import struct
import sys

from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_corpus_text import EMOJI, NAMES, SENTENCES  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "tests", "data", "tokenizer")
SEP = "\x1e"

CODE_SNIPPETS = [
    # C
    "#include <stdio.h>\n#include <stdlib.h>\n\nstatic int cmp(const void *a, const void *b) {\n"
    "\treturn (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);\n}\n\n"
    "int main(int argc, char **argv) {\n\tint v[{n}];\n\tfor (int i = 0; i < {n}; i++) v[i] = rand() % 1000;\n"
    "\tqsort(v, {n}, sizeof v[0], cmp);\n\tprintf(\"%d..%d\\n\", v[0], v[{n} - 1]);\n\treturn 0;\n}\n",
    # C++
    "template <typename T>\nclass RingBuffer {\n public:\n  explicit RingBuffer(size_t cap) : buf_(cap) {}\n"
    "  bool push(const T& x) {\n    if (size_ == buf_.size()) return false;\n"
    "    buf_[(head_ + size_++) % buf_.size()] = x;\n    return true;\n  }\n"
    "  std::optional<T> pop() {\n    if (size_ == 0) return std::nullopt;\n    T x = std::move(buf_[head_]);\n"
    "    head_ = (head_ + 1) % buf_.size();\n    --size_;\n    return x;\n  }\n\n private:\n"
    "  std::vector<T> buf_;\n  size_t head_ = 0, size_ = 0;  // {n} max\n};\n",
    # Rust
    "use std::collections::HashMap;\n\nfn word_counts(text: &str) -> HashMap<&str, usize> {\n"
    "    let mut m = HashMap::new();\n    for w in text.split_whitespace() {\n"
    "        *m.entry(w).or_insert(0) += 1;\n    }\n    m\n}\n\nfn main() {\n"
    "    let counts = word_counts(\"a b a c b a\");\n    let mut v: Vec<_> = counts.into_iter().collect();\n"
    "    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));\n    println!(\"{:?} ({n})\", v);\n}\n",
    # Go
    "package main\n\nimport (\n\t\"fmt\"\n\t\"sync\"\n)\n\nfunc main() {\n\tvar wg sync.WaitGroup\n"
    "\tresults := make(chan int, {n})\n\tfor i := 0; i < {n}; i++ {\n\t\twg.Add(1)\n\t\tgo func(i int) {\n"
    "\t\t\tdefer wg.Done()\n\t\t\tresults <- i * i\n\t\t}(i)\n\t}\n\twg.Wait()\n\tclose(results)\n"
    "\tsum := 0\n\tfor r := range results {\n\t\tsum += r\n\t}\n\tfmt.Println(\"sum:\", sum)\n}\n",
    # Java
    "public final class Point implements Comparable<Point> {\n    private final double x, y;\n\n"
    "    public Point(double x, double y) { this.x = x; this.y = y; }\n\n    @Override\n"
    "    public int compareTo(Point o) {\n        return Double.compare(Math.hypot(x, y), Math.hypot(o.x, o.y));\n"
    "    }\n\n    @Override\n    public String toString() { return String.format(\"(%.{n}f, %.2f)\", x, y); }\n}\n",
    # JavaScript / TypeScript
    "export async function fetchAll(urls: string[], limit = {n}): Promise<Response[]> {\n"
    "  const out: Response[] = [];\n  const queue = [...urls];\n  const workers = Array.from({ length: limit }, async () => {\n"
    "    while (queue.length) {\n      const u = queue.shift()!;\n      out.push(await fetch(u));\n    }\n  });\n"
    "  await Promise.all(workers);\n  return out;\n}\n",
    "const el = document.querySelector('#app');\nel?.addEventListener('click', (e) => {\n"
    "  console.log(`clicked at ${e.clientX},${e.clientY}`);\n  el.classList.toggle('active');\n}, { passive: true });\n",
    # Python
    "@dataclass\nclass Order:\n    id: int\n    items: list[str] = field(default_factory=list)\n    total: float = 0.0\n\n"
    "    def add(self, name: str, price: float) -> None:\n        self.items.append(name)\n        self.total += price\n\n"
    "orders = [Order(i) for i in range({n})]\nfor o in orders:\n    o.add(\"tea\", 2.5)\n"
    "print(sum(o.total for o in orders), f\"{len(orders)=}\")\n",
    # SQL
    "WITH monthly AS (\n  SELECT date_trunc('month', created_at) AS m, SUM(amount) AS total\n  FROM payments\n"
    "  WHERE status = 'paid' AND amount > {n}\n  GROUP BY 1\n)\nSELECT m, total, total - LAG(total) OVER (ORDER BY m) AS delta\n"
    "FROM monthly ORDER BY m DESC LIMIT 12;\n",
    # Shell
    "#!/usr/bin/env bash\nset -euo pipefail\nfor f in \"$@\"; do\n  if [[ -f \"$f\" ]]; then\n"
    "    lines=$(wc -l < \"$f\")\n    printf '%-40s %8d\\n' \"$f\" \"$lines\"\n  fi\ndone | sort -k2 -n | tail -n {n}\n",
    # Haskell
    "module Main where\n\nimport Data.List (foldl')\n\nprimes :: [Int]\nprimes = sieve [2..]\n"
    "  where sieve (p:xs) = p : sieve [x | x <- xs, x `mod` p /= 0]\n\nmain :: IO ()\n"
    "main = print (foldl' (+) 0 (take {n} primes))\n",
    # Lisp, Lua, YAML, Makefile
    "(defun fact (n)\n  (if (<= n 1)\n      1\n      (* n (fact (- n 1)))))\n(print (fact {n}))\n",
    "local function memo(f)\n  local cache = {}\n  return function(n)\n    if cache[n] == nil then cache[n] = f(n) end\n"
    "    return cache[n]\n  end\nend\nprint(memo(function(x) return x * {n} end)(3))\n",
    "services:\n  web:\n    image: nginx:1.27\n    ports:\n      - \"80{n}:80\"\n    volumes:\n      - ./site:/usr/share/nginx/html:ro\n"
    "  db:\n    image: postgres:17\n    environment:\n      POSTGRES_PASSWORD: example\n",
    "CXXFLAGS ?= -O2 -Wall\nOBJS := $(patsubst %.cc,%.o,$(wildcard src/*.cc))\n\napp: $(OBJS)\n\t$(CXX) $(CXXFLAGS) -o $@ $^\n\n"
    "%.o: %.cc\n\t$(CXX) $(CXXFLAGS) -c -o $@ $<\n\nclean:\n\trm -f app $(OBJS)  # {n}\n",
]

SPECIAL_TURNS = [
    "<|turn>user\n{a}<turn|>\n<|turn>model\n{b}<turn|>\n",
    "<bos><|turn>system\n<|think|>{a}<turn|>\n<|turn>user\n{b}<turn|>\n<|turn>model\n",
    "<|turn>model\n<|channel>thought\n{a}<channel|>{b}<turn|>",
    "<|turn>model\n<|tool_call>call:search{{query:<|\"|>{a}<|\"|>}}<tool_call|>"
    "<|tool_response>response:search{{result:<|\"|>{b}<|\"|>}}<tool_response|>{b}<turn|>",
    "<|turn>user\n<|image|> {a}\n<|audio|><turn|><eos>",
    "{a} <table><tr><td>{b}</td></tr></table> <unused17> <mask> [multimodal]",
]


def num(rng):
    k = rng.randrange(8)
    if k == 0:
        return str(rng.randint(0, 9))
    if k == 1:
        return str(rng.randint(10, 99))
    if k == 2:
        return str(rng.randint(100, 99999))
    if k == 3:
        return f"{rng.uniform(0, 1000):.{rng.randint(1, 4)}f}"
    if k == 4:
        return f"{rng.randint(1, 999)},{rng.randint(0, 999):03d}"
    if k == 5:
        return f"{rng.randint(1, 9)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"
    if k == 6:
        return str(rng.randint(1, 10**12))
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"


def sentence(rng, lang):
    s = rng.choice(SENTENCES[lang])
    while "{n}" in s:
        s = s.replace("{n}", num(rng), 1)
    r = rng.random()
    if r < 0.08:
        s = rng.choice(NAMES) + ": " + s
    elif r < 0.14:
        s = s + " " + rng.choice(EMOJI)
    elif r < 0.17:
        s = "«" + s + "»"
    elif r < 0.20:
        s = "\"" + s + "\""
    elif r < 0.22:
        s = s.upper()
    return s


def paragraph(rng, lang, lo=2, hi=7):
    parts = []
    for _ in range(rng.randint(lo, hi)):
        parts.append(sentence(rng, lang))
        parts.append(rng.choice([" ", " ", " ", " ", "  ", "\n", "\n\n", " — "]))
    return "".join(parts[:-1])


def language_units(rng):
    units = []
    langs = sorted(SENTENCES)
    for lang in langs:
        for _ in range(44):
            units.append(paragraph(rng, lang))
    for _ in range(450):  # mixed-language paragraphs
        units.append(" ".join(sentence(rng, rng.choice(langs)) for _ in range(rng.randint(2, 6))))
    for _ in range(120):  # single short lines
        units.append(sentence(rng, rng.choice(langs)))
    return units


def emoji_units(rng):
    units = []
    for _ in range(150):
        n = rng.randint(1, 40)
        glue = rng.choice(["", " ", "", "\u200d", " ", "\n"])
        units.append(glue.join(rng.choice(EMOJI) for _ in range(n)))
    for _ in range(150):
        lang = rng.choice(sorted(SENTENCES))
        words = sentence(rng, lang).split(" ")
        out = []
        for w in words:
            out.append(w)
            if rng.random() < 0.3:
                out.append(rng.choice(EMOJI) * rng.randint(1, 3))
        units.append(" ".join(out))
    return units


def code_units(rng):
    units = []
    for _ in range(12):
        for s in CODE_SNIPPETS:
            units.append(s.replace("{n}", str(rng.randint(2, 4096))))
    # Source files of installed BSD/MIT-licensed packages, split into blocks of about 3 KB.
    site = os.path.dirname(os.path.dirname(importlib.metadata.distribution("jinja2").locate_file("jinja2/__init__.py")))
    sources = [  # (files, about how many bytes to take)
        (sorted(glob.glob(os.path.join(site, "jinja2", "*.py"))), 300_000),
        (sorted(glob.glob(os.path.join(site, "markdown_it", "**", "*.py"), recursive=True)), 150_000),
        (sorted(glob.glob(os.path.join(site, "numpy", "_core", "include", "numpy", "*.h"))), 200_000),
    ]
    for files, budget in sources:
        for path in files:
            if budget <= 0:
                break
            with open(path, encoding="utf-8") as f:
                text = f.read()
            budget -= len(text)
            block = []
            size = 0
            for chunk in text.split("\n\n"):
                block.append(chunk)
                size += len(chunk) + 2
                if size > 3000:
                    units.append("\n\n".join(block) + "\n")
                    block, size = [], 0
            if block:
                units.append("\n\n".join(block) + "\n")
    return units


def html_unit(rng):
    lang = rng.choice(sorted(SENTENCES))
    rows = "".join(f"    <tr><td>{num(rng)}</td><td>{sentence(rng, lang)}</td></tr>\n" for _ in range(rng.randint(1, 5)))
    return (f"<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n  <meta charset=\"utf-8\">\n  <title>{sentence(rng, lang)[:40]}</title>\n"
            f"</head>\n<body>\n  <h1 class=\"title\">{rng.choice(NAMES)}</h1>\n  <p>{paragraph(rng, lang, 1, 3)}</p>\n"
            f"  <table>\n{rows}  </table>\n  <a href=\"https://example.org/{lang}/{num(rng)}?q=1&amp;r=2\">&rarr; more</a>\n"
            f"</body>\n</html>\n")


def markdown_unit(rng):
    lang = rng.choice(sorted(SENTENCES))
    items = "".join(f"- {sentence(rng, lang)}\n" for _ in range(rng.randint(1, 4)))
    table = "| # | value | note |\n|---|---:|:---|\n" + "".join(
        f"| {i} | {num(rng)} | {rng.choice(NAMES)} {rng.choice(EMOJI)} |\n" for i in range(rng.randint(1, 4)))
    return (f"# {sentence(rng, lang)}\n\n{paragraph(rng, lang, 1, 3)}\n\n## Notes\n\n{items}\n"
            f"> **{rng.choice(NAMES)}**: _{sentence(rng, lang)}_\n\n{table}\n```python\nprint({num(rng)!r})\n```\n")


def json_unit(rng):
    lang = rng.choice(sorted(SENTENCES))
    obj = {
        "id": rng.randint(1, 10**9), "lang": lang, "title": sentence(rng, lang), "score": round(rng.uniform(-1, 1), 6),
        "tags": [rng.choice(NAMES) for _ in range(rng.randint(0, 4))], "ok": rng.random() < 0.5, "parent": None,
        "body": {"text": paragraph(rng, lang, 1, 3), "emoji": rng.choice(EMOJI)},
    }
    ascii_only = rng.random() < 0.3
    return json.dumps(obj, ensure_ascii=ascii_only, indent=rng.choice([None, 2, 4]))


def latex_unit(rng):
    a, b = rng.randint(1, 99), rng.randint(1, 99)
    return ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n\\section{Results}\n"
            f"{sentence(rng, 'en')}\n\\begin{{equation}}\n  \\int_0^{{{a}}} x^{{{b}}}\\,dx = \\frac{{{a}^{{{b + 1}}}}}{{{b + 1}}}"
            f"\n\\end{{equation}}\n\\begin{{align*}}\n  \\sum_{{k=1}}^{{n}} k &= \\frac{{n(n+1)}}{{2}} \\\\\n"
            f"  e^{{i\\pi}} + 1 &= 0 \\quad \\text{{{sentence(rng, rng.choice(['de', 'fr', 'ru']))}}}\n\\end{{align*}}\n"
            f"\\begin{{tabular}}{{|l|r|}}\\hline\n  $\\alpha$ & {num(rng)} \\\\ $\\beta_{{{a}}}$ & {num(rng)} \\\\\\hline\n\\end{{tabular}}\n\\end{{document}}\n")


def number_units(rng):
    units = []
    for _ in range(150):
        k = rng.randrange(4)
        if k == 0:
            units.append(" ".join(num(rng) for _ in range(rng.randint(5, 60))))
        elif k == 1:
            units.append("\n".join(",".join(num(rng) for _ in range(6)) for _ in range(rng.randint(2, 20))))
        elif k == 2:
            units.append(str(rng.randint(0, 10**rng.randint(20, 200))))
        else:
            units.append(" ".join(f"{rng.randint(1900, 2099)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                                  f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}Z" for _ in range(rng.randint(1, 10))))
    return units


def whitespace_units(rng):
    units = []
    runs = [" ", "\t", "\n", "\r\n", " \t", "\n\n", "\u3000", "\u00a0"]
    for _ in range(250):
        lang = rng.choice(sorted(SENTENCES))
        parts = []
        for _ in range(rng.randint(1, 8)):
            parts.append(rng.choice(runs) * rng.choice([1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 64, 100, 300]))
            parts.append(sentence(rng, lang))
        if rng.random() < 0.5:
            parts.append(rng.choice(runs) * rng.randint(1, 200))
        units.append("".join(parts))
    return units


def special_units(rng):
    units = []
    langs = sorted(SENTENCES)
    for _ in range(300):
        t = rng.choice(SPECIAL_TURNS)
        units.append(t.format(a=sentence(rng, rng.choice(langs)), b=paragraph(rng, rng.choice(langs), 1, 3)))
    return units


def build(rng):
    units = language_units(rng) + emoji_units(rng) + code_units(rng) + number_units(rng)
    units += whitespace_units(rng) + special_units(rng)
    units += [html_unit(rng) for _ in range(120)] + [markdown_unit(rng) for _ in range(120)]
    units += [json_unit(rng) for _ in range(150)] + [latex_unit(rng) for _ in range(60)]
    rng.shuffle(units)
    for u in units:
        assert SEP not in u and u
    return units


def load_tokenizer(path):
    with lzma.open(path, "rt", encoding="utf-8") as f:
        return Tokenizer.from_str(f.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", default=os.path.join(DATA, "gemma4-tokenizer.json.xz"))
    ap.add_argument("--out-dir", default=DATA)
    args = ap.parse_args()

    units = build(random.Random(20261129))
    text = "".join(u + SEP for u in units)
    raw = text.encode("utf-8")
    with lzma.open(os.path.join(args.out_dir, "corpus.txt.xz"), "wb", preset=9 | lzma.PRESET_EXTREME) as f:
        f.write(raw)

    tok = load_tokenizer(args.tokenizer)
    tok.encode_special_tokens = False
    ids = [e.ids for e in tok.encode_batch(units, add_special_tokens=False)]
    tok.encode_special_tokens = True
    ids_text = [e.ids for e in tok.encode_batch(units, add_special_tokens=False)]
    out = bytearray(b"G4TC" + struct.pack("<II", 1, len(units)))
    same = 0
    for u, a, b in zip(units, ids, ids_text):
        out += struct.pack("<II", len(u.encode("utf-8")), len(a)) + struct.pack(f"<{len(a)}I", *a)
        if a == b:
            same += 1
            out += struct.pack("<I", 0xFFFFFFFF)
        else:
            out += struct.pack("<I", len(b)) + struct.pack(f"<{len(b)}I", *b)
    with lzma.open(os.path.join(args.out_dir, "corpus_ids.bin.xz"), "wb", preset=9 | lzma.PRESET_EXTREME) as f:
        f.write(bytes(out))
    print(f"{len(units)} units, {len(raw)} bytes, {sum(map(len, ids))} tokens, "
          f"{len(units) - same} units differ with special tokens as text; tokenizers {importlib.metadata.version('tokenizers')}")
    for name in ("corpus.txt.xz", "corpus_ids.bin.xz"):
        print(f"  {name}: {os.path.getsize(os.path.join(args.out_dir, name))} bytes")


if __name__ == "__main__":
    main()
