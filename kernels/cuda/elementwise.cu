// Element-wise arithmetic with broadcasting, and fill/axpy/affine, on CUDA.
// The spec is kernels/cpu/elementwise_reference.cpp.
//
// Better than a naive one-thread-per-element kernel with a switch inside:
//   - the operator is a template parameter, so each launch has no branch;
//   - when neither input is broadcast (the common case) the index arithmetic
//     is skipped entirely; otherwise an output index is split into
//     coordinates once per element (no odometer state, which a GPU cannot
//     carry between threads);
//   - sum_to picks one thread per output element when there are many of
//     them (coalesced reads along the kept dimensions) and one block per
//     output element with a block reduction when there are few (a bias
//     gradient summed over N*H*W).
// Speed: to be measured in bench/.
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise.h"

namespace nib::kernels::custom {

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

template <BinaryOp Op>
__global__ void binary_broadcast_kernel(BroadcastShape s, int64_t n, const float* a, const float* b, float* y) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    int64_t rest = i, ia = 0, ib = 0;
    for (int d = s.ndim - 1; d >= 0; --d) {
      int64_t coord = rest % s.out[d];
      rest /= s.out[d];
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

template <BinaryOp Op>
void launch_binary(const BroadcastShape& s, const float* a, const float* b, float* y) {
  int64_t n = s.numel();
  if (n <= 0) return;
  if (contiguous(s, s.a_stride) && contiguous(s, s.b_stride))
    cuda_detail::launch(binary_contiguous_kernel<Op>, grid_for(n), kThreads, n, a, b, y);
  else
    cuda_detail::launch(binary_broadcast_kernel<Op>, grid_for(n), kThreads, s, n, a, b, y);
}

// sum_to splits the output dimensions into those a keeps (a_stride != 0) and
// those it is broadcast along (a_stride == 0, including size-1 dimensions).
// ga is contiguous over the kept dimensions, so ga's element ia has the
// coordinate (ia / a_stride[d]) % out[d] along a kept dimension d.
struct SumToPlan {
  int ndim = 0;
  int64_t out[kMaxDims] = {};
  int64_t a_stride[kMaxDims] = {};
  int64_t out_stride[kMaxDims] = {};  // contiguous strides of the output
  int64_t kept = 1;                   // elements of ga
  int64_t reduced = 1;                // output elements summed into each
};

SumToPlan plan_sum_to(const BroadcastShape& s) {
  SumToPlan p;
  p.ndim = s.ndim;
  int64_t stride = 1;
  for (int d = s.ndim - 1; d >= 0; --d) {
    p.out[d] = s.out[d];
    p.a_stride[d] = s.a_stride[d];
    p.out_stride[d] = stride;
    stride *= s.out[d];
    if (s.a_stride[d] != 0)
      p.kept *= s.out[d];
    else
      p.reduced *= s.out[d];
  }
  return p;
}

// Where ga's element ia starts in the output (all broadcast coordinates 0).
__device__ inline int64_t kept_offset(const SumToPlan& p, int64_t ia) {
  int64_t offset = 0;
  for (int d = 0; d < p.ndim; ++d)
    if (p.a_stride[d] != 0) offset += ((ia / p.a_stride[d]) % p.out[d]) * p.out_stride[d];
  return offset;
}

// The offset of the r-th combination of broadcast coordinates.
__device__ inline int64_t reduced_offset(const SumToPlan& p, int64_t r) {
  int64_t offset = 0;
  for (int d = p.ndim - 1; d >= 0; --d) {
    if (p.a_stride[d] != 0) continue;
    offset += (r % p.out[d]) * p.out_stride[d];
    r /= p.out[d];
  }
  return offset;
}

__global__ void sum_to_thread_kernel(SumToPlan p, const float* g, float* ga) {
  for (int64_t ia = grid_start(); ia < p.kept; ia += grid_stride()) {
    int64_t base = kept_offset(p, ia);
    double acc = 0.0;
    for (int64_t r = 0; r < p.reduced; ++r) acc += g[base + reduced_offset(p, r)];
    ga[ia] = static_cast<float>(acc);
  }
}

__global__ void sum_to_block_kernel(SumToPlan p, const float* g, float* ga) {
  for (int64_t ia = blockIdx.x; ia < p.kept; ia += gridDim.x) {
    int64_t base = kept_offset(p, ia);
    double acc = 0.0;
    for (int64_t r = threadIdx.x; r < p.reduced; r += blockDim.x) acc += g[base + reduced_offset(p, r)];
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
  SumToPlan p = plan_sum_to(s);
  if (p.kept <= 0) return;
  if (p.reduced == 0) {  // an empty output: every sum is 0
    fill(p.kept, 0.0f, ga);
    return;
  }
  // Enough outputs to fill the GPU with one thread each, or too little to
  // sum for a block to pay off: a thread per output. Otherwise a block each.
  bool thread_per_output = p.kept >= 8192 || p.reduced <= 64;
  if (thread_per_output)
    cuda_detail::launch(sum_to_thread_kernel, grid_for(p.kept), kThreads, p, g, ga);
  else
    cuda_detail::launch(sum_to_block_kernel, grid_for_items(p.kept), kThreads, p, g, ga);
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

}  // namespace nib::kernels::custom
