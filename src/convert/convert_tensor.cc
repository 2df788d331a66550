// Row-wise type conversion through f32 (quant::dequantize, then quant::quantize).
#include "convert/convert_tensor.h"

#include <algorithm>
#include <string>
#include <vector>

#include "quant/quant.h"

namespace g4::convert {

Status convert_tensor(const TensorInfo& src, DType dst, ThreadPool& pool,
                      const std::function<Status(const uint8_t*, size_t)>& sink, size_t piece_bytes) {
  const int64_t row = src.shape.empty() ? 1 : src.shape.back();
  const int64_t rows = row ? src.numel() / row : 0;
  if (rows == 0 || row == 0) return {};
  if (row % dtype_block(src.dtype) || row % dtype_block(dst))
    return make_error("tensor '%s': row length %lld does not split into %s and %s blocks", src.name.c_str(),
                      (long long)row, std::string(dtype_name(src.dtype)).c_str(), std::string(dtype_name(dst)).c_str());
  const size_t in_row = dtype_row_bytes(src.dtype, row), out_row = dtype_row_bytes(dst, row);
  if (src.nbytes != in_row * size_t(rows))
    return make_error("%s: tensor '%s' holds %zu bytes, expected %zu for %s %s", src.file.c_str(), src.name.c_str(),
                      src.nbytes, in_row * size_t(rows), std::string(dtype_name(src.dtype)).c_str(),
                      shape_str(src.shape).c_str());
  const int64_t per_piece = std::max<int64_t>(1, int64_t(piece_bytes / std::max(in_row, out_row)));
  if (src.dtype == dst) {
    for (int64_t r0 = 0; r0 < rows; r0 += per_piece) {
      int64_t n = std::min(per_piece, rows - r0);
      G4_TRY(sink(src.data + size_t(r0) * in_row, size_t(n) * in_row));
    }
    return {};
  }
  std::vector<uint8_t> out(size_t(std::min(per_piece, rows)) * out_row);
  for (int64_t r0 = 0; r0 < rows; r0 += per_piece) {
    const int64_t n = std::min(per_piece, rows - r0);
    pool.parallel_for(n, std::max<int64_t>(1, 65536 / row), [&](int64_t b, int64_t e) {
      std::vector<float> f(static_cast<size_t>(row));
      for (int64_t r = b; r < e; ++r) {
        quant::dequantize(src.dtype, src.data + size_t(r0 + r) * in_row, f.data(), row);
        quant::quantize(dst, f.data(), out.data() + size_t(r) * out_row, row);
      }
    });
    G4_TRY(sink(out.data(), size_t(n) * out_row));
  }
  return {};
}

}  // namespace g4::convert
