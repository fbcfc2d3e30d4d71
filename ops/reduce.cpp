// sum and mean, over everything or over one dimension.
#include "kernels/reduce.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

const ImplTable<SumFn> sum_impls("reduce", {
    {"reference", DeviceType::CPU, reference::sum},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::sum},
#endif
});
const ImplTable<ExpandFn> expand_impls("reduce", {
    {"reference", DeviceType::CPU, reference::expand},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::expand},
#endif
});

// Reduces x viewed as [outer, reduce, inner] into out_shape, scaled.
Tensor reduce(const Tensor& x, int64_t outer, int64_t n, int64_t inner, float scale, const Shape& out_shape,
              const char* name) {
  check_defined(x, name, "input");
  check_f32(x, name);
  Tensor y = Tensor::empty(out_shape, x.device());
  sum_impls.pick(x.device(), "sum ", x.shape())(outer, n, inner, scale, x.data(), y.data());
  if (autograd::needs_graph({&x})) {
    Shape in_shape = x.shape();
    autograd::record(y, name, {x}, [=](const Tensor& gy, const std::vector<bool>&) {
      Tensor gx = Tensor::empty(in_shape, gy.device());
      expand_impls.pick(gy.device(), "expand ", gy.shape())(outer, n, inner, scale, gy.data(), gx.data());
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

Tensor reduce_dim(const Tensor& x, int64_t dim, bool keepdim, bool average, const char* name) {
  check_defined(x, name, "input");
  int64_t d = x.shape().normalize(dim);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= x.size(i);
  for (int64_t i = d + 1; i < x.dim(); ++i) inner *= x.size(i);
  int64_t n = x.size(d);
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (i != d)
      dims.push_back(x.size(i));
    else if (keepdim)
      dims.push_back(1);
  }
  float scale = average ? 1.0f / static_cast<float>(n > 0 ? n : 1) : 1.0f;
  return reduce(x, outer, n, inner, scale, Shape(dims), name);
}

}  // namespace

Tensor sum(const Tensor& x) { return reduce(x, 1, x.numel(), 1, 1.0f, Shape{}, "sum"); }
Tensor mean(const Tensor& x) {
  NIB_CHECK(x.numel() > 0, "mean of an empty tensor");
  return reduce(x, 1, x.numel(), 1, 1.0f / static_cast<float>(x.numel()), Shape{}, "mean");
}
Tensor sum(const Tensor& x, int64_t dim, bool keepdim) { return reduce_dim(x, dim, keepdim, false, "sum"); }
Tensor mean(const Tensor& x, int64_t dim, bool keepdim) { return reduce_dim(x, dim, keepdim, true, "mean"); }

}  // namespace nib::ops
