// Gemma's BPE tokenizer, following the HF `tokenizers` pipeline step by step:
//   1. added tokens that match the raw text (normalized=false) are split out, leftmost-longest;
//      special ones only when parse_special is set,
//   2. each remaining piece is normalized (Replace ' ' -> '▁' for Gemma),
//   3. added tokens that match normalized text (normalized=true) are split out,
//   4. the pre-tokenizer splits the rest into words (Split on a literal string),
//   5. each word goes through BPE: characters (or <0xNN> byte pieces for characters missing from
//      the vocabulary), then merges applied lowest rank first, leftmost first among equal ranks.
// The JSON file is read by a small scanner for the two big arrays (vocab and merges) and by
// nlohmann/json for everything else, so that loading takes tens of milliseconds.

#include "text/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "io/gguf.h"
#include "io/mapped_file.h"

namespace g4 {
namespace {

using json = nlohmann::json;

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// ------------------------------------------------------------------------------------------------
// UTF-8

enum class Utf8 { kOk, kInvalid, kTruncated };

// Examines the sequence starting at p[0] (n >= 1 bytes available), per Unicode Table 3-7.
// kOk: *len is its length. kInvalid: *len is the maximal subpart to replace by one U+FFFD (>= 1).
// kTruncated: all n bytes are a proper prefix of a well-formed sequence; *len = n.
Utf8 utf8_next(const unsigned char* p, size_t n, size_t* len) {
  unsigned c = p[0];
  if (c < 0x80) {
    *len = 1;
    return Utf8::kOk;
  }
  size_t need;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c == 0xE0) {
    need = 3, lo = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    need = 3;
  } else if (c == 0xED) {
    need = 3, hi = 0x9F;
  } else if (c == 0xF0) {
    need = 4, lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    need = 4;
  } else if (c == 0xF4) {
    need = 4, hi = 0x8F;
  } else {
    *len = 1;
    return Utf8::kInvalid;
  }
  for (size_t i = 1; i < need; ++i) {
    if (i >= n) {
      *len = i;
      return Utf8::kTruncated;
    }
    unsigned b = p[i];
    unsigned l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      *len = i;
      return Utf8::kInvalid;
    }
  }
  *len = need;
  return Utf8::kOk;
}

// Length of the UTF-8 character whose lead byte is c (text known to be well-formed).
inline size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

// Appends s to out with every ill-formed part replaced by U+FFFD. A truncated sequence at the end
// counts as ill-formed when `final`; otherwise it is left unconsumed. Returns bytes consumed.
size_t append_sanitized(std::string_view s, bool final, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && p[run] < 0x80) ++run;  // ASCII fast path
    out->append(s.data() + i, run - i);
    i = run;
    if (i >= n) break;
    size_t len;
    Utf8 r = utf8_next(p + i, n - i, &len);
    if (r == Utf8::kOk) {
      out->append(s.data() + i, len);
    } else if (r == Utf8::kInvalid || final) {
      out->append(kReplacementChar);
    } else {
      break;  // truncated, wait for more bytes
    }
    i += len;
  }
  return i;
}

bool utf8_valid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    if (utf8_next(p + i, n - i, &len) != Utf8::kOk) return false;
    i += len;
  }
  return true;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

// Rust's char::is_whitespace (Unicode White_Space), for added tokens with lstrip/rstrip.
bool is_unicode_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

uint32_t decode_cp(const unsigned char* p, size_t len) {
  if (len == 1) return p[0];
  if (len == 2) return ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
  if (len == 3) return ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  return ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

// "<0xNN>" -> NN, else -1 (what HF's ByteFallback decoder and byte_fallback look for).
int byte_piece_value(std::string_view p) {
  if (p.size() != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int h = hex(p[3]), l = hex(p[4]);
  return h < 0 || l < 0 ? -1 : h * 16 + l;
}

// ------------------------------------------------------------------------------------------------
// Hash tables

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix64(h ^ w);
  }
  uint64_t w = 0;
  if (s.size() > i) std::memcpy(&w, s.data() + i, s.size() - i);
  return mix64(h ^ w ^ (uint64_t(s.size() - i) << 56));
}

