// cudnn:: pooling through cuDNN.
//
// Max pooling. cuDNN computes the maxima; nib's backward interface works
// from the winner's index (argmax), which cuDNN does not return, so a small
// kernel finds it afterwards (the first position in the window equal to the
// maximum, or the last NaN, as the reference picks it) and the backward is a
// scatter from argmax (pool_argmax.cu). cuDNN's own backward would need x and
// y, which MaxPoolBackwardFn does not pass. NaNs propagate
// (CUDNN_PROPAGATE_NAN): a window holding one gives NaN, as in PyTorch.
//
// Padding. cuDNN pads symmetrically. Asymmetric padding (TensorFlow 'SAME')
// is made symmetric by an explicit copy into a bigger buffer filled with
// the padding value: -inf for max pooling (padding never wins), 0 for
// average pooling that counts padding in the divisor. Average pooling that
// excludes padding cannot be expressed that way (the copied border would
// count), so that one case runs nib's cuda:: kernel instead.
//
// Global average pooling is a mean over each plane: cudnnReduceTensor
// (AVG) forward; the backward spreads gy/HW over the plane with
// cudnnAddTensor's broadcasting.
#include <algorithm>
#include <cmath>
#include <mutex>

#include "kernels/cuda/cudnn_util.h"
#include "kernels/cuda/pool_argmax.h"
#include "kernels/pool.h"

namespace nib::kernels::cudnn {

namespace {

using cudnn_util::PoolDesc;
using cudnn_util::TensorDesc;
using cudnn_util::to_int;

// s itself, after checking that it has outputs. Called first in CudnnPool's
// initializer list: an output size of 0 or less must be refused with this
// message before to_int (which would call a negative size "too big for
// cuDNN") or a cuDNN descriptor (which rejects it with a bare status) sees it.
const Pool2dShape& with_outputs(const Pool2dShape& s, const char* op) {
  NIB_CHECK(s.N > 0 && s.C > 0 && s.P() > 0 && s.Q() > 0, op,
            ": empty input or a window larger than the padded input");
  return s;
}

struct CudnnPool {
  int N, C, H, W, P, Q;
  int extra_top, extra_bottom, extra_left, extra_right;  // padding done by copying
  int Hp, Wp;                                            // the input cuDNN sees
  TensorDesc x_desc, y_desc;
  PoolDesc pool;

  CudnnPool(const Pool2dShape& s, cudnnPoolingMode_t mode, const char* op)
      : N(to_int(with_outputs(s, op).N, op)), C(to_int(s.C, op)), H(to_int(s.H, op)), W(to_int(s.W, op)),
        P(to_int(s.P(), op)), Q(to_int(s.Q(), op)),
        extra_top(to_int(s.pad_top - std::min(s.pad_top, s.pad_bottom), op)),
        extra_bottom(to_int(s.pad_bottom - std::min(s.pad_top, s.pad_bottom), op)),
        extra_left(to_int(s.pad_left - std::min(s.pad_left, s.pad_right), op)),
        extra_right(to_int(s.pad_right - std::min(s.pad_left, s.pad_right), op)),
        Hp(H + extra_top + extra_bottom),
        Wp(W + extra_left + extra_right),
        x_desc(N, C, Hp, Wp),
        y_desc(N, C, P, Q) {
    NIB_CUDNN_CHECK(cudnnSetPooling2dDescriptor(
        // A NaN in a window wins the max, as in the reference and PyTorch.
        pool, mode, CUDNN_PROPAGATE_NAN, to_int(s.kernel_h, op), to_int(s.kernel_w, op),
        to_int(std::min(s.pad_top, s.pad_bottom), op), to_int(std::min(s.pad_left, s.pad_right), op),
        to_int(s.stride_h, op), to_int(s.stride_w, op)));
    int n = 0, c = 0, p = 0, q = 0;
    NIB_CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(pool, x_desc, &n, &c, &p, &q));
    NIB_CHECK(p == P && q == Q, op, ": cuDNN's output size ", p, "x", q, " differs from ", P, "x", Q);
  }

