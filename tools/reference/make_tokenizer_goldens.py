#!/usr/bin/env python3
"""Records HF `tokenizers` output for the Gemma 4 tokenizer on a few hundred diverse strings.

Writes tests/data/tokenizer/goldens.jsonl: a first line {"meta": {...}}, then one line per case:
  {"text": str,
   "ids": ids with special tokens parsed (encode(text, add_special_tokens=False)),
   "ids_text": ids with special tokens treated as text (encode_special_tokens=True, i.e. HF's
               split_special_tokens=True),
   "decoded": decode(ids, skip_special_tokens=False)}
The cases: sentences in many languages, emoji (ZWJ sequences, flags, skin tones), code, markup,
numbers, whitespace runs, the tokenizer's added and special tokens and fragments of them, and
random strings from a fixed seed (random code points, and random mixes of tricky fragments).

Run: .venv/bin/python tools/reference/make_tokenizer_goldens.py [--tokenizer tokenizer.json]
(default: tests/data/tokenizer/gemma4-tokenizer.json.xz)
"""
import argparse
import importlib.metadata
import json
import lzma
import os
import random

from tokenizers import Tokenizer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "tests", "data", "tokenizer")

LANGUAGES = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! How are you doing today? I'm fine, thanks.",
    "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.",
    "Portez ce vieux whisky au juge blond qui fume ; l'été, c'est très agréable.",
    "El pingüino Wenceslao hizo kilómetros bajo exhaustiva lluvia y frío, añoraba a su querido cachorro.",
    "Ljubazni fenjerdžija čađavog lica hoće da mi pokaže štos.",
    "Pchnąć w tę łódź jeża lub ośm skrzyń fig.",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Árvíztűrő tükörfúrógép.",
    "Pijamalı hasta yağız şoföre çabucak güvendi.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Жълтата дюля беше щастлива, че пухът, който цъфна, замръзна като гьон.",
    "Τάχιστη αλώπηξ βαφής ψημένη γη, δρασκελίζει υπέρ νωθρού κυνός.",
    "صِف خَلقَ خَودِ كَمِثلِ الشَمسِ إِذ بَزَغَت يَحظى الضَجيعُ بِها نَجلاءَ مِعطارِ",
    "דג סקרן שט בים מאוכזב ולפתע מצא חברה",
    "ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम।",
    "আমি বাংলায় গান গাই, আমি বাংলার গান গাই।",
    "யாமறிந்த மொழிகளிலே தமிழ்மொழி போல் இனிதாவது எங்கும் காணோம்.",
    "เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน",
    "កាន់តែពិសេសអាចខលចេញ ភាសាខ្មែរ",
    "我能吞下玻璃而不伤身体。今天天气很好，我们去公园散步吧！",
    "私はガラスを食べられます。それは私を傷つけません。カタカナとひらがな。",
    "키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다.",
    "Tiếng Việt có dấu: Chữ Quốc ngữ được dùng rộng rãi.",
    "ქართული ენა ერთ-ერთი უძველესი ენაა.",
    "Բարեւ, ինչպե՞ս ես։ Հայերեն լեզու։",
    "ሰላም ለዓለም። አማርኛ ቋንቋ ነው።",
    "Habari ya asubuhi? Ninafurahi kukutana nawe.",
    "Ég get etið gler án þess að meiða mig.",
    "Mogę jeść szkło i mi nie szkodzi.",
    "Dw i'n gallu bwyta gwydr, 'dyw e ddim yn gwneud dolur i mi.",
    "Ο καφές είναι ζεστός. Η θάλασσα είναι γαλάζια.",
    "ᚠᛇᚻ᛫ᛒᛦᚦ᛫ᚠᚱᚩᚠᚢᚱ᛫ᚠᛁᚱᚪ᛫ᚷᛖᚻᚹᛦᛚᚳᚢᛗ",
    "ꯃꯤꯇꯩ ꯂꯣꯟ and ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ and ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ",
    "Ünïcödé àccénts: naïve café résumé coöperate façade Ångström",
    "Mixed: English, 中文, русский, العربية, हिन्दी in one line.",
]

EMOJI = [
    "🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ 🦙🦙",
    "👨\u200d👩\u200d👧\u200d👦 family, 👩🏽\u200d💻 coder, 🏳️\u200d🌈 flag, 🧑🏿\u200d🤝\u200d🧑🏻",
    "🇺🇸🇬🇧🇯🇵🇩🇪🇫🇷 flags and keycaps 1️⃣ 2️⃣ #️⃣ *️⃣",
    "👍🏻👍🏼👍🏽👍🏾👍🏿 skin tones",
    "❤️‍🔥 ❤️ ♥ ☺️ ✌️ 🫠 🫶 🪿 🦩",
    "emoji at end 🎉",
    "🎉",
    "🦙",
    "😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘😗😙😚😋😛😝😜🤪🤨🧐🤓😎",
]

