// Element-wise activations, and bias + activation fused into one pass (the
// epilogue of a convolution or linear layer).
#pragma once

#include <cstdint>

namespace nib::kernels {

enum class Activation { Identity, ReLU, ReLU6, Sigmoid, Tanh };

// y = f(x); y may equal x (in place).
using ActivationForwardFn = void(Activation, int64_t n, const float* x, float* y);
// gx = gy * f'(x), computed from the forward *output* y, which is enough for
// all of these (ReLU: y > 0; ReLU6: 0 < y < 6; sigmoid: y(1-y); tanh: 1-y²).
using ActivationBackwardFn = void(Activation, int64_t n, const float* y, const float* gy, float* gx);
// In place on y viewed as [outer, channels, inner]: y = f(y + bias[c]).
// bias may be null (activation only).
using BiasActivationFn = void(Activation, int64_t outer, int64_t channels, int64_t inner, const float* bias, float* y);
// The gradient of the bias of a [outer, channels, inner] output: gbias[c] = sum gy[o, c, i] (overwritten).
using BiasBackwardFn = void(int64_t outer, int64_t channels, int64_t inner, const float* gy, float* gbias);

#define NIB_DECLARE_ACTIVATION                 \
  ActivationForwardFn activation_forward;      \
  ActivationBackwardFn activation_backward;    \
  BiasActivationFn bias_activation;            \
  BiasBackwardFn bias_backward;

namespace reference { NIB_DECLARE_ACTIVATION }
namespace cuda { NIB_DECLARE_ACTIVATION }
#undef NIB_DECLARE_ACTIVATION

}  // namespace nib::kernels