  bool padded_copy() const { return extra_top + extra_bottom + extra_left + extra_right > 0; }
  size_t padded_bytes() const { return sizeof(float) * size_t(N) * C * Hp * Wp; }
  size_t window_offset() const { return size_t(extra_top) * Wp + extra_left; }
  TensorDesc window() const { return TensorDesc::strided(N, C, H, W, C * Hp * Wp, Hp * Wp, Wp, 1); }

  // padded = fill everywhere, then x copied into the window.
  void pad(const float* x, float* padded, float fill) const {
    TensorDesc all(N, C, Hp, Wp), dense(N, C, H, W);
    TensorDesc win = window();
    NIB_CUDNN_CHECK(cudnnSetTensor(nib::cuda::cudnn(), all, padded, &fill));
    NIB_CUDNN_CHECK(cudnnTransformTensor(nib::cuda::cudnn(), cudnn_util::one(), dense, x, cudnn_util::zero(), win,
                                         padded + window_offset()));
  }
  void crop(const float* padded, float* gx) const {
    TensorDesc dense(N, C, H, W);
    TensorDesc win = window();
    NIB_CUDNN_CHECK(cudnnTransformTensor(nib::cuda::cudnn(), cudnn_util::one(), win, padded + window_offset(),
                                         cudnn_util::zero(), dense, gx));
  }
};

bool symmetric(const Pool2dShape& s) { return s.pad_top == s.pad_bottom && s.pad_left == s.pad_right; }

// cudnnPoolingBackward takes x and y too; average pooling does not depend on
// their values, but they must be valid memory of the right size. One
// zero-filled buffer serves as both, kept between calls and grown (and
// zeroed) only when a larger one is needed, instead of two allocations and
// two memsets on every backward call. Callers hold zeros_mutex() while
// cuDNN may read the buffer, so no other thread replaces it meanwhile.
std::mutex& zeros_mutex() {
  static auto* m = new std::mutex;  // never destroyed, like the cuDNN handle (device/cuda/context.cpp)
  return *m;
}
const float* zeros_of_at_least(size_t bytes) {
  static void* buffer = nullptr;
  static size_t size = 0;
  if (bytes > size) {
    // The old buffer goes back to the caching allocator, which serves the
    // same stream: whatever still reads it runs before any new user.
    if (buffer) nib::cuda::release(buffer);
    buffer = nullptr;  // consistent even if allocate throws
    size = 0;
    buffer = nib::cuda::allocate(bytes);
    NIB_CUDA_CHECK(cudaMemsetAsync(buffer, 0, bytes, nib::cuda::stream()));
    size = bytes;
  }
  return static_cast<const float*>(buffer);
}

}  // namespace

void max_pool_forward(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  if (s.N * s.C == 0) return;
  CudnnPool cp(s, CUDNN_POOLING_MAX, "cudnn::max_pool_forward");
  nib::cuda::Workspace padded(cp.padded_copy() ? cp.padded_bytes() : 0);
  if (cp.padded_copy()) cp.pad(x, padded.as<float>(), -INFINITY);
  const float* input = cp.padded_copy() ? padded.as<float>() : x;
  NIB_CUDNN_CHECK(cudnnPoolingForward(nib::cuda::cudnn(), cp.pool, cudnn_util::one(), cp.x_desc, input,
                                      cudnn_util::zero(), cp.y_desc, y));
  // The argmax kernel reads the original x with the original padding.
  if (argmax) cuda_pool::max_pool_argmax(s, x, y, argmax);
}

void max_pool_backward(const Pool2dShape& s, const float* gy, const int32_t* argmax, float* gx) {
  cuda_pool::max_pool_scatter(s, gy, argmax, gx);
}

void avg_pool_forward(const Pool2dShape& s, const float* x, float* y, bool count_include_pad) {
  if (s.N * s.C == 0) return;
  if (!count_include_pad && !symmetric(s)) return cuda::avg_pool_forward(s, x, y, count_include_pad);
  const cudnnPoolingMode_t mode =
      count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  CudnnPool cp(s, mode, "cudnn::avg_pool_forward");
  nib::cuda::Workspace padded(cp.padded_copy() ? cp.padded_bytes() : 0);
  if (cp.padded_copy()) cp.pad(x, padded.as<float>(), 0.0f);
  const float* input = cp.padded_copy() ? padded.as<float>() : x;
  NIB_CUDNN_CHECK(cudnnPoolingForward(nib::cuda::cudnn(), cp.pool, cudnn_util::one(), cp.x_desc, input,
                                      cudnn_util::zero(), cp.y_desc, y));
}

