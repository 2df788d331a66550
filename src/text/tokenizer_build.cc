// Building a Tokenizer::Impl: the vocabulary, the merge table, added tokens and the derived
// lookup tables. Both loaders (tokenizer.json and GGUF) go through these steps.

#include "text/tokenizer_impl.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace g4 {
namespace tokenizer_detail {

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

}  // namespace tokenizer_detail

using tokenizer_detail::AddedToken;
using tokenizer_detail::byte_piece_value;
using tokenizer_detail::hash_bytes;

Status Tokenizer::Impl::set_pieces(std::vector<std::string> p, std::vector<uint8_t> in_model) {
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

void Tokenizer::Impl::commit_merges() {
  merges.reserve(merges.size() + pending_merges.size());
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < pending_merges.size(); ++i) {
    if (i + kAhead < pending_merges.size()) merges.prefetch(pending_merges[i + kAhead].first);
    merges.put(pending_merges[i].first, pending_merges[i].second);  // a repeated pair: last wins
  }
  pending_merges = {};
}

Status Tokenizer::Impl::add_token(AddedToken t) {
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

void Tokenizer::Impl::finish() {
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

}  // namespace g4
