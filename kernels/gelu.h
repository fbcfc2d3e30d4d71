// GELU, the Gaussian error linear unit (Hendrycks & Gimpel, 2016), the
// activation of BERT, GPT and ViT, with the exact erf form PyTorch uses by
// default (nn.GELU(approximate='none')):
//
//   y  = x * Phi(x),   Phi(x) = (1 + erf(x / sqrt(2))) / 2   (the standard normal CDF)
//   dy/dx = Phi(x) + x * phi(x),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
//
// Unlike ReLU, its derivative cannot be recovered from the output, so the
// backward pass reads the forward's input. docs/adding-an-op.md follows this
// op through every layer of nib.
#pragma once

#include <cstdint>

namespace nib::kernels {

// [gelu-signatures]
// y[i] = gelu(x[i]) for i < n; y may equal x.
using GeluForwardFn = void(int64_t n, const float* x, float* y);
// gx[i] = gy[i] * gelu'(x[i]) for i < n (overwritten).
using GeluBackwardFn = void(int64_t n, const float* x, const float* gy, float* gx);

#define NIB_DECLARE_GELU        \
  GeluForwardFn gelu_forward;   \
  GeluBackwardFn gelu_backward;

namespace reference { NIB_DECLARE_GELU }  // one plain loop each: the definition
namespace fast { NIB_DECLARE_GELU }       // OpenMP threads and SIMD lanes
namespace cuda { NIB_DECLARE_GELU }     // CUDA, a grid-stride loop
#undef NIB_DECLARE_GELU
// [/gelu-signatures]

}  // namespace nib::kernels