void avg_pool_backward(const Pool2dShape& s, const float* gy, float* gx, bool count_include_pad) {
  if (s.N * s.C == 0) return;
  if (!count_include_pad && !symmetric(s)) return cuda::avg_pool_backward(s, gy, gx, count_include_pad);
  const cudnnPoolingMode_t mode =
      count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  CudnnPool cp(s, mode, "cudnn::avg_pool_backward");
  // x and y: the shared zero buffer (see zeros_of_at_least).
  const size_t x_bytes = cp.padded_bytes(), y_bytes = sizeof(float) * size_t(cp.N) * cp.C * cp.P * cp.Q;
  std::lock_guard<std::mutex> lock(zeros_mutex());
  const float* zeros = zeros_of_at_least(std::max(x_bytes, y_bytes));
  nib::cuda::Workspace padded(cp.padded_copy() ? cp.padded_bytes() : 0);
  float* output = cp.padded_copy() ? padded.as<float>() : gx;
  NIB_CUDNN_CHECK(cudnnPoolingBackward(nib::cuda::cudnn(), cp.pool, cudnn_util::one(), cp.y_desc, zeros, cp.y_desc, gy,
                                       cp.x_desc, zeros, cudnn_util::zero(), cp.x_desc, output));
  if (cp.padded_copy()) cp.crop(output, gx);
}

void global_avg_pool_forward(int64_t planes, int64_t HW, const float* x, float* y) {
  const char* op = "cudnn::global_avg_pool_forward";
  if (planes == 0) return;
  NIB_CHECK(HW > 0, op, ": empty planes");
  TensorDesc x_desc(to_int(planes, op), 1, 1, to_int(HW, op)), y_desc(to_int(planes, op), 1, 1, 1);
  cudnnReduceTensorDescriptor_t reduce = nullptr;
  NIB_CUDNN_CHECK(cudnnCreateReduceTensorDescriptor(&reduce));
  try {
    NIB_CUDNN_CHECK(cudnnSetReduceTensorDescriptor(reduce, CUDNN_REDUCE_TENSOR_AVG, CUDNN_DATA_FLOAT,
                                                   CUDNN_PROPAGATE_NAN, CUDNN_REDUCE_TENSOR_NO_INDICES,
                                                   CUDNN_32BIT_INDICES));
    size_t bytes = 0;
    NIB_CUDNN_CHECK(cudnnGetReductionWorkspaceSize(nib::cuda::cudnn(), reduce, x_desc, y_desc, &bytes));
    nib::cuda::Workspace workspace(bytes);
    NIB_CUDNN_CHECK(cudnnReduceTensor(nib::cuda::cudnn(), reduce, nullptr, 0, workspace.data(), bytes, cudnn_util::one(),
                                      x_desc, x, cudnn_util::zero(), y_desc, y));
  } catch (...) {
    cudnnDestroyReduceTensorDescriptor(reduce);
    throw;
  }
  cudnnDestroyReduceTensorDescriptor(reduce);
}

void global_avg_pool_backward(int64_t planes, int64_t HW, const float* gy, float* gx) {
  const char* op = "cudnn::global_avg_pool_backward";
  if (planes == 0 || HW == 0) return;
  TensorDesc gy_desc(to_int(planes, op), 1, 1, 1), gx_desc(to_int(planes, op), 1, 1, to_int(HW, op));
  // gx = (1/HW) * gy broadcast along the plane. gx is zeroed first so that
  // garbage (NaN) in it cannot leak through the beta = 0 blend.
  NIB_CUDA_CHECK(cudaMemsetAsync(gx, 0, sizeof(float) * size_t(planes) * size_t(HW), nib::cuda::stream()));
  const float scale = 1.0f / static_cast<float>(HW);
  NIB_CUDNN_CHECK(cudnnAddTensor(nib::cuda::cudnn(), &scale, gy_desc, gy, cudnn_util::zero(), gx_desc, gx));
}

}  // namespace nib::kernels::cudnn
