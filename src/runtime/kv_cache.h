// The keys and values of one sequence, for every layer, in backend memory.
//
// Sliding layers keep a ring of (window + max_chunk) positions: enough for any query of a chunk of at
// most max_chunk tokens to see its whole window after the chunk's own keys were written, and for a
// rollback of up to max_chunk positions. Full layers keep every position, growing in blocks.
// The cache belongs to a sequence; it can be rolled back, snapshotted and restored, and read by another
// model (a drafter) through view().
// Rows are stored as the cache's element type (F16 by default; F32, or Q8_0 to halve it again): the
// backend's kv_write converts, its attention reads that type.
#pragma once

#include <memory>
#include <vector>

#include "kernels/backend.h"
#include "model/config.h"

namespace g4 {

class SequenceCache {
 public:
  // max_context: positions this sequence may reach; max_chunk: most tokens per forward call;
  // kv_type: element type of the stored rows (F32, F16 or Q8_0; Q8_0 needs head dims of 32s).
  static Result<std::unique_ptr<SequenceCache>> create(const ModelConfig& config, Backend& backend,
                                                       int max_context, int max_chunk,
                                                       DType kv_type = DType::F16);

  // Positions layer `lc` keeps for a sequence of up to max_context positions: a ring of
  // window + max_chunk for sliding layers (when that is smaller), else every position.
  static int positions_kept(const LayerConfig& lc, int max_context, int max_chunk);
  // Bytes a sequence's cache takes at full context (K and V of every layer, as kv_type).
  static size_t bytes_at_full_context(const ModelConfig& config, int max_context, int max_chunk,
                                      DType kv_type = DType::F16);

  int n_past() const { return n_past_; }
  int max_context() const { return max_context_; }
  int max_chunk() const { return max_chunk_; }
  DType kv_type() const { return kv_type_; }

  // Makes room for positions n_past .. n_past + n - 1. Fails (and changes nothing) if n exceeds
  // max_chunk or the context would overflow.
  Status reserve(int n);
  // Where layer `layer` keeps its keys and values.
  KvView view(int layer) const;
  // Marks n more positions as written (after a forward call filled them).
  void advance(int n) { n_past_ += n; }

  // Forgets every position (always possible).
  void clear() { n_past_ = 0; }
  // Forgets positions >= n. Sliding rings can only go back as far as they still hold the window
  // for position n; further rollback needs a snapshot.
  Status rollback(int n);
  bool can_rollback(int n) const;

  // What rollback cannot recover: the sliding rings' last window of positions (full layers keep every
  // position anyway). Restoring brings the cache back to the snapshot's length, provided positions
  // below that length were not rewritten since (no rollback below it in between): the owner of the
  // cache keeps that contract, e.g. by dropping a snapshot when it rolls back further.
  struct Snapshot {
    int n_past = 0;
    // Per layer: ring rows for positions [n_past - window + 1, n_past), as stored (the cache's element
    // type, row_stride / 4 floats' worth of bytes per row).
    std::vector<std::vector<float>> k, v;
  };
  Snapshot snapshot() const;
  Status restore(const Snapshot& s);

  size_t bytes() const;  // backend memory held

 private:
  struct Layer {
    bool ring = false;
    int capacity = 0;  // positions the buffers hold
    int width = 0;     // elements per position (n_kv_heads * head_dim)
    size_t stride = 0; // bytes per position (kv_row_stride)
    int window = 0;    // sliding window (ring layers)
    std::unique_ptr<Buffer> k, v;
  };
  SequenceCache(Backend& b) : backend_(b) {}
  Status grow(Layer& l, int positions);
  int oldest_held(const Layer& l) const;

  Backend& backend_;
  std::vector<Layer> layers_;
  int n_past_ = 0;
  int max_context_ = 0;
  int max_chunk_ = 0;
  DType kv_type_ = DType::F16;
};

}  // namespace g4
