// nib's ops on Tensors: the layer between layers/ and kernels/.
//
// Each op checks its arguments (with messages naming the op and the shapes),
// allocates its output on the inputs' device, calls the kernel chosen by the
// registry (kernels/registry.h) and, when an input requires gradients,
// records how to differentiate itself (tensor/autograd.h). One file per op
// family in ops/, each starting with the table of its implementations.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace nib::ops {

// ---- Element-wise (ops/elementwise.cpp), NumPy broadcasting ----------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor affine(const Tensor& x, float alpha, float beta);  // alpha * x + beta
inline Tensor scale(const Tensor& x, float alpha) { return affine(x, alpha, 0.0f); }

// In-place helpers that are never recorded by autograd (optimizers, init).
void fill_(const Tensor& y, float value);
void axpy_(const Tensor& y, float alpha, const Tensor& x);  // y += alpha * x
void copy_(const Tensor& dst, const Tensor& src);           // same shape, any devices

// ---- Activations (ops/activation.cpp) ---------------------------------------
Tensor activation(const Tensor& x, kernels::Activation act);
inline Tensor relu(const Tensor& x) { return activation(x, kernels::Activation::ReLU); }
inline Tensor relu6(const Tensor& x) { return activation(x, kernels::Activation::ReLU6); }
inline Tensor sigmoid(const Tensor& x) { return activation(x, kernels::Activation::Sigmoid); }
inline Tensor tanh(const Tensor& x) { return activation(x, kernels::Activation::Tanh); }
// GELU, x * Phi(x) with the exact erf (ops/gelu.cpp, kernels/gelu.h).
Tensor gelu(const Tensor& x);
// Keras' activations with a parameter (ops/parametric_activation.cpp):
// x > 0 ? x : negative_slope * x, and x > 0 ? x : alpha * (exp(x) - 1).
Tensor leaky_relu(const Tensor& x, float negative_slope);
Tensor elu(const Tensor& x, float alpha);
// gx = gy * f'(x) from the forward output y (not recorded; for ops that fuse an activation).
Tensor activation_backward(kernels::Activation act, const Tensor& y, const Tensor& gy);
// Epilogue helpers for layers whose output has channels in dim 1 ([N, C] or
// [N, C, H, W]): y = act(y + bias[c]) in place, and the bias gradient.
void bias_activation_(const Tensor& y, const Tensor& bias, kernels::Activation act);
Tensor bias_backward(const Tensor& gy);

// ---- Matrix products (ops/linear.cpp) ---------------------------------------
Tensor matmul(const Tensor& a, const Tensor& b);  // [M,K] x [K,N] -> [M,N]
// y = x · wᵀ + b then act: x [N, in], w [out, in] (PyTorch's layout), b [out] or undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b,
              kernels::Activation act = kernels::Activation::Identity);

// ---- Convolution (ops/conv2d.cpp) --------------------------------------------
// Padding2d, PaddingMode and Conv2dOptions (what a convolution is) are
// defined with the kernels' Conv2dProblem in kernels/conv2d.h.
using nib::Conv2dOptions;
using nib::Padding2d;
using nib::PaddingMode;
// x [N,C,H,W], w [K, C/groups, R, S], b [K] or undefined.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& options);

// ---- Pooling (ops/pool.cpp) --------------------------------------------------
struct Pool2dOptions {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;
  Padding2d padding;
};
Tensor max_pool2d(const Tensor& x, const Pool2dOptions& options);
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& options, bool count_include_pad = true);
Tensor global_avg_pool(const Tensor& x);  // [N,C,H,W] -> [N,C,1,1]
// PyTorch's AdaptiveAvgPool2d (ops/adaptive_pool.cpp).
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);

// ---- Normalisation and regularisation ----------------------------------------
// x [N,C,H,W] or [N,C]. In training, running_mean/var are updated in place.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, float momentum, float eps);
// Identity when !training or p == 0; otherwise a fresh mask drawn from gen.
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen);

// ---- Softmax and losses (ops/softmax.cpp), over the last dimension ----------
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
// Mean cross-entropy of logits [N, classes] against labels [N] (dtype I32).
Tensor cross_entropy(const Tensor& logits, const Tensor& labels, float label_smoothing = 0.0f);

// ---- Reductions (ops/reduce.cpp) ---------------------------------------------
Tensor sum(const Tensor& x);   // all elements -> scalar
Tensor mean(const Tensor& x);  // all elements -> scalar
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);

// ---- Shape (ops/shape.cpp); reshape/flatten are Tensor methods ---------------
Tensor concat(const std::vector<Tensor>& tensors, int64_t dim);
// Zero padding of the last two dims; negative amounts crop.
Tensor pad2d(const Tensor& x, const Padding2d& padding);
// [N, C, H, W] -> [N, H, W, C] (TensorFlow's layout) and back: copies, for
// layers converted from Keras whose meaning depends on the layout
// (a Reshape of a feature map, a softmax over channels).
Tensor to_channels_last(const Tensor& x);
Tensor to_channels_first(const Tensor& x);

}  // namespace nib::ops

namespace nib {
// Arithmetic operators for readable model code: y = a + b * c.
inline Tensor operator+(const Tensor& a, const Tensor& b) { return ops::add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return ops::sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return ops::mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return ops::div(a, b); }
inline Tensor operator*(const Tensor& a, float s) { return ops::scale(a, s); }
inline Tensor operator*(float s, const Tensor& a) { return ops::scale(a, s); }
}  // namespace nib
