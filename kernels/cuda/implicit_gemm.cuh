// Implicit GEMM: a tiled GEMM whose operands are never stored as matrices.
//
// A convolution is a GEMM over an unrolled input (im2col), but the unrolled
// matrix is R*S times bigger than the input. Here the GEMM kernel asks a
// Problem for each element it needs, a(g, m, k) and b(g, k, col); the
// Problem computes which input pixel (or weight, or gradient) that element
// is from (n, p, q, c, r, s) and returns 0 for padding. Only tiles of the
// virtual matrices ever exist, in shared memory.
//
// The GEMM itself is the tiled, register-blocked scheme of the GEMM ladder
// (gemm_regblock.cu): a 64 x 64 tile of the result per block of 256
// threads, 4 x 4 results per thread, steps of 16 along the reduction.
// Results go through Problem::store(g, split, m, col, value), which scatters
// them into NCHW (and adds the bias).
//
// Grid: x = column tiles, y = row tiles, z = groups x splits. Splitting the
// reduction ("split-K") gives the weight gradient, a small matrix with a
// huge reduction (N*P*Q), enough blocks to fill the GPU; each split writes
// its partial result and a second pass adds them (conv2d.cu).
//
// Problem interface (all sizes int: conv2d.cu checks tensors stay below 2^31):
//   int M, cols, depth;           // result rows, result columns, reduction length
//   int splits, split_depth;      // reduction split into `splits` chunks of split_depth (a multiple of kBK)
//   __device__ float a(int g, int m, int k) const;      // 0 <= m < M, 0 <= k < depth
//   __device__ float b(int g, int k, int col) const;    // 0 <= k < depth, 0 <= col < cols
//   __device__ void store(int g, int split, int m, int col, float v) const;
#pragma once

#include <cuda_runtime.h>

namespace nib::kernels::cuda_conv {

constexpr int kBM = 64, kBN = 64, kBK = 16, kThreads = 256;
constexpr int kPad = 4;  // keeps rows 16-byte aligned (68 floats) and spreads the transposed writes over banks

template <class Problem>
__global__ void __launch_bounds__(kThreads) implicit_gemm_kernel(const Problem prob) {
  // a_tile[k][m] = a(g, m0 + m, k0 + k);  b_tile[k][c] = b(g, k0 + k, col0 + c)
  __shared__ __align__(16) float a_tile[kBK][kBM + kPad];
  __shared__ __align__(16) float b_tile[kBK][kBN + kPad];

  const int tid = threadIdx.x;
  const int col0 = blockIdx.x * kBN;
  const int m0 = blockIdx.y * kBM;
  const int g = blockIdx.z / prob.splits;
  const int split = blockIdx.z % prob.splits;
  const int k_begin = split * prob.split_depth;
  const int k_end = min(prob.depth, k_begin + prob.split_depth);

  const int tr = tid / 16;  // result rows m0 + tr*4 + {0..3}
  const int tc = tid % 16;  // result columns col0 + tc*4 + {0..3}
  float acc[4][4] = {};

  for (int k0 = k_begin; k0 < k_end; k0 += kBK) {
    // A tile, 64 x 16 elements, 4 per thread; consecutive threads take
    // consecutive k (the weights are contiguous along the reduction).
#pragma unroll
    for (int t = 0; t < kBM * kBK / kThreads; ++t) {
      const int e = tid + t * kThreads;
      const int m = e / kBK, k = e % kBK;
      const bool inside = m0 + m < prob.M && k0 + k < k_end;
      a_tile[k][m] = inside ? prob.a(g, m0 + m, k0 + k) : 0.0f;
    }
    // B tile, 16 x 64 elements; consecutive threads take consecutive
    // columns (output pixels, contiguous along q in NCHW).
#pragma unroll
    for (int t = 0; t < kBK * kBN / kThreads; ++t) {
      const int e = tid + t * kThreads;
      const int k = e / kBN, c = e % kBN;
      const bool inside = k0 + k < k_end && col0 + c < prob.cols;
      b_tile[k][c] = inside ? prob.b(g, k0 + k, col0 + c) : 0.0f;
    }
    __syncthreads();

#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      const float4 a = *reinterpret_cast<const float4*>(&a_tile[k][tr * 4]);
      const float4 b = *reinterpret_cast<const float4*>(&b_tile[k][tc * 4]);
      const float av[4] = {a.x, a.y, a.z, a.w};
      const float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + tr * 4 + i;
    if (m >= prob.M) break;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int col = col0 + tc * 4 + j;
      if (col < prob.cols) prob.store(g, split, m, col, acc[i][j]);
    }
  }
}

}  // namespace nib::kernels::cuda_conv
