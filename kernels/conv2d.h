// 2-D convolution (cross-correlation, as in every framework), NCHW. The
// letters (N C H W K R S P Q, crs, npq) are explained in docs/glossary.md.
//
//   y[n,k,p,q] = bias[k] + sum_{c in group(k), r, s} x[n, c, p*sh - pad_top + r*dh, q*sw - pad_left + s*dw] * w[k, c', r, s]
//
// Padding is given per side, so TensorFlow's 'SAME' (more padding at the
// bottom/right) is as easy as PyTorch's symmetric padding. Groups split the
// channels: groups == C == K is a depthwise convolution.
#pragma once

#include <cstdint>

namespace nib::kernels {

struct Conv2dShape {
  int64_t N = 1, C = 1, H = 1, W = 1;  // input
  int64_t K = 1, R = 1, S = 1;         // output channels, kernel height and width
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;

  int64_t P() const { return (H + pad_top + pad_bottom - dilation_h * (R - 1) - 1) / stride_h + 1; }
  int64_t Q() const { return (W + pad_left + pad_right - dilation_w * (S - 1) - 1) / stride_w + 1; }
  int64_t C_per_group() const { return C / groups; }
  int64_t K_per_group() const { return K / groups; }
  bool is_depthwise() const { return groups == C && groups == K; }
  // Multiply-adds of the forward pass times two.
  double flops() const { return 2.0 * N * K * P() * Q() * C_per_group() * R * S; }
};

// y [N,K,P,Q] is overwritten; bias [K] may be null. w is [K, C/groups, R, S].
using Conv2dForwardFn = void(const Conv2dShape&, const float* x, const float* w, const float* bias, float* y);
// gx [N,C,H,W] is overwritten with the gradient for x.
using Conv2dBackwardDataFn = void(const Conv2dShape&, const float* gy, const float* w, float* gx);
// gw [K,C/groups,R,S] is overwritten; gbias [K] too unless null.
using Conv2dBackwardWeightFn = void(const Conv2dShape&, const float* x, const float* gy, float* gw, float* gbias);

#define NIB_DECLARE_CONV2D        \
  Conv2dForwardFn conv2d_forward; \
  Conv2dBackwardDataFn conv2d_backward_data; \
  Conv2dBackwardWeightFn conv2d_backward_weight;

namespace reference { NIB_DECLARE_CONV2D }  // seven nested loops: the definition
namespace fast { NIB_DECLARE_CONV2D }       // im2col + fast::gemm, direct depthwise, OpenMP
namespace cuda { NIB_DECLARE_CONV2D }       // implicit GEMM + depthwise CUDA kernels
namespace cudnn { NIB_DECLARE_CONV2D }      // cuDNN
#undef NIB_DECLARE_CONV2D

}  // namespace nib::kernels
