// library::conv2d_*: the convolution passes through cuDNN.
//
// Asymmetric padding. cuDNN pads symmetrically (pad_h on top and bottom).
// "Pad to the larger side, then crop the output" only works when the shift
// is a multiple of the stride: TensorFlow's 'SAME' with stride 2 (0 rows on
// top, 1 at the bottom) is not. So nib pads the shared part,
// min(top, bottom), in cuDNN, and the remainder by an explicit copy: x is
// written into a zeroed [N, C, H + extra_top + extra_bottom, W + ...] buffer
// (cudnnTransformTensor into a strided window of it). The backward-data pass
// computes the gradient of that padded input and crops it back
// (cudnnTransformTensor out of the window). Symmetric shapes (PyTorch's)
// never copy.
//
// Algorithms. cudnnGetConvolution*Algorithm_v7 ranks the algorithms by
// cuDNN's heuristics (no trial runs, so the first call is cheap); nib takes
// the first that succeeds, fits in kMaxWorkspace and respects TF32: unless
// kernels::allow_tf32(), tensor-op algorithms are skipped and the math type
// is CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH would let cuDNN use TF32 on Ampere
// and later); with it, only the default and tensor-op math types are taken,
// never CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION (FP32 data converted to FP16). Workspace comes from the caching allocator (cuda::Workspace).
// Nothing is cached between calls: descriptors and heuristics cost
// microseconds next to the layers that matter.
#include <algorithm>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cuda/conv2d_geometry.h"
#include "kernels/cuda/cudnn_util.h"
#include "kernels/registry.h"

namespace nib::kernels::library {

namespace {

using cudnn_util::ConvDesc;
using cudnn_util::FilterDesc;
using cudnn_util::TensorDesc;

constexpr size_t kMaxWorkspace = size_t(1) << 30;  // 1 GiB

// Descriptors of one convolution, with the explicit part of the padding.
struct CudnnConv {
  cuda_conv::Geometry g;
  int extra_top, extra_bottom, extra_left, extra_right;  // padding done by copying
  int Hp, Wp;                                            // height and width of the (padded) input cuDNN sees
  TensorDesc x_desc, y_desc;
  FilterDesc w_desc;
  ConvDesc conv;

  CudnnConv(const Conv2dShape& s, const char* op)
      : g(cuda_conv::make_geometry(s, op)),
        extra_top(static_cast<int>(s.pad_top - std::min(s.pad_top, s.pad_bottom))),
        extra_bottom(static_cast<int>(s.pad_bottom - std::min(s.pad_top, s.pad_bottom))),
        extra_left(static_cast<int>(s.pad_left - std::min(s.pad_left, s.pad_right))),
        extra_right(static_cast<int>(s.pad_right - std::min(s.pad_left, s.pad_right))),
        Hp(g.H + extra_top + extra_bottom),
        Wp(g.W + extra_left + extra_right),
        x_desc(g.N, g.C, Hp, Wp),
        y_desc(g.N, g.K, g.P, g.Q),
        w_desc(g.K, g.Cg, g.R, g.S) {
    const int pad_h = static_cast<int>(std::min(s.pad_top, s.pad_bottom));
    const int pad_w = static_cast<int>(std::min(s.pad_left, s.pad_right));
    NIB_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, pad_h, pad_w, g.sh, g.sw, g.dh, g.dw,
                                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    NIB_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, g.groups));
    NIB_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
    // The output size cuDNN derives must be nib's (P, Q).
    int n = 0, k = 0, p = 0, q = 0;
    NIB_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv, x_desc, w_desc, &n, &k, &p, &q));
    NIB_CHECK(p == g.P && q == g.Q, op, ": cuDNN's output size ", p, "x", q, " differs from ", g.P, "x", g.Q);
  }

  bool padded_copy() const { return extra_top + extra_bottom + extra_left + extra_right > 0; }
  size_t padded_bytes() const { return sizeof(float) * size_t(g.N) * g.C * Hp * Wp; }

  // The [N, C, H, W] window of the padded buffer where the real input sits.
  TensorDesc window() const {
    return TensorDesc::strided(g.N, g.C, g.H, g.W, g.C * Hp * Wp, Hp * Wp, Wp, 1);
  }
  size_t window_offset() const { return size_t(extra_top) * Wp + extra_left; }

  // padded = 0 everywhere, then x copied into the window.
  void pad(const float* x, float* padded) const {
    NIB_CUDA_CHECK(cudaMemsetAsync(padded, 0, padded_bytes(), cuda::stream()));
    TensorDesc dense(g.N, g.C, g.H, g.W);
    TensorDesc win = window();
    NIB_CUDNN_CHECK(cudnnTransformTensor(cuda::cudnn(), cudnn_util::one(), dense, x, cudnn_util::zero(), win,
                                         padded + window_offset()));
  }
  // gx = the window of the padded gradient.
  void crop(const float* padded, float* gx) const {
    TensorDesc dense(g.N, g.C, g.H, g.W);
    TensorDesc win = window();
    NIB_CUDNN_CHECK(cudnnTransformTensor(cuda::cudnn(), cudnn_util::one(), win, padded + window_offset(),
                                         cudnn_util::zero(), dense, gx));
  }
};

