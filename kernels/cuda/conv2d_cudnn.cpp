// cudnn::conv2d_*: the convolution passes through cuDNN.
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
// cuDNN's heuristics (no trial runs, so the first call is cheap); nib keeps
// those that succeeded, fit in kMaxWorkspace and respect TF32, in cuDNN's
// order, with a fallback that runs every shape last (implicit GEMM forward,
// algorithm 0 backward). Unless kernels::allow_tf32(), tensor-op algorithms
// are skipped and the math type is CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH would
// let cuDNN use TF32 on Ampere and later). With TF32 allowed, only the
// default and tensor-op math types are accepted, never
// CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, which would let cuDNN convert the
// FP32 data to FP16 (3 fewer mantissa bits than TF32, and FP16's range).
// Heuristics are not trial runs: when the chosen algorithm then reports
// CUDNN_STATUS_NOT_SUPPORTED (from its workspace query or the call itself),
// the next ranked one is tried, and the plan remembers the one that worked.
//
// Caching. The descriptors and, per pass, the ranked algorithms and the
// workspace size are built once per (shape, TF32 on/off) and kept in a
// plan cache: a training step runs three passes per layer, and rebuilding
// six descriptors and asking the heuristics each time costs host time the
// GPU then waits for at small batch sizes (expected, not yet measured on a
// GPU). The cache holds at most kMaxPlans shapes and starts over when full.
// The workspace itself comes from the caching allocator (nib::cuda::Workspace)
// on each call.
#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cuda/cudnn_util.h"
#include "kernels/registry.h"

namespace nib::kernels::cudnn {

namespace {

using cudnn_util::ConvDesc;
using cudnn_util::FilterDesc;
using cudnn_util::TensorDesc;

constexpr size_t kMaxWorkspace = size_t(1) << 30;  // 1 GiB
constexpr size_t kMaxPlans = 256;

// The tensor and filter descriptors of one convolution, with the explicit
// part of the padding.
// cuDNN's descriptors take int: a problem with 2^31 or more elements in x, w
// or y is refused.
const Conv2dProblem& require_int32(const Conv2dProblem& s, const char* op) {
  NIB_CHECK(s.fits_int32(), op, ": tensors of 2^31 elements or more are not supported");
  return s;
}

struct CudnnConv {
  Conv2dProblem g;
  int pad_h, pad_w;                                      // padding done by cuDNN
  int extra_top, extra_bottom, extra_left, extra_right;  // padding done by copying
  int Hp, Wp;                                            // height and width of the (padded) input cuDNN sees
  TensorDesc x_desc, y_desc, bias_desc;
  FilterDesc w_desc;
  TensorDesc dense_desc, window_desc;  // x as given, and where it sits in the padded buffer

  CudnnConv(const Conv2dProblem& s, const char* op)
      : g(require_int32(s, op)),
        pad_h(static_cast<int>(std::min(s.pad_top, s.pad_bottom))),
        pad_w(static_cast<int>(std::min(s.pad_left, s.pad_right))),
        extra_top(static_cast<int>(s.pad_top) - pad_h),
        extra_bottom(static_cast<int>(s.pad_bottom) - pad_h),
        extra_left(static_cast<int>(s.pad_left) - pad_w),
        extra_right(static_cast<int>(s.pad_right) - pad_w),
        Hp(int(g.H) + extra_top + extra_bottom),
        Wp(int(g.W) + extra_left + extra_right),
        x_desc(int(g.N), int(g.C), Hp, Wp),
        y_desc(int(g.N), int(g.K), int(g.P), int(g.Q)),
        bias_desc(1, int(g.K), 1, 1),
        w_desc(int(g.K), int(g.C_per_group), int(g.R), int(g.S)),
        dense_desc(int(g.N), int(g.C), int(g.H), int(g.W)),
        window_desc(TensorDesc::strided(int(g.N), int(g.C), int(g.H), int(g.W), int(g.C) * Hp * Wp, Hp * Wp, Wp, 1)) {}