// Open-addressing map uint64 -> uint64 (key ~0 is reserved).
class U64Map {
 public:
  static constexpr uint64_t kEmpty = ~0ULL;

  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    if (cap > slots_.size()) rehash(cap);
  }
  size_t size() const { return size_; }

  // Sets key -> val; returns false if the key was already present (its value is replaced).
  bool put(uint64_t key, uint64_t val) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(std::max<size_t>(16, slots_.size() * 2));
    size_t i = mix64(key) & mask_;
    while (true) {
      Slot& s = slots_[i];
      if (s.key == kEmpty) {
        s.key = key;
        s.val = val;
        ++size_;
        return true;
      }
      if (s.key == key) {
        s.val = val;
        return false;
      }
      i = (i + 1) & mask_;
    }
  }

  void prefetch(uint64_t key) const { __builtin_prefetch(&slots_[mix64(key) & mask_]); }

  const uint64_t* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    size_t i = mix64(key) & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.val;
      if (s.key == kEmpty) return nullptr;
      i = (i + 1) & mask_;
    }
  }

 private:
  struct Slot {
    uint64_t key = kEmpty;
    uint64_t val = 0;
  };
  void rehash(size_t cap) {
    std::vector<Slot> old(cap);
    old.swap(slots_);
    mask_ = cap - 1;
    size_ = 0;
    for (const Slot& s : old)
      if (s.key != kEmpty) put(s.key, s.val);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Open-addressing index of piece ids keyed by the piece text (which lives in `pieces`). Slots keep
// the full 64-bit hash; when no two pieces share one (checked on insert), a lookup of a string
// known to be a piece may skip the text comparison (find_hashed), which saves a cache miss.
class PieceIndex {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  // Returns the id already holding that text, or -1 after inserting.
  int32_t insert(const std::vector<std::string>& pieces, int32_t id, uint64_t h) {
    std::string_view s = pieces[size_t(id)];
    size_t i = h & mask_;
    while (true) {
      Slot& v = slots_[i];
      if (v.id < 0) {
        v.hash = h;
        v.id = id;
        return -1;
      }
      if (v.hash == h) {
        if (pieces[size_t(v.id)] == s) return v.id;
        unique_hashes_ = false;
      }
      i = (i + 1) & mask_;
    }
  }
  int32_t find(const std::vector<std::string>& pieces, std::string_view s) const {
    return find_hashed(pieces, s, hash_bytes(s), true);
  }
  // `verify` false: trust a matching 64-bit hash when hashes are unique (load-time lookups of
  // merge parts, which must be pieces anyway; a wrong hit needs a 2^-64 coincidence).
  int32_t find_hashed(const std::vector<std::string>& pieces, std::string_view s, uint64_t h,
                      bool verify) const {
    if (slots_.empty()) return -1;
    verify = verify || !unique_hashes_;
    size_t i = h & mask_;
    while (true) {
      const Slot& v = slots_[i];
      if (v.id < 0) return -1;
      if (v.hash == h && (!verify || pieces[size_t(v.id)] == s)) return v.id;
      i = (i + 1) & mask_;
    }
  }
  void prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }

 private:
  struct Slot {
    uint64_t hash = 0;
    int32_t id = -1;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  bool unique_hashes_ = true;
};

// Byte trie over added-token contents, for leftmost-longest matching.
class AddedMatcher {
 public:
  AddedMatcher() { node_token_.push_back(-1); }
  bool empty() const { return node_token_.size() == 1; }

  void add(std::string_view pattern, int32_t token) {
    if (pattern.empty()) return;
    uint32_t node = 0;
    for (unsigned char c : pattern) {
      uint64_t key = (uint64_t(node) << 8) | c;
      if (const uint64_t* child = edges_.find(key)) {
        node = uint32_t(*child);
      } else {
        uint32_t next = uint32_t(node_token_.size());
        node_token_.push_back(-1);
        edges_.put(key, next);
        node = next;
      }
    }
    node_token_[node] = token;  // a later duplicate wins, like a map keyed by content
    first_[static_cast<unsigned char>(pattern[0])] = true;
  }

  // Longest pattern starting at text[pos]: its token, or -1. *len gets its length.
  int32_t longest_at(std::string_view text, size_t pos, size_t* len) const {
    int32_t best = -1;
    uint32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      const uint64_t* child = edges_.find((uint64_t(node) << 8) | static_cast<unsigned char>(text[i]));
      if (!child) break;
      node = uint32_t(*child);
      if (node_token_[node] >= 0) {
        best = node_token_[node];
        *len = i + 1 - pos;
      }
    }
    return best;
  }
  bool may_start(unsigned char c) const { return first_[c]; }

 private:
  U64Map edges_;  // (node << 8 | byte) -> child node
  std::vector<int32_t> node_token_;
  bool first_[256] = {};
};

// ------------------------------------------------------------------------------------------------
// Minimal JSON scanner for the large arrays; other values are handed to nlohmann/json.

class Scanner {
 public:
  explicit Scanner(std::string_view s) : b_(s.data()), p_(s.data()), e_(s.data() + s.size()) {}

  void ws() {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) {
    ws();
    if (p_ < e_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    ws();
    return p_ < e_ && *p_ == c;
  }
  bool at_end() {
    ws();
    return p_ >= e_;
  }
  size_t offset() const { return size_t(p_ - b_); }
  const char* pos() const { return p_; }

  // Reads a string: *out views the input when it has no escapes, else `scratch` holding it.
  bool string_view(std::string_view* out, std::string* scratch) {
    ws();
    if (p_ >= e_ || *p_ != '"') return false;
    const char* q = p_ + 1;
    while (q < e_ && *q != '"' && *q != '\\') ++q;
    if (q < e_ && *q == '"') {
      *out = std::string_view(p_ + 1, size_t(q - p_ - 1));
      p_ = q + 1;
      return true;
    }
    if (!string(scratch)) return false;
    *out = *scratch;
    return true;
  }

  bool string(std::string* out) {
    out->clear();
    if (!eat('"')) return false;
    while (true) {
      const char* q = p_;
      while (q < e_ && *q != '"' && *q != '\\') ++q;
      out->append(p_, size_t(q - p_));
      p_ = q;
      if (p_ >= e_) return false;
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      ++p_;  // backslash
      if (p_ >= e_) return false;
      char c = *p_++;
      switch (c) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (e_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          append_utf8(cp, out);
          break;
        }
        default: return false;
      }
    }
  }

  bool integer(int64_t* v) {
    ws();
    bool neg = false;
    if (p_ < e_ && *p_ == '-') neg = true, ++p_;
    if (p_ >= e_ || *p_ < '0' || *p_ > '9') return false;
    int64_t x = 0;
    while (p_ < e_ && *p_ >= '0' && *p_ <= '9') {
      if (x > (int64_t(1) << 40)) return false;
      x = x * 10 + (*p_++ - '0');
    }
    if (p_ < e_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    *v = neg ? -x : x;
    return true;
  }

  bool boolean(bool* v) {
    ws();
    if (e_ - p_ >= 4 && std::memcmp(p_, "true", 4) == 0) {
      p_ += 4;
      *v = true;
      return true;
    }
    if (e_ - p_ >= 5 && std::memcmp(p_, "false", 5) == 0) {
      p_ += 5;
      *v = false;
      return true;
    }
    return false;
  }

  // Skips one value of any kind.
  bool skip(int depth = 0) {
    if (depth > 512) return false;
    ws();
    if (p_ >= e_) return false;
    char c = *p_;
    if (c == '"') {
      ++p_;
      while (p_ < e_ && *p_ != '"') p_ += (*p_ == '\\') ? 2 : 1;
      if (p_ >= e_) return false;
      ++p_;
      return true;
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++p_;
      if (eat(close)) return true;
      while (true) {
        if (c == '{') {
          if (!skip(depth + 1) || !eat(':')) return false;
        }
        if (!skip(depth + 1)) return false;
        if (eat(',')) continue;
        return eat(close);
      }
    }
    const char* q = p_;
    while (p_ < e_ && (std::isalnum(static_cast<unsigned char>(*p_)) || *p_ == '-' || *p_ == '+' ||
                       *p_ == '.'))
      ++p_;
    return p_ > q;
  }

 private:
  bool hex4(uint32_t* v) {
    if (e_ - p_ < 4) return false;
    uint32_t x = 0;
    for (int i = 0; i < 4; ++i) {
      char c = *p_++;
      x <<= 4;
      if (c >= '0' && c <= '9') x |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') x |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') x |= uint32_t(c - 'A' + 10);
      else return false;
    }
    *v = x;
    return true;
  }
  const char* b_;
  const char* p_;
  const char* e_;
};