// The first ranked algorithm that succeeded, fits the workspace limit and
// respects the TF32 setting; sets the math type it needs on `conv`.
// Returns false when none qualifies.
template <class Perf>
bool pick(const std::vector<Perf>& ranked, int count, cudnnConvolutionDescriptor_t conv, Perf& chosen) {
  const bool tf32 = allow_tf32();
  for (int i = 0; i < count; ++i) {
    const Perf& p = ranked[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.memory > kMaxWorkspace) continue;
    // Never CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, TF32 or not: it lets cuDNN
    // convert the FP32 data to FP16 (3 fewer mantissa bits than TF32, and
    // FP16's range). Tensor ops (TF32 on FP32 data) only when allowed.
    if (p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
    if (p.mathType == CUDNN_TENSOR_OP_MATH && !tf32) continue;
    NIB_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, tf32 ? p.mathType : CUDNN_FMA_MATH));
    chosen = p;
    return true;
  }
  return false;
}

}  // namespace

void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, const float* bias, float* y) {
  const char* op = "library::conv2d_forward";
  if (shape.N == 0) return;  // cuDNN refuses empty tensors
  CudnnConv cv(shape, op);
  cudnnHandle_t handle = cuda::cudnn();

  cuda::Workspace padded(cv.padded_copy() ? cv.padded_bytes() : 0);
  if (cv.padded_copy()) cv.pad(x, padded.as<float>());
  const float* input = cv.padded_copy() ? padded.as<float>() : x;

  std::vector<cudnnConvolutionFwdAlgoPerf_t> ranked(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
  int count = 0;
  NIB_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, cv.x_desc, cv.w_desc, cv.conv, cv.y_desc,
                                                         CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, ranked.data()));
  cudnnConvolutionFwdAlgoPerf_t chosen{};
  if (!pick(ranked, count, cv.conv, chosen)) {  // implicit GEMM runs every shape without workspace
    chosen.algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    NIB_CUDNN_CHECK(cudnnSetConvolutionMathType(cv.conv, allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
  size_t bytes = 0;
  NIB_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(handle, cv.x_desc, cv.w_desc, cv.conv, cv.y_desc,
                                                          chosen.algo, &bytes));
  cuda::Workspace workspace(bytes);
  NIB_CUDNN_CHECK(cudnnConvolutionForward(handle, cudnn_util::one(), cv.x_desc, input, cv.w_desc, w, cv.conv,
                                          chosen.algo, workspace.data(), bytes, cudnn_util::zero(), cv.y_desc, y));
  if (bias) {  // y += bias, broadcast over n, p, q
    TensorDesc bias_desc(1, cv.g.K, 1, 1);
    NIB_CUDNN_CHECK(cudnnAddTensor(handle, cudnn_util::one(), bias_desc, bias, cudnn_util::one(), cv.y_desc, y));
  }
}

void conv2d_backward_data(const Conv2dShape& shape, const float* gy, const float* w, float* gx) {
  const char* op = "library::conv2d_backward_data";
  if (shape.N == 0) return;  // cuDNN refuses empty tensors
  CudnnConv cv(shape, op);
  cudnnHandle_t handle = cuda::cudnn();

  // With an explicit pad, cuDNN writes the gradient of the padded input.
  cuda::Workspace padded(cv.padded_copy() ? cv.padded_bytes() : 0);
  float* output = cv.padded_copy() ? padded.as<float>() : gx;

  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
  int count = 0;
  NIB_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
      handle, cv.w_desc, cv.y_desc, cv.conv, cv.x_desc, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, ranked.data()));
  cudnnConvolutionBwdDataAlgoPerf_t chosen{};
  if (!pick(ranked, count, cv.conv, chosen)) {
    chosen.algo = CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
    NIB_CUDNN_CHECK(cudnnSetConvolutionMathType(cv.conv, allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
  size_t bytes = 0;
  NIB_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(handle, cv.w_desc, cv.y_desc, cv.conv, cv.x_desc,
                                                               chosen.algo, &bytes));
  cuda::Workspace workspace(bytes);
  NIB_CUDNN_CHECK(cudnnConvolutionBackwardData(handle, cudnn_util::one(), cv.w_desc, w, cv.y_desc, gy, cv.conv,
                                               chosen.algo, workspace.data(), bytes, cudnn_util::zero(), cv.x_desc,
                                               output));
  if (cv.padded_copy()) cv.crop(output, gx);
}

void conv2d_backward_weight(const Conv2dShape& shape, const float* x, const float* gy, float* gw, float* gbias) {
  const char* op = "library::conv2d_backward_weight";
  if (shape.N == 0) {  // an empty batch (which cuDNN refuses): zero gradients
    const size_t weights = size_t(shape.K) * shape.C_per_group() * shape.R * shape.S;
    NIB_CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(float) * weights, cuda::stream()));
    if (gbias) NIB_CUDA_CHECK(cudaMemsetAsync(gbias, 0, sizeof(float) * size_t(shape.K), cuda::stream()));
    return;
  }
  CudnnConv cv(shape, op);
  cudnnHandle_t handle = cuda::cudnn();

  cuda::Workspace padded(cv.padded_copy() ? cv.padded_bytes() : 0);
  if (cv.padded_copy()) cv.pad(x, padded.as<float>());
  const float* input = cv.padded_copy() ? padded.as<float>() : x;

  std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> ranked(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
  int count = 0;
  NIB_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, cv.x_desc, cv.y_desc, cv.conv, cv.w_desc,
                                                                CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count,
                                                                ranked.data()));
  cudnnConvolutionBwdFilterAlgoPerf_t chosen{};
  if (!pick(ranked, count, cv.conv, chosen)) {
    chosen.algo = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0;
    NIB_CUDNN_CHECK(cudnnSetConvolutionMathType(cv.conv, allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
  size_t bytes = 0;
  NIB_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, cv.x_desc, cv.y_desc, cv.conv, cv.w_desc,
                                                                 chosen.algo, &bytes));
  cuda::Workspace workspace(bytes);
  NIB_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, cudnn_util::one(), cv.x_desc, input, cv.y_desc, gy,
                                                 cv.conv, chosen.algo, workspace.data(), bytes, cudnn_util::zero(),
                                                 cv.w_desc, gw));
  if (gbias) {
    TensorDesc bias_desc(1, cv.g.K, 1, 1);
    NIB_CUDNN_CHECK(cudnnConvolutionBackwardBias(handle, cudnn_util::one(), cv.y_desc, gy, cudnn_util::zero(),
                                                 bias_desc, gbias));
  }
}

}  // namespace nib::kernels::library
