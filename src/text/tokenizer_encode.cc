// Gemma's BPE tokenizer, following the HF `tokenizers` pipeline step by step:
//   1. added tokens that match the raw text (normalized=false) are split out, leftmost-longest;
//      special ones only when parse_special is set,
//   2. each remaining piece is normalized (Replace ' ' -> '▁' for Gemma),
//   3. added tokens that match normalized text (normalized=true) are split out,
//   4. the pre-tokenizer splits the rest into words (Split on a literal string),
//   5. each word goes through BPE: characters (or <0xNN> byte pieces for characters missing from
//      the vocabulary), then merges applied lowest rank first, leftmost first among equal ranks.

#include "text/tokenizer_impl.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "text/utf8.h"

namespace g4 {
namespace tokenizer_detail {

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

}  // namespace tokenizer_detail

using tokenizer_detail::AddedMatcher;
using tokenizer_detail::AddedToken;
using tokenizer_detail::append_sanitized;
using tokenizer_detail::decode_cp;
using tokenizer_detail::is_unicode_space;
using tokenizer_detail::NormOp;
using tokenizer_detail::QueueItem;
using tokenizer_detail::QueueLess;
using tokenizer_detail::replace_all_into;
using tokenizer_detail::Scratch;
using tokenizer_detail::Segment;
using tokenizer_detail::SplitBehavior;
using tokenizer_detail::SplitOp;
using tokenizer_detail::Symbol;
using tokenizer_detail::utf8_len;
using tokenizer_detail::utf8_valid;

std::string Tokenizer::Impl::normalize(std::string_view s) const {
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

void Tokenizer::Impl::split_added(std::string_view text, const AddedMatcher& m, bool parse_special,
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

void Tokenizer::Impl::split_words(std::string_view s, const SplitOp& op, Scratch& sc) const {
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

void Tokenizer::Impl::encode_normalized(std::string_view s, Scratch& sc, std::vector<int32_t>* out) const {
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

void Tokenizer::Impl::encode_text(std::string_view text, bool parse_special, Scratch& sc,
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

const uint64_t* Tokenizer::Impl::find_merge(int32_t a, int32_t b) const {
  return merges.find((uint64_t(uint32_t(a)) << 32) | uint32_t(b));
}

void Tokenizer::Impl::bpe(std::string_view w, Scratch& sc, std::vector<int32_t>* out) const {
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

}  // namespace g4
