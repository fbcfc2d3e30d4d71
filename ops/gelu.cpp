// GELU as an op: checks, the kernel chosen for the device, and the backward,
// which needs the forward's input (kernels/gelu.h).
#include "kernels/gelu.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

// [gelu-op]
namespace {
using namespace kernels;

const ImplTable<GeluForwardFn> forward_impls("gelu", {
    {"reference", DeviceType::CPU, reference::gelu_forward},
    {"fast", DeviceType::CPU, fast::gelu_forward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::gelu_forward},
#endif
});
const ImplTable<GeluBackwardFn> backward_impls("gelu", {
    {"reference", DeviceType::CPU, reference::gelu_backward},
    {"fast", DeviceType::CPU, fast::gelu_backward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::gelu_backward},
#endif
});

}  // namespace

Tensor gelu(const Tensor& x) {
  check_defined(x, "gelu", "input");
  check_f32(x, "gelu");
  Tensor y = Tensor::empty(x.shape(), x.device());
  forward_impls.pick(x.device(), "forward ", x.shape())(x.numel(), x.data(), y.data());
  if (autograd::needs_graph({&x})) {
    autograd::record(y, "gelu", {x}, [saved_x = x.detach()](const Tensor& gy, const std::vector<bool>&) {
      Tensor gx = Tensor::empty(saved_x.shape(), gy.device());
      backward_impls.pick(gy.device(), "backward ", gy.shape())(saved_x.numel(), saved_x.data(), gy.data(),
                                                                gx.data());
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}
// [/gelu-op]

}  // namespace nib::ops
