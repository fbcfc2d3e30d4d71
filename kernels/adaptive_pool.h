// Adaptive average pooling (PyTorch's AdaptiveAvgPool2d): the output size is
// fixed and each output cell averages the input window
//   rows [floor(p*H/P), ceil((p+1)*H/P)) x cols [floor(q*W/Q), ceil((q+1)*W/Q)),
// so windows may overlap or (when the input is smaller than the output)
// repeat pixels. VGG's classifier expects a 7x7 grid whatever the image size.
#pragma once

#include <cstdint>

namespace nib::kernels {

using AdaptiveAvgPoolForwardFn = void(int64_t planes, int64_t H, int64_t W, int64_t P, int64_t Q, const float* x,
                                      float* y);
using AdaptiveAvgPoolBackwardFn = void(int64_t planes, int64_t H, int64_t W, int64_t P, int64_t Q, const float* gy,
                                       float* gx);

namespace reference {
AdaptiveAvgPoolForwardFn adaptive_avg_pool_forward;
AdaptiveAvgPoolBackwardFn adaptive_avg_pool_backward;
}  // namespace reference

}  // namespace nib::kernels
