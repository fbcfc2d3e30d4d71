// Element-wise arithmetic with broadcasting, and fill/axpy/affine, on CUDA.
// The spec is kernels/cpu/elementwise_reference.cpp.
//
// Better than a naive one-thread-per-element kernel with a switch inside:
//   - the operator is a template parameter, so each launch has no branch;
//   - when neither input is broadcast (the common case) the index arithmetic
//     is skipped entirely; otherwise an output index is split into
//     coordinates once per element (no odometer state, which a GPU cannot
//     carry between threads), after merging the dimensions that step
//     together (coalesce: [N, C, H, W] + [C, 1, 1] is 3-D), with one
//     division per dimension, in 32 bits below 2^31 elements: 3 32-bit
//     divisions per element for a bias add where there were 8 64-bit ones
//     (expected to matter in this memory-bound kernel; not yet measured);
//   - sum_to picks one thread per output element when there are many of
//     them (coalesced reads along the kept dimensions) and one block per
//     output element with a block reduction when there are few (a bias
//     gradient summed over N*H*W); each thread walks its summed elements
//     with ReducedCursor (additions with carries) instead of dividing per
//     element, in 32 bits below 2^31 elements (expected to speed up this
//     memory-bound kernel; not yet measured on a GPU).
// Speed: to be measured in bench/.
#include "device/cuda/launch.cuh"
#include "kernels/elementwise.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

template <BinaryOp Op>
__device__ inline float apply(float a, float b) {
  if constexpr (Op == BinaryOp::Add) return a + b;
  if constexpr (Op == BinaryOp::Sub) return a - b;
  if constexpr (Op == BinaryOp::Mul) return a * b;
  return a / b;
}

template <BinaryOp Op>
__global__ void binary_contiguous_kernel(int64_t n, const float* a, const float* b, float* y) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) y[i] = apply<Op>(a[i], b[i]);
}

// A BroadcastShape in the kernel's index type, after coalesce().
template <class Index>
struct BroadcastIndex {
  int ndim;
  Index out[kMaxDims], a_stride[kMaxDims], b_stride[kMaxDims];
};

// Splits each output index into coordinates with one division per
// dimension (the modulo is recovered by a multiply).
template <BinaryOp Op, class Index>
__global__ void binary_broadcast_kernel(BroadcastIndex<Index> s, Index n, const float* a, const float* b, float* y) {
  for (Index i = grid_start<Index>(); i < n; i += grid_stride<Index>()) {
    Index rest = i, ia = 0, ib = 0;
    for (int d = s.ndim - 1; d >= 0; --d) {
      const Index outer = rest / s.out[d], coord = rest - outer * s.out[d];
      rest = outer;
      ia += coord * s.a_stride[d];
      ib += coord * s.b_stride[d];
    }
    y[i] = apply<Op>(a[ia], b[ib]);
  }
}

bool contiguous(const BroadcastShape& s, const int64_t* stride) {
  int64_t expected = 1;
  for (int d = s.ndim - 1; d >= 0; --d) {
    if (s.out[d] != 1 && stride[d] != expected) return false;
    expected *= s.out[d];
  }
  return true;
}

// s with its size-1 dimensions dropped and neighbours merged wherever a (and
// b, with_b) step through the pair as through one dimension: stride[d] ==
// stride[d+1] * out[d+1], which includes both being broadcast (stride 0).
// [N, C, H, W] plus a [C, 1, 1] bias becomes [N, C, H*W]: fewer dimensions,
// fewer divisions per element.
BroadcastShape coalesce(const BroadcastShape& s, bool with_b) {
  BroadcastShape c;
  for (int d = 0; d < s.ndim; ++d) {
    if (s.out[d] == 1) continue;
    const int last = c.ndim - 1;
    const bool merges = last >= 0 && c.a_stride[last] == s.a_stride[d] * s.out[d] &&
                        (!with_b || c.b_stride[last] == s.b_stride[d] * s.out[d]);
    if (merges) {  // the merged dimension steps like the inner one
      c.out[last] *= s.out[d];
      c.a_stride[last] = s.a_stride[d];
      c.b_stride[last] = with_b ? s.b_stride[d] : 0;
    } else {
      c.out[c.ndim] = s.out[d];
      c.a_stride[c.ndim] = s.a_stride[d];
      c.b_stride[c.ndim] = with_b ? s.b_stride[d] : 0;
      ++c.ndim;
    }
  }
  return c;
}

