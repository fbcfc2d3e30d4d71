// Inverted dropout on CUDA. The spec is kernels/cpu/dropout_reference.cpp.
//
// Element i is kept when counter_uniform(seed, i) >= p (kernels/counter_rng.h):
// a pure function of (seed, i), so the mask is exactly the CPU's, no RNG
// state lives on the GPU, and every thread draws independently. Compared with
// a cuRAND-per-thread kernel there is no state to initialise or store, and
// the backward could even recompute the mask instead of reading it.
// Speed: to be measured in bench/.
#include "device/cuda/launch.cuh"
#include "kernels/counter_rng.h"
#include "kernels/dropout.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

__global__ void dropout_forward_kernel(int64_t n, const float* x, float p, float scale, uint64_t seed,
                                       uint8_t* mask, float* y) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    bool keep = counter_uniform(seed, static_cast<uint64_t>(i)) >= p;
    mask[i] = keep ? 1 : 0;
    y[i] = keep ? x[i] * scale : 0.0f;
  }
}

__global__ void dropout_backward_kernel(int64_t n, const float* gy, const uint8_t* mask, float scale, float* gx) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) gx[i] = mask[i] ? gy[i] * scale : 0.0f;
}

// 1 / (1 - p); with p == 1 nothing is kept and the scale is never used.
float keep_scale(float p) { return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f; }

}  // namespace

void dropout_forward(int64_t n, const float* x, float p, uint64_t seed, uint8_t* mask, float* y) {
  if (n <= 0) return;
  cuda_detail::launch(dropout_forward_kernel, grid_for(n), kThreads, n, x, p, keep_scale(p), seed, mask, y);
}

void dropout_backward(int64_t n, const float* gy, const uint8_t* mask, float p, float* gx) {
  if (n <= 0) return;
  cuda_detail::launch(dropout_backward_kernel, grid_for(n), kThreads, n, gy, mask, keep_scale(p), gx);
}

}  // namespace nib::kernels::cuda
