#include "runtime/kv_cache.h"

#include <algorithm>
#include <string>

namespace g4 {

namespace {
constexpr int kBlock = 256;  // full layers grow in blocks of this many positions
// The positions a ring layer must keep for the next query at n: [n - window + 1, n).
int window_start(int n, int window) { return std::max(0, n - window + 1); }
}

int SequenceCache::positions_kept(const LayerConfig& lc, int max_context, int max_chunk) {
  if (lc.kind == AttnKind::kSliding && lc.window > 0 && int64_t(lc.window) + max_chunk < max_context)
    return lc.window + max_chunk;
  return max_context;
}

size_t SequenceCache::bytes_at_full_context(const ModelConfig& c, int max_context, int max_chunk, DType kv_type) {
  size_t b = 0;
  for (const auto& lc : c.layers)
    b += size_t(positions_kept(lc, max_context, max_chunk)) * kv_row_stride(kv_type, lc.n_kv_heads * lc.head_dim) * 2;
  return b;
}

Result<std::unique_ptr<SequenceCache>> SequenceCache::create(const ModelConfig& c, Backend& backend,
                                                             int max_context, int max_chunk, DType kv_type) {
  if (!kv_type_supported(kv_type))
    return make_error("KV cache type %s is not supported (f32, f16 or q8_0)", std::string(dtype_name(kv_type)).c_str());
  for (const auto& lc : c.layers)
    if (lc.head_dim % dtype_block(kv_type) != 0)
      return make_error("KV cache type %s needs head dims that are multiples of %lld (this model has %d)",
                        std::string(dtype_name(kv_type)).c_str(), (long long)dtype_block(kv_type), lc.head_dim);
  if (max_context <= 0) return make_error("context size must be positive (got %d)", max_context);
  if (max_chunk <= 0) return make_error("chunk size must be positive (got %d)", max_chunk);
  if (c.max_context > 0 && max_context > c.max_context)
    return make_error("context %d exceeds the model's maximum of %d positions", max_context, c.max_context);
  auto s = std::unique_ptr<SequenceCache>(new SequenceCache(backend));
  s->max_context_ = max_context;
  s->max_chunk_ = max_chunk;
  s->kv_type_ = kv_type;
  for (const auto& lc : c.layers) {
    Layer l;
    l.width = lc.n_kv_heads * lc.head_dim;
    l.stride = kv_row_stride(kv_type, l.width);
    if (int kept = positions_kept(lc, max_context, max_chunk); kept < max_context) {
      l.ring = true;
      l.window = lc.window;
      l.capacity = kept;
      l.k = backend.alloc(size_t(l.capacity) * l.stride / 4);
      l.v = backend.alloc(size_t(l.capacity) * l.stride / 4);
    }
    s->layers_.push_back(std::move(l));
  }
  return s;
}

Status SequenceCache::grow(Layer& l, int positions) {
  if (positions <= l.capacity) return {};
  int cap = std::min(max_context_, std::max(positions, l.capacity * 2 / kBlock * kBlock + kBlock));
  cap = std::max(cap, positions);
  const size_t floats_per_row = l.stride / 4;
  auto k = backend_.alloc(size_t(cap) * floats_per_row);
  auto v = backend_.alloc(size_t(cap) * floats_per_row);
  if (l.k && n_past_ > 0) {
    backend_.copy(k->f32(), l.k->f32(), size_t(n_past_) * floats_per_row);
    backend_.copy(v->f32(), l.v->f32(), size_t(n_past_) * floats_per_row);
  }
  l.k = std::move(k);
  l.v = std::move(v);
  l.capacity = cap;
  return {};
}

Status SequenceCache::reserve(int n) {
  if (n < 0 || n > max_chunk_)
    return make_error("a forward call of %d tokens exceeds the chunk size %d", n, max_chunk_);
  if (int64_t(n_past_) + n > max_context_)
    return make_error("context overflow: %d positions used + %d new > context size %d", n_past_, n, max_context_);
  for (auto& l : layers_)
    if (!l.ring) G4_TRY(grow(l, n_past_ + n));
  return {};
}

KvView SequenceCache::view(int layer) const {
  const Layer& l = layers_[size_t(layer)];
  KvView v;
  v.type = kv_type_;
  v.k = l.k ? reinterpret_cast<uint8_t*>(l.k->f32()) : nullptr;
  v.v = l.v ? reinterpret_cast<uint8_t*>(l.v->f32()) : nullptr;
  v.row_stride = l.stride;
  v.capacity = l.capacity;
  v.ring = l.ring;
  return v;
}

int SequenceCache::oldest_held(const Layer& l) const {
  return l.ring ? std::max(0, n_past_ - l.capacity) : 0;
}

bool SequenceCache::can_rollback(int n) const {
  if (n < 0 || n > n_past_) return false;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    if (!l.ring) continue;
    // The next query (position n) needs keys [n - window + 1, n); none at n = 0.
    if (n > 0 && window_start(n, l.window) < oldest_held(l)) return false;
  }
  return true;
}

