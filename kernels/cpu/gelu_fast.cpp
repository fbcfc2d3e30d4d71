// GELU on the CPU, fast: the reference's formulas in float, the elements
// split over OpenMP threads in large contiguous chunks. An element-wise op
// is bound by memory, not arithmetic, once erf and exp are in float: the
// work is reading x and writing y once. Small tensors stay on one thread,
// where starting a parallel region would cost more than the loop.
#include <cmath>

#include "kernels/gelu.h"

namespace nib::kernels::fast {

namespace {

constexpr int64_t kParallelThreshold = 1 << 15;
constexpr float kInvSqrt2 = 0.70710678f;
constexpr float kInvSqrt2Pi = 0.39894228f;

}  // namespace

void gelu_forward(int64_t n, const float* x, float* y) {
#pragma omp parallel for simd schedule(static) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * 0.5f * (1.0f + std::erf(x[i] * kInvSqrt2));
}

void gelu_backward(int64_t n, const float* x, const float* gy, float* gx) {
#pragma omp parallel for simd schedule(static) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
    gx[i] = gy[i] * (cdf + v * kInvSqrt2Pi * std::exp(-0.5f * v * v));
  }
}

}  // namespace nib::kernels::fast
