// leaky_relu and elu: activations with a parameter (kernels/parametric_activation.h).
#include "kernels/parametric_activation.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

const ImplTable<ParametricActivationForwardFn> forward_impls("parametric_activation", {
    {"reference", DeviceType::CPU, reference::parametric_activation_forward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::parametric_activation_forward},
#endif
});
const ImplTable<ParametricActivationBackwardFn> backward_impls("parametric_activation", {
    {"reference", DeviceType::CPU, reference::parametric_activation_backward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::parametric_activation_backward},
#endif
});

Tensor parametric_activation(const Tensor& x, ParametricActivation act, float alpha, const char* name) {
  check_defined(x, name, "input");
  check_f32(x, name);
  Tensor y = Tensor::empty(x.shape(), x.device());
  forward_impls.pick(x.device())(act, alpha, x.numel(), x.data(), y.data());
  if (autograd::needs_graph({&x})) {
    Tensor saved_x = x.detach();
    autograd::record(y, name, {x}, [act, alpha, saved_x](const Tensor& gy, const std::vector<bool>&) {
      Tensor gx = Tensor::empty(saved_x.shape(), gy.device());
      backward_impls.pick(gy.device())(act, alpha, gx.numel(), saved_x.data(), gy.data(), gx.data());
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

}  // namespace

Tensor leaky_relu(const Tensor& x, float negative_slope) {
  return parametric_activation(x, ParametricActivation::LeakyReLU, negative_slope, "leaky_relu");
}

Tensor elu(const Tensor& x, float alpha) { return parametric_activation(x, ParametricActivation::ELU, alpha, "elu"); }

}  // namespace nib::ops
