// GELU on the GPU: the formulas of kernels/gelu.h in float, one grid-stride
// loop per direction (launch.cuh). Each element is read once and written
// once, so the kernel runs at memory bandwidth; erff and expf cost a few
// instructions each and hide behind the loads.
#include "device/cuda/launch.cuh"
#include "kernels/gelu.h"

namespace nib::kernels::cuda {

namespace {

using cuda_detail::grid_for;
using cuda_detail::grid_start;
using cuda_detail::grid_stride;

constexpr float kInvSqrt2 = 0.70710678f;
constexpr float kInvSqrt2Pi = 0.39894228f;

// [gelu-cuda]
__global__ void gelu_forward_kernel(int64_t n, const float* x, float* y) {  // y may be x: no __restrict__
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    const float v = x[i];
    y[i] = v * 0.5f * (1.0f + erff(v * kInvSqrt2));
  }
}
// [/gelu-cuda]

__global__ void gelu_backward_kernel(int64_t n, const float* __restrict__ x, const float* __restrict__ gy,
                                     float* __restrict__ gx) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + erff(v * kInvSqrt2));
    gx[i] = gy[i] * (cdf + v * kInvSqrt2Pi * expf(-0.5f * v * v));
  }
}

}  // namespace

void gelu_forward(int64_t n, const float* x, float* y) {
  if (n > 0) cuda_detail::launch(gelu_forward_kernel, grid_for(n), cuda_detail::kThreads, n, x, y);
}

void gelu_backward(int64_t n, const float* x, const float* gy, float* gx) {
  if (n > 0) cuda_detail::launch(gelu_backward_kernel, grid_for(n), cuda_detail::kThreads, n, x, gy, gx);
}

}  // namespace nib::kernels::cuda