template <class Index>
BroadcastIndex<Index> to_index(const BroadcastShape& s) {
  BroadcastIndex<Index> t{s.ndim, {}, {}, {}};
  for (int d = 0; d < s.ndim; ++d) {
    t.out[d] = static_cast<Index>(s.out[d]);
    t.a_stride[d] = static_cast<Index>(s.a_stride[d]);
    t.b_stride[d] = static_cast<Index>(s.b_stride[d]);
  }
  return t;
}

template <BinaryOp Op>
void launch_binary(const BroadcastShape& s, const float* a, const float* b, float* y) {
  int64_t n = s.numel();
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  if (contiguous(s, s.a_stride) && contiguous(s, s.b_stride)) {
    cuda_detail::launch(binary_contiguous_kernel<Op>, grid, kThreads, n, a, b, y);
    return;
  }
  const BroadcastShape c = coalesce(s, true);
  with_index_type(fits_int32(n, grid, kThreads), [&]<class Index>() {
    cuda_detail::launch(binary_broadcast_kernel<Op, Index>, grid, kThreads, to_index<Index>(c), static_cast<Index>(n),
                        a, b, y);
  });
}

// sum_to splits the output dimensions into those a keeps (a_stride != 0) and
// those it is broadcast along (a_stride == 0). ga is contiguous over the kept
// dimensions, so ga's element ia has the coordinate (ia / a_stride[d]) %
// out[d] along a kept dimension d; the broadcast ("reduced") dimensions are
// listed apart, innermost last, for ReducedCursor.
template <class Index>
struct SumToPlan {
  int ndim = 0;
  Index out[kMaxDims] = {};
  Index a_stride[kMaxDims] = {};
  Index out_stride[kMaxDims] = {};  // contiguous strides of the output
  int reduced_ndim = 0;
  Index reduced_size[kMaxDims] = {}, reduced_stride[kMaxDims] = {};  // the broadcast dimensions' sizes and out_stride
  Index kept = 1;                   // elements of ga
  Index reduced = 1;                // output elements summed into each
};

template <class Index>
SumToPlan<Index> plan_sum_to(const BroadcastShape& shape) {
  const BroadcastShape s = coalesce(shape, false);
  SumToPlan<Index> p;
  p.ndim = s.ndim;
  int64_t stride = 1;
  for (int d = s.ndim - 1; d >= 0; --d) {
    p.out[d] = static_cast<Index>(s.out[d]);
    p.a_stride[d] = static_cast<Index>(s.a_stride[d]);
    p.out_stride[d] = static_cast<Index>(stride);
    stride *= s.out[d];
    if (s.a_stride[d] != 0)
      p.kept *= p.out[d];
    else
      p.reduced *= p.out[d];
  }
  for (int d = 0; d < s.ndim; ++d) {
    if (s.a_stride[d] != 0) continue;
    p.reduced_size[p.reduced_ndim] = p.out[d];
    p.reduced_stride[p.reduced_ndim] = p.out_stride[d];
    ++p.reduced_ndim;
  }
  return p;
}

// Where ga's element ia starts in the output (all broadcast coordinates 0).
template <class Index>
__device__ inline Index kept_offset(const SumToPlan<Index>& p, Index ia) {
  Index offset = 0;
  for (int d = 0; d < p.ndim; ++d)
    if (p.a_stride[d] != 0) offset += ((ia / p.a_stride[d]) % p.out[d]) * p.out_stride[d];
  return offset;
}

// Walks r = first, first + step, ... through the combinations of broadcast
// coordinates, keeping their output offset up to date: the coordinates are
// split by division once, then advanced digit by digit with carries (each
// digit of the step is below its dimension's size, so one subtraction
// undoes an overflow). No division per summed element.
template <class Index>
struct ReducedCursor {
  Index coord[kMaxDims], step[kMaxDims];
  Index offset = 0;

  __device__ ReducedCursor(const SumToPlan<Index>& p, Index first, Index step_by) {
    for (int d = p.reduced_ndim - 1; d >= 0; --d) {
      coord[d] = first % p.reduced_size[d];
      first /= p.reduced_size[d];
      step[d] = step_by % p.reduced_size[d];
      step_by /= p.reduced_size[d];
      offset += coord[d] * p.reduced_stride[d];
    }
  }
  __device__ void advance(const SumToPlan<Index>& p) {
    Index carry = 0;
    for (int d = p.reduced_ndim - 1; d >= 0; --d) {
      Index c = coord[d] + step[d] + carry;
      carry = c >= p.reduced_size[d] ? 1 : 0;
      if (carry) c -= p.reduced_size[d];
      offset += (c - coord[d]) * p.reduced_stride[d];
      coord[d] = c;
    }
  }
};

