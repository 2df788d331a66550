// CPU attention over a sequence's KV cache, and writing that cache.
//
// attention() is a tiled online-softmax ("flash") kernel: a work unit is one KV head with all the
// query heads that share it (GQA/MQA) for a block of query tokens, walking the visible keys in tiles.
// Each tile of K and V is converted to f32 once and used by every query row of the unit; scores live
// only for the tile, with a running max and sum per row. When there are too few units to keep the
// threads busy (decode: one token), the keys are split across units as well and the partial
// (max, sum, accumulator) results are combined at the end (split-KV).
#pragma once

#include "kernels/backend.h"
#include "util/thread_pool.h"

namespace g4::cpu {

// Which micro-kernels to use: the best the CPU runs, or a given level (tests compare them).
enum class AttnIsa { kAuto, kScalar, kAvx2, kAvx512 };
bool attn_isa_available(AttnIsa isa);

// Writes rows pos0..pos0+n-1 of K and V ([n, width] f32) into the cache, as its element type.
void kv_write(const KvView& kv, int width, int pos0, int n, const float* k, const float* v,
              AttnIsa isa = AttnIsa::kAuto);

// out[row0 + t, h*hd ..] = softmax(q·kᵀ * scale + mask) · v, as Backend::attention.
void attention(ThreadPool& pool, const AttnShape& s, const AttnSegment& seg, const float* q, int q_stride,
               float* out, int out_stride, AttnIsa isa = AttnIsa::kAuto);

}  // namespace g4::cpu
