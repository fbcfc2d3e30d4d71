// GELU on the CPU, written to be read: the formulas of kernels/gelu.h, one
// element at a time, in double so that this is the yardstick the other
// implementations are measured against.
#include <cmath>

#include "kernels/gelu.h"

namespace nib::kernels::reference {

// [gelu-reference]
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;    // 1 / sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)

double normal_cdf(double x) { return 0.5 * (1.0 + std::erf(x * kInvSqrt2)); }
double normal_pdf(double x) { return kInvSqrt2Pi * std::exp(-0.5 * x * x); }

}  // namespace

void gelu_forward(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i] * normal_cdf(x[i]));
}

void gelu_backward(int64_t n, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) {
    const double slope = normal_cdf(x[i]) + x[i] * normal_pdf(x[i]);
    gx[i] = static_cast<float>(gy[i] * slope);
  }
}
// [/gelu-reference]

}  // namespace nib::kernels::reference
