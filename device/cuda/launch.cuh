// What nib's hand-written CUDA kernels share: the one way they are launched,
// launch sizes for grid-stride loops, and warp/block reductions.
//
// Grid-stride loops: a kernel walks i = thread, thread + all threads, ...
// so any n works with any grid, and the grid can be capped at a few waves of
// blocks per SM instead of one thread per element (cheaper block scheduling,
// and per-thread setup is amortised over several elements).
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <utility>

#include "device/cuda/context.h"

namespace nib::kernels::cuda_detail {

// Every kernel starts here: launch(kernel, grid, block, args...) runs kernel
// on nib's stream with no dynamic shared memory, then checks the launch. It
// is the <<<grid, block>>> launch under nvcc; in the CUDA-on-CPU build
// (device/cuda/on_cpu/cuda_on_cpu.h) it runs the kernel on the host.
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

// The first index of this thread and the stride of a grid-stride loop: in
// 64 bits by default, so that tensors beyond 2^31 elements work, or in the
// kernel's Index type (see with_index_type).
template <class Index = int64_t>
__device__ inline Index grid_start() {
  return static_cast<Index>(blockIdx.x) * static_cast<Index>(blockDim.x) + static_cast<Index>(threadIdx.x);
}
template <class Index = int64_t>
__device__ inline Index grid_stride() {
  return static_cast<Index>(gridDim.x) * static_cast<Index>(blockDim.x);
}

// 32-bit indexing for memory-bound kernels. A kernel that splits a flat
// index into coordinates ((i / HW) % C for a channel) pays a division and a
// modulo per element; on the GPU a 64-bit integer division is a long
// emulated subroutine, several times the cost of a 32-bit one, and it can
// decide the speed of a kernel that otherwise only streams memory. Such
// kernels are templates on their Index type and are launched through
// with_index_type: int32_t whenever every index the grid-stride loop forms
// (up to `largest` - 1 plus one stride) fits, which is every tensor below
// 2^31 elements minus one stride; int64_t otherwise.
inline bool fits_int32(int64_t largest, unsigned grid, unsigned threads) {
  return largest + static_cast<int64_t>(grid) * threads <= INT32_MAX;
}

// Calls launch.template operator()<Index>() with Index = int32_t when
// use_int32, else int64_t:
//   with_index_type(fits_int32(n, grid, threads), [&]<class Index>() { launch(kernel<Index>, ...); });
template <class Launch>
void with_index_type(bool use_int32, Launch&& launch) {
  if (use_int32)
    launch.template operator()<int32_t>();
  else
    launch.template operator()<int64_t>();
}

// Records a bad input item in a DeviceErrorReport's slot (device/cuda/context.h):
// of all the items recorded before the host looks, the lowest position wins,
// whatever order the threads run in. position < 2^32.
__device__ inline void record_device_error(nib::cuda::DeviceErrorReport::Slot* slot, int64_t position, int32_t value,
                                           int64_t bound) {
  const unsigned long long packed =
      (static_cast<unsigned long long>(position) << 32) | static_cast<unsigned long long>(static_cast<uint32_t>(value));
  atomicMin(&slot->position_and_value, packed);
  // The bound goes with the record that holds the slot. Whether this thread's
  // does is read back (volatile: from memory, not a cache), not taken from
  // atomicMin's return value: CUDA's returns the old value, HIP-CPU's (the
  // CPU harness) the new minimum. Every thread of a call that gets here
  // writes the same bound, and calls run one after another on the stream.
  if (*reinterpret_cast<volatile unsigned long long*>(&slot->position_and_value) == packed) slot->bound = bound;
}

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
