// Converts one tensor's data to another type, row block by row block: each row is dequantized to
// f32 and quantized again (util/thread_pool.h spreads the rows over the threads). Memory stays
// bounded by the piece handed to the sink, whatever the tensor's size.
#pragma once

#include <cstdint>
#include <functional>

#include "io/tensor_store.h"
#include "util/result.h"
#include "util/thread_pool.h"

namespace g4::convert {

// Calls sink(bytes, n) with consecutive pieces of `src` converted to `dst`, each a whole number of
// rows and about `piece_bytes` or less (at least one row). The row length must be a multiple of both
// types' block sizes. Same types are copied as they are.
Status convert_tensor(const TensorInfo& src, DType dst, ThreadPool& pool,
                      const std::function<Status(const uint8_t*, size_t)>& sink, size_t piece_bytes = 32u << 20);

}  // namespace g4::convert