  // The convolution descriptor of one pass, with its math type.
  void configure(cudnnConvolutionDescriptor_t conv, cudnnMathType_t math) const {
    NIB_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, pad_h, pad_w, int(g.stride_h), int(g.stride_w), int(g.dilation_h), int(g.dilation_w),
                                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    NIB_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, int(g.groups)));
    NIB_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, math));
  }
  // The output size cuDNN derives must be nib's (P, Q).
  void check_output_size(cudnnConvolutionDescriptor_t conv, const char* op) const {
    int n = 0, k = 0, p = 0, q = 0;
    NIB_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv, x_desc, w_desc, &n, &k, &p, &q));
    NIB_CHECK(p == int(g.P) && q == int(g.Q), op, ": cuDNN's output size ", p, "x", q, " differs from ", int(g.P), "x", int(g.Q));
  }

  bool padded_copy() const { return extra_top + extra_bottom + extra_left + extra_right > 0; }
  size_t padded_bytes() const { return sizeof(float) * size_t(int(g.N)) * int(g.C) * Hp * Wp; }
  size_t window_offset() const { return size_t(extra_top) * Wp + extra_left; }

  // padded = 0 everywhere, then x copied into the window.
  void pad(const float* x, float* padded) const {
    NIB_CUDA_CHECK(cudaMemsetAsync(padded, 0, padded_bytes(), nib::cuda::stream()));
    NIB_CUDNN_CHECK(cudnnTransformTensor(nib::cuda::cudnn(), cudnn_util::one(), dense_desc, x, cudnn_util::zero(),
                                         window_desc, padded + window_offset()));
  }
  // gx = the window of the padded gradient.
  void crop(const float* padded, float* gx) const {
    NIB_CUDNN_CHECK(cudnnTransformTensor(nib::cuda::cudnn(), cudnn_util::one(), window_desc, padded + window_offset(),
                                         cudnn_util::zero(), dense_desc, gx));
  }
};

// An algorithm of one pass (the enum differs per pass; stored as int) and
// the math type it runs with.
struct Candidate {
  int algo;
  cudnnMathType_t math;
};

// Whether nib accepts a math type cuDNN proposes. Never
// CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION (FP32 data converted to FP16);
// tensor ops (TF32 on FP32 data) only when allowed.
bool math_allowed(cudnnMathType_t math, bool tf32) {
  switch (math) {
    case CUDNN_DEFAULT_MATH:
    case CUDNN_FMA_MATH: return true;
    case CUDNN_TENSOR_OP_MATH: return tf32;
    default: return false;
  }
}

// cuDNN's ranking filtered as described at the top, then `fallback`.
// Without TF32 every candidate runs with CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH
// would allow TF32 on Ampere and later).
template <class Perf>
std::vector<Candidate> rank(const std::vector<Perf>& perfs, int count, int fallback, bool tf32) {
  std::vector<Candidate> ranked;
  auto add = [&](int algo, cudnnMathType_t math) {
    for (const Candidate& c : ranked)
      if (c.algo == algo && c.math == math) return;
    ranked.push_back({algo, math});
  };
  for (int i = 0; i < count; ++i) {
    const Perf& p = perfs[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.memory > kMaxWorkspace || !math_allowed(p.mathType, tf32)) continue;
    add(static_cast<int>(p.algo), tf32 ? p.mathType : CUDNN_FMA_MATH);
  }
  add(fallback, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);
  return ranked;
}

// One pass of one convolution: its descriptor (with the math type of the
// candidate in use), the ranked candidates and the workspace of the one in use.
struct PassPlan {
  ConvDesc conv;
  std::vector<Candidate> candidates;  // empty until the pass first runs
  size_t current = 0;
  size_t workspace_bytes = 0;
  bool sized = false;  // workspace_bytes is that of candidates[current]
};

struct ConvPlan {
  CudnnConv cv;
  PassPlan forward, backward_data, backward_weight;
  ConvPlan(const Conv2dProblem& s, const char* op) : cv(s, op) {
    cv.configure(forward.conv, CUDNN_FMA_MATH);
    cv.check_output_size(forward.conv, op);
  }
};