// Strings stored back to back, for the vocab and merges while the file is being read.
struct StringArena {
  std::string bytes;
  std::vector<uint32_t> ends;
  void add(std::string_view s) {
    bytes.append(s);
    ends.push_back(uint32_t(bytes.size()));
  }
  size_t size() const { return ends.size(); }
  std::string_view get(size_t i) const {
    size_t b = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(b, ends[i] - b);
  }
};

std::string str_or(const json& j, const char* key, const std::string& def) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : def;
}
bool bool_or(const json& j, const char* key, bool def) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}
bool is_null_or_missing(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null();
}

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

struct QueueItem {
  uint32_t rank;
  int32_t pos;
  int32_t new_id;
  int32_t left, right;  // the pair's ids when queued
};
// std heap is a max-heap: the "largest" element is the lowest rank, then the lowest position.
struct QueueLess {
  bool operator()(const QueueItem& a, const QueueItem& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  int32_t len;  // bytes; 0 once merged into its left neighbour
};

struct Scratch {
  std::vector<Symbol> syms;
  std::vector<QueueItem> heap;
  std::vector<std::pair<size_t, size_t>> words, words2;
  std::vector<std::pair<std::pair<size_t, size_t>, bool>> marks;
};

void replace_all_into(std::string_view s, const std::string& from, const std::string& to,
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

}  // namespace

// ------------------------------------------------------------------------------------------------

struct Tokenizer::Impl {
  std::string name;
  std::vector<std::string> pieces;  // by id; "" for ids that hold nothing
  std::vector<uint8_t> special;     // by id
  std::vector<int16_t> byte_of;     // by id: the byte a <0xNN> piece stands for, else -1
  PieceIndex vocab;                 // the BPE model's vocabulary
  std::vector<uint8_t> in_vocab;    // by id
  U64Map merges;                    // (left << 32 | right) -> (rank << 32 | merged id)
  std::vector<std::pair<uint64_t, uint64_t>> pending_merges;  // while loading
  int32_t byte_ids[256];
  int32_t ascii_ids[128];
  int32_t unk_id = -1;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;

  std::vector<AddedToken> added;
  std::unordered_map<std::string, int32_t> added_by_content;
  AddedMatcher raw_matcher, norm_matcher;  // token index into `added`

  std::vector<NormOp> normalizer;
  std::vector<SplitOp> pre_tokenizer;
  std::vector<Replace> dec_replace;
  bool dec_byte_fallback = true;

  int32_t bos = -1, eos = -1, pad = -1;

  // --- building -----------------------------------------------------------------------------

  Status set_pieces(std::vector<std::string> p, std::vector<uint8_t> in_model) {
    pieces = std::move(p);
    in_vocab = std::move(in_model);
    vocab.reserve(pieces.size());
    constexpr size_t kBatch = 32;
    uint64_t h[kBatch];
    for (size_t base = 0; base < pieces.size(); base += kBatch) {
      size_t m = std::min(kBatch, pieces.size() - base);
      for (size_t j = 0; j < m; ++j) {
        h[j] = hash_bytes(pieces[base + j]);
        vocab.prefetch(h[j]);
      }
      for (size_t j = 0; j < m; ++j) {
        size_t id = base + j;
        if (!in_vocab[id]) continue;
        int32_t other = vocab.insert(pieces, int32_t(id), h[j]);
        if (other >= 0)
          return make_error("%s: piece '%s' appears twice in the vocabulary (ids %d and %zu)",
                            name.c_str(), pieces[id].c_str(), other, id);
      }
    }
    return Status::Ok();
  }

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
      it.ha = hash_bytes(it.a);
      it.hb = hash_bytes(it.b);
      it.hab = hash_bytes(it.ab);
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

  void commit_merges() {
    merges.reserve(merges.size() + pending_merges.size());
    constexpr size_t kAhead = 16;
    for (size_t i = 0; i < pending_merges.size(); ++i) {
      if (i + kAhead < pending_merges.size()) merges.prefetch(pending_merges[i + kAhead].first);
      merges.put(pending_merges[i].first, pending_merges[i].second);  // a repeated pair: last wins
    }
    pending_merges = {};
  }

  Status add_token(AddedToken t) {
    if (t.id < 0 || t.id > (1 << 30))
      return make_error("%s: added token '%s' has a bad id %d", name.c_str(), t.content.c_str(), t.id);
    if (size_t(t.id) >= pieces.size()) {
      pieces.resize(size_t(t.id) + 1);
      in_vocab.resize(size_t(t.id) + 1, 0);
    }
    std::string& slot = pieces[size_t(t.id)];
    if (in_vocab[size_t(t.id)] && slot != t.content)
      return make_error("%s: added token '%s' has id %d, which the vocabulary gives to '%s'",
                        name.c_str(), t.content.c_str(), t.id, slot.c_str());
    int32_t vid = vocab.find(pieces, t.content);
    if (vid >= 0 && vid != t.id)
      return make_error("%s: added token '%s' has id %d but the vocabulary has it at %d",
                        name.c_str(), t.content.c_str(), t.id, vid);
    slot = t.content;
    added_by_content[t.content] = t.id;
    added.push_back(std::move(t));
    return Status::Ok();
  }

  std::string normalize(std::string_view s) const {
    std::string cur(s), next;
    for (const NormOp& op : normalizer) {
      if (op.prepend) {
        if (!cur.empty()) cur.insert(0, op.to);
        continue;
      }
      next.clear();
      replace_all_into(cur, op.from, op.to, &next);
      cur.swap(next);
    }
    return cur;
  }

  void finish() {
    special.assign(pieces.size(), 0);
    for (const AddedToken& t : added)
      if (t.special) special[size_t(t.id)] = 1;
    byte_of.assign(pieces.size(), -1);
    for (size_t id = 0; id < pieces.size(); ++id) byte_of[id] = int16_t(byte_piece_value(pieces[id]));
    for (int b = 0; b < 256; ++b) {
      char name_buf[8];
      std::snprintf(name_buf, sizeof name_buf, "<0x%02X>", b);
      byte_ids[b] = vocab.find(pieces, name_buf);
    }
    for (int c = 0; c < 128; ++c) {
      char ch = char(c);
      ascii_ids[c] = vocab.find(pieces, std::string_view(&ch, 1));
    }
    for (size_t i = 0; i < added.size(); ++i) {
      const AddedToken& t = added[i];
      if (t.normalized) {
        norm_matcher.add(normalize(t.content), int32_t(i));
      } else {
        raw_matcher.add(t.content, int32_t(i));
      }
    }
    auto by_name = [&](const char* s) {
      auto it = added_by_content.find(s);
      if (it != added_by_content.end()) return it->second;
      return vocab.find(pieces, s);
    };
    if (bos < 0) bos = by_name("<bos>");
    if (eos < 0) eos = by_name("<eos>");
    if (pad < 0) pad = by_name("<pad>");
  }

