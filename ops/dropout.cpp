// Inverted dropout (see kernels/dropout.h for how the mask is drawn).
#include "kernels/dropout.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

// No "fast" CPU version: the reference is one vectorisable loop already.
const ImplTable<DropoutForwardFn> forward_impls("dropout", {
    {"reference", DeviceType::CPU, reference::dropout_forward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::dropout_forward},
#endif
});
const ImplTable<DropoutBackwardFn> backward_impls("dropout", {
    {"reference", DeviceType::CPU, reference::dropout_backward},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::dropout_backward},
#endif
});
}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  check_defined(x, "dropout", "input");
  check_f32(x, "dropout");
  NIB_CHECK(p >= 0.0f && p <= 1.0f, "dropout: probability ", p, " is outside [0, 1]");
  if (!training || p == 0.0f) return x;

  // One draw from the generator per call: the mask then depends only on
  // (seed, element index), the same on every device, and a run seeded the
  // same way drops the same elements.
  const uint64_t seed = gen.next_u64();
  Tensor mask = Tensor::empty(x.shape(), x.device(), DType::U8);
  Tensor y = Tensor::empty(x.shape(), x.device());
  forward_impls.pick(x.device(), "forward ", x.shape())(x.numel(), x.data(), p, seed, mask.data_as<uint8_t>(), y.data());
  if (autograd::needs_graph({&x})) {
    autograd::record(y, "dropout", {x}, [p, mask](const Tensor& gy, const std::vector<bool>&) {
      Tensor gx = Tensor::empty(gy.shape(), gy.device());
      backward_impls.pick(gy.device(), "backward ", gy.shape())(gy.numel(), gy.data(), mask.data_as<uint8_t>(), p, gx.data());
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

}  // namespace nib::ops