// Runs a pass with the plan's current candidate, moving on to the next when
// cuDNN answers CUDNN_STATUS_NOT_SUPPORTED or the workspace is too large.
//   workspace_size(conv, algo, &bytes) -> cudnnStatus_t
//   execute(conv, algo, workspace, bytes) -> cudnnStatus_t
template <class WorkspaceSize, class Execute>
void run(PassPlan& plan, const CudnnConv& cv, const char* what, WorkspaceSize workspace_size, Execute execute) {
  for (;;) {
    const Candidate c = plan.candidates[plan.current];
    const bool last = plan.current + 1 == plan.candidates.size();
    cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
    if (!plan.sized) {
      cv.configure(plan.conv, c.math);
      status = workspace_size(plan.conv, c.algo, &plan.workspace_bytes);
      if (status == CUDNN_STATUS_SUCCESS && plan.workspace_bytes > kMaxWorkspace && !last)
        status = CUDNN_STATUS_NOT_SUPPORTED;
      plan.sized = status == CUDNN_STATUS_SUCCESS;
    }
    if (status == CUDNN_STATUS_SUCCESS) {
      nib::cuda::Workspace workspace(plan.workspace_bytes);
      status = execute(plan.conv, c.algo, workspace.data(), plan.workspace_bytes);
      if (status == CUDNN_STATUS_SUCCESS) return;
    }
    if (status != CUDNN_STATUS_NOT_SUPPORTED || last) nib::cuda::throw_cudnn_error(status, what, __FILE__, __LINE__);
    ++plan.current;
    plan.sized = false;
  }
}

// The plan cache, keyed by every field of the shape and the TF32 setting.
// Its lock is held for a whole cudnn::conv2d_* call, so a plan is never
// used by two threads at once nor dropped while in use.
using PlanKey = std::pair<std::array<int64_t, 16>, bool>;

PlanKey key_of(const Conv2dProblem& s, bool tf32) {
  return {{s.N, s.C, s.H, s.W, s.K, s.R, s.S, s.stride_h, s.stride_w, s.pad_top, s.pad_bottom, s.pad_left,
           s.pad_right, s.dilation_h, s.dilation_w, s.groups},
          tf32};
}

std::mutex& plans_mutex() {
  static std::mutex* m = new std::mutex;  // never destroyed, like the cuDNN handle (device/cuda/context.cpp)
  return *m;
}

// The plan for s under the current TF32 setting; the caller holds plans_mutex().
ConvPlan& plan_for(const Conv2dProblem& s, const char* op) {
  static auto* plans = new std::map<PlanKey, std::unique_ptr<ConvPlan>>;
  const PlanKey key = key_of(s, allow_tf32());
  auto it = plans->find(key);
  if (it != plans->end()) return *it->second;
  if (plans->size() >= kMaxPlans) plans->clear();
  auto plan = std::make_unique<ConvPlan>(s, op);
  return *plans->emplace(key, std::move(plan)).first->second;
}

}  // namespace

void conv2d_forward(const Conv2dProblem& shape, const float* x, const float* w, const float* bias, float* y) {
  const char* op = "cudnn::conv2d_forward";
  if (shape.N == 0) return;  // cuDNN refuses empty tensors
  std::lock_guard<std::mutex> lock(plans_mutex());
  ConvPlan& plan = plan_for(shape, op);
  const CudnnConv& cv = plan.cv;
  cudnnHandle_t handle = nib::cuda::cudnn();

  nib::cuda::Workspace padded(cv.padded_copy() ? cv.padded_bytes() : 0);
  if (cv.padded_copy()) cv.pad(x, padded.as<float>());
  const float* input = cv.padded_copy() ? padded.as<float>() : x;

  PassPlan& pass = plan.forward;
  if (pass.candidates.empty()) {
    const bool tf32 = allow_tf32();
    cv.configure(pass.conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perfs(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
    int count = 0;
    NIB_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, cv.x_desc, cv.w_desc, pass.conv, cv.y_desc,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, perfs.data()));
    // Implicit GEMM runs every shape without workspace.
    pass.candidates = rank(perfs, count, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, tf32);
  }
  run(
      pass, cv, "cudnnConvolutionForward",
      [&](cudnnConvolutionDescriptor_t conv, int algo, size_t* bytes) {
        return cudnnGetConvolutionForwardWorkspaceSize(handle, cv.x_desc, cv.w_desc, conv, cv.y_desc,
                                                       static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
      },
      [&](cudnnConvolutionDescriptor_t conv, int algo, void* workspace, size_t bytes) {
        return cudnnConvolutionForward(handle, cudnn_util::one(), cv.x_desc, input, cv.w_desc, w, conv,
                                       static_cast<cudnnConvolutionFwdAlgo_t>(algo), workspace, bytes,
                                       cudnn_util::zero(), cv.y_desc, y);
      });
  if (bias) {  // y += bias, broadcast over n, p, q
    NIB_CUDNN_CHECK(cudnnAddTensor(handle, cudnn_util::one(), cv.bias_desc, bias, cudnn_util::one(), cv.y_desc, y));
  }
}

void conv2d_backward_data(const Conv2dProblem& shape, const float* gy, const float* w, float* gx) {
  const char* op = "cudnn::conv2d_backward_data";
  if (shape.N == 0) return;  // cuDNN refuses empty tensors
  std::lock_guard<std::mutex> lock(plans_mutex());
  ConvPlan& plan = plan_for(shape, op);
  const CudnnConv& cv = plan.cv;
  cudnnHandle_t handle = nib::cuda::cudnn();

  // With an explicit pad, cuDNN writes the gradient of the padded input.
  nib::cuda::Workspace padded(cv.padded_copy() ? cv.padded_bytes() : 0);
  float* output = cv.padded_copy() ? padded.as<float>() : gx;

  PassPlan& pass = plan.backward_data;
  if (pass.candidates.empty()) {
    const bool tf32 = allow_tf32();
    cv.configure(pass.conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perfs(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
    int count = 0;
    NIB_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, cv.w_desc, cv.y_desc, pass.conv, cv.x_desc,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count,
                                                                perfs.data()));
    pass.candidates = rank(perfs, count, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, tf32);
  }
  run(
      pass, cv, "cudnnConvolutionBackwardData",
      [&](cudnnConvolutionDescriptor_t conv, int algo, size_t* bytes) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(handle, cv.w_desc, cv.y_desc, conv, cv.x_desc,
                                                            static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
      },
      [&](cudnnConvolutionDescriptor_t conv, int algo, void* workspace, size_t bytes) {
        return cudnnConvolutionBackwardData(handle, cudnn_util::one(), cv.w_desc, w, cv.y_desc, gy, conv,
                                            static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), workspace, bytes,
                                            cudnn_util::zero(), cv.x_desc, output);
      });
  if (cv.padded_copy()) cv.crop(output, gx);
}

