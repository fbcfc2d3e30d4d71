// Sums over the middle axis of [outer, reduce, inner] and their backward
// (expand) on CUDA. The spec is kernels/cpu/reduce_reference.cpp.
//
// Better than a naive thread-per-output loop:
//   - when there are many outputs along a contiguous inner axis, one thread
//     per output walks the reduced axis; neighbouring threads read
//     neighbouring addresses, so every load is coalesced;
//   - when there are few outputs (a full sum, a sum over the last axis), one
//     block per output splits the reduced axis among its threads and
//     combines them with warp shuffles, instead of one thread summing
//     millions of values alone;
//   - both accumulate in double, like the reference, so large means stay
//     accurate.
// A full sum uses a single block, which cannot use the whole GPU; a two-pass
// (per-block partial sums, then one block) version would. To be measured in
// bench/.
#include "device/cuda/launch.cuh"
#include "kernels/reduce.h"

namespace nib::kernels::cuda {

using namespace cuda_detail;

namespace {

constexpr unsigned kReduceThreads = 512;

__global__ void sum_thread_kernel(int64_t outer, int64_t reduce, int64_t inner, float scale, const float* x,
                                  float* y) {
  const int64_t outputs = outer * inner;
  for (int64_t j = grid_start(); j < outputs; j += grid_stride()) {
    int64_t o = j / inner, i = j % inner;
    const float* column = x + o * reduce * inner + i;
    double acc = 0.0;
    for (int64_t r = 0; r < reduce; ++r) acc += column[r * inner];
    y[j] = static_cast<float>(scale * acc);
  }
}

__global__ void sum_block_kernel(int64_t outer, int64_t reduce, int64_t inner, float scale, const float* x,
                                 float* y) {
  const int64_t outputs = outer * inner;
  for (int64_t j = blockIdx.x; j < outputs; j += gridDim.x) {
    int64_t o = j / inner, i = j % inner;
    const float* column = x + o * reduce * inner + i;
    double acc = 0.0;
    for (int64_t r = threadIdx.x; r < reduce; r += blockDim.x) acc += column[r * inner];
    acc = block_reduce(acc, SumOp{}, 0.0);
    if (threadIdx.x == 0) y[j] = static_cast<float>(scale * acc);
  }
}

__global__ void expand_kernel(int64_t n, int64_t reduce, int64_t inner, float scale, const float* gy, float* gx) {
  for (int64_t k = grid_start(); k < n; k += grid_stride()) {
    int64_t o = k / (reduce * inner), i = k % inner;
    gx[k] = scale * gy[o * inner + i];
  }
}

}  // namespace

void sum(int64_t outer, int64_t reduce, int64_t inner, float scale, const float* x, float* y) {
  const int64_t outputs = outer * inner;
  if (outputs <= 0) return;
  // Many outputs, or short sums: a thread each. Few long sums: a block each.
  if (outputs >= 8192 || reduce <= 64)
    cuda_detail::launch(sum_thread_kernel, grid_for(outputs), kThreads, outer, reduce, inner, scale, x, y);
  else
    cuda_detail::launch(sum_block_kernel, grid_for_items(outputs), kReduceThreads, outer, reduce, inner, scale, x, y);
}

void expand(int64_t outer, int64_t reduce, int64_t inner, float scale, const float* gy, float* gx) {
  const int64_t n = outer * reduce * inner;
  if (n <= 0) return;
  cuda_detail::launch(expand_kernel, grid_for(n), kThreads, n, reduce, inner, scale, gy, gx);
}

}  // namespace nib::kernels::cuda
