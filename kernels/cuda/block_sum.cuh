// Sum of one float per thread over a whole block: warp shuffles inside each
// warp, then the warp totals through shared memory. Deterministic (a fixed
// order for a given block size), which keeps gradients reproducible.
#pragma once

#include <cuda_runtime.h>

namespace nib::kernels::cuda_reduce {

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Every thread of the block must call it (it synchronises). The result is
// valid in thread 0 only. blockDim.x must be a multiple of 32, at most 1024.
__device__ __forceinline__ float block_sum(float v) {
  __shared__ float warp_totals[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  if (lane == 0) warp_totals[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / 32;
  v = lane < warps ? warp_totals[lane] : 0.0f;  // used by warp 0 only, where lane == threadIdx.x
  if (warp == 0) v = warp_sum(v);
  __syncthreads();  // warp_totals may be reused by a following call
  return v;
}

}  // namespace nib::kernels::cuda_reduce