  // --- encoding -----------------------------------------------------------------------------

  // HF AddedVocabulary::find_matches: splits `text` into added tokens and the text around them.
  void split_added(std::string_view text, const AddedMatcher& m, bool parse_special,
                   std::vector<Segment>* out) const {
    out->clear();
    size_t start_offset = 0, i = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    while (i < text.size()) {
      if (!m.may_start(p[i])) {
        ++i;
        continue;
      }
      size_t len = 0;
      int32_t tok = m.longest_at(text, i, &len);
      if (tok < 0) {
        ++i;
        continue;
      }
      const AddedToken& t = added[size_t(tok)];
      size_t start = i, stop = i + len;
      i = stop;
      if (t.special && !parse_special) continue;  // stays ordinary text
      if (t.lstrip) {
        size_t s = start;
        while (s > start_offset) {
          size_t b = s - 1;
          while (b > 0 && (p[b] & 0xC0) == 0x80) --b;
          if (!is_unicode_space(decode_cp(p + b, s - b))) break;
          s = b;
        }
        start = std::max(s, start_offset);
      }
      if (t.rstrip) {
        while (stop < text.size()) {
          size_t l = utf8_len(p[stop]);
          if (!is_unicode_space(decode_cp(p + stop, l))) break;
          stop += l;
        }
        i = stop;
      }
      if (start_offset < start) out->push_back({start_offset, start, -1});
      out->push_back({start, stop, t.id});
      start_offset = stop;
    }
    if (start_offset < text.size()) out->push_back({start_offset, text.size(), -1});
  }

  // HF Split pre-tokenizer with a literal pattern: splits each [begin, end) of `s` in `words`.
  void split_words(std::string_view s, const SplitOp& op, Scratch& sc) const {
    sc.words2.clear();
    for (const auto& range : sc.words) {
      size_t wb = range.first;
      std::string_view w = s.substr(wb, range.second - wb);
      auto& marks = sc.marks;  // ((begin, end), is_match)
      marks.clear();
      size_t prev = 0;
      while (true) {
        size_t j = w.find(op.pattern, prev);
        if (j == std::string_view::npos) break;
        if (j > prev) marks.push_back({{prev, j}, op.invert});
        marks.push_back({{j, j + op.pattern.size()}, !op.invert});
        prev = j + op.pattern.size();
      }
      if (prev < w.size()) marks.push_back({{prev, w.size()}, op.invert});
      size_t first = sc.words2.size();
      auto emit = [&](size_t b, size_t e) { sc.words2.push_back({wb + b, wb + e}); };
      switch (op.behavior) {
        case SplitBehavior::kIsolated:
          for (auto& [r, m] : marks) emit(r.first, r.second);
          break;
        case SplitBehavior::kRemoved:
          for (auto& [r, m] : marks)
            if (!m) emit(r.first, r.second);
          break;
        case SplitBehavior::kContiguous: {
          bool prev_match = false;
          for (auto& [r, m] : marks) {
            if (m == prev_match && sc.words2.size() > first) sc.words2.back().second = wb + r.second;
            else emit(r.first, r.second);
            prev_match = m;
          }
          break;
        }
        case SplitBehavior::kMergedWithPrevious: {
          bool prev_match = false;
          for (auto& [r, m] : marks) {
            if (m && !prev_match && sc.words2.size() > first) sc.words2.back().second = wb + r.second;
            else emit(r.first, r.second);
            prev_match = m;
          }
          break;
        }
        case SplitBehavior::kMergedWithNext: {
          bool prev_match = false;
          for (size_t k = marks.size(); k-- > 0;) {
            auto& [r, m] = marks[k];
            if (m && !prev_match && sc.words2.size() > first) sc.words2.back().first = wb + r.first;
            else emit(r.first, r.second);
            prev_match = m;
          }
          std::reverse(sc.words2.begin() + std::ptrdiff_t(first), sc.words2.end());
          break;
        }
      }
    }
    sc.words.swap(sc.words2);
  }

  void encode_normalized(std::string_view s, Scratch& sc, std::vector<int32_t>* out) const {
    if (pre_tokenizer.empty()) {
      bpe(s, sc, out);
      return;
    }
    sc.words.clear();
    sc.words.push_back({0, s.size()});
    for (const SplitOp& op : pre_tokenizer) split_words(s, op, sc);
    for (auto [b, e] : sc.words)
      if (e > b) bpe(s.substr(b, e - b), sc, out);
  }

  void encode_text(std::string_view text, bool parse_special, Scratch& sc,
                   std::vector<int32_t>* out) const {
    std::vector<Segment> segs;
    split_added(text, raw_matcher, parse_special, &segs);
    for (const Segment& seg : segs) {
      if (seg.id >= 0) {
        out->push_back(seg.id);
        continue;
      }
      std::string_view piece = text.substr(seg.begin, seg.end - seg.begin);
      std::string norm;
      if (!normalizer.empty()) {
        norm = normalize(piece);
        piece = norm;
      }
      if (norm_matcher.empty()) {
        encode_normalized(piece, sc, out);
        continue;
      }
      std::vector<Segment> segs2;
      split_added(piece, norm_matcher, parse_special, &segs2);
      for (const Segment& s2 : segs2) {
        if (s2.id >= 0) out->push_back(s2.id);
        else encode_normalized(piece.substr(s2.begin, s2.end - s2.begin), sc, out);
      }
    }
  }

  const uint64_t* find_merge(int32_t a, int32_t b) const {
    return merges.find((uint64_t(uint32_t(a)) << 32) | uint32_t(b));
  }

