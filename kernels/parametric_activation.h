// Activations with a parameter, as Keras has them:
//   leaky_relu  y = x > 0 ? x : alpha * x            (alpha: the negative slope)
//   elu         y = x > 0 ? x : alpha * (exp(x) - 1)
// The backward takes the forward *input* x: with alpha = 0 (or below) the
// output alone does not tell which branch was taken.
#pragma once

#include <cstdint>

namespace nib::kernels {

enum class ParametricActivation { LeakyReLU, ELU };

// y = f(x; alpha); y may equal x.
using ParametricActivationForwardFn = void(ParametricActivation, float alpha, int64_t n, const float* x, float* y);
// gx = gy * f'(x; alpha).
using ParametricActivationBackwardFn = void(ParametricActivation, float alpha, int64_t n, const float* x,
                                            const float* gy, float* gx);

#define NIB_DECLARE_PARAMETRIC_ACTIVATION                       \
  ParametricActivationForwardFn parametric_activation_forward;  \
  ParametricActivationBackwardFn parametric_activation_backward;

namespace reference { NIB_DECLARE_PARAMETRIC_ACTIVATION }
namespace cuda { NIB_DECLARE_PARAMETRIC_ACTIVATION }
#undef NIB_DECLARE_PARAMETRIC_ACTIVATION

}  // namespace nib::kernels
