// Data movement: 2-D block copies (concatenation and its backward), spatial
// zero padding (ZeroPad2d, TensorFlow 'SAME' padding done as a layer) and
// batched transposes (NCHW <-> NHWC, for layers converted from Keras).
#pragma once

#include <cstdint>

namespace nib::kernels {

// Copies rows × cols floats; consecutive rows are src_stride / dst_stride apart.
using Copy2dFn = void(int64_t rows, int64_t cols, const float* src, int64_t src_stride, float* dst, int64_t dst_stride);
// x [planes, H, W] -> y [planes, H + top + bottom, W + left + right], zeros in
// the border. Negative amounts crop, so the backward of a pad is the pad with
// every amount negated.
using Pad2dFn = void(int64_t planes, int64_t H, int64_t W, int64_t top, int64_t bottom, int64_t left, int64_t right,
                     const float* x, float* y);

// y[b] = x[b]ᵀ for b < batches: x [batches, rows, cols] -> y [batches, cols, rows].
// NCHW -> NHWC is rows = C, cols = H*W; the way back swaps the two.
using Transpose2dFn = void(int64_t batches, int64_t rows, int64_t cols, const float* x, float* y);

#define NIB_DECLARE_COPY \
  Copy2dFn copy2d;       \
  Pad2dFn pad2d;         \
  Transpose2dFn transpose2d;

namespace reference { NIB_DECLARE_COPY }
namespace cuda { NIB_DECLARE_COPY }
#undef NIB_DECLARE_COPY

}  // namespace nib::kernels
