// Adaptive average pooling to a fixed output size (VGG's 7x7 before its
// classifier). When the input divides evenly — the common case, 224x224
// images give 7x7 features — it is plain average pooling, which has fast CPU
// and CUDA kernels; only uneven sizes take the reference loops (on the CPU).
#include "kernels/adaptive_pool.h"

#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  check_defined(x, "adaptive_avg_pool2d", "input");
  check_f32(x, "adaptive_avg_pool2d");
  NIB_CHECK(x.dim() == 4, "adaptive_avg_pool2d: expected [N, C, H, W], got ", x.shape());
  NIB_CHECK(out_h > 0 && out_w > 0, "adaptive_avg_pool2d: output size must be positive");
  int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  if (H == out_h && W == out_w) return x;
  if (H % out_h == 0 && W % out_w == 0) {
    Pool2dOptions o;
    o.kernel_h = o.stride_h = H / out_h;
    o.kernel_w = o.stride_w = W / out_w;
    return avg_pool2d(x, o);
  }
  NIB_CHECK(x.device().is_cpu(), "adaptive_avg_pool2d: a ", H, "x", W, " input does not divide into ", out_h, "x",
            out_w, " windows; this uneven case runs on the CPU only");
  Tensor y = Tensor::empty({N, C, out_h, out_w}, x.device());
  kernels::reference::adaptive_avg_pool_forward(N * C, H, W, out_h, out_w, x.data(), y.data());
  if (autograd::needs_graph({&x})) {
    Shape in_shape = x.shape();
    autograd::record(y, "adaptive_avg_pool2d", {x}, [in_shape, out_h, out_w](const Tensor& gy, const std::vector<bool>&) {
      Tensor gx = Tensor::empty(in_shape, gy.device());
      kernels::reference::adaptive_avg_pool_backward(in_shape[0] * in_shape[1], in_shape[2], in_shape[3], out_h,
                                                     out_w, gy.data(), gx.data());
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

}  // namespace nib::ops
