// Activations on the CPU: one loop each, vectorised by the compiler.
#include <cmath>
#include <type_traits>

#include "kernels/activation.h"

namespace nib::kernels::reference {

namespace {

constexpr int64_t kParallelThreshold = 1 << 15;

inline float forward(Activation act, float x) {
  switch (act) {
    case Activation::Identity: return x;
    case Activation::ReLU: return x > 0.0f ? x : 0.0f;
    case Activation::ReLU6: return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case Activation::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case Activation::Tanh: return std::tanh(x);
  }
  return x;
}

inline float derivative_from_output(Activation act, float y) {
  switch (act) {
    case Activation::Identity: return 1.0f;
    case Activation::ReLU: return y > 0.0f ? 1.0f : 0.0f;
    case Activation::ReLU6: return (y > 0.0f && y < 6.0f) ? 1.0f : 0.0f;
    case Activation::Sigmoid: return y * (1.0f - y);
    case Activation::Tanh: return 1.0f - y * y;
  }
  return 1.0f;
}

// The activation is a template parameter so that each loop has no switch in
// it and vectorises; the public functions pick the instance once per call.
template <Activation A>
void forward_loop(int64_t n, const float* x, float* y) {
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = forward(A, x[i]);
}

template <Activation A>
void backward_loop(int64_t n, const float* y, const float* gy, float* gx) {
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * derivative_from_output(A, y[i]);
}

template <class Body>
void dispatch(Activation act, Body body) {
  switch (act) {
    case Activation::Identity: return body(std::integral_constant<Activation, Activation::Identity>{});
    case Activation::ReLU: return body(std::integral_constant<Activation, Activation::ReLU>{});
    case Activation::ReLU6: return body(std::integral_constant<Activation, Activation::ReLU6>{});
    case Activation::Sigmoid: return body(std::integral_constant<Activation, Activation::Sigmoid>{});
    case Activation::Tanh: return body(std::integral_constant<Activation, Activation::Tanh>{});
  }
}

}  // namespace

void activation_forward(Activation act, int64_t n, const float* x, float* y) {
  dispatch(act, [&](auto a) { forward_loop<decltype(a)::value>(n, x, y); });
}

void activation_backward(Activation act, int64_t n, const float* y, const float* gy, float* gx) {
  dispatch(act, [&](auto a) { backward_loop<decltype(a)::value>(n, y, gy, gx); });
}

void bias_activation(Activation act, int64_t outer, int64_t channels, int64_t inner, const float* bias, float* y) {
  dispatch(act, [&](auto a) {
    constexpr Activation A = decltype(a)::value;
#pragma omp parallel for collapse(2) if (outer * channels * inner > kParallelThreshold)
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t c = 0; c < channels; ++c) {
        float b = bias ? bias[c] : 0.0f;
        float* row = y + (o * channels + c) * inner;
        for (int64_t i = 0; i < inner; ++i) row[i] = forward(A, row[i] + b);
      }
    }
  });
}

void bias_backward(int64_t outer, int64_t channels, int64_t inner, const float* gy, float* gbias) {
#pragma omp parallel for if (outer * channels * inner > kParallelThreshold)
  for (int64_t c = 0; c < channels; ++c) {
    double acc = 0.0;
    for (int64_t o = 0; o < outer; ++o) {
      const float* row = gy + (o * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i) acc += row[i];
    }
    gbias[c] = static_cast<float>(acc);
  }
}

}  // namespace nib::kernels::reference
