// Direct depthwise convolution kernels (groups == C == K), which
// cuda::conv2d_* dispatch to (conv2d.cu). Private to kernels/cuda.
#pragma once

#include "kernels/conv2d.h"

namespace nib::kernels::cuda_conv {

// y [N,C,P,Q] overwritten; bias [C] may be null.
void depthwise_forward(const Conv2dProblem& s, const float* x, const float* w, const float* bias, float* y);
// gx [N,C,H,W] overwritten.
void depthwise_backward_data(const Conv2dProblem& s, const float* gy, const float* w, float* gx);
// gw [C,1,R,S] overwritten (the bias gradient is conv2d.cu's).
void depthwise_backward_weight(const Conv2dProblem& s, const float* x, const float* gy, float* gw);

}  // namespace nib::kernels::cuda_conv