CODE = [
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "#include <iostream>\nint main() {\n\tstd::cout << \"Hello\" << std::endl;\n\treturn 0;\n}\n",
    "for (int i = 0; i < n; ++i) { a[i] = b[i] * c[i]; }",
    '{"key": "value", "list": [1, 2, 3], "nested": {"a": null, "b": true}}',
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name ORDER BY 2 DESC;",
    "$ ls -la /usr/bin | grep -E '^-rwx' | wc -l\n",
    "const f = async (x) => { await sleep(100); return x ?? 0; };",
    "fn main() { let v: Vec<u8> = vec![1, 2, 3]; println!(\"{:?}\", v); }",
    "\\begin{equation} e^{i\\pi} + 1 = 0 \\end{equation}",
    "# Title\n\n## Subtitle\n\n- item one\n- item two\n\n```python\nprint('hi')\n```\n",
    "<!DOCTYPE html><html><head><title>Test</title></head><body><p class=\"x\">Hi</p></body></html>",
    "<table><tr><td>1</td><td>2</td></tr></table>",
    "<b>bold</b> <i>italic</i> <u>under</u> <s>strike</s> <sub>2</sub><sup>3</sup> <code>x</code>",
    "<h1>Head</h1><h2>Sub</h2><blockquote>Quote</blockquote><ul><li>a</li></ul><div><span>s</span></div>",
    "<a href=\"https://example.com\">link</a> <img src=\"x.png\"> <iframe></iframe> <footer></footer> <bbox>",
    "if x:\n\tif y:\n\t\tif z:\n\t\t\treturn 1\n",
    "    indented with four spaces\n        and eight\n",
    "a = [\n  1,\n  2,\n]\r\nwindows line\r\n",
    "__init__ self.__dict__ __ ___ ____ _____ ______",
    "----====####****____++++~~~~````''''\"\"\"\"....,,,,;;;;::::",
]

NUMBERS = [
    "3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 100 1000 10000 123456789 9876543210",
    "3.14159265358979323846264338327950288419716939937510",
    "-42 +17 1e10 6.022e23 0x1F 0b1010 0o777 1_000_000",
    "Phone: +1 (555) 123-4567, date 2026-04-01, time 13:45:07.123",
    "1/2 3/4 50% 99.9% $100 €200 £300 ¥400 ₹500",
    "1234567890" * 8,
    "٠١٢٣٤٥٦٧٨٩ ०१२३४५६७८९ 一二三四五六七八九十 ①②③",
]

WHITESPACE = [
    "", " ", "  ", "   ", "    ", "\t", "\n", "\n\n", "\n\n\n", "\t\n", " \n", "\n ", "\r", "\r\n",
    "\u00a0", "\u3000", "\u2003", "\x0b", "\x0c", "\u200b", "\ufeff", "\u2028", "\u2029",
    " " * 31, " " * 32, " " * 33, " " * 62, " " * 65, " " * 100,
    "\n" * 30, "\n" * 31, "\n" * 32, "\n" * 45, "\n" * 100,
    "\t" * 31, "\t" * 32, "\t" * 50,
    "a" + " " * 40 + "b", "a" + "\n" * 40 + "b", "a" + "\t" * 40 + "b",
    " \t \n \r\n \t\t \n\n  ", "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n",
    "   Hello", "Hello   ", "  Hello  World  ", " Hello World!", "Hello\n\nWorld",
    "▁", "▁▁", "▁▁▁", "▁hello", "hello▁world", "a▁▁b", "▁" * 40,
    " " * 3000, "\n" * 3000, "\t" * 3000, " \n" * 1000, "a" * 3000, "ab" * 1500, "\u00e9" * 1000,
]

SPECIAL = [
    "<|turn>user\nWhat is 2+2?<turn|>\n<|turn>model\n4<turn|>\n",
    "<bos><|turn>system\n<|think|>You are helpful.<turn|>",
    "<|channel>thought\nLet me think.<channel|>The answer.",
    "<|tool>declaration:get_weather{city:<|\"|>Paris<|\"|>}<tool|>",
    "<|tool_call>call:f{a:1}<tool_call|><|tool_response>response:f{ok:true}<tool_response|>",
    "<|image><|image|><|image|><image|> <|audio><|audio|><audio|> <|video|>",
    "<pad><eos><bos><unk><mask>[multimodal]<image_soft_token>",
    "<start_of_turn>user\nhi<end_of_turn>",
    "<start_of_image> <end_of_image>",
    "<unused0><unused1><unused47><unused5000><unused6241><unused6242><unused>",
    "<|turn", "<turn|", "|turn>", "<|turn|>", "<<|turn>>", "<|turn><|turn>", "x<|turn>y", "<|tu rn>",
    "<bos", "bos>", "<bos><bos>", "<BOS>", "< bos>", "<eos>\n", "<b>", "<bo>", "<b>os>", "<bos>>",
    "<0x41>", "<0x0A>", "<0xZZ>", "<0x>", "<0x0a>",
    "<table", "table>", "</table", "<table><table>", "<TABLE>", "<table >",
    "[multimodal", "multimodal]", "[[multimodal]]",
]

