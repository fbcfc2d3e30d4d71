// Pieces shared by the fast CPU convolutions (conv2d_fast.cpp, the im2col +
// GEMM path, and conv2d_depthwise_fast.cpp, the direct depthwise loops).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/conv2d.h"

namespace nib::kernels::fast {

// Output positions [lo, hi) whose input index `out * stride + offset` lies in
// [0, size): outside it the convolution reads padding. Computing the range
// once per row lets the inner loops run without a bounds test per element.
struct ValidRange {
  int64_t lo, hi;
};
inline ValidRange valid_outputs(int64_t out_size, int64_t stride, int64_t offset, int64_t size) {
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;  // first out with index >= 0
  int64_t hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;  // first out with index >= size
  hi = std::min(hi, out_size);
  return {std::min(lo, hi), hi};
}

// gbias[k] = sum of gy over the batch and the output positions of channel k.
void conv2d_bias_gradient(const Conv2dProblem& s, const float* gy, float* gbias);

// Direct loops for groups == C == K (conv2d_depthwise_fast.cpp).
void depthwise_forward(const Conv2dProblem& s, const float* x, const float* w, const float* bias, float* y);
void depthwise_backward_data(const Conv2dProblem& s, const float* gy, const float* w, float* gx);
void depthwise_backward_weight(const Conv2dProblem& s, const float* x, const float* gy, float* gw);

}  // namespace nib::kernels::fast
