// concat, pad2d and the NCHW <-> NHWC transposes: data movement with
// autograd, on the copy kernels.
#include "kernels/copy.h"

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {
using namespace kernels;

const ImplTable<Copy2dFn> copy2d_impls("copy", {
    {"reference", DeviceType::CPU, reference::copy2d},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::copy2d},
#endif
});
const ImplTable<Pad2dFn> pad2d_impls("copy", {
    {"reference", DeviceType::CPU, reference::pad2d},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::pad2d},
#endif
});
const ImplTable<Transpose2dFn> transpose2d_impls("copy", {
    {"reference", DeviceType::CPU, reference::transpose2d},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::transpose2d},
#endif
});

// x [batches, rows, cols] (any shape of that many elements) transposed per
// batch into `out_shape`.
Tensor transpose_batches(const Tensor& x, int64_t batches, int64_t rows, int64_t cols, const Shape& out_shape) {
  Tensor y = Tensor::empty(out_shape, x.device());
  transpose2d_impls.pick(x.device())(batches, rows, cols, x.data(), y.data());
  return y;
}

// The recorded transpose: its backward is the transpose the other way.
Tensor transpose_recorded(const Tensor& x, int64_t batches, int64_t rows, int64_t cols, const Shape& out_shape,
                          const char* name) {
  check_defined(x, name, "input");
  check_f32(x, name);
  Tensor y = transpose_batches(x, batches, rows, cols, out_shape);
  if (autograd::needs_graph({&x})) {
    autograd::record(y, name, {x}, [batches, rows, cols, in_shape = x.shape()](const Tensor& gy,
                                                                               const std::vector<bool>&) {
      return std::vector<Tensor>{transpose_batches(gy, batches, cols, rows, in_shape)};
    });
  }
  return y;
}

// y [..., H + top + bottom, W + left + right] from x [..., H, W].
Tensor pad_last_two(const Tensor& x, const Padding2d& p) {
  const int64_t H = x.size(-2), W = x.size(-1);
  Shape out = x.shape();
  out[-2] = H + p.top + p.bottom;
  out[-1] = W + p.left + p.right;
  Tensor y = Tensor::empty(out, x.device());
  const int64_t planes = H * W > 0 ? x.numel() / (H * W) : 0;
  pad2d_impls.pick(x.device(), "pad2d ", x.shape())(planes, H, W, p.top, p.bottom, p.left, p.right, x.data(), y.data());
  return y;
}

}  // namespace

// Seen as 2-D, concatenation along `dim` is side-by-side blocks: every tensor
// is [outer, inner_i] with outer = the sizes before dim and inner_i = the
// rest, and the output rows are the inputs' rows laid end to end. So one
// strided copy2d per input does it, and the backward cuts the same blocks out.
Tensor concat(const std::vector<Tensor>& tensors, int64_t dim) {
  NIB_CHECK(!tensors.empty(), "concat: no tensors");
  const Tensor& first = tensors[0];
  for (size_t i = 0; i < tensors.size(); ++i) {
    check_defined(tensors[i], "concat", "an input");
    check_f32(tensors[i], "concat");
    check_same_device(first, tensors[i], "concat");
  }
  const int64_t d = first.shape().normalize(dim);

  std::vector<int64_t> out_dims = first.shape().dims();
  out_dims[d] = 0;
  std::vector<int64_t> inner(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Shape& s = tensors[i].shape();
    NIB_CHECK(s.rank() == first.dim(), "concat: input ", i, " has shape ", s, ", rank differs from ", first.shape());
    for (int64_t k = 0; k < s.rank(); ++k)
      NIB_CHECK(k == d || s[k] == first.size(k), "concat: input ", i, " has shape ", s, " but input 0 has ",
                first.shape(), "; only dim ", d, " may differ");
    out_dims[d] += s[d];
  }
  int64_t outer = 1;
  for (int64_t k = 0; k < d; ++k) outer *= first.size(k);
  for (size_t i = 0; i < tensors.size(); ++i) inner[i] = outer > 0 ? tensors[i].numel() / outer : 0;

  Tensor y = Tensor::empty(Shape(out_dims), first.device());
  const int64_t row = outer > 0 ? y.numel() / outer : 0;  // output row length
  auto copy = copy2d_impls.pick(first.device(), "copy2d ", first.shape());
  int64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (inner[i] > 0) copy(outer, inner[i], tensors[i].data(), inner[i], y.data() + offset, row);
    offset += inner[i];
  }

  if (autograd::needs_graph(tensors)) {
    std::vector<Shape> shapes;
    for (const Tensor& t : tensors) shapes.push_back(t.shape());
    auto backward = [outer, row, inner, shapes](const Tensor& gy, const std::vector<bool>& needs) {
      std::vector<Tensor> grads(shapes.size());
      auto copy = copy2d_impls.pick(gy.device(), "copy2d ", gy.shape());
      int64_t offset = 0;
      for (size_t i = 0; i < shapes.size(); ++i) {
        if (needs[i]) {
          grads[i] = Tensor::empty(shapes[i], gy.device());
          if (inner[i] > 0) copy(outer, inner[i], gy.data() + offset, row, grads[i].data(), inner[i]);
        }
        offset += inner[i];
      }
      return grads;
    };
    autograd::record(y, "concat", tensors, backward);
  }
  return y;
}

Tensor pad2d(const Tensor& x, const Padding2d& padding) {
  check_defined(x, "pad2d", "input");
  check_f32(x, "pad2d");
  NIB_CHECK(x.dim() >= 2, "pad2d: needs at least 2 dims, got ", x.shape());
  const int64_t H = x.size(-2), W = x.size(-1);
  const Padding2d& p = padding;
  NIB_CHECK(H + p.top + p.bottom > 0 && W + p.left + p.right > 0, "pad2d: padding (top ", p.top, ", bottom ",
            p.bottom, ", left ", p.left, ", right ", p.right, ") crops all of ", x.shape());
  Tensor y = pad_last_two(x, p);
  if (autograd::needs_graph({&x})) {
    // The backward of padding is cropping the same amounts, and vice versa.
    const Padding2d inverse{-p.top, -p.bottom, -p.left, -p.right};
    autograd::record(y, "pad2d", {x}, [inverse](const Tensor& gy, const std::vector<bool>&) {
      return std::vector<Tensor>{pad_last_two(gy, inverse)};
    });
  }
  return y;
}

Tensor to_channels_last(const Tensor& x) {
  NIB_CHECK(x.dim() == 4, "to_channels_last: expected [N, C, H, W], got ", x.shape());
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  return transpose_recorded(x, N, C, H * W, Shape{N, H, W, C}, "to_channels_last");
}

Tensor to_channels_first(const Tensor& x) {
  NIB_CHECK(x.dim() == 4, "to_channels_first: expected [N, H, W, C], got ", x.shape());
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  return transpose_recorded(x, N, H * W, C, Shape{N, C, H, W}, "to_channels_first");
}

}  // namespace nib::ops
