// conv2d: checks the shapes, runs the chosen kernel, records the backward.
#include "kernels/conv2d.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

// Three tables of one family: selecting "conv2d=cudnn" switches all three.
// [impl-table]
const ImplTable<Conv2dForwardFn> forward_impls("conv2d", {
    {"reference", DeviceType::CPU, reference::conv2d_forward},
    {"fast", DeviceType::CPU, fast::conv2d_forward},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::conv2d_forward},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::conv2d_forward},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::conv2d_forward},
#endif
});
// [/impl-table]
const ImplTable<Conv2dBackwardDataFn> backward_data_impls("conv2d", {
    {"reference", DeviceType::CPU, reference::conv2d_backward_data},
    {"fast", DeviceType::CPU, fast::conv2d_backward_data},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::conv2d_backward_data},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::conv2d_backward_data},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::conv2d_backward_data},
#endif
});
const ImplTable<Conv2dBackwardWeightFn> backward_weight_impls("conv2d", {
    {"reference", DeviceType::CPU, reference::conv2d_backward_weight},
    {"fast", DeviceType::CPU, fast::conv2d_backward_weight},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::conv2d_backward_weight},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::conv2d_backward_weight},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::conv2d_backward_weight},
#endif
});

// Checks the tensors (defined, float32, one device, 4-D, the bias's length);
// Conv2dProblem::make checks the convolution itself.
Conv2dProblem conv2d_problem(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o) {
  check_defined(x, "conv2d", "input");
  check_defined(w, "conv2d", "weight");
  check_f32(x, "conv2d");
  check_f32(w, "conv2d");
  check_same_device(x, w, "conv2d");
  NIB_CHECK(x.dim() == 4, "conv2d: input must be [N, C, H, W], got ", x.shape());
  NIB_CHECK(w.dim() == 4, "conv2d: weight must be [K, C/groups, R, S], got ", w.shape());
  const Conv2dProblem s = Conv2dProblem::make({x.size(0), x.size(1), x.size(2), x.size(3)},
                                              {w.size(0), w.size(1), w.size(2), w.size(3)}, o);
  if (b.defined()) {
    check_f32(b, "conv2d");
    check_same_device(x, b, "conv2d");
    NIB_CHECK(b.dim() == 1 && b.size(0) == s.K, "conv2d: bias ", b.shape(), " does not match the ", s.K,
              " output channels of weight ", w.shape());
  }
  return s;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& options) {
  const Conv2dProblem s = conv2d_problem(x, w, b, options);
  Tensor y = Tensor::empty({s.N, s.K, s.P, s.Q}, x.device());
  forward_impls.pick(x.device(), "forward ", x.shape(), " * ", w.shape())(s, x.data(), w.data(), b.defined() ? b.data() : nullptr, y.data());

  if (autograd::needs_graph({&x, &w, &b})) {
    // x is needed only for the weight gradient: a frozen weight frees it.
    Tensor saved_x = w.requires_grad() ? x.detach() : Tensor();
    autograd::record(y, "conv2d", {x, w, b},
                     [s, saved_x, w = w.detach(), x_shape = x.shape()](const Tensor& gy, const std::vector<bool>& needs) {
                       Tensor gx, gw, gb;
                       if (needs[0]) {
                         gx = Tensor::empty(x_shape, gy.device());
                         backward_data_impls.pick(gy.device(), "backward data ", gy.shape())(s, gy.data(), w.data(), gx.data());
                       }
                       if (needs[1]) {  // the weight kernel computes the bias gradient on the way
                         gw = Tensor::empty(w.shape(), gy.device());
                         if (needs[2]) gb = Tensor::empty({s.K}, gy.device());
                         backward_weight_impls.pick(gy.device(), "backward weight ", gy.shape())(s, saved_x.data(), gy.data(), gw.data(),
                                                                 needs[2] ? gb.data() : nullptr);
                       } else if (needs[2]) {  // frozen weight: no weight-gradient kernel call at all
                         gb = bias_backward(gy);
                       }
                       return std::vector<Tensor>{gx, gw, gb};
                     });
  }
  return y;
}

}  // namespace nib::ops
