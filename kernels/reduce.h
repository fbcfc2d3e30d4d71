// Sums over one axis of a tensor viewed as [outer, reduce, inner]; a full
// sum is outer = inner = 1. Means are sums scaled by the op.
#pragma once

#include <cstdint>

namespace nib::kernels {

// y[o, i] = scale * sum_r x[o, r, i]   (y is [outer, inner], overwritten)
using SumFn = void(int64_t outer, int64_t reduce, int64_t inner, float scale, const float* x, float* y);
// The backward of SumFn: gx[o, r, i] = scale * gy[o, i] (overwritten).
using ExpandFn = void(int64_t outer, int64_t reduce, int64_t inner, float scale, const float* gy, float* gx);

#define NIB_DECLARE_REDUCE \
  SumFn sum;               \
  ExpandFn expand;

namespace reference { NIB_DECLARE_REDUCE }
namespace cuda { NIB_DECLARE_REDUCE }
#undef NIB_DECLARE_REDUCE

}  // namespace nib::kernels
