// Leaky ReLU and ELU on the CPU: the definitions in kernels/parametric_activation.h.
#include <cmath>

#include "kernels/parametric_activation.h"

namespace nib::kernels::reference {

namespace {

constexpr int64_t kParallelThreshold = 1 << 15;

inline float forward(ParametricActivation act, float alpha, float x) {
  if (x > 0.0f) return x;
  return act == ParametricActivation::LeakyReLU ? alpha * x : alpha * std::expm1(x);
}

inline float derivative(ParametricActivation act, float alpha, float x) {
  if (x > 0.0f) return 1.0f;
  return act == ParametricActivation::LeakyReLU ? alpha : alpha * std::exp(x);
}

}  // namespace

void parametric_activation_forward(ParametricActivation act, float alpha, int64_t n, const float* x, float* y) {
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = forward(act, alpha, x[i]);
}

void parametric_activation_backward(ParametricActivation act, float alpha, int64_t n, const float* x, const float* gy,
                                    float* gx) {
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * derivative(act, alpha, x[i]);
}

}  // namespace nib::kernels::reference
