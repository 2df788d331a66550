// Integer dot products of quantized weight rows with activations quantized to 8 bits: the decode
// (matrix-vector) path for the ggml block types. The activation vector is quantized once per matmul
// and shared by every row. Two activation layouts exist, by weight type:
//  - kAct32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL): blocks of 32 with an f32 scale and the sum of
//    the quants (BlockQ8_0x), so a block's result is d_w * d_x * (integer dot) without rounding x twice;
//  - kActK (Q4_K, Q5_K, Q6_K, IQ4_XS): super-blocks of 256 with one f32 scale and sums per 16
//    (BlockQ8_K), so the per-sub-block weight scales can be applied in integers.
// Each type has a scalar reference (the definition) that the SIMD versions are tested against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/blocks.h"
#include "util/dtype.h"

namespace g4::cpu {

enum class ActKind { kAct32, kActK };
ActKind act_kind(DType weight);
// Bytes of the quantized activation for n elements (a multiple of the weight type's block).
size_t act_bytes(DType weight, size_t n);

// x: n floats (n a multiple of 32, or of 256 for kActK). d = max|x| / 127, q = round-to-even(x / d).
void quantize_act_ref(DType weight, const float* x, void* act, size_t n);
void quantize_act(DType weight, const float* x, void* act, size_t n);

// out[r] = row r (n elements of type t) · the activation, for 4 rows.
void qdot_4x1_ref(DType t, const void* const w[4], const void* act, size_t n, float out[4]);
void qdot_4x1(DType t, const void* const w[4], const void* act, size_t n, float out[4]);

// Whether qdot_4x1 has a SIMD version for t on this CPU (otherwise it runs the reference).
bool qdot_has_simd(DType t);

// One instruction set's version, for parity tests; false if the CPU lacks it or t has none.
enum class QdotIsa { kAvx2, kAvx512Vnni };
bool qdot_4x1_isa(QdotIsa isa, DType t, const void* const w[4], const void* act, size_t n, float out[4]);
bool quantize_act_isa(QdotIsa isa, DType weight, const float* x, void* act, size_t n);

}  // namespace g4::cpu
