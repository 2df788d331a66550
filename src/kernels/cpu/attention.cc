// The CPU attention driver: work units, key tiles, the online softmax and the split-KV combine
// (see attention.h). The arithmetic is in the per-ISA tables of attention_kernels.h.
#include "kernels/cpu/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/cpu_features.h"

namespace g4::cpu {

namespace {

using attn::Kernels;

// About this many query rows (tokens x heads of a KV head) per unit: enough to reuse each converted
// K/V tile many times, few enough that the rows' accumulators stay in L1/L2.
constexpr int kRowsPerUnit = 32;
// Key tiles hold about this many f32 elements (64 keys of 256 dims, 32 of 512).
constexpr int kTileElems = 16384;
// Split-KV aims at this many units per thread, each with at least kMinSplitTiles tiles of keys.
constexpr int kUnitsPerThread = 4;
constexpr int kMinSplitTiles = 2;

const Kernels& pick(AttnIsa isa) {
  if (isa == AttnIsa::kAuto) {
    static const Kernels* best = cpu_features().avx512 && attn::kernels_avx512() ? attn::kernels_avx512()
                                 : cpu_features().avx2 && attn::kernels_avx2()   ? attn::kernels_avx2()
                                                                                 : &attn::kernels_scalar();
    return *best;
  }
  if (isa == AttnIsa::kAvx512) return *attn::kernels_avx512();
  if (isa == AttnIsa::kAvx2) return *attn::kernels_avx2();
  return attn::kernels_scalar();
}

// One unit of work: query tokens [t0, t1) of the segment, all query heads of KV head `g`, keys
// [k0, k1] (a split of the block's visible range). `part` >= 0: where its partial result goes.
struct Unit {
  int g, t0, t1, k0, k1, part;
  int64_t cost;
};

// A unit's running softmax state and result, for split-KV units.
struct Partial {
  std::vector<float> m, l, o;  // per row; o is [rows, hd]
};

// Per-thread scratch, reused across calls.
struct Scratch {
  std::vector<float> q, o, s, k, v, m, l;
};

void run_unit(const Kernels& K, const AttnShape& sh, const AttnSegment& seg, const float* q, int q_stride,
              float* out, int out_stride, const Unit& u, int tile, Partial* part, Scratch& sc) {
  const int hd = sh.head_dim, G = sh.n_heads / sh.n_kv_heads, R = (u.t1 - u.t0) * G;
  const KvView& kv = seg.kv;
  const size_t head_off = dtype_row_bytes(kv.type, int64_t(u.g) * hd);
  sc.q.resize(size_t(R) * size_t(hd));
  sc.o.assign(size_t(R) * size_t(hd), 0.0f);
  sc.s.resize(size_t(R) * size_t(tile));
  sc.k.resize(size_t(tile) * size_t(hd));
  sc.v.resize(size_t(tile) * size_t(hd));
  sc.m.assign(size_t(R), -INFINITY);
  sc.l.assign(size_t(R), 0.0f);
  // Row r is token t0 + r / G, query head g * G + r % G; the scale is folded into the query.
  for (int r = 0; r < R; ++r) {
    const float* src = q + size_t(seg.row0 + u.t0 + r / G) * size_t(q_stride) + size_t(u.g * G + r % G) * size_t(hd);
    float* dst = sc.q.data() + size_t(r) * size_t(hd);
    for (int i = 0; i < hd; ++i) dst[i] = src[i] * sh.scale;
  }
  for (int j0 = u.k0; j0 <= u.k1; j0 += tile) {
    const int nk = std::min(tile, u.k1 - j0 + 1);
    for (int j = 0; j < nk; ++j) {
      const size_t slot = size_t(kv.ring ? (j0 + j) % kv.capacity : j0 + j);
      K.load(kv.type, kv.k + slot * kv.row_stride + head_off, sc.k.data() + size_t(j) * size_t(hd), hd);
      K.load(kv.type, kv.v + slot * kv.row_stride + head_off, sc.v.data() + size_t(j) * size_t(hd), hd);
    }
    K.scores(sc.q.data(), R, sc.k.data(), nk, hd, sc.s.data(), tile);
    for (int r = 0; r < R; ++r) {
      float* s = sc.s.data() + size_t(r) * size_t(tile);
      const int p = seg.pos0 + u.t0 + r / G;
      const int lo = sh.window > 0 ? std::max(0, p - sh.window + 1) : 0;
      // Visible keys of this row within the tile: [a, b] (causal and window masks).
      const int a = std::max(0, lo - j0), b = std::min(nk - 1, p - j0);
      if (a > b) {  // nothing visible here: the row takes no weight from this tile
        std::fill(s, s + nk, 0.0f);
        continue;
      }
      std::fill(s, s + a, -INFINITY);
      std::fill(s + b + 1, s + nk, -INFINITY);
      float mt = s[a];
      for (int j = a + 1; j <= b; ++j) mt = std::max(mt, s[j]);
      const float m_old = sc.m[size_t(r)], m_new = std::max(m_old, mt);
      const float alpha = std::exp(m_old - m_new);  // 0 when the row saw nothing yet
      sc.l[size_t(r)] = sc.l[size_t(r)] * alpha + K.exp_sum(s, nk, m_new);
      sc.m[size_t(r)] = m_new;
      if (alpha != 1.0f) {
        float* o = sc.o.data() + size_t(r) * size_t(hd);
        for (int i = 0; i < hd; ++i) o[i] *= alpha;
      }
    }
    K.pv(sc.s.data(), tile, R, sc.v.data(), nk, hd, sc.o.data());
  }
  if (part) {
    part->m = sc.m;
    part->l = sc.l;
    part->o = sc.o;
    return;
  }
  for (int r = 0; r < R; ++r) {
    float* dst = out + size_t(seg.row0 + u.t0 + r / G) * size_t(out_stride) + size_t(u.g * G + r % G) * size_t(hd);
    const float* o = sc.o.data() + size_t(r) * size_t(hd);
    const float inv = 1.0f / sc.l[size_t(r)];
    for (int i = 0; i < hd; ++i) dst[i] = o[i] * inv;
  }
}

// out rows of a query block from its key splits' partial results.
void combine(const AttnShape& sh, const AttnSegment& seg, int g, int t0, int t1, const Partial* parts, int n_parts,
             float* out, int out_stride) {
  const int hd = sh.head_dim, G = sh.n_heads / sh.n_kv_heads, R = (t1 - t0) * G;
  for (int r = 0; r < R; ++r) {
    float m = -INFINITY;
    for (int i = 0; i < n_parts; ++i) m = std::max(m, parts[i].m[size_t(r)]);
    float* dst = out + size_t(seg.row0 + t0 + r / G) * size_t(out_stride) + size_t(g * G + r % G) * size_t(hd);
    std::fill(dst, dst + hd, 0.0f);
    float l = 0;
    for (int i = 0; i < n_parts; ++i) {
      if (parts[i].m[size_t(r)] == -INFINITY) continue;  // this split held none of the row's keys
      const float w = std::exp(parts[i].m[size_t(r)] - m);
      l += parts[i].l[size_t(r)] * w;
      const float* o = parts[i].o.data() + size_t(r) * size_t(hd);
      for (int d = 0; d < hd; ++d) dst[d] += o[d] * w;
    }
    const float inv = 1.0f / l;
    for (int d = 0; d < hd; ++d) dst[d] *= inv;
  }
}

}  // namespace

bool attn_isa_available(AttnIsa isa) {
  switch (isa) {
    case AttnIsa::kAuto:
    case AttnIsa::kScalar: return true;
    case AttnIsa::kAvx2: return cpu_features().avx2 && attn::kernels_avx2();
    case AttnIsa::kAvx512: return cpu_features().avx512 && attn::kernels_avx512();
  }
  return false;
}

void kv_write(const KvView& kv, int width, int pos0, int n, const float* k, const float* v, AttnIsa isa) {
  const Kernels& K = pick(isa);
  for (int i = 0; i < n; ++i) {
    const int p = pos0 + i;
    const size_t slot = size_t(kv.ring ? p % kv.capacity : p);
    K.store(kv.type, k + size_t(i) * size_t(width), kv.k + slot * kv.row_stride, width);
    K.store(kv.type, v + size_t(i) * size_t(width), kv.v + slot * kv.row_stride, width);
  }
}

void attention(ThreadPool& pool, const AttnShape& sh, const AttnSegment& seg, const float* q, int q_stride,
               float* out, int out_stride, AttnIsa isa) {
  if (seg.n_tokens <= 0) return;
  const Kernels& K = pick(isa);
  const int hd = sh.head_dim, G = sh.n_heads / sh.n_kv_heads;
  const int tile = std::clamp(kTileElems / std::max(hd, 1), 8, 128);
  const int bq = std::clamp(kRowsPerUnit / G, 1, seg.n_tokens);  // query tokens per unit
  const int n_blocks = (seg.n_tokens + bq - 1) / bq;
  auto lo_of = [&](int p) { return sh.window > 0 ? std::max(0, p - sh.window + 1) : 0; };

  // Split the keys when heads x blocks cannot keep every thread busy (a single decode token).
  const int want = kUnitsPerThread * pool.size(), units0 = sh.n_kv_heads * n_blocks;
  int max_keys = 0;
  for (int b = 0; b < n_blocks; ++b) {
    const int t0 = b * bq, t1 = std::min(seg.n_tokens, t0 + bq);
    max_keys = std::max(max_keys, seg.pos0 + t1 - lo_of(seg.pos0 + t0));
  }
  int splits = 1;
  if (units0 < want)
    splits = std::max(1, std::min((want + units0 - 1) / units0, max_keys / (kMinSplitTiles * tile)));

  std::vector<Unit> units;
  units.reserve(size_t(units0) * size_t(splits));
  for (int g = 0; g < sh.n_kv_heads; ++g)
    for (int b = 0; b < n_blocks; ++b) {
      const int t0 = b * bq, t1 = std::min(seg.n_tokens, t0 + bq);
      const int k0 = lo_of(seg.pos0 + t0), k1 = seg.pos0 + t1 - 1, len = k1 - k0 + 1;
      // Split boundaries on whole tiles, so every split but the last loads full tiles.
      const int per = (len + splits - 1) / splits;
      const int step = splits == 1 ? len : (per + tile - 1) / tile * tile;
      for (int s = 0; s < splits; ++s) {
        const int a = k0 + s * step, e = std::min(k1, a + step - 1);
        const int part = splits == 1 ? -1 : (g * n_blocks + b) * splits + s;
        units.push_back({g, t0, t1, a, e, part, int64_t(t1 - t0) * std::max(0, e - a + 1)});
      }
    }
  // Largest first, taken dynamically: causal blocks differ in cost, and other work may slow a thread.
  std::stable_sort(units.begin(), units.end(), [](const Unit& x, const Unit& y) { return x.cost > y.cost; });
  std::vector<Partial> parts(splits > 1 ? units.size() : 0);
  std::atomic<size_t> next{0};
  pool.parallel_for(std::min<int64_t>(pool.size(), int64_t(units.size())), 1, [&](int64_t, int64_t) {
    thread_local Scratch sc;
    for (size_t i; (i = next.fetch_add(1)) < units.size();) {
      const Unit& u = units[i];
      Partial* part = u.part >= 0 ? &parts[size_t(u.part)] : nullptr;
      if (part && u.k0 > u.k1) {  // an empty split (the last ones of a short range)
        part->m.assign(size_t((u.t1 - u.t0) * G), -INFINITY);
        part->l.assign(part->m.size(), 0.0f);
        continue;
      }
      run_unit(K, sh, seg, q, q_stride, out, out_stride, u, tile, part, sc);
    }
  });
  if (splits == 1) return;
  pool.parallel_for(int64_t(sh.n_kv_heads) * n_blocks, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int g = int(i / n_blocks), b = int(i % n_blocks);
      const int t0 = b * bq, t1 = std::min(seg.n_tokens, t0 + bq);
      combine(sh, seg, g, t0, t1, parts.data() + size_t(i) * size_t(splits), splits, out, out_stride);
    }
  });
}

}  // namespace g4::cpu
