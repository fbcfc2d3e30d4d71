// Activations, their backward, bias + activation and the bias gradient on
// CUDA. The spec is kernels/cpu/activation_reference.cpp.
//
// Better than a naive version:
//   - the activation is a template parameter: no per-element switch;
//   - bias_activation adds the bias and applies the activation in one pass
//     over memory, where a separate bias add would read and write y twice;
//   - bias_backward gives each channel a block that reduces its N*HW values
//     in parallel (a thread per channel would leave most of the GPU idle
//     with 64 channels), accumulating in double like the reference; for a
//     linear layer's bias (inner == 1) blocks take 32 columns each so that
//     the reads are coalesced (bias_backward_columns_kernel);
//   - bias_activation indexes in 32 bits below 2^31 elements
//     (with_index_type, launch.cuh): its channel (i / inner) % channels
//     costs two 32-bit divisions instead of two emulated 64-bit ones
//     (expected to matter in this memory-bound kernel; not yet measured).
// Speed: to be measured in bench/.
#include "device/cuda/launch.cuh"
#include "kernels/activation.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

template <Activation A>
__device__ inline float forward(float x) {
  if constexpr (A == Activation::ReLU) return x > 0.0f ? x : 0.0f;
  if constexpr (A == Activation::ReLU6) return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
  if constexpr (A == Activation::Sigmoid) return 1.0f / (1.0f + expf(-x));
  if constexpr (A == Activation::Tanh) return tanhf(x);
  return x;  // Identity
}

template <Activation A>
__device__ inline float derivative_from_output(float y) {
  if constexpr (A == Activation::ReLU) return y > 0.0f ? 1.0f : 0.0f;
  if constexpr (A == Activation::ReLU6) return (y > 0.0f && y < 6.0f) ? 1.0f : 0.0f;
  if constexpr (A == Activation::Sigmoid) return y * (1.0f - y);
  if constexpr (A == Activation::Tanh) return 1.0f - y * y;
  return 1.0f;  // Identity
}

template <Activation A>
__global__ void forward_kernel(int64_t n, const float* x, float* y) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) y[i] = forward<A>(x[i]);
}

template <Activation A>
__global__ void backward_kernel(int64_t n, const float* y, const float* gy, float* gx) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) gx[i] = gy[i] * derivative_from_output<A>(y[i]);
}

// y viewed as [outer, channels, inner]; element i belongs to channel (i / inner) % channels,
// computed in the kernel's index type (32 bits below 2^31 elements, see with_index_type).
template <Activation A, class Index>
__global__ void bias_activation_kernel(Index n, Index channels, Index inner, const float* bias, float* y) {
  for (Index i = grid_start<Index>(); i < n; i += grid_stride<Index>()) {
    float b = 0.0f;
    if (bias) {
      const Index row = i / inner;
      b = bias[row - (row / channels) * channels];
    }
    y[i] = forward<A>(y[i] + b);
  }
}

// inner == 1, a linear layer's bias: gy is [outer, channels] and the sum
// runs down its columns. A block takes 32 consecutive columns with 8 warps:
// lane l of warp w sums column c0 + l over rows w, w + 8, ..., so every warp
// reads 32 consecutive floats of a row (one coalesced 128-byte load), and
// the 8 partial sums meet in shared memory in a fixed order. The one-block-
// per-channel kernel below would read such a column with a stride of
// `channels` floats, a separate memory transaction per element (expected to
// make the linear bias gradient several times faster; not yet measured on a GPU).
constexpr int kColumnsPerBlock = 32, kRowGroups = 8;

