// The CPU backend: f32 activations in host memory, weights used in place from the memory map.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/dot.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/qdot.h"
#include "kernels/cpu/qgemm.h"
#include "util/thread_pool.h"

namespace g4 {

namespace {

class HostBuffer : public Buffer {
 public:
  explicit HostBuffer(size_t n) : data_(n) {}
  float* f32() override { return data_.data(); }
  size_t bytes() const override { return data_.size() * sizeof(float); }

 private:
  std::vector<float> data_;
};

size_t row_bytes(const Weight& w) { return dtype_row_bytes(w.dtype, w.cols); }

// Up to this many tokens, products with quantized weights use integer dot products per token;
// beyond, the integer GEMM (qgemm.h) where the CPU has VNNI. Without VNNI (AVX2) the per-token
// integer dots serve every product: each group of 4 rows stays in L1 while the tokens pass, and on an
// AVX2 machine this was 1.6-2.6x the prefill of the f32 GEMM on dequantized panels (1B-shaped, 2
// threads: Q4_0 45 -> 83, Q8_0 48 -> 77, Q4_K_M 39 -> 103 tokens/s).
constexpr int kQuantDotTokens = 4;

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(int threads) : pool_(threads) {}
  std::string name() const override {
    const char* isa = cpu::have_avx512() ? "avx512" : cpu::have_avx2() ? "avx2" : "scalar";
    return std::string("cpu (") + isa + ", " + std::to_string(pool_.size()) + " threads)";
  }

  std::unique_ptr<Buffer> alloc(size_t n) override { return std::make_unique<HostBuffer>(n); }

  Weight weight(const TensorInfo& t) override {
    Weight w;
    w.dtype = t.dtype;
    w.rows = t.shape.size() >= 2 ? t.shape[0] : 1;
    w.cols = t.shape.empty() ? 1 : t.shape.back();
    w.data = t.data;
    return w;
  }

  std::unique_ptr<Buffer> to_f32(const TensorInfo& t) override {
    auto b = std::make_unique<HostBuffer>(size_t(t.numel()));
    cpu::to_f32(t.dtype, t.data, b->f32(), size_t(t.numel()));
    return b;
  }
  void upload(float* dst, const float* src, size_t n) override { std::memcpy(dst, src, n * 4); }
  void download(float* dst, const float* src, size_t n) override { std::memcpy(dst, src, n * 4); }
  void copy(float* dst, const float* src, size_t n) override { std::memmove(dst, src, n * 4); }

  void embed(const Weight& E, const int32_t* ids, int n, float scale, float* out) override {
    const auto* base = static_cast<const uint8_t*>(E.data);
    for (int i = 0; i < n; ++i) {
      float* o = out + size_t(i) * size_t(E.cols);
      cpu::to_f32(E.dtype, base + size_t(ids[i]) * row_bytes(E), o, size_t(E.cols));
      for (int64_t j = 0; j < E.cols; ++j) o[j] *= scale;
    }
  }

  void matmul(const Weight& W, const float* x, int n, float* y) override {
    const size_t K = size_t(W.cols), M = size_t(W.rows), rb = row_bytes(W);
    const auto* base = static_cast<const uint8_t*>(W.data);
    const int64_t grain = std::max<int64_t>(1, 4096 / int64_t(std::max<size_t>(K, 1)));
    if (dtype_is_block(W.dtype) && (n <= kQuantDotTokens || !cpu::qgemm_has_simd())) return matmul_qdot(W, x, n, y);
    if (dtype_is_block(W.dtype) && cpu::qgemm_has_simd())
      return cpu::qgemm(pool_, W.dtype, W.data, int64_t(M), int64_t(K), x, n, y);
    if (n == 1) {
      const int64_t rows_grain = std::max<int64_t>(4, grain * 4);
      walk_rows4(base, rb, int64_t(M), rows_grain, [&](const void* const w[4], const size_t r[4], int count) {
        float out[4];
        cpu::dot_4x1(W.dtype, w, x, K, out);
        for (int s = 0; s < count; ++s) y[r[s]] = out[s];
      });
      return;
    }
    // Prefill: 16-row panels across threads, each packed per K-block and multiplied with every token.
    const int64_t panels = int64_t((M + cpu::kPanelRows - 1) / cpu::kPanelRows);
    pool_.parallel_for(panels, 1, [&](int64_t p0, int64_t p1) {
      std::vector<float> pack(size_t(cpu::kPanelRows) * cpu::kBlockK);
      for (int64_t p = p0; p < p1; ++p)
        cpu::gemm_panel(W.dtype, base, rb, int64_t(M), int64_t(K), p * cpu::kPanelRows, x, n, y, pack.data());
    });
  }

