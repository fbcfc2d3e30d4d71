// Max, average and global average pooling of [N, C, H, W] tensors.
#include "kernels/pool.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

const ImplTable<MaxPoolForwardFn> max_forward_impls("pool", {
    {"reference", DeviceType::CPU, reference::max_pool_forward},
    {"fast", DeviceType::CPU, fast::max_pool_forward},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::max_pool_forward},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::max_pool_forward},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::max_pool_forward},
#endif
});
const ImplTable<MaxPoolBackwardFn> max_backward_impls("pool", {
    {"reference", DeviceType::CPU, reference::max_pool_backward},
    {"fast", DeviceType::CPU, fast::max_pool_backward},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::max_pool_backward},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::max_pool_backward},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::max_pool_backward},
#endif
});
const ImplTable<AvgPoolForwardFn> avg_forward_impls("pool", {
    {"reference", DeviceType::CPU, reference::avg_pool_forward},
    {"fast", DeviceType::CPU, fast::avg_pool_forward},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::avg_pool_forward},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::avg_pool_forward},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::avg_pool_forward},
#endif
});
const ImplTable<AvgPoolBackwardFn> avg_backward_impls("pool", {
    {"reference", DeviceType::CPU, reference::avg_pool_backward},
    {"fast", DeviceType::CPU, fast::avg_pool_backward},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::avg_pool_backward},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::avg_pool_backward},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::avg_pool_backward},
#endif
});
const ImplTable<GlobalAvgPoolForwardFn> global_forward_impls("pool", {
    {"reference", DeviceType::CPU, reference::global_avg_pool_forward},
    {"fast", DeviceType::CPU, fast::global_avg_pool_forward},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::global_avg_pool_forward},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::global_avg_pool_forward},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::global_avg_pool_forward},
#endif
});
const ImplTable<GlobalAvgPoolBackwardFn> global_backward_impls("pool", {
    {"reference", DeviceType::CPU, reference::global_avg_pool_backward},
    {"fast", DeviceType::CPU, fast::global_avg_pool_backward},
#ifdef NIB_DNNL
    {"dnnl", DeviceType::CPU, dnnl::global_avg_pool_backward},
#endif
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::global_avg_pool_backward},
#endif
#ifdef NIB_CUDNN
    {"cudnn", DeviceType::CUDA, cudnn::global_avg_pool_backward},
#endif
});

void check_image(const Tensor& x, const char* op) {
  check_defined(x, op, "input");
  check_f32(x, op);
  NIB_CHECK(x.dim() == 4, op, ": expected [N, C, H, W], got ", x.shape());
}

// The kernel's view of the op, after checking that every window overlaps
// the image: padding smaller than the kernel on each side guarantees it, so
// max pooling always has a winner and average pooling a non-zero divisor.
Pool2dShape pool_shape(const Tensor& x, const Pool2dOptions& o, const char* op) {
  check_image(x, op);
  NIB_CHECK(o.kernel_h > 0 && o.kernel_w > 0 && o.stride_h > 0 && o.stride_w > 0, op, ": kernel ", o.kernel_h, "x",
            o.kernel_w, " and stride ", o.stride_h, "x", o.stride_w, " must be positive");
  const Padding2d& p = o.padding;
  NIB_CHECK(p.top >= 0 && p.bottom >= 0 && p.left >= 0 && p.right >= 0, op, ": negative padding");
  NIB_CHECK(p.top < o.kernel_h && p.bottom < o.kernel_h && p.left < o.kernel_w && p.right < o.kernel_w, op,
            ": padding (top ", p.top, ", bottom ", p.bottom, ", left ", p.left, ", right ", p.right,
            ") must be smaller than the kernel ", o.kernel_h, "x", o.kernel_w);
  Pool2dShape s;
  s.N = x.size(0), s.C = x.size(1), s.H = x.size(2), s.W = x.size(3);
  s.kernel_h = o.kernel_h, s.kernel_w = o.kernel_w;
  s.stride_h = o.stride_h, s.stride_w = o.stride_w;
  s.pad_top = p.top, s.pad_bottom = p.bottom, s.pad_left = p.left, s.pad_right = p.right;
  NIB_CHECK(s.H + p.top + p.bottom >= o.kernel_h && s.W + p.left + p.right >= o.kernel_w, op, ": kernel ",
            o.kernel_h, "x", o.kernel_w, " is larger than the padded input ", x.shape());
  return s;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& options) {
  const Pool2dShape s = pool_shape(x, options, "max_pool2d");
  Tensor y = Tensor::empty({s.N, s.C, s.P(), s.Q()}, x.device());
  const bool graph = autograd::needs_graph({&x});
  // The winners' positions are only worth storing when a backward will follow.
  Tensor argmax = graph ? Tensor::empty(y.shape(), x.device(), DType::I32) : Tensor();
  max_forward_impls.pick(x.device(), "max forward ", x.shape())(s, x.data(), y.data(), graph ? argmax.data_as<int32_t>() : nullptr);
  if (graph) {
    auto backward = [s, argmax, in_shape = x.shape()](const Tensor& gy, const std::vector<bool>&) {
      Tensor gx = Tensor::empty(in_shape, gy.device());
      max_backward_impls.pick(gy.device(), "max backward ", gy.shape())(s, gy.data(), argmax.data_as<int32_t>(), gx.data());
      return std::vector<Tensor>{gx};
    };
    autograd::record(y, "max_pool2d", {x}, backward);
  }
  return y;
}

Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& options, bool count_include_pad) {
  const Pool2dShape s = pool_shape(x, options, "avg_pool2d");
  Tensor y = Tensor::empty({s.N, s.C, s.P(), s.Q()}, x.device());
  avg_forward_impls.pick(x.device(), "avg forward ", x.shape())(s, x.data(), y.data(), count_include_pad);
  if (autograd::needs_graph({&x})) {
    autograd::record(y, "avg_pool2d", {x},
                     [s, count_include_pad, in_shape = x.shape()](const Tensor& gy, const std::vector<bool>&) {
                       Tensor gx = Tensor::empty(in_shape, gy.device());
                       avg_backward_impls.pick(gy.device(), "avg backward ", gy.shape())(s, gy.data(), gx.data(), count_include_pad);
                       return std::vector<Tensor>{gx};
                     });
  }
  return y;
}

Tensor global_avg_pool(const Tensor& x) {
  check_image(x, "global_avg_pool");
  const int64_t planes = x.size(0) * x.size(1), HW = x.size(2) * x.size(3);
  NIB_CHECK(HW > 0, "global_avg_pool: empty planes in ", x.shape());
  Tensor y = Tensor::empty({x.size(0), x.size(1), 1, 1}, x.device());
  global_forward_impls.pick(x.device(), "global forward ", x.shape())(planes, HW, x.data(), y.data());
  if (autograd::needs_graph({&x})) {
    auto backward = [planes, HW, in_shape = x.shape()](const Tensor& gy, const std::vector<bool>&) {
      Tensor gx = Tensor::empty(in_shape, gy.device());
      global_backward_impls.pick(gy.device(), "global backward ", gy.shape())(planes, HW, gy.data(), gx.data());
      return std::vector<Tensor>{gx};
    };
    autograd::record(y, "global_avg_pool", {x}, backward);
  }
  return y;
}

}  // namespace nib::ops
