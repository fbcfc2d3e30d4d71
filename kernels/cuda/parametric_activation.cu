// Leaky ReLU and ELU on CUDA: one thread per element in a grid-stride loop,
// the same formulas as the spec, kernels/cpu/parametric_activation_reference.cpp.
#include "device/cuda/launch.cuh"
#include "kernels/parametric_activation.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

__device__ inline float forward(ParametricActivation act, float alpha, float x) {
  if (x > 0.0f) return x;
  return act == ParametricActivation::LeakyReLU ? alpha * x : alpha * expm1f(x);
}

__device__ inline float derivative(ParametricActivation act, float alpha, float x) {
  if (x > 0.0f) return 1.0f;
  return act == ParametricActivation::LeakyReLU ? alpha : alpha * expf(x);
}

__global__ void forward_kernel(ParametricActivation act, float alpha, int64_t n, const float* x, float* y) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) y[i] = forward(act, alpha, x[i]);
}

__global__ void backward_kernel(ParametricActivation act, float alpha, int64_t n, const float* x, const float* gy,
                                float* gx) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) gx[i] = gy[i] * derivative(act, alpha, x[i]);
}

}  // namespace

void parametric_activation_forward(ParametricActivation act, float alpha, int64_t n, const float* x, float* y) {
  if (n <= 0) return;
  cuda_detail::launch(forward_kernel, grid_for(n), kThreads, act, alpha, n, x, y);
}

void parametric_activation_backward(ParametricActivation act, float alpha, int64_t n, const float* x, const float* gy,
                                    float* gx) {
  if (n <= 0) return;
  cuda_detail::launch(backward_kernel, grid_for(n), kThreads, act, alpha, n, x, gy, gx);
}

}  // namespace nib::kernels::cuda