  // HF BPE::merge_word + Word::merge_all.
  void bpe(std::string_view w, Scratch& sc, std::vector<int32_t>* out) const {
    if (w.empty()) return;
    if (ignore_merges) {
      int32_t id = vocab.find(pieces, w);
      if (id >= 0) {
        out->push_back(id);
        return;
      }
    }
    auto& syms = sc.syms;
    syms.clear();
    auto push = [&](int32_t id, int32_t len) {
      int32_t n = int32_t(syms.size());
      if (n > 0) syms.back().next = n;
      syms.push_back({id, n - 1, -1, len});
    };
    int32_t unk_len = 0;  // pending unknown run (HF keeps it until a known character arrives)
    const auto* p = reinterpret_cast<const unsigned char*>(w.data());
    for (size_t i = 0; i < w.size();) {
      size_t l = std::min(utf8_len(p[i]), w.size() - i);
      int32_t id = l == 1 && p[i] < 128 ? ascii_ids[p[i]] : vocab.find(pieces, w.substr(i, l));
      if (id >= 0) {
        if (unk_len > 0) push(unk_id, unk_len), unk_len = 0;
        push(id, int32_t(l));
      } else {
        bool bytes_ok = byte_fallback;
        for (size_t k = 0; bytes_ok && k < l; ++k) bytes_ok = byte_ids[p[i + k]] >= 0;
        if (bytes_ok) {
          for (size_t k = 0; k < l; ++k) push(byte_ids[p[i + k]], 1);
        } else if (unk_id >= 0) {
          if (unk_len > 0 && !fuse_unk) push(unk_id, unk_len), unk_len = 0;
          unk_len += int32_t(l);
        }
      }
      i += l;
    }
    if (unk_len > 0) push(unk_id, unk_len);

    if (syms.size() > 1) {
      auto& heap = sc.heap;
      heap.clear();
      auto pair_key = [&](size_t k) {
        return (uint64_t(uint32_t(syms[k].id)) << 32) | uint32_t(syms[k + 1].id);
      };
      constexpr size_t kAhead = 8;  // the merge table is large: prefetch a few pairs ahead
      for (size_t k = 0; k + 1 < syms.size() && k < kAhead; ++k) merges.prefetch(pair_key(k));
      for (size_t k = 0; k + 1 < syms.size(); ++k) {
        if (k + kAhead + 1 < syms.size()) merges.prefetch(pair_key(k + kAhead));
        if (const uint64_t* m = merges.find(pair_key(k)))
          heap.push_back({uint32_t(*m >> 32), int32_t(k), int32_t(uint32_t(*m)), syms[k].id, syms[k + 1].id});
      }
      std::make_heap(heap.begin(), heap.end(), QueueLess());
      while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), QueueLess());
        QueueItem top = heap.back();
        heap.pop_back();
        Symbol& cur = syms[size_t(top.pos)];
        if (cur.len == 0 || cur.next < 0) continue;
        Symbol right = syms[size_t(cur.next)];
        // HF re-looks up the pair and drops the entry unless it yields the same token. Symbols
        // only grow, so a changed pair always spells a longer string, i.e. another token: the
        // check is the same as the pair being unchanged.
        if (cur.id != top.left || right.id != top.right) continue;
        syms[size_t(cur.next)].len = 0;
        cur.id = top.new_id;
        cur.len += right.len;
        cur.next = right.next;
        if (right.next >= 0) syms[size_t(right.next)].prev = top.pos;
        int32_t prev_id = cur.prev >= 0 ? syms[size_t(cur.prev)].id : -1;
        int32_t next_id = cur.next >= 0 ? syms[size_t(cur.next)].id : -1;
        if (prev_id >= 0) merges.prefetch((uint64_t(uint32_t(prev_id)) << 32) | uint32_t(cur.id));
        if (next_id >= 0) merges.prefetch((uint64_t(uint32_t(cur.id)) << 32) | uint32_t(next_id));
        if (prev_id >= 0) {
          if (const uint64_t* mp = find_merge(prev_id, cur.id)) {
            heap.push_back({uint32_t(*mp >> 32), cur.prev, int32_t(uint32_t(*mp)), prev_id, cur.id});
            std::push_heap(heap.begin(), heap.end(), QueueLess());
          }
        }
        if (next_id >= 0) {
          if (const uint64_t* mn = find_merge(cur.id, next_id)) {
            heap.push_back({uint32_t(*mn >> 32), top.pos, int32_t(uint32_t(*mn)), cur.id, next_id});
            std::push_heap(heap.begin(), heap.end(), QueueLess());
          }
        }
      }
    }
    for (int32_t k = syms.empty() ? -1 : 0; k >= 0; k = syms[size_t(k)].next) out->push_back(syms[size_t(k)].id);
  }

  // --- decoding -----------------------------------------------------------------------------

  void decode_into(int32_t id, std::string* out) const {
    if (id < 0 || size_t(id) >= pieces.size()) return;
    if (dec_byte_fallback && byte_of[size_t(id)] >= 0) {
      out->push_back(char(byte_of[size_t(id)]));
      return;
    }
    const std::string& p = pieces[size_t(id)];
    if (dec_replace.empty()) {
      out->append(p);
    } else if (dec_replace.size() == 1) {
      replace_all_into(p, dec_replace[0].from, dec_replace[0].to, out);
    } else {
      std::string cur = p, next;
      for (const Replace& r : dec_replace) {
        next.clear();
        replace_all_into(cur, r.from, r.to, &next);
        cur.swap(next);
      }
      out->append(cur);
    }
  }
};

// ------------------------------------------------------------------------------------------------
// Loading from tokenizer.json

namespace {

Status parse_normalizer(const json& j, const std::string& name, std::vector<NormOp>* ops) {
  if (j.is_null()) return Status::Ok();
  std::string type = str_or(j, "type", "");
  if (type == "Sequence") {
    auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array()) return make_error("%s: normalizer Sequence without a list", name.c_str());
    for (const json& sub : *it) G4_TRY(parse_normalizer(sub, name, ops));
    return Status::Ok();
  }
  if (type == "Replace") {
    auto pat = j.find("pattern");
    if (pat == j.end() || !pat->is_object() || !pat->contains("String") || !(*pat)["String"].is_string())
      return make_error("%s: only literal-string Replace normalizers are supported", name.c_str());
    std::string from = (*pat)["String"].get<std::string>();
    if (from.empty()) return make_error("%s: Replace normalizer with an empty pattern", name.c_str());
    ops->push_back({false, from, str_or(j, "content", "")});
    return Status::Ok();
  }
  if (type == "Prepend") {
    ops->push_back({true, "", str_or(j, "prepend", "")});
    return Status::Ok();
  }
  return make_error("%s: unsupported normalizer '%s'", name.c_str(), type.c_str());
}

