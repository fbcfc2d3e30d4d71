// Max-pooling argmax and gradient scatter for the cuDNN max pooling
// (pool_cudnn.cpp). See pool_argmax.h.
#include <climits>

#include "device/cuda/context.h"
#include "device/cuda/launch.cuh"
#include "kernels/cuda/pool_argmax.h"
#include "util/error.h"

namespace nib::kernels::cuda_pool {

namespace {

struct Dims {
  int planes, H, W, P, Q, kh, kw, sh, sw, pt, pl;
};

Dims dims_of(const Pool2dShape& s, const char* op) {
  const long long x = s.N * s.C * s.H * s.W, y = s.N * s.C * s.P() * s.Q();
  NIB_CHECK(x < INT_MAX && y < INT_MAX, op, ": tensors of 2^31 elements or more are not supported");
  return Dims{static_cast<int>(s.N * s.C), static_cast<int>(s.H), static_cast<int>(s.W),
              static_cast<int>(s.P()),     static_cast<int>(s.Q()), static_cast<int>(s.kernel_h),
              static_cast<int>(s.kernel_w), static_cast<int>(s.stride_h), static_cast<int>(s.stride_w),
              static_cast<int>(s.pad_top),  static_cast<int>(s.pad_left)};
}

// One thread per output (plane, p, q). The winner is the reference's
// (kernels/cpu/pool_reference.cpp): the first position equal to the maximum,
// or, when the maximum is NaN (cuDNN propagates NaN), the *last* NaN of the
// window in row-major order, since there every NaN replaces the one before.
__global__ void argmax_kernel(const Dims d, const float* __restrict__ x, const float* __restrict__ y,
                              int32_t* __restrict__ argmax) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= d.planes * d.P * d.Q) return;
  const int q = i % d.Q, p = (i / d.Q) % d.P, plane = i / (d.P * d.Q);
  const float* xp = x + plane * d.H * d.W;
  const float target = y[i];
  const bool nan_wins = isnan(target);
  int found = -1, first_inside = -1;
  for (int r = 0; r < d.kh; ++r) {
    const int h = p * d.sh - d.pt + r;
    if (h < 0 || h >= d.H) continue;
    for (int s = 0; s < d.kw; ++s) {
      const int w = q * d.sw - d.pl + s;
      if (w < 0 || w >= d.W) continue;
      const float v = xp[h * d.W + w];
      if (first_inside < 0) first_inside = h * d.W + w;
      if (nan_wins ? isnan(v) : (found < 0 && v == target)) found = h * d.W + w;
    }
  }
  // No match happens only for a window made entirely of padding; point at
  // an in-plane position so the backward never writes out of bounds.
  argmax[i] = found >= 0 ? found : (first_inside >= 0 ? first_inside : 0);
}

// One thread per output; windows may overlap (stride < kernel), hence atomics.
__global__ void scatter_kernel(const Dims d, const float* __restrict__ gy, const int32_t* __restrict__ argmax,
                               float* __restrict__ gx) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= d.planes * d.P * d.Q) return;
  const int plane = i / (d.P * d.Q);
  const int at = argmax[i];
  if (at < 0 || at >= d.H * d.W) return;  // a corrupt index must not write outside the plane
  atomicAdd(gx + plane * d.H * d.W + at, gy[i]);
}

}  // namespace

void max_pool_argmax(const Pool2dShape& s, const float* x, const float* y, int32_t* argmax) {
  const Dims d = dims_of(s, "cudnn::max_pool_forward");
  const int outputs = d.planes * d.P * d.Q;
  if (outputs == 0) return;
  cuda_detail::launch(argmax_kernel, nib::cuda::blocks_for(outputs, 256), 256, d, x, y, argmax);
}

void max_pool_scatter(const Pool2dShape& s, const float* gy, const int32_t* argmax, float* gx) {
  const Dims d = dims_of(s, "cudnn::max_pool_backward");
  NIB_CUDA_CHECK(cudaMemsetAsync(gx, 0, sizeof(float) * size_t(d.planes) * d.H * d.W, nib::cuda::stream()));
  const int outputs = d.planes * d.P * d.Q;
  if (outputs == 0) return;
  cuda_detail::launch(scatter_kernel, nib::cuda::blocks_for(outputs, 256), 256, d, gy, argmax, gx);
}

}  // namespace nib::kernels::cuda_pool