PROSE = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness, it was the spring of hope, it was the winter of despair. "
)

MISC = [
    "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL",
    "''''''```````\"\"\"\"......!!!!!!??????",
    "?我想在apple工作1314151天～",
    "w048 7tuijk dsdfhu",
    "Äpfel",
    "ied 4 ½ months",
    "https://www.example.com/path/to/page?query=1&x=y#frag",
    "user@example.com, first.last+tag@sub.domain.org",
    "CamelCaseIdentifier snake_case_identifier kebab-case-identifier SCREAMING_CASE",
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "ﬁ ﬂ ﬀ ﬃ ℌ ℍ ℕ ™ © ® ° ± × ÷ ∞ ≈ ≠ ≤ ≥ ∑ ∏ √ ∫ ∂ ∇ ∈ ∉ ∩ ∪ ⊂ ⊃",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙 𝒮𝒸𝓇𝒾𝓅𝓉 𠀀𠀁𠀂 𐍈 𓀀 𝄞",
    "e\u0301 a\u0308 n\u0303 (combining marks) Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f",
    "\x00\x01\x02\x7f\x1b[31mred\x1b[0m",
    "\ufffd\ufffe\uffff\U0010ffff\U000e0001",
    PROSE * 12,
    ("The year 2026. " + "数据 " + "🚀 ") * 40,
]

FRAGMENTS = [
    "<", ">", "|", "/", "<|", "|>", "turn", "<|turn>", "<turn|>", "<bos>", "<eos>", "<pad>", "<mask>",
    "<unused3>", "<table>", "</td>", "<b>", "[multimodal]", "<|\"|>", " ", "  ", "\n", "\n\n", "\t",
    "\r\n", "▁", "▁▁", "a", "the", "The", " the", "é", "ß", "中", "文", "🦙", "😶\u200d🌫️", "🇺🇸", "1", "23",
    "456", ".", ",", "'s", "'", "\"", "\u00a0", "\u200b", "𝔘", "<0x41>", "ab", "cd", "xyz", "\\n",
]


def random_codepoint_strings(rng, n):
    ranges = [
        (0x20, 0x7E, 30), (0x00, 0x1F, 3), (0x80, 0x24F, 10), (0x370, 0x52F, 6), (0x590, 0x6FF, 5),
        (0x900, 0xDFF, 6), (0xE00, 0xEFF, 3), (0x1100, 0x11FF, 2), (0x2000, 0x2BFF, 6),
        (0x3000, 0x30FF, 5), (0x4E00, 0x9FFF, 8), (0xAC00, 0xD7A3, 4), (0xE000, 0xF8FF, 2),
        (0xF900, 0xFFFD, 3), (0x10000, 0x1FFFF, 6), (0x1F300, 0x1FAFF, 6), (0x20000, 0x2FFFF, 2),
        (0xE0000, 0x10FFFF, 1),
    ]
    weights = [r[2] for r in ranges]
    out = []
    for _ in range(n):
        length = rng.randint(1, 40)
        chars = []
        for _ in range(length):
            lo, hi, _w = rng.choices(ranges, weights)[0]
            chars.append(chr(rng.randint(lo, hi)))
        out.append("".join(chars))
    return out


def random_fragment_strings(rng, n):
    return ["".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 25))) for _ in range(n)]


def load_tokenizer(path):
    if path.endswith(".xz"):
        with lzma.open(path, "rt", encoding="utf-8") as f:
            return Tokenizer.from_str(f.read())
    return Tokenizer.from_file(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", default=os.path.join(DATA, "gemma4-tokenizer.json.xz"))
    ap.add_argument("--out", default=os.path.join(DATA, "goldens.jsonl"))
    args = ap.parse_args()

    tok = load_tokenizer(args.tokenizer)
    rng = random.Random(20260401)
    cases = LANGUAGES + EMOJI + CODE + NUMBERS + WHITESPACE + SPECIAL + MISC
    cases += random_codepoint_strings(rng, 150)
    cases += random_fragment_strings(rng, 150)
    seen = set()
    unique = []
    for c in cases:
        if c not in seen:
            seen.add(c)
            unique.append(c)

    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        meta = {
            "generator": "tools/reference/make_tokenizer_goldens.py",
            "tokenizers": importlib.metadata.version("tokenizers"),
            "tokenizer": os.path.basename(args.tokenizer),
            "cases": len(unique),
        }
        f.write(json.dumps({"meta": meta}) + "\n")
        for text in unique:
            tok.encode_special_tokens = False
            ids = tok.encode(text, add_special_tokens=False).ids
            tok.encode_special_tokens = True
            ids_text = tok.encode(text, add_special_tokens=False).ids
            tok.encode_special_tokens = False
            decoded = tok.decode(ids, skip_special_tokens=False)
            f.write(json.dumps({"text": text, "ids": ids, "ids_text": ids_text, "decoded": decoded},
                               ensure_ascii=True) + "\n")
    print(f"wrote {len(unique)} cases to {os.path.relpath(args.out, ROOT)} "
          f"({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
