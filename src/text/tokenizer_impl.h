// Tokenizer::Impl, shared by the files that make up the tokenizer, and the small types it is
// built from. Internal: only src/text includes this.
//   tokenizer_build.cc      building an Impl (vocabulary, merges, added tokens), for both loaders
//   tokenizer_encode.cc     the encoding pipeline and BPE
//   tokenizer.cc            decoding, the public accessors and StreamDecoder
//   tokenizer_load_json.cc  loading from tokenizer.json
//   tokenizer_load_gguf.cc  loading from GGUF metadata
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/added_matcher.h"
#include "text/hash_tables.h"
#include "text/tokenizer.h"
#include "util/result.h"

namespace g4 {
namespace tokenizer_detail {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
};

struct NormOp {
  bool prepend = false;  // else replace
  std::string from, to;  // prepend: `to` is prepended
};

struct SplitOp {
  std::string pattern;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
};

struct Replace {
  std::string from, to;
};

struct Segment {
  size_t begin, end;
  int32_t id;  // added token id, or -1 for text
};

// Per-call working memory of encoding (defined in tokenizer_encode.cc).
struct Scratch;

// Appends s to out with every occurrence of `from` replaced by `to`.
inline void replace_all_into(std::string_view s, const std::string& from, const std::string& to,
                             std::string* out) {
  size_t i = 0;
  while (true) {
    size_t j = s.find(from, i);
    if (j == std::string_view::npos) break;
    out->append(s.data() + i, j - i);
    out->append(to);
    i = j + from.size();
  }
  out->append(s.data() + i, s.size() - i);
}

// "<0xNN>" -> NN, else -1 (what HF's ByteFallback decoder and byte_fallback look for).
int byte_piece_value(std::string_view p);

}  // namespace tokenizer_detail

struct Tokenizer::Impl {
  std::string name;
  std::vector<std::string> pieces;     // by id; "" for ids that hold nothing
  std::vector<uint8_t> special;        // by id
  std::vector<int16_t> byte_of;        // by id: the byte a <0xNN> piece stands for, else -1
  tokenizer_detail::PieceIndex vocab;  // the BPE model's vocabulary
  std::vector<uint8_t> in_vocab;       // by id
  tokenizer_detail::U64Map merges;     // (left << 32 | right) -> (rank << 32 | merged id)
  std::vector<std::pair<uint64_t, uint64_t>> pending_merges;  // while loading
  int32_t byte_ids[256];
  int32_t ascii_ids[128];
  int32_t unk_id = -1;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;

  std::vector<tokenizer_detail::AddedToken> added;
  std::unordered_map<std::string, int32_t> added_by_content;
  tokenizer_detail::AddedMatcher raw_matcher, norm_matcher;  // token index into `added`

  std::vector<tokenizer_detail::NormOp> normalizer;
  std::vector<tokenizer_detail::SplitOp> pre_tokenizer;
  std::vector<tokenizer_detail::Replace> dec_replace;
  bool dec_byte_fallback = true;

  int32_t bos = -1, eos = -1, pad = -1;

  // --- building (tokenizer_build.cc) ---------------------------------------------------------

  // Takes the pieces by id; those with in_model set make up the BPE vocabulary.
  Status set_pieces(std::vector<std::string> p, std::vector<uint8_t> in_model);

  // Resolves merges first_rank.. first_rank+n-1; get(i, &a, &b) gives the two parts of the i-th.
  // The lookups are memory bound, so each is prefetched a few merges ahead. The (pair -> rank,
  // merged id) entries are collected and go into the table in commit_merges().
  template <typename Get>
  Status add_merges(size_t first_rank, size_t n, Get get, std::vector<uint8_t>* produced) {
    constexpr size_t kAhead = 16;
    struct Item {
      std::string_view a, b;
      std::string ab;
      uint64_t ha, hb, hab;
    };
    Item ring[kAhead];
    auto stage = [&](size_t i) {
      Item& it = ring[i % kAhead];
      get(i, &it.a, &it.b);
      it.ab.assign(it.a);
      it.ab.append(it.b);
      it.ha = tokenizer_detail::hash_bytes(it.a);
      it.hb = tokenizer_detail::hash_bytes(it.b);
      it.hab = tokenizer_detail::hash_bytes(it.ab);
      vocab.prefetch(it.ha);
      vocab.prefetch(it.hb);
      vocab.prefetch(it.hab);
    };
    for (size_t i = 0; i < std::min(n, kAhead); ++i) stage(i);
    for (size_t i = 0; i < n; ++i) {
      const Item& it = ring[i % kAhead];
      int32_t ia = vocab.find_hashed(pieces, it.a, it.ha, false);
      int32_t ib = vocab.find_hashed(pieces, it.b, it.hb, false);
      int32_t im = vocab.find_hashed(pieces, it.ab, it.hab, false);
      if (ia < 0 || ib < 0 || im < 0)
        return make_error("%s: merge %zu ('%.*s' '%.*s') uses a piece missing from the vocabulary",
                          name.c_str(), first_rank + i, int(it.a.size()), it.a.data(), int(it.b.size()),
                          it.b.data());
      pending_merges.push_back({(uint64_t(uint32_t(ia)) << 32) | uint32_t(ib),
                                (uint64_t(first_rank + i) << 32) | uint32_t(im)});
      if (produced) (*produced)[size_t(im)] = 1;
      if (i + kAhead < n) stage(i + kAhead);  // reuses this slot
    }
    return Status::Ok();
  }

  // Puts the merges collected by add_merges() into the merge table.
  void commit_merges();
  // Registers an added token, checking its id against the vocabulary.
  Status add_token(tokenizer_detail::AddedToken t);
  // Derives the lookup tables (special flags, byte pieces, matchers, bos/eos/pad); called last.
  void finish();

  // --- encoding (tokenizer_encode.cc) --------------------------------------------------------

  std::string normalize(std::string_view s) const;
  // HF AddedVocabulary::find_matches: splits `text` into added tokens and the text around them.
  void split_added(std::string_view text, const tokenizer_detail::AddedMatcher& m, bool parse_special,
                   std::vector<tokenizer_detail::Segment>* out) const;
  // HF Split pre-tokenizer with a literal pattern: splits each [begin, end) of `s` in `words`.
  void split_words(std::string_view s, const tokenizer_detail::SplitOp& op,
                   tokenizer_detail::Scratch& sc) const;
  void encode_normalized(std::string_view s, tokenizer_detail::Scratch& sc, std::vector<int32_t>* out) const;
  void encode_text(std::string_view text, bool parse_special, tokenizer_detail::Scratch& sc,
                   std::vector<int32_t>* out) const;
  const uint64_t* find_merge(int32_t a, int32_t b) const;
  // HF BPE::merge_word + Word::merge_all.
  void bpe(std::string_view w, tokenizer_detail::Scratch& sc, std::vector<int32_t>* out) const;

  // --- decoding (tokenizer.cc) ---------------------------------------------------------------

  // Appends the bytes of token `id` (nothing for an id out of range).
  void decode_into(int32_t id, std::string* out) const;
};

}  // namespace g4
