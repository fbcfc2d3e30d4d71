// Element-wise arithmetic with NumPy broadcasting, and the small BLAS-1
// helpers everything else leans on (fill, axpy, scale).
//
// Broadcasting is described by a BroadcastShape: both inputs are aligned to
// the output's rank (at most kMaxDims), and an input's stride is 0 along a
// dimension where it has size 1. One description serves the forward op and
// the reduction that sums a gradient back to an input's shape.
#pragma once

#include <cstdint>

namespace nib::kernels {

constexpr int kMaxDims = 6;

struct BroadcastShape {
  int ndim = 0;
  int64_t out[kMaxDims] = {};       // output sizes
  int64_t a_stride[kMaxDims] = {};  // element strides of a (0 where broadcast)
  int64_t b_stride[kMaxDims] = {};  // element strides of b (0 where broadcast)
  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= out[d];
    return n;
  }
};

enum class BinaryOp { Add, Sub, Mul, Div };

// y[i] = a[ia] op b[ib] over every output index i.
using BinaryFn = void(BinaryOp, const BroadcastShape&, const float* a, const float* b, float* y);
// The gradient for input a: ga[ia] = sum over output indices i mapping to ia
// of g[i] (overwritten). Uses out and a_stride only.
using SumToFn = void(const BroadcastShape&, const float* g, float* ga);
using FillFn = void(int64_t n, float value, float* y);
using AxpyFn = void(int64_t n, float alpha, const float* x, float* y);  // y += alpha * x
using AffineFn = void(int64_t n, float alpha, float beta, const float* x, float* y);  // y = alpha * x + beta

#define NIB_DECLARE_ELEMENTWISE \
  BinaryFn binary;              \
  SumToFn sum_to;               \
  FillFn fill;                  \
  AxpyFn axpy;                  \
  AffineFn affine;

namespace reference { NIB_DECLARE_ELEMENTWISE }
namespace cuda { NIB_DECLARE_ELEMENTWISE }
#undef NIB_DECLARE_ELEMENTWISE

}  // namespace nib::kernels