void conv2d_backward_weight(const Conv2dProblem& shape, const float* x, const float* gy, float* gw, float* gbias) {
  const char* op = "cudnn::conv2d_backward_weight";
  if (shape.N == 0) {  // an empty batch (which cuDNN refuses): zero gradients
    const size_t weights = size_t(shape.K) * shape.C_per_group * shape.R * shape.S;
    NIB_CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(float) * weights, nib::cuda::stream()));
    if (gbias) NIB_CUDA_CHECK(cudaMemsetAsync(gbias, 0, sizeof(float) * size_t(shape.K), nib::cuda::stream()));
    return;
  }
  std::lock_guard<std::mutex> lock(plans_mutex());
  ConvPlan& plan = plan_for(shape, op);
  const CudnnConv& cv = plan.cv;
  cudnnHandle_t handle = nib::cuda::cudnn();

  nib::cuda::Workspace padded(cv.padded_copy() ? cv.padded_bytes() : 0);
  if (cv.padded_copy()) cv.pad(x, padded.as<float>());
  const float* input = cv.padded_copy() ? padded.as<float>() : x;

  PassPlan& pass = plan.backward_weight;
  if (pass.candidates.empty()) {
    const bool tf32 = allow_tf32();
    cv.configure(pass.conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perfs(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
    int count = 0;
    NIB_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, cv.x_desc, cv.y_desc, pass.conv,
                                                                  cv.w_desc, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
                                                                  &count, perfs.data()));
    pass.candidates = rank(perfs, count, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, tf32);
  }
  run(
      pass, cv, "cudnnConvolutionBackwardFilter",
      [&](cudnnConvolutionDescriptor_t conv, int algo, size_t* bytes) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(
            handle, cv.x_desc, cv.y_desc, conv, cv.w_desc, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
      },
      [&](cudnnConvolutionDescriptor_t conv, int algo, void* workspace, size_t bytes) {
        return cudnnConvolutionBackwardFilter(handle, cudnn_util::one(), cv.x_desc, input, cv.y_desc, gy, conv,
                                              static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), workspace, bytes,
                                              cudnn_util::zero(), cv.w_desc, gw);
      });
  if (gbias) {
    NIB_CUDNN_CHECK(cudnnConvolutionBackwardBias(handle, cudnn_util::one(), cv.y_desc, gy, cudnn_util::zero(),
                                                 cv.bias_desc, gbias));
  }
}

}  // namespace nib::kernels::cudnn