template <class Index>
__global__ void sum_to_thread_kernel(SumToPlan<Index> p, const float* g, float* ga) {
  for (Index ia = grid_start<Index>(); ia < p.kept; ia += grid_stride<Index>()) {
    const float* base = g + kept_offset(p, ia);
    double acc = 0.0;
    ReducedCursor<Index> at(p, 0, 1);
    for (Index r = 0; r < p.reduced; ++r, at.advance(p)) acc += base[at.offset];
    ga[ia] = static_cast<float>(acc);
  }
}

template <class Index>
__global__ void sum_to_block_kernel(SumToPlan<Index> p, const float* g, float* ga) {
  for (Index ia = blockIdx.x; ia < p.kept; ia += gridDim.x) {
    const float* base = g + kept_offset(p, ia);
    double acc = 0.0;
    ReducedCursor<Index> at(p, threadIdx.x, blockDim.x);
    for (Index r = threadIdx.x; r < p.reduced; r += blockDim.x, at.advance(p)) acc += base[at.offset];
    acc = block_reduce(acc, SumOp{}, 0.0);
    if (threadIdx.x == 0) ga[ia] = static_cast<float>(acc);
  }
}

__global__ void fill_kernel(int64_t n, float value, float* y) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) y[i] = value;
}

__global__ void axpy_kernel(int64_t n, float alpha, const float* x, float* y) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) y[i] += alpha * x[i];
}

__global__ void affine_kernel(int64_t n, float alpha, float beta, const float* x, float* y) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) y[i] = alpha * x[i] + beta;
}

}  // namespace

void binary(BinaryOp op, const BroadcastShape& s, const float* a, const float* b, float* y) {
  switch (op) {
    case BinaryOp::Add: return launch_binary<BinaryOp::Add>(s, a, b, y);
    case BinaryOp::Sub: return launch_binary<BinaryOp::Sub>(s, a, b, y);
    case BinaryOp::Mul: return launch_binary<BinaryOp::Mul>(s, a, b, y);
    case BinaryOp::Div: return launch_binary<BinaryOp::Div>(s, a, b, y);
  }
}

void sum_to(const BroadcastShape& s, const float* g, float* ga) {
  int64_t kept = 1, reduced = 1;
  for (int d = 0; d < s.ndim; ++d) (s.a_stride[d] != 0 ? kept : reduced) *= s.out[d];
  if (kept <= 0) return;
  if (reduced == 0) {  // an empty output: every sum is 0
    fill(kept, 0.0f, ga);
    return;
  }
  // Enough outputs to fill the GPU with one thread each, or too little to
  // sum for a block to pay off: a thread per output. Otherwise a block each.
  // Indices reach the output's size, kept * reduced (plus a stride).
  const bool thread_per_output = kept >= 8192 || reduced <= 64;
  const unsigned grid = thread_per_output ? grid_for(kept) : grid_for_items(kept);
  with_index_type(fits_int32(kept * reduced, grid, kThreads), [&]<class Index>() {
    if (thread_per_output)
      cuda_detail::launch(sum_to_thread_kernel<Index>, grid, kThreads, plan_sum_to<Index>(s), g, ga);
    else
      cuda_detail::launch(sum_to_block_kernel<Index>, grid, kThreads, plan_sum_to<Index>(s), g, ga);
  });
}

void fill(int64_t n, float value, float* y) {
  if (n <= 0) return;
  cuda_detail::launch(fill_kernel, grid_for(n), kThreads, n, value, y);
}

void axpy(int64_t n, float alpha, const float* x, float* y) {
  if (n <= 0) return;
  cuda_detail::launch(axpy_kernel, grid_for(n), kThreads, n, alpha, x, y);
}

void affine(int64_t n, float alpha, float beta, const float* x, float* y) {
  if (n <= 0) return;
  cuda_detail::launch(affine_kernel, grid_for(n), kThreads, n, alpha, beta, x, y);
}

}  // namespace nib::kernels::cuda