__global__ void bias_backward_columns_kernel(int64_t outer, int64_t channels, const float* gy, float* gbias) {
  __shared__ double partial[kRowGroups][kColumnsPerBlock];
  const int lane = threadIdx.x % kColumnsPerBlock, group = threadIdx.x / kColumnsPerBlock;
  for (int64_t c0 = static_cast<int64_t>(blockIdx.x) * kColumnsPerBlock; c0 < channels;
       c0 += static_cast<int64_t>(gridDim.x) * kColumnsPerBlock) {
    const int64_t c = c0 + lane;
    double acc = 0.0;
    if (c < channels)
      for (int64_t o = group; o < outer; o += kRowGroups) acc += gy[o * channels + c];
    partial[group][lane] = acc;
    __syncthreads();
    if (group == 0 && c < channels) {
      double total = 0.0;
      for (int g = 0; g < kRowGroups; ++g) total += partial[g][lane];
      gbias[c] = static_cast<float>(total);
    }
    __syncthreads();  // partial is reused by the next columns
  }
}

// One block per channel c: sums gy[o, c, i] over o and i.
__global__ void bias_backward_kernel(int64_t outer, int64_t channels, int64_t inner, const float* gy, float* gbias) {
  const int64_t per_channel = outer * inner;
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    double acc = 0.0;
    for (int64_t j = threadIdx.x; j < per_channel; j += blockDim.x) {
      int64_t o = j / inner, i = j % inner;
      acc += gy[(o * channels + c) * inner + i];
    }
    acc = block_reduce(acc, SumOp{}, 0.0);
    if (threadIdx.x == 0) gbias[c] = static_cast<float>(acc);
  }
}

// Calls launch.template operator()<A>() with the activation as a compile-time constant.
template <class Launch>
void dispatch(Activation act, Launch launch) {
  switch (act) {
    case Activation::Identity: return launch.template operator()<Activation::Identity>();
    case Activation::ReLU: return launch.template operator()<Activation::ReLU>();
    case Activation::ReLU6: return launch.template operator()<Activation::ReLU6>();
    case Activation::Sigmoid: return launch.template operator()<Activation::Sigmoid>();
    case Activation::Tanh: return launch.template operator()<Activation::Tanh>();
  }
}

}  // namespace

void activation_forward(Activation act, int64_t n, const float* x, float* y) {
  if (n <= 0) return;
  dispatch(act, [&]<Activation A>() {
    cuda_detail::launch(forward_kernel<A>, grid_for(n), kThreads, n, x, y);
  });
}

void activation_backward(Activation act, int64_t n, const float* y, const float* gy, float* gx) {
  if (n <= 0) return;
  dispatch(act, [&]<Activation A>() {
    cuda_detail::launch(backward_kernel<A>, grid_for(n), kThreads, n, y, gy, gx);
  });
}

void bias_activation(Activation act, int64_t outer, int64_t channels, int64_t inner, const float* bias, float* y) {
  int64_t n = outer * channels * inner;
  if (n <= 0) return;
  if (act == Activation::Identity && bias == nullptr) return;  // nothing to do
  const unsigned grid = grid_for(n);
  dispatch(act, [&]<Activation A>() {
    with_index_type(fits_int32(n, grid, kThreads), [&]<class Index>() {
      cuda_detail::launch(bias_activation_kernel<A, Index>, grid, kThreads, static_cast<Index>(n),
                          static_cast<Index>(channels), static_cast<Index>(inner), bias, y);
    });
  });
}

void bias_backward(int64_t outer, int64_t channels, int64_t inner, const float* gy, float* gbias) {
  if (channels <= 0) return;
  if (inner == 1) {
    static_assert(kColumnsPerBlock * kRowGroups == kThreads, "one thread per (row group, column)");
    const int64_t column_blocks = (channels + kColumnsPerBlock - 1) / kColumnsPerBlock;
    cuda_detail::launch(bias_backward_columns_kernel, grid_for_items(column_blocks), kThreads, outer, channels, gy,
                        gbias);
    return;
  }
  cuda_detail::launch(bias_backward_kernel, grid_for_items(channels), kThreads, outer, channels, inner, gy, gbias);
}

}  // namespace nib::kernels::cuda