Status parse_pre_tokenizer(const json& j, const std::string& name, std::vector<SplitOp>* ops) {
  if (j.is_null()) return Status::Ok();
  std::string type = str_or(j, "type", "");
  if (type == "Sequence") {
    auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array())
      return make_error("%s: pre_tokenizer Sequence without a list", name.c_str());
    for (const json& sub : *it) G4_TRY(parse_pre_tokenizer(sub, name, ops));
    return Status::Ok();
  }
  if (type == "Split") {
    auto pat = j.find("pattern");
    if (pat == j.end() || !pat->is_object() || !pat->contains("String") || !(*pat)["String"].is_string())
      return make_error("%s: only literal-string Split pre-tokenizers are supported", name.c_str());
    SplitOp op;
    op.pattern = (*pat)["String"].get<std::string>();
    op.invert = bool_or(j, "invert", false);
    std::string b = str_or(j, "behavior", "");
    if (b == "Removed") op.behavior = SplitBehavior::kRemoved;
    else if (b == "Isolated") op.behavior = SplitBehavior::kIsolated;
    else if (b == "MergedWithPrevious") op.behavior = SplitBehavior::kMergedWithPrevious;
    else if (b == "MergedWithNext") op.behavior = SplitBehavior::kMergedWithNext;
    else if (b == "Contiguous") op.behavior = SplitBehavior::kContiguous;
    else return make_error("%s: unknown Split behavior '%s'", name.c_str(), b.c_str());
    if (op.pattern.empty()) return Status::Ok();  // HF: an empty pattern never matches
    ops->push_back(std::move(op));
    return Status::Ok();
  }
  return make_error("%s: unsupported pre_tokenizer '%s'", name.c_str(), type.c_str());
}

Status parse_decoder(const json& j, const std::string& name, std::vector<Replace>* reps, bool* byte_fallback) {
  if (j.is_null()) return make_error("%s: the tokenizer has no decoder", name.c_str());
  std::string type = str_or(j, "type", "");
  if (type == "Sequence") {
    auto it = j.find("decoders");
    if (it == j.end() || !it->is_array()) return make_error("%s: decoder Sequence without a list", name.c_str());
    for (const json& sub : *it) G4_TRY(parse_decoder(sub, name, reps, byte_fallback));
    return Status::Ok();
  }
  if (type == "Replace") {
    auto pat = j.find("pattern");
    if (pat == j.end() || !pat->is_object() || !pat->contains("String") || !(*pat)["String"].is_string())
      return make_error("%s: only literal-string Replace decoders are supported", name.c_str());
    std::string from = (*pat)["String"].get<std::string>();
    if (!from.empty()) reps->push_back({from, str_or(j, "content", "")});
    return Status::Ok();
  }
  if (type == "ByteFallback") {
    *byte_fallback = true;
    return Status::Ok();
  }
  if (type == "Fuse") return Status::Ok();
  return make_error("%s: unsupported decoder '%s'", name.c_str(), type.c_str());
}

