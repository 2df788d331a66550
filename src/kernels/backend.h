// The seam between model math and kernels. The forward pass is written against this interface;
// the CPU backend implements it now, a CUDA backend later. All float pointers passed to a backend
// point into memory that backend owns (host memory for the CPU backend, device memory for a GPU).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "io/tensor_store.h"

namespace g4 {

// A weight matrix [rows, cols] (row-major, y = x · Wᵀ) resident in the backend.
struct Weight {
  DType dtype = DType::F32;
  int64_t rows = 0, cols = 0;
  const void* data = nullptr;
};

// Backend memory; freed by the backend that made it.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual float* f32() = 0;
  virtual size_t bytes() const = 0;
};

// What the attention op needs to know about one sequence's keys and values for one layer.
// Position p lives at slot (ring ? p % capacity : p); a slot is `row_stride` bytes holding the
// [n_kv_heads * head_dim] K (or V) elements of that position as `type` (F32, F16, or Q8_0 blocks of 32
// with head h starting at element h * head_dim). The stride is a multiple of 4 bytes so that rows can
// be moved with the float-wise copy/upload/download ops.
struct KvView {
  DType type = DType::F32;
  uint8_t* k = nullptr;
  uint8_t* v = nullptr;
  size_t row_stride = 0;
  int capacity = 0;
  bool ring = false;
};

// Cache element types the backends store: F32, F16 and Q8_0.
inline bool kv_type_supported(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::Q8_0; }
// Bytes of one cache row of `width` elements of type t (padded to whole floats).
inline size_t kv_row_stride(DType t, int width) { return (dtype_row_bytes(t, width) + 3) / 4 * 4; }

// One query block of one sequence: tokens with consecutive positions pos0, pos0+1, ...
// Query t may see key positions [lo, hi] with lo = window ? max(0, p - window + 1) : 0 and hi = p.
struct AttnSegment {
  int row0 = 0;       // first row of this segment in the batch's q / out matrices
  int n_tokens = 0;
  int pos0 = 0;       // position of the first token
  KvView kv;
};

struct AttnShape {
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int window = 0;     // 0: unlimited (causal only)
  float scale = 1.0f;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  virtual std::unique_ptr<Buffer> alloc(size_t n_floats) = 0;
  // Makes a stored tensor usable as a weight (the CPU backend uses it in place, no copy).
  virtual Weight weight(const TensorInfo& t) = 0;
  // Copies a small tensor (norm weights, scalars) to f32 backend memory.
  virtual std::unique_ptr<Buffer> to_f32(const TensorInfo& t) = 0;
  virtual void upload(float* dst, const float* src, size_t n) = 0;
  virtual void download(float* dst, const float* src, size_t n) = 0;
  virtual void copy(float* dst, const float* src, size_t n) = 0;

  // out[i, :] = E[ids[i], :] * scale
  virtual void embed(const Weight& E, const int32_t* ids, int n, float scale, float* out) = 0;
  // y[n, W.rows] = x[n, W.cols] · Wᵀ
  virtual void matmul(const Weight& W, const float* x, int n, float* y) = 0;
  // Each of `rows` rows of `dim` floats: y = x / sqrt(mean(x²) + eps) * (w ? w : 1). y may equal x.
  virtual void rms_norm(const float* x, const float* w, int rows, int dim, float eps, float* y) = 0;
  // Rotate-half RoPE in place on x[n_tokens, n_heads, head_dim]; token t has position pos[t].
  // `inv_freq` has head_dim/2 entries (host memory: it is config data).
  virtual void rope(float* x, int n_tokens, int n_heads, int head_dim, const int32_t* pos,
                    const float* inv_freq) = 0;
  // Writes key/value rows for positions pos0..pos0+n-1 into a sequence's cache, converting the f32
  // rows to the cache's element type (f16: round to nearest even; q8_0: llama.cpp's rule).
  virtual void kv_write(const KvView& kv, int kv_width, int pos0, int n, const float* k, const float* v) = 0;
  // out[row0 + t, h*hd ..] = softmax(q·kᵀ * scale + mask) · v over the segment's visible keys.
  virtual void attention(const AttnShape& s, const AttnSegment& seg, const float* q, int q_stride,
                         float* out, int out_stride) = 0;
  // a = gelu_tanh(a) * b, elementwise over n
  virtual void gelu_mul(float* a, const float* b, size_t n) = 0;
  // x += y, elementwise over n
  virtual void add(float* x, const float* y, size_t n) = 0;
  // x *= s, elementwise over n
  virtual void scale(float* x, float s, size_t n) = 0;
  // x = cap * tanh(x / cap)
  virtual void softcap(float* x, float cap, size_t n) = 0;
};

// The CPU backend, using `threads` worker threads (0: one per core).
std::unique_ptr<Backend> make_cpu_backend(int threads = 0);

}  // namespace g4
