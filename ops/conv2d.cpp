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
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::conv2d_backward_weight},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::conv2d_backward_weight},
#endif
});

// Validates x, w, b and options; returns the kernel's view of the problem.
Conv2dShape conv2d_shape(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o) {
  check_defined(x, "conv2d", "input");
  check_defined(w, "conv2d", "weight");
  check_f32(x, "conv2d");
  check_f32(w, "conv2d");
  check_same_device(x, w, "conv2d");
  NIB_CHECK(x.dim() == 4, "conv2d: input must be [N, C, H, W], got ", x.shape());
  NIB_CHECK(w.dim() == 4, "conv2d: weight must be [K, C/groups, R, S], got ", w.shape());
  NIB_CHECK(o.stride_h >= 1 && o.stride_w >= 1, "conv2d: stride must be at least 1, got ", o.stride_h, "x",
            o.stride_w);
  NIB_CHECK(o.dilation_h >= 1 && o.dilation_w >= 1, "conv2d: dilation must be at least 1, got ", o.dilation_h, "x",
            o.dilation_w);
  const Padding2d& pad = o.padding;
  NIB_CHECK(pad.top >= 0 && pad.bottom >= 0 && pad.left >= 0 && pad.right >= 0,
            "conv2d: padding must not be negative, got (top ", pad.top, ", bottom ", pad.bottom, ", left ", pad.left,
            ", right ", pad.right, ")");

  Conv2dShape s;
  s.N = x.size(0), s.C = x.size(1), s.H = x.size(2), s.W = x.size(3);
  s.K = w.size(0), s.R = w.size(2), s.S = w.size(3);
  s.stride_h = o.stride_h, s.stride_w = o.stride_w;
  s.pad_top = pad.top, s.pad_bottom = pad.bottom, s.pad_left = pad.left, s.pad_right = pad.right;
  s.dilation_h = o.dilation_h, s.dilation_w = o.dilation_w;
  s.groups = o.groups;

  NIB_CHECK(s.groups >= 1, "conv2d: groups must be at least 1, got ", s.groups);
  NIB_CHECK(s.C % s.groups == 0, "conv2d: input has ", s.C, " channels, not divisible by groups=", s.groups);
  NIB_CHECK(s.K % s.groups == 0, "conv2d: weight ", w.shape(), " has ", s.K,
            " output channels, not divisible by groups=", s.groups);
  NIB_CHECK(w.size(1) == s.C / s.groups, "conv2d: weight ", w.shape(), " expects ", w.size(1) * s.groups,
            " input channels (", w.size(1), " per group x groups=", s.groups, ") but the input ", x.shape(), " has ",
            s.C);
  NIB_CHECK(s.R >= 1 && s.S >= 1, "conv2d: empty kernel ", w.shape());
  const int64_t reach_h = s.dilation_h * (s.R - 1) + 1, reach_w = s.dilation_w * (s.S - 1) + 1;
  NIB_CHECK(s.H + pad.top + pad.bottom >= reach_h && s.W + pad.left + pad.right >= reach_w, "conv2d: kernel ",
            s.R, "x", s.S, (s.dilation_h > 1 || s.dilation_w > 1 ? str(" (dilated to ", reach_h, "x", reach_w, ")") : ""),
            " is larger than the padded input ", s.H + pad.top + pad.bottom, "x", s.W + pad.left + pad.right,
            " (input ", x.shape(), ")");
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
  const Conv2dShape s = conv2d_shape(x, w, b, options);
  Tensor y = Tensor::empty({s.N, s.K, s.P(), s.Q()}, x.device());
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
