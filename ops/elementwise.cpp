// add/sub/mul/div with broadcasting, affine, and the in-place helpers.
#include "kernels/elementwise.h"

#include <algorithm>

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::ops {

namespace {

using namespace kernels;

const ImplTable<BinaryFn> binary_impls("elementwise", {
    {"reference", DeviceType::CPU, reference::binary},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::binary},
#endif
});
const ImplTable<SumToFn> sum_to_impls("elementwise", {
    {"reference", DeviceType::CPU, reference::sum_to},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::sum_to},
#endif
});
const ImplTable<FillFn> fill_impls("elementwise", {
    {"reference", DeviceType::CPU, reference::fill},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::fill},
#endif
});
const ImplTable<AxpyFn> axpy_impls("elementwise", {
    {"reference", DeviceType::CPU, reference::axpy},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::axpy},
#endif
});
const ImplTable<AffineFn> affine_impls("elementwise", {
    {"reference", DeviceType::CPU, reference::affine},
#ifdef NIB_CUDA
    {"cuda", DeviceType::CUDA, kernels::cuda::affine},
#endif
});

// NumPy's rule: align shapes at the right; sizes must match or be 1.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  int64_t rank = std::max(a.rank(), b.rank());
  NIB_CHECK(rank <= kMaxDims, op, ": broadcasting supports at most ", kMaxDims, " dimensions");
  std::vector<int64_t> out(rank);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.rank() ? 1 : a[i - (rank - a.rank())];
    int64_t db = i < rank - b.rank() ? 1 : b[i - (rank - b.rank())];
    NIB_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b, " cannot be broadcast");
    out[i] = da == 1 ? db : da;
  }
  return Shape(out);
}

// Strides of `in` (contiguous) seen through the output's dimensions.
void fill_strides(const Shape& out, const Shape& in, int64_t* strides) {
  int64_t offset = out.rank() - in.rank();
  int64_t stride = 1;
  for (int64_t d = out.rank() - 1; d >= 0; --d) {
    int64_t size = d < offset ? 1 : in[d - offset];
    strides[d] = size == 1 ? 0 : stride;
    stride *= size;
  }
}

BroadcastShape describe(const Shape& out, const Shape& a, const Shape& b) {
  BroadcastShape s;
  s.ndim = static_cast<int>(out.rank());
  for (int d = 0; d < s.ndim; ++d) s.out[d] = out[d];
  fill_strides(out, a, s.a_stride);
  fill_strides(out, b, s.b_stride);
  return s;
}

// Sums a gradient of the output's shape down to `target` (the inverse of broadcasting).
Tensor reduce_to(const Tensor& g, const Shape& target) {
  if (g.shape() == target) return g;
  Tensor out = Tensor::empty(target, g.device());
  BroadcastShape s = describe(g.shape(), target, target);
  sum_to_impls.pick(g.device(), "sum to ", g.shape())(s, g.data(), out.data());
  return out;
}

Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_defined(a, name, "first operand");
  check_defined(b, name, "second operand");
  check_f32(a, name);
  check_f32(b, name);
  check_same_device(a, b, name);
  Shape out_shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor y = Tensor::empty(out_shape, a.device());
  binary_impls.pick(a.device(), name, " ", a.shape(), " ", b.shape())(op, describe(out_shape, a.shape(), b.shape()), a.data(), b.data(), y.data());
  return y;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  Tensor y = binary_raw(op, a, b, name);
  if (!autograd::needs_graph({&a, &b})) return y;
  Shape sa = a.shape(), sb = b.shape();
  // Only the operands the backward formula needs are saved.
  Tensor saved_a = (op == BinaryOp::Mul || op == BinaryOp::Div) && b.requires_grad() ? a : Tensor();
  Tensor saved_b = (op == BinaryOp::Mul || op == BinaryOp::Div) ? b : Tensor();
  autograd::record(y, name, {a, b},
                   [op, sa, sb, saved_a, saved_b](const Tensor& gy, const std::vector<bool>& needs) {
                     Tensor ga, gb;
                     switch (op) {
                       case BinaryOp::Add:
                         if (needs[0]) ga = reduce_to(gy, sa);
                         if (needs[1]) gb = reduce_to(gy, sb);
                         break;
                       case BinaryOp::Sub:
                         if (needs[0]) ga = reduce_to(gy, sa);
                         if (needs[1]) gb = reduce_to(affine(gy, -1.0f, 0.0f), sb);
                         break;
                       case BinaryOp::Mul:
                         if (needs[0]) ga = reduce_to(binary_raw(BinaryOp::Mul, gy, saved_b, "mul"), sa);
                         if (needs[1]) gb = reduce_to(binary_raw(BinaryOp::Mul, gy, saved_a, "mul"), sb);
                         break;
                       case BinaryOp::Div: {
                         // y = a / b: da = gy / b, db = -gy * a / b²
                         if (needs[0]) ga = reduce_to(binary_raw(BinaryOp::Div, gy, saved_b, "div"), sa);
                         if (needs[1]) {
                           Tensor t = binary_raw(BinaryOp::Mul, gy, saved_a, "div");
                           t = binary_raw(BinaryOp::Div, t, binary_raw(BinaryOp::Mul, saved_b, saved_b, "div"), "div");
                           gb = reduce_to(affine(t, -1.0f, 0.0f), sb);
                         }
                         break;
                       }
                     }
                     return std::vector<Tensor>{ga, gb};
                   });
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b, "add"); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b, "sub"); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b, "mul"); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b, "div"); }

Tensor affine(const Tensor& x, float alpha, float beta) {
  check_defined(x, "affine", "input");
  check_f32(x, "affine");
  Tensor y = Tensor::empty(x.shape(), x.device());
  affine_impls.pick(x.device(), "affine ", x.shape())(x.numel(), alpha, beta, x.data(), y.data());
  if (autograd::needs_graph({&x})) {
    autograd::record(y, "affine", {x}, [alpha](const Tensor& gy, const std::vector<bool>&) {
      return std::vector<Tensor>{affine(gy, alpha, 0.0f)};
    });
  }
  return y;
}

void fill_(const Tensor& y, float value) {
  check_f32(y, "fill_");
  fill_impls.pick(y.device(), "fill ", y.shape())(y.numel(), value, y.data());
}

void axpy_(const Tensor& y, float alpha, const Tensor& x) {
  check_f32(y, "axpy_");
  check_f32(x, "axpy_");
  check_same_device(x, y, "axpy_");
  NIB_CHECK(x.numel() == y.numel(), "axpy_: sizes differ (", x.shape(), " vs ", y.shape(), ")");
  axpy_impls.pick(y.device(), "axpy ", y.shape())(y.numel(), alpha, x.data(), y.data());
}

void copy_(const Tensor& dst, const Tensor& src) {
  NIB_CHECK(dst.shape() == src.shape() && dst.dtype() == src.dtype(), "copy_: ", src.shape(), " ",
            dtype_name(src.dtype()), " into ", dst.shape(), " ", dtype_name(dst.dtype()));
  copy_bytes(dst.raw_data(), dst.device(), src.raw_data(), src.device(), src.bytes());
}

}  // namespace nib::ops
