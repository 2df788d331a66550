// Gemma's BPE tokenizer (byte fallback, '▁' for spaces, special/control tokens), loaded from an HF
// tokenizer.json or from GGUF metadata. Encodes and decodes exactly like HF `tokenizers`, with
// these documented differences:
//  * Input that is not valid UTF-8 (which a Python str cannot hold) is first repaired: each
//    ill-formed part (maximal subpart, Unicode 3-7) becomes U+FFFD, as Python's
//    bytes.decode('utf-8', 'replace') and Rust's from_utf8_lossy do; the result is then encoded.
//  * decode() returns raw bytes: where HF's ByteFallback decoder turns a run of <0xNN> pieces that
//    is not valid UTF-8 into one U+FFFD per piece, decode() keeps the bytes (StreamDecoder then
//    replaces what stays invalid). Valid runs decode identically.
//  * From GGUF, which does not record which tokens HF treated as added tokens: CONTROL (and
//    UNKNOWN) tokens are special added tokens, USER_DEFINED ones non-special added tokens, and so
//    are any piece longer than one character that no merge produces (HF can only emit those by
//    added-token matching) and Gemma's runs of '\n', '\t' or '▁' (added tokens in its
//    tokenizer.json). This reproduces HF on all test data. But Gemma 4's converter writes
//    <|channel>, <|tool_call>, <|"|> etc. as USER_DEFINED, so from GGUF those are matched in text
//    even without parse_special.
// tokenizer.json support covers what Gemma uses and a little more: a BPE model (byte fallback,
// unk, fuse_unk, ignore_merges), Replace/Prepend normalizers, literal-string Split pre-tokenizers,
// Replace/ByteFallback/Fuse decoders, added tokens with normalized/lstrip/rstrip. Anything else
// (regexes, NFKC, single_word, dropout, ...) is refused with an error rather than approximated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace g4 {

struct GgufFile;

class Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> from_hf_json(const std::string& path);
  static Result<std::unique_ptr<Tokenizer>> from_hf_json_text(std::string_view json, const std::string& name);
  static Result<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile& gguf);
  ~Tokenizer();

  // Encodes text without adding BOS. With parse_special, special tokens written in the text
  // (e.g. "<|turn>", "<bos>") become their ids; otherwise they are ordinary text (HF's
  // split_special_tokens=True). Non-special added tokens ("\n", "<table>", "<unused0>") are
  // always matched, as in HF. Thread-safe.
  std::vector<int32_t> encode(std::string_view text, bool parse_special) const;
  // Concatenated bytes of the tokens ('▁' -> ' ', <0xNN> -> byte), special tokens included as
  // their text (HF decode with skip_special_tokens=False); ids out of range are skipped. May end
  // in a partial UTF-8 character when `ids` does; the streaming decoder handles that.
  std::string decode(const std::vector<int32_t>& ids) const;
  // The piece as stored in the vocabulary (e.g. "▁the", "<0x0A>", "<bos>").
  const std::string& piece(int32_t id) const;
  int32_t vocab_size() const;  // highest id + 1, added tokens included (HF with_added_tokens=True)
  // Id of a piece, or -1.
  int32_t find(std::string_view piece) const;
  bool is_special(int32_t id) const;  // added tokens marked special (GGUF: CONTROL)

  int32_t bos_id() const;
  int32_t eos_id() const;
  int32_t pad_id() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Streaming detokenizer: feed ids one at a time, get text that never splits a UTF-8 character.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok) : tok_(tok) {}
  std::string push(int32_t id);  // text completed by this token (possibly empty)
  std::string flush();           // whatever is left (invalid bytes replaced by U+FFFD)
  // Bytes that can never become valid UTF-8 are emitted as U+FFFD (one per maximal subpart) as
  // soon as that is certain; only an unfinished character is held back.

 private:
  const Tokenizer& tok_;
  std::string pending_;
};

}  // namespace g4
