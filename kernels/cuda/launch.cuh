// What nib's hand-written CUDA kernels share: the one way they are launched,
// launch sizes for grid-stride loops, and warp/block reductions.
//
// Grid-stride loops: a kernel walks i = thread, thread + all threads, ...
// so any n works with any grid, and the grid can be capped at a few waves of
// blocks per SM instead of one thread per element (cheaper block scheduling,
// and per-thread setup is amortised over several elements).
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "tensor/cuda/context.h"

namespace nib::kernels::cuda_detail {

// Every kernel starts here: launch(kernel, grid, block, args...) runs kernel
// on nib's stream with no dynamic shared memory, then checks the launch. It
// is the <<<grid, block>>> launch under nvcc; in the CUDA-on-CPU build
// (kernels/cuda/on_cpu/cuda_on_cpu.h) it runs the kernel on the host.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "launch: the kernel takes another number of arguments");
#ifdef NIB_CUDA_ON_CPU
  nib::cuda_on_cpu::launch(kernel, grid, block, args...);
#else
  kernel<<<grid, block, 0, nib::cuda::stream()>>>(std::forward<Args>(args)...);
#endif
  NIB_CUDA_CHECK_LAUNCH();
}

constexpr unsigned kThreads = 256;

// Blocks of `threads` for a grid-stride loop over n items (n > 0).
inline unsigned grid_for(int64_t n, unsigned threads = kThreads) {
  int64_t wanted = (n + threads - 1) / threads;
  int64_t cap = int64_t{32} * nib::cuda::properties().multiProcessorCount;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(wanted, cap)));
}

// Blocks when each block handles one of `items` (rows, channels, planes).
inline unsigned grid_for_items(int64_t items) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(items, int64_t{1} << 30)));
}

// The first index of this thread and the stride of a grid-stride loop, in
// 64 bits so that tensors beyond 2^31 elements work.
__device__ inline int64_t grid_start() { return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

struct SumOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};

template <class T, class Op>
__device__ T warp_reduce(T v, Op op) {
  for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Reduces one value per thread over the whole block and returns the result
// to every thread. Every thread of the block must call it; blockDim.x must
// be a multiple of 32 (at most 1024). Safe to call repeatedly in a kernel.
template <class T, class Op>
__device__ T block_reduce(T v, Op op, T identity) {
  __shared__ T partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  v = warp_reduce(v, op);
  __syncthreads();  // a previous call may still be reading `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  // Every warp reduces the per-warp partials itself, so no third barrier is needed.
  v = lane < warps ? partial[lane] : identity;
  return warp_reduce(v, op);
}

}  // namespace nib::kernels::cuda_detail
