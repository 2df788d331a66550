// The tokenizer's hash tables: a uint64 -> uint64 map (merges, trie edges) and an index of piece
// ids by piece text. Both are open-addressing with linear probing and live in this header because
// their lookups sit in the innermost loops of encoding and loading.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace g4::tokenizer_detail {

// SplitMix64's finalizer.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// 64-bit hash of a string, read 8 bytes at a time.
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

}  // namespace g4::tokenizer_detail