Status SequenceCache::rollback(int n) {
  if (n < 0 || n > n_past_) return make_error("cannot roll back to %d: the sequence has %d positions", n, n_past_);
  if (!can_rollback(n))
    return make_error("cannot roll back from %d to %d positions: the sliding-window cache keeps only %d extra "
                      "positions (restore a snapshot instead)", n_past_, n, max_chunk_);
  n_past_ = n;
  return {};
}

SequenceCache::Snapshot SequenceCache::snapshot() const {
  Snapshot s;
  s.n_past = n_past_;
  for (const auto& l : layers_) {
    std::vector<float> k, v;
    if (l.ring) {
      const size_t w = l.stride / 4;  // floats' worth of bytes per row
      for (int p = window_start(n_past_, l.window); p < n_past_; ++p) {
        const size_t slot = size_t(p % l.capacity);
        k.resize(k.size() + w);
        v.resize(v.size() + w);
        backend_.download(k.data() + k.size() - w, l.k->f32() + slot * w, w);
        backend_.download(v.data() + v.size() - w, l.v->f32() + slot * w, w);
      }
    }
    s.k.push_back(std::move(k));
    s.v.push_back(std::move(v));
  }
  return s;
}

Status SequenceCache::restore(const Snapshot& s) {
  if (s.k.size() != layers_.size() || s.v.size() != layers_.size())
    return make_error("snapshot has %zu layers, the cache %zu", s.k.size(), layers_.size());
  if (s.n_past < 0 || s.n_past > max_context_)
    return make_error("snapshot of %d positions does not fit the context %d", s.n_past, max_context_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    const size_t rows = l.ring ? size_t(s.n_past - window_start(s.n_past, l.window)) : 0;
    if (s.k[i].size() != rows * (l.stride / 4) || s.v[i].size() != rows * (l.stride / 4))
      return make_error("snapshot layer %zu does not match this cache's geometry", i);
    if (!l.ring && l.capacity < s.n_past)
      return make_error("snapshot of %d positions is past what layer %zu holds (%d)", s.n_past, i, l.capacity);
  }
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = layers_[i];
    if (!l.ring) continue;
    const size_t w = l.stride / 4;
    size_t row = 0;
    for (int p = window_start(s.n_past, l.window); p < s.n_past; ++p, ++row) {
      const size_t slot = size_t(p % l.capacity);
      backend_.upload(l.k->f32() + slot * w, s.k[i].data() + row * w, w);
      backend_.upload(l.v->f32() + slot * w, s.v[i].data() + row * w, w);
    }
  }
  n_past_ = s.n_past;
  return {};
}

size_t SequenceCache::bytes() const {
  size_t b = 0;
  for (const auto& l : layers_)
    if (l.k) b += l.k->bytes() + l.v->bytes();
  return b;
}

}  // namespace g4
