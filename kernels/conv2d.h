// 2-D convolution (cross-correlation, as in every framework), NCHW. The
// letters (N C H W K R S P Q, crs, npq) are explained in docs/glossary.md.
//
//   y[n,k,p,q] = bias[k] + sum_{c in group(k), r, s} x[n, c, p*sh - pad_top + r*dh, q*sw - pad_left + s*dw] * w[k, c', r, s]
//
// A convolution is described by two structs:
//
//   Conv2dOptions   what the convolution is: stride, padding (per side, or
//                   TensorFlow's 'SAME'), dilation, groups. What a user or a
//                   layer chooses; it knows no tensor sizes.
//   Conv2dProblem   one concrete convolution the kernels run: the options
//                   resolved against the input and weight sizes (N C H W,
//                   K R S), with the output size P Q. Made only by
//                   Conv2dProblem::make, the one place that checks a
//                   convolution; every kernel (reference, fast, CUDA, cuDNN)
//                   receives one.
//
// Padding is given per side, so TensorFlow's 'SAME' (more padding at the
// bottom/right) is as easy as PyTorch's symmetric padding. Groups split the
// channels: groups == C == K is a depthwise convolution.
#pragma once

#include <array>
#include <cstdint>
#include <utility>

namespace nib {

// Padding per side of an image (also used by pooling and ops::pad2d).
struct Padding2d {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  static Padding2d same(int64_t p) { return {p, p, p, p}; }
  bool symmetric() const { return top == bottom && left == right; }
};

// Explicit: Conv2dOptions::padding as given. TfSame: TensorFlow's 'SAME',
// whose per-side amounts depend on the input size (for stride 2: 0 before,
// 1 after on even sizes); pretrained TensorFlow/Keras networks need it.
enum class PaddingMode { Explicit, TfSame };

// What a convolution is (the hyper-parameters), without any tensor size.
struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  Padding2d padding;  // used with PaddingMode::Explicit
  PaddingMode padding_mode = PaddingMode::Explicit;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

// TensorFlow 'SAME' padding for one dimension: {before, after}.
std::pair<int64_t, int64_t> tf_same_padding(int64_t size, int64_t kernel, int64_t stride, int64_t dilation);

namespace kernels {

// One concrete convolution: Conv2dOptions resolved for an input [N, C, H, W]
// and a weight [K, C/groups, R, S]. Only Conv2dProblem::make creates one, so
// every Conv2dProblem a kernel receives is valid: all sizes positive (N may
// be 0), groups dividing C and K, the (dilated) kernel no larger than the
// padded input. The fields are plain data so that CUDA kernels can take the
// problem by value.
class Conv2dProblem {
 public:
  int64_t N, C, H, W;  // input
  int64_t K, R, S;     // output channels, kernel height and width
  int64_t P, Q;        // output height and width
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right;  // TF 'SAME' already resolved
  int64_t dilation_h, dilation_w;
  int64_t groups;
  int64_t C_per_group, K_per_group;  // C / groups, K / groups

  // Checks everything (fails with a message starting "conv2d: ") and
  // computes P and Q. x is [N, C, H, W]; w is [K, C/groups, R, S].
  static Conv2dProblem make(const std::array<int64_t, 4>& x, const std::array<int64_t, 4>& w,
                            const Conv2dOptions& options);

  bool is_depthwise() const { return groups == C && groups == K; }
  // Multiply-adds of the forward pass times two.
  double flops() const { return 2.0 * N * K * P * Q * C_per_group * R * S; }
  // Whether every index into x, w and y fits an int (the CUDA kernels index
  // with int: fast division, fewer registers).
  bool fits_int32() const;
  // The input and weight shapes make() was given, and the output's.
  std::array<int64_t, 4> x_shape() const { return {N, C, H, W}; }
  std::array<int64_t, 4> w_shape() const { return {K, C_per_group, R, S}; }
  std::array<int64_t, 4> y_shape() const { return {N, K, P, Q}; }

 private:
  Conv2dProblem() = default;
};

// y [N,K,P,Q] is overwritten; bias [K] may be null. w is [K, C/groups, R, S].
using Conv2dForwardFn = void(const Conv2dProblem&, const float* x, const float* w, const float* bias, float* y);
// gx [N,C,H,W] is overwritten with the gradient for x.
using Conv2dBackwardDataFn = void(const Conv2dProblem&, const float* gy, const float* w, float* gx);
// gw [K,C/groups,R,S] is overwritten; gbias [K] too unless null.
using Conv2dBackwardWeightFn = void(const Conv2dProblem&, const float* x, const float* gy, float* gw, float* gbias);

#define NIB_DECLARE_CONV2D        \
  Conv2dForwardFn conv2d_forward; \
  Conv2dBackwardDataFn conv2d_backward_data; \
  Conv2dBackwardWeightFn conv2d_backward_weight;

namespace reference { NIB_DECLARE_CONV2D }  // seven nested loops: the definition
namespace fast { NIB_DECLARE_CONV2D }       // im2col + fast::gemm, direct depthwise, OpenMP
namespace cuda { NIB_DECLARE_CONV2D }       // implicit GEMM + depthwise CUDA kernels
namespace cudnn { NIB_DECLARE_CONV2D }      // cuDNN
namespace dnnl { NIB_DECLARE_CONV2D }       // oneDNN on the CPU (built when nib finds libdnnl)
#undef NIB_DECLARE_CONV2D

}  // namespace kernels
}  // namespace nib
