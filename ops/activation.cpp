// ReLU, ReLU6, sigmoid, tanh: y = f(x), gx = gy * f'(x) computed from y.
#include "kernels/activation.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

const ImplTable<ActivationForwardFn> forward_impls("activation", {
    {"reference", DeviceType::CPU, reference::activation_forward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::activation_forward},
#endif
});
const ImplTable<ActivationBackwardFn> backward_impls("activation", {
    {"reference", DeviceType::CPU, reference::activation_backward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::activation_backward},
#endif
});

const char* name_of(Activation act) {
  switch (act) {
    case Activation::Identity: return "identity";
    case Activation::ReLU: return "relu";
    case Activation::ReLU6: return "relu6";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
  }
  return "activation";
}

}  // namespace

// The backward of any activation given its output; also used by linear and
// conv2d when they fuse the activation into their epilogue.
Tensor activation_backward(Activation act, const Tensor& y, const Tensor& gy) {
  Tensor gx = Tensor::empty(y.shape(), y.device());
  backward_impls.pick(y.device(), "backward ", y.shape())(act, y.numel(), y.data(), gy.data(), gx.data());
  return gx;
}

Tensor activation(const Tensor& x, Activation act) {
  const char* name = name_of(act);
  check_defined(x, name, "input");
  check_f32(x, name);
  Tensor y = Tensor::empty(x.shape(), x.device());
  forward_impls.pick(x.device(), "forward ", x.shape())(act, x.numel(), x.data(), y.data());
  if (autograd::needs_graph({&x})) {
    // Saving the output, not the input: y is needed anyway by the next layer.
    Tensor saved_y = y.detach();
    autograd::record(y, name, {x}, [act, saved_y](const Tensor& gy, const std::vector<bool>&) {
      return std::vector<Tensor>{activation_backward(act, saved_y, gy)};
    });
  }
  return y;
}

}  // namespace nib::ops

namespace nib::ops {

namespace {
using namespace kernels;
const ImplTable<BiasActivationFn> bias_activation_impls("activation", {
    {"reference", DeviceType::CPU, reference::bias_activation},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::bias_activation},
#endif
});
const ImplTable<BiasBackwardFn> bias_backward_impls("activation", {
    {"reference", DeviceType::CPU, reference::bias_backward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::bias_backward},
#endif
});

// [N, C, rest...] seen as [outer = N, channels = C, inner = rest].
void channel_view(const Tensor& y, int64_t& outer, int64_t& channels, int64_t& inner) {
  NIB_CHECK(y.dim() >= 2, "bias: expected [N, C, ...], got ", y.shape());
  outer = y.size(0);
  channels = y.size(1);
  inner = y.numel() / (outer * channels == 0 ? 1 : outer * channels);
}
}  // namespace

void bias_activation_(const Tensor& y, const Tensor& bias, Activation act) {
  int64_t outer, channels, inner;
  channel_view(y, outer, channels, inner);
  if (bias.defined())
    NIB_CHECK(bias.numel() == channels, "bias of ", bias.numel(), " values for ", channels, " channels");
  bias_activation_impls.pick(y.device(), "bias activation ", y.shape())(act, outer, channels, inner, bias.defined() ? bias.data() : nullptr,
                                         y.data());
}

Tensor bias_backward(const Tensor& gy) {
  int64_t outer, channels, inner;
  channel_view(gy, outer, channels, inner);
  Tensor gb = Tensor::empty({channels}, gy.device());
  bias_backward_impls.pick(gy.device(), "bias backward ", gy.shape())(outer, channels, inner, gy.data(), gb.data());
  return gb;
}

}  // namespace nib::ops
