#include "model/gemma4.h"

#include <algorithm>
#include <set>

namespace g4 {

Result<std::unique_ptr<Gemma4Model>> Gemma4Model::create(ModelFiles files, Backend& backend) {
  auto m = std::unique_ptr<Gemma4Model>(new Gemma4Model(std::move(files), backend));
  ModelConfig& c = m->files_.config;
  auto bound = bind_weights(c, m->files_.tensors(), m->files_.naming);
  if (!bound.ok()) return make_error("%s: %s", m->files_.path.c_str(), bound.error().message.c_str());
  const ModelWeights& w = bound.value();
  if (m->files_.naming == TensorNaming::kHF) {
    auto mm = bind_multimodal(c, m->files_.tensors());
    if (!mm.ok()) return make_error("%s: %s", m->files_.path.c_str(), mm.error().message.c_str());
    m->multimodal_ = mm.value();
  } else {
    c.vision.present = c.audio.present = false;  // GGUF keeps media weights in a separate mmproj file
  }
  G4_TRY(c.validate());

  m->embed_ = backend.weight(*w.embed);
  m->output_ = backend.weight(*w.output);
  m->final_norm_ = backend.to_f32(*w.final_norm);
  for (const auto& [name, t] : m->files_.tensors().tensors()) m->weight_bytes_ += t.nbytes;
  for (int i = 0; i < c.n_layers; ++i) {
    const LayerWeights& lw = w.layers[size_t(i)];
    Layer l;
    l.q = backend.weight(*lw.q);
    l.k = backend.weight(*lw.k);
    l.has_v = lw.v != nullptr;
    if (l.has_v) l.v = backend.weight(*lw.v);
    l.o = backend.weight(*lw.o);
    l.gate = backend.weight(*lw.gate);
    l.up = backend.weight(*lw.up);
    l.down = backend.weight(*lw.down);
    l.attn_norm = backend.to_f32(*lw.attn_norm);
    l.q_norm = backend.to_f32(*lw.q_norm);
    l.k_norm = backend.to_f32(*lw.k_norm);
    l.post_attn_norm = backend.to_f32(*lw.post_attn_norm);
    l.ffn_norm = backend.to_f32(*lw.ffn_norm);
    l.post_ffn_norm = backend.to_f32(*lw.post_ffn_norm);
    if (lw.layer_scalar) {
      auto s = backend.to_f32(*lw.layer_scalar);
      backend.download(&l.layer_scalar, s->f32(), 1);
    }
    m->layers_.push_back(std::move(l));
  }
  return m;
}

Result<std::unique_ptr<SequenceCache>> Gemma4Model::new_cache(int max_context, int max_chunk) {
  return SequenceCache::create(config(), backend_, max_context, max_chunk, kv_type_);
}

size_t Gemma4Model::weight_bytes() const { return weight_bytes_; }

void Gemma4Model::ensure_scratch(int tokens) {
  if (tokens <= scratch_tokens_) return;
  const ModelConfig& c = config();
  const size_t T = size_t(tokens);
  x_ = backend_.alloc(T * size_t(c.hidden));
  h_ = backend_.alloc(T * size_t(c.hidden));
  q_ = backend_.alloc(T * size_t(c.max_q_width()));
  k_ = backend_.alloc(T * size_t(c.max_kv_width()));
  v_ = backend_.alloc(T * size_t(c.max_kv_width()));
  att_ = backend_.alloc(T * size_t(c.max_q_width()));
  g_ = backend_.alloc(T * size_t(c.max_ffn_dim()));
  u_ = backend_.alloc(T * size_t(c.max_ffn_dim()));
  scratch_tokens_ = tokens;
}

Status Gemma4Model::forward(std::span<const Run> runs, std::vector<float>& logits, const Observer* observer) {
  const ModelConfig& c = config();
  Backend& be = backend_;
  // Validate the whole batch before touching any cache.
  std::vector<int32_t> ids, pos;
  std::set<const SequenceCache*> seen;
  for (size_t r = 0; r < runs.size(); ++r) {
    const Run& run = runs[r];
    if (!run.cache) return make_error("batch entry %zu has no cache", r);
    if (!seen.insert(run.cache).second) return make_error("batch entry %zu repeats a sequence", r);
    if (run.tokens.empty()) return make_error("batch entry %zu has no tokens", r);
    if (int64_t(run.cache->n_past()) + int64_t(run.tokens.size()) > run.cache->max_context())
      return make_error("context overflow: %d positions used + %zu new > context size %d", run.cache->n_past(),
                        run.tokens.size(), run.cache->max_context());
    if (int(run.tokens.size()) > run.cache->max_chunk())
      return make_error("batch entry %zu has %zu tokens, more than the chunk size %d", r, run.tokens.size(),
                        run.cache->max_chunk());
    for (size_t i = 0; i < run.tokens.size(); ++i) {
      int32_t id = run.tokens[i];
      if (id < 0 || id >= c.vocab_size) return make_error("token id %d is outside the vocabulary (0..%d)", id, c.vocab_size - 1);
      ids.push_back(id);
      pos.push_back(run.cache->n_past() + int32_t(i));
    }
  }
  for (const Run& run : runs) G4_TRY(run.cache->reserve(int(run.tokens.size())));

  const int T = int(ids.size()), H = c.hidden;
  ensure_scratch(T);
  float *x = x_->f32(), *h = h_->f32(), *q = q_->f32(), *k = k_->f32(), *v = v_->f32(), *att = att_->f32();
  float *g = g_->f32(), *u = u_->f32();
  auto observe = [&](int stage, const float* data) {
    if (!observer) return;
    std::vector<float> host(size_t(T) * size_t(H));
    be.download(host.data(), data, host.size());
    (*observer)(stage, host.data(), T, H);
  };

  be.embed(embed_, ids.data(), T, c.embed_scale, x);
  observe(0, x);
  for (int li = 0; li < c.n_layers; ++li) {
    const LayerConfig& lc = c.layers[size_t(li)];
    Layer& L = layers_[size_t(li)];
    const int hd = lc.head_dim, nh = lc.n_heads, nkv = lc.n_kv_heads, qw = nh * hd, kvw = nkv * hd;

    // Attention block.
    be.rms_norm(x, L.attn_norm->f32(), T, H, c.rms_eps, h);
    be.matmul(L.q, h, T, q);
    be.matmul(L.k, h, T, k);
    if (L.has_v) be.matmul(L.v, h, T, v);
    else be.copy(v, k, size_t(T) * size_t(kvw));  // k_eq_v: V from the raw k_proj output
    be.rms_norm(q, L.q_norm->f32(), T * nh, hd, c.rms_eps, q);
    be.rope(q, T, nh, hd, pos.data(), lc.rope_inv_freq.data());
    be.rms_norm(k, L.k_norm->f32(), T * nkv, hd, c.rms_eps, k);
    be.rope(k, T, nkv, hd, pos.data(), lc.rope_inv_freq.data());
    if (c.v_norm) be.rms_norm(v, nullptr, T * nkv, hd, c.rms_eps, v);

    AttnShape shape{nh, nkv, hd, lc.kind == AttnKind::kSliding ? lc.window : 0, c.attn_scale};
    int row0 = 0;
    for (const Run& run : runs) {
      const int n = int(run.tokens.size());
      KvView kv = run.cache->view(li);
      be.kv_write(kv, kvw, run.cache->n_past(), n, k + size_t(row0) * size_t(kvw), v + size_t(row0) * size_t(kvw));
      be.attention(shape, AttnSegment{row0, n, run.cache->n_past(), kv}, q, qw, att, qw);
      row0 += n;
    }
    be.matmul(L.o, att, T, h);
    be.rms_norm(h, L.post_attn_norm->f32(), T, H, c.rms_eps, h);
    be.add(x, h, size_t(T) * size_t(H));

    // Feed-forward block (GeGLU).
    be.rms_norm(x, L.ffn_norm->f32(), T, H, c.rms_eps, h);
    be.matmul(L.gate, h, T, g);
    be.matmul(L.up, h, T, u);
    be.gelu_mul(g, u, size_t(T) * size_t(lc.ffn_dim));
    be.matmul(L.down, g, T, h);
    be.rms_norm(h, L.post_ffn_norm->f32(), T, H, c.rms_eps, h);
    be.add(x, h, size_t(T) * size_t(H));
    if (L.layer_scalar != 1.0f) be.scale(x, L.layer_scalar, size_t(T) * size_t(H));
    observe(li + 1, x);
  }
  for (const Run& run : runs) run.cache->advance(int(run.tokens.size()));

  // Output head on the rows that want logits.
  if (observer) {
    be.rms_norm(x, final_norm_->f32(), T, H, c.rms_eps, h);
    observe(c.n_layers + 1, h);
  }
  int rows = 0, row0 = 0;
  for (const Run& run : runs) {
    const int n = int(run.tokens.size());
    if (run.no_logits) {
      row0 += n;
      continue;
    }
    const int first = run.all_logits ? row0 : row0 + n - 1;
    const int count = run.all_logits ? n : 1;
    be.copy(h + size_t(rows) * size_t(H), x + size_t(first) * size_t(H), size_t(count) * size_t(H));
    rows += count;
    row0 += n;
  }
  if (rows == 0) return {};
  be.rms_norm(h, final_norm_->f32(), rows, H, c.rms_eps, h);
  auto out = be.alloc(size_t(rows) * size_t(c.vocab_size));
  be.matmul(output_, h, rows, out->f32());
  if (c.final_softcap > 0) be.softcap(out->f32(), c.final_softcap, size_t(rows) * size_t(c.vocab_size));
  size_t base = logits.size();
  logits.resize(base + size_t(rows) * size_t(c.vocab_size));
  be.download(logits.data() + base, out->f32(), size_t(rows) * size_t(c.vocab_size));
  return {};
}

}  // namespace g4