  // Few tokens on quantized weights: each token's activation is quantized to 8 bits once and every
  // row is an integer dot product (see qdot.h), walked like the float decode path.
  void matmul_qdot(const Weight& W, const float* x, int n, float* y) {
    const size_t K = size_t(W.cols), M = size_t(W.rows), rb = row_bytes(W), ab = cpu::act_bytes(W.dtype, K);
    const auto* base = static_cast<const uint8_t*>(W.data);
    act_.resize(ab * size_t(n));
    for (int i = 0; i < n; ++i) cpu::quantize_act(W.dtype, x + size_t(i) * K, act_.data() + size_t(i) * ab, K);
    const uint8_t* act = act_.data();
    const int64_t grain = std::max<int64_t>(4, 4 * 4096 / int64_t(std::max<size_t>(K, 1)));
    walk_rows4(base, rb, int64_t(M), grain, [&](const void* const w[4], const size_t r[4], int count) {
      float out[4];
      for (int i = 0; i < n; ++i) {
        cpu::qdot_4x1(W.dtype, w, act + size_t(i) * ab, K, out);
        for (int s = 0; s < count; ++s) y[size_t(i) * M + r[s]] = out[s];
      }
    });
  }

  // The decode-style walk over M weight rows on the pool. Decode streams every weight once, so it is
  // bound by memory bandwidth, which one core reaches only with several reads in flight far apart:
  // each thread walks four distant parts of its rows in lockstep (about 1.7x the bandwidth of one
  // sequential stream here). fn(w, r, count) computes rows r[0..count) stored at w[0..count); count
  // is 4, or 1 for a thread's last rows % 4 (w and r are then filled with that row). The rows are cut
  // into 8 chunks per thread, claimed by whichever thread is free: with one chunk each, the thread
  // that finished first waited for the other (a 12B Q4_0 decode went 3.2 -> 3.4 tok/s, with less
  // spread between runs).
  static constexpr int kWalkChunksPerThread = 8;
  template <class Fn>
  void walk_rows4(const uint8_t* base, size_t rb, int64_t M, int64_t grain, Fn&& fn) {
    pool_.parallel_for(M, grain, [&](int64_t r0, int64_t r1) {
      const size_t rows = size_t(r1 - r0), per = rows / 4;
      const void* w[4];
      size_t r[4];
      for (size_t k = 0; k < per; ++k) {
        for (size_t s = 0; s < 4; ++s) r[s] = size_t(r0) + s * per + k, w[s] = base + r[s] * rb;
        fn(w, r, 4);
      }
      for (size_t q = size_t(r0) + 4 * per; q < size_t(r1); ++q) {
        for (size_t s = 0; s < 4; ++s) r[s] = q, w[s] = base + q * rb;
        fn(w, r, 1);
      }
    }, kWalkChunksPerThread);
  }

  void rms_norm(const float* x, const float* w, int rows, int dim, float eps, float* y) override {
    pool_.parallel_for(rows, std::max(1, 8192 / std::max(dim, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* xr = x + size_t(r) * size_t(dim);
        float* yr = y + size_t(r) * size_t(dim);
        float ss = cpu::dot(xr, xr, size_t(dim));
        float inv = std::pow(ss / float(dim) + eps, -0.5f);
        if (w) for (int i = 0; i < dim; ++i) yr[i] = (xr[i] * inv) * w[i];
        else for (int i = 0; i < dim; ++i) yr[i] = xr[i] * inv;
      }
    });
  }

  void rope(float* x, int n_tokens, int n_heads, int head_dim, const int32_t* pos, const float* inv_freq) override {
    const int half = head_dim / 2;
    pool_.parallel_for(n_tokens, 4, [&](int64_t t0, int64_t t1) {
      std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
      for (int64_t t = t0; t < t1; ++t) {
        for (int i = 0; i < half; ++i) {
          float a = float(pos[t]) * inv_freq[i];
          c[size_t(i)] = std::cos(a);
          s[size_t(i)] = std::sin(a);
        }
        for (int h = 0; h < n_heads; ++h) {
          float* v = x + (size_t(t) * size_t(n_heads) + size_t(h)) * size_t(head_dim);
          for (int i = 0; i < half; ++i) {
            float x1 = v[i], x2 = v[i + half];
            v[i] = x1 * c[size_t(i)] - x2 * s[size_t(i)];
            v[i + half] = x2 * c[size_t(i)] + x1 * s[size_t(i)];
          }
        }
      }
    });
  }

  void kv_write(const KvView& kv, int width, int pos0, int n, const float* k, const float* v) override {
    cpu::kv_write(kv, width, pos0, n, k, v);
  }

  void attention(const AttnShape& s, const AttnSegment& seg, const float* q, int q_stride, float* out,
                 int out_stride) override {
    cpu::attention(pool_, s, seg, q, q_stride, out, out_stride);
  }

  void gelu_mul(float* a, const float* b, size_t n) override {
    pool_.parallel_for(int64_t(n), 4096, [&](int64_t i0, int64_t i1) {
      cpu::gelu_tanh_mul(a + i0, b + i0, size_t(i1 - i0));
    });
  }

  void add(float* x, const float* y, size_t n) override {
    for (size_t i = 0; i < n; ++i) x[i] += y[i];
  }
  void scale(float* x, float s, size_t n) override {
    for (size_t i = 0; i < n; ++i) x[i] *= s;
  }
  void softcap(float* x, float cap, size_t n) override {
    pool_.parallel_for(int64_t(n), 8192, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) x[i] = cap * std::tanh(x[i] / cap);
    });
  }

 private:
  ThreadPool pool_;
  std::vector<uint8_t> act_;  // quantized activations of the current matmul
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

}  // namespace g4