Result<json> parse_span(std::string_view text, size_t b, size_t e, const std::string& name, const char* what) {
  json j = json::parse(text.substr(b, e - b), nullptr, false);
  if (j.is_discarded()) return make_error("%s: bad JSON in '%s'", name.c_str(), what);
  return j;
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_hf_json(const std::string& path) {
  G4_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::open(path));
  return from_hf_json_text(
      std::string_view(reinterpret_cast<const char*>(file->data()), file->size()), path);
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_hf_json_text(std::string_view text, const std::string& name) {
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  const char* nm = name.c_str();
  Scanner sc(text);
  json config = json::object(), model_config = json::object();
  StringArena vocab_strings;
  std::vector<int32_t> vocab_ids;
  StringArena merge_strings;  // 2 per merge
  std::vector<AddedToken> added;
  bool have_vocab = false, have_merges = false;
  std::string key, s1, s2;
  std::string_view v1, v2;

  // The vocabulary is built as soon as it has been read, so that merges after it (as HF writes
  // them) are resolved while being read, a few hundred at a time.
  bool vocab_built = false;
  size_t merges_done = 0;
  auto build_vocab = [&]() -> Status {
    int32_t max_id = -1;
    for (int32_t id : vocab_ids) max_id = std::max(max_id, id);
    std::vector<std::string> pieces(size_t(max_id + 1));
    std::vector<uint8_t> in_model(pieces.size(), 0);
    for (size_t i = 0; i < vocab_ids.size(); ++i) {
      size_t id = size_t(vocab_ids[i]);
      if (in_model[id]) return make_error("%s: id %zu appears twice in the vocabulary", nm, id);
      in_model[id] = 1;
      pieces[id] = vocab_strings.get(i);
    }
    vocab_strings = StringArena();
    vocab_ids = {};
    vocab_built = true;
    return impl->set_pieces(std::move(pieces), std::move(in_model));
  };
  auto flush_merges = [&]() -> Status {
    size_t n = merge_strings.size() / 2;
    G4_TRY(impl->add_merges(
        merges_done, n,
        [&](size_t i, std::string_view* a, std::string_view* b) {
          *a = merge_strings.get(2 * i);
          *b = merge_strings.get(2 * i + 1);
        },
        nullptr));
    merges_done += n;
    merge_strings.bytes.clear();
    merge_strings.ends.clear();
    return Status::Ok();
  };

  auto bad = [&](const char* what) {
    return make_error("%s: malformed tokenizer JSON (%s, near byte %zu)", nm, what, sc.offset());
  };
  if (!sc.eat('{')) return bad("expected an object");
  if (!sc.eat('}')) {
    while (true) {
      if (!sc.string(&key) || !sc.eat(':')) return bad("expected a key");
      if (key == "model") {
        if (!sc.eat('{')) return bad("model is not an object");
        if (!sc.eat('}')) {
          std::string mkey;
          while (true) {
            if (!sc.string(&mkey) || !sc.eat(':')) return bad("expected a key in model");
            if (mkey == "vocab") {
              have_vocab = true;
              if (!sc.eat('{')) return bad("vocab is not an object");
              if (!sc.eat('}')) {
                while (true) {
                  int64_t id;
                  if (!sc.string_view(&v1, &s1) || !sc.eat(':') || !sc.integer(&id)) return bad("vocab entry");
                  if (id < 0 || id > (1 << 30)) return bad("vocab id out of range");
                  vocab_strings.add(v1);
                  vocab_ids.push_back(int32_t(id));
                  if (sc.eat(',')) continue;
                  if (sc.eat('}')) break;
                  return bad("vocab");
                }
              }
              G4_TRY(build_vocab());
            } else if (mkey == "merges") {
              have_merges = true;
              if (!sc.eat('[')) return bad("merges is not an array");
              impl->pending_merges.reserve((text.size() - sc.offset()) / 20);  // a guess: ~20 bytes each
              if (!sc.eat(']')) {
                while (true) {
                  if (vocab_built && merge_strings.size() >= 512) G4_TRY(flush_merges());
                  if (sc.peek('"')) {  // legacy "a b"
                    if (!sc.string(&s1)) return bad("merge entry");
                    size_t sp = s1.find(' ');
                    if (sp == std::string::npos || s1.find(' ', sp + 1) != std::string::npos)
                      return make_error("%s: merge '%s' is not two pieces separated by a space", nm, s1.c_str());
                    merge_strings.add(std::string_view(s1).substr(0, sp));
                    merge_strings.add(std::string_view(s1).substr(sp + 1));
                  } else {
                    if (!sc.eat('[') || !sc.string_view(&v1, &s1)) return bad("merge entry");
                    merge_strings.add(v1);
                    if (!sc.eat(',') || !sc.string_view(&v2, &s2) || !sc.eat(']')) return bad("merge entry");
                    merge_strings.add(v2);
                  }
                  if (sc.eat(',')) continue;
                  if (sc.eat(']')) break;
                  return bad("merges");
                }
              }
              if (vocab_built) G4_TRY(flush_merges());
            } else {
              sc.ws();
              size_t b = sc.offset();
              if (!sc.skip()) return bad("model value");
              G4_ASSIGN_OR_RETURN(model_config[mkey], parse_span(text, b, sc.offset(), name, mkey.c_str()));
            }
            if (sc.eat(',')) continue;
            if (sc.eat('}')) break;
            return bad("model");
          }
        }
      } else if (key == "added_tokens" && sc.peek('[')) {
        sc.eat('[');
        if (!sc.eat(']')) {
          std::string tkey;
          while (true) {
            AddedToken a;
            bool have_id = false, have_content = false, have_normalized = false, single_word = false;
            if (!sc.eat('{')) return bad("added token is not an object");
            if (!sc.eat('}')) {
              while (true) {
                if (!sc.string(&tkey) || !sc.eat(':')) return bad("added token key");
                bool ok = true;
                if (tkey == "id") {
                  int64_t id;
                  ok = sc.integer(&id) && id >= 0 && id <= (1 << 30);
                  a.id = int32_t(id);
                  have_id = true;
                } else if (tkey == "content") {
                  ok = sc.string(&a.content);
                  have_content = true;
                } else if (tkey == "special") {
                  ok = sc.boolean(&a.special);
                } else if (tkey == "normalized") {
                  ok = sc.boolean(&a.normalized);
                  have_normalized = true;
                } else if (tkey == "lstrip") {
                  ok = sc.boolean(&a.lstrip);
                } else if (tkey == "rstrip") {
                  ok = sc.boolean(&a.rstrip);
                } else if (tkey == "single_word") {
                  ok = sc.boolean(&single_word);
                } else {
                  ok = sc.skip();
                }
                if (!ok) return bad("added token field");
                if (sc.eat(',')) continue;
                if (sc.eat('}')) break;
                return bad("added token");
              }
            }
            if (!have_id || !have_content) return make_error("%s: an added token lacks id or content", nm);
            if (!have_normalized) a.normalized = !a.special;  // HF's default
            if (single_word)
              return make_error("%s: added token '%s' uses single_word, which is not supported", nm,
                                a.content.c_str());
            added.push_back(std::move(a));
            if (sc.eat(',')) continue;
            if (sc.eat(']')) break;
            return bad("added_tokens");
          }
        }
      } else {
        sc.ws();
        size_t b = sc.offset();
        if (!sc.skip()) return bad("value");
        G4_ASSIGN_OR_RETURN(config[key], parse_span(text, b, sc.offset(), name, key.c_str()));
      }
      if (sc.eat(',')) continue;
      if (sc.eat('}')) break;
      return bad("expected ',' or '}'");
    }
  }
  if (!sc.at_end()) return bad("trailing data");

  // The model.
  if (str_or(model_config, "type", "BPE") != "BPE")
    return make_error("%s: model type '%s' is not BPE", nm, str_or(model_config, "type", "").c_str());
  if (!have_vocab || !have_merges) return make_error("%s: the BPE model lacks vocab or merges", nm);
  if (!is_null_or_missing(model_config, "dropout") &&
      !(model_config["dropout"].is_number() && model_config["dropout"].get<double>() == 0.0))
    return make_error("%s: BPE dropout is not supported", nm);
  if (!str_or(model_config, "continuing_subword_prefix", "").empty() ||
      !str_or(model_config, "end_of_word_suffix", "").empty())
    return make_error("%s: continuing_subword_prefix / end_of_word_suffix are not supported", nm);
  impl->fuse_unk = bool_or(model_config, "fuse_unk", false);
  impl->byte_fallback = bool_or(model_config, "byte_fallback", false);
  impl->ignore_merges = bool_or(model_config, "ignore_merges", false);

  if (!vocab_built) G4_TRY(build_vocab());
  G4_TRY(flush_merges());
  impl->commit_merges();

  std::string unk = str_or(model_config, "unk_token", "");
  if (!unk.empty()) {
    impl->unk_id = impl->vocab.find(impl->pieces, unk);
    if (impl->unk_id < 0) return make_error("%s: unk_token '%s' is not in the vocabulary", nm, unk.c_str());
  }

  // Added tokens.
  if (config.contains("added_tokens") && !config["added_tokens"].is_null())
    return make_error("%s: added_tokens is not a list", nm);
  for (AddedToken& a : added) G4_TRY(impl->add_token(std::move(a)));

  // Pipeline.
  if (config.contains("normalizer")) G4_TRY(parse_normalizer(config["normalizer"], name, &impl->normalizer));
  if (config.contains("pre_tokenizer"))
    G4_TRY(parse_pre_tokenizer(config["pre_tokenizer"], name, &impl->pre_tokenizer));
  impl->dec_byte_fallback = false;
  G4_TRY(parse_decoder(config.contains("decoder") ? config["decoder"] : json(), name, &impl->dec_replace,
                       &impl->dec_byte_fallback));

  impl->finish();
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

// ------------------------------------------------------------------------------------------------
// Loading from GGUF metadata (llama.cpp's "gemma4" tokenizer model)

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& gguf) {
  auto impl = std::make_unique<Impl>();
  impl->name = "gguf tokenizer";

  auto get_str = [&](const char* k) -> const std::string* {
    const GgufValue* v = gguf.get(k);
    return v ? std::get_if<std::string>(&v->v) : nullptr;
  };
  auto get_id = [&](const char* k) -> int32_t {
    const GgufValue* v = gguf.get(k);
    const int64_t* x = v ? std::get_if<int64_t>(&v->v) : nullptr;
    return x && *x >= 0 && *x < (int64_t(1) << 30) ? int32_t(*x) : -1;
  };

  const std::string* model = get_str("tokenizer.ggml.model");
  if (!model) return make_error("gguf: tokenizer.ggml.model is missing or not a string");
  if (*model != "gemma4")
    return make_error("gguf: tokenizer.ggml.model is '%s'; only Gemma 4's 'gemma4' BPE is supported", model->c_str());
  const GgufValue* tv = gguf.get("tokenizer.ggml.tokens");
  const auto* tokens = tv ? std::get_if<std::vector<std::string>>(&tv->v) : nullptr;
  if (!tokens || tokens->empty()) return make_error("gguf: tokenizer.ggml.tokens is missing or not a string array");
  const GgufValue* mv = gguf.get("tokenizer.ggml.merges");
  const auto* merges = mv ? std::get_if<std::vector<std::string>>(&mv->v) : nullptr;
  if (!merges) return make_error("gguf: tokenizer.ggml.merges is missing or not a string array");
  const GgufValue* ty = gguf.get("tokenizer.ggml.token_type");
  const auto* types = ty ? std::get_if<std::vector<int64_t>>(&ty->v) : nullptr;
  if (types && types->size() != tokens->size())
    return make_error("gguf: tokenizer.ggml.token_type has %zu entries for %zu tokens", types->size(), tokens->size());
  if (tokens->size() > (size_t(1) << 30)) return make_error("gguf: too many tokens");

  std::vector<uint8_t> in_model(tokens->size(), 1);
  G4_TRY(impl->set_pieces(*tokens, std::move(in_model)));

  std::vector<uint8_t> produced(tokens->size(), 0);
  impl->pending_merges.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const std::string& m = (*merges)[i];
    if (m.size() < 3 || m.find(' ', 1) == std::string::npos || m.find(' ', 1) + 1 >= m.size())
      return make_error("gguf: merge %zu ('%s') is not two pieces separated by a space", i, m.c_str());
  }
  G4_TRY(impl->add_merges(
      0, merges->size(),
      [&](size_t i, std::string_view* a, std::string_view* b) {
        std::string_view m = (*merges)[i];
        size_t sp = m.find(' ', 1);  // as llama.cpp: a piece may start with a space
        *a = m.substr(0, sp);
        *b = m.substr(sp + 1);
      },
      &produced));
  impl->commit_merges();

  // The converter writes HF's special tokens as CONTROL and other added tokens as USER_DEFINED,
  // but HF's non-special added tokens inside the base vocabulary (e.g. "<table>", "<unused0>")
  // come out NORMAL. A piece longer than one character that no merge produces can only come from
  // added-token matching, so those are treated as added tokens too. So are Gemma's whitespace
  // runs ("\n\n", "\t\t\t", "▁▁": added tokens in HF, although merges also build them), since
  // matching a literal "▁▁" in the text differs from BPE over "▁▁▁".
  auto whitespace_run = [](std::string_view p) {
    if (p.find_first_not_of('\n') == std::string_view::npos) return true;
    if (p.find_first_not_of('\t') == std::string_view::npos) return true;
    if (p.size() < 6 || p.size() % 3 != 0) return false;
    for (size_t i = 0; i < p.size(); i += 3)
      if (p.substr(i, 3) != "\xE2\x96\x81") return false;
    return true;
  };
  for (size_t id = 0; id < tokens->size(); ++id) {
    int64_t t = types ? (*types)[id] : 1;
    const std::string& p = impl->pieces[id];
    if (p.empty()) continue;
    AddedToken a;
    a.id = int32_t(id);
    a.content = p;
    if (t == 3 || t == 2) {  // CONTROL, UNKNOWN
      a.special = true;
    } else if (t == 4) {  // USER_DEFINED
    } else if (t == 6 || byte_piece_value(p) >= 0) {  // BYTE
      continue;
    } else if ((produced[id] || utf8_len(static_cast<unsigned char>(p[0])) >= p.size()) &&
               !whitespace_run(p)) {
      continue;  // an ordinary BPE piece
    }
    impl->added_by_content[a.content] = a.id;
    impl->added.push_back(std::move(a));
  }

  impl->unk_id = get_id("tokenizer.ggml.unknown_token_id");
  if (impl->unk_id >= int32_t(tokens->size())) impl->unk_id = -1;
  impl->fuse_unk = true;
  impl->byte_fallback = true;
  impl->normalizer.push_back({false, " ", "\xE2\x96\x81"});
  impl->dec_replace.push_back({"\xE2\x96\x81", " "});
  impl->dec_byte_fallback = true;
  impl->bos = get_id("tokenizer.ggml.bos_token_id");
  impl->eos = get_id("tokenizer.ggml.eos_token_id");
  impl->pad = get_id("tokenizer.ggml.padding_token_id");
  for (int32_t* id : {&impl->bos, &impl->eos, &impl->pad})
    if (*id >= int32_t(tokens->size())) *id = -1;
  impl->finish();
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

// ------------------------------------------------------------------------------------------------

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  std::string fixed;
  if (!utf8_valid(text)) {
    append_sanitized(text, true, &fixed);
    text = fixed;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  Scratch sc;
  impl_->encode_text(text, parse_special, sc, &out);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (int32_t id : ids) impl_->decode_into(id, &out);
  return out;
}

const std::string& Tokenizer::piece(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || size_t(id) >= impl_->pieces.size()) return kEmpty;
  return impl_->pieces[size_t(id)];
}

int32_t Tokenizer::vocab_size() const { return int32_t(impl_->pieces.size()); }

int32_t Tokenizer::find(std::string_view piece) const {
  auto it = impl_->added_by_content.find(std::string(piece));
  if (it != impl_->added_by_content.end()) return it->second;
  return impl_->vocab.find(impl_->pieces, piece);
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && size_t(id) < impl_->special.size() && impl_->special[size_t(id)];
}

int32_t Tokenizer::bos_id() const { return impl_->bos; }
int32_t Tokenizer::eos_id() const { return impl_->eos; }
int32_t Tokenizer::pad_id() const { return impl_->pad; }

// ------------------------------------------------------------------------------------------------

std::string StreamDecoder::push(int32_t id) {
  pending_ += tok_.decode({id});
  std::string out;
  size_t used = append_sanitized(pending_, false, &out);
  pending_.erase(0, used);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  append_sanitized(pending_, true, &out);
  pending_.clear();
  return out;
}

}  // namespace g4
