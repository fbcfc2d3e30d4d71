// GEMM rung 4 of 5, the one nib uses by default (cuda::gemm): 128 x 128 block tiles,
// 8 x 8 per thread, double-buffered shared memory. When the caller allows
// TF32 (kernels::allow_tf32()), cuda::gemm hands the call to rung 5
// (gemm_tf32.cu, tensor cores) instead.
//
// What changes from rung 3 (gemm_regblock.cu):
//  - Bigger block tile (128 x 128, 256 threads). Each element of op(A) is
//    fetched from global memory once per 128 columns of C instead of once
//    per 64, halving global traffic per flop; 8 warps per block give the
//    scheduler more independent work to hide latency with.
//  - Double buffering. Two copies of each shared tile: while the block
//    computes on tile t, the global loads of tile t+1 are already in flight
//    (into registers) and are stored into the other buffer afterwards. The
//    wait for global memory overlaps the arithmetic, and one
//    __syncthreads per step suffices (rung 3 needs two and overlaps nothing).
//  - Conflict-free shared reads. A thread's 8 rows are two groups of 4
//    (tr*4.. and 64+tr*4..), likewise its columns, so the 16 threads of a
//    half-warp read 64 consecutive floats (as float4) without bank
//    conflicts; rung 3's contiguous 8-wide groups collide two-way.
// Everything else (fetch4 with float4 when aligned, zero-filled edges,
// beta == 0 never reading C) is shared with rung 3 (gemm_common.cuh).
// Speed: measured in bench/ (pending a GPU run).
#include "device/cuda/context.h"
#include "device/cuda/launch.cuh"
#include "kernels/cuda/gemm_common.cuh"
#include "kernels/gemm.h"
#include "kernels/registry.h"

namespace nib::kernels::cuda {

namespace {

constexpr int kBM = 128, kBN = 128, kBK = 8;
constexpr int kThreads = 256;  // 16 x 16 threads, 8 x 8 outputs each
constexpr int kHalf = 64;      // a thread's second group of rows/columns starts here

using ALoader = cuda_gemm::TileLoader<kBM, kBK, kThreads>;
using BLoader = cuda_gemm::TileLoader<kBN, kBK, kThreads>;

// At most 128 registers a thread, so that two blocks (512 threads) fit on a
// multiprocessor's 64K registers: one block of 8 warps alone leaves the SM
// idle at every __syncthreads. ptxas -v, sm_90, CUDA 13.0: 134 registers
// before (one block per SM); 128 with the float4 stores of the loader, and
// __launch_bounds__(kThreads, 2) keeps it there; 0 bytes spilled either way.
// Expected to speed up large GEMMs (twice the warps to hide latency with);
// not yet measured on a GPU.
__global__ void __launch_bounds__(kThreads, 2)
    gemm_kernel(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* __restrict__ A, int64_t lda, bool a_vec, const float* __restrict__ B, int64_t ldb,
                bool b_vec, float beta, float* __restrict__ C, int64_t ldc) {
  // [buffer][k][i or j], rows padded to 132 floats (conflict-free stores,
  // gemm_common.cuh); 2 * 2 * 8 * 132 floats = 16.5 KiB.
  __shared__ __align__(16) float a_tile[2][kBK][ALoader::kRowLength];
  __shared__ __align__(16) float b_tile[2][kBK][BLoader::kRowLength];

  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kBM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kBN;
  const int tr = threadIdx.x / 16;  // rows tr*4 + {0..3} and 64 + tr*4 + {0..3} of the tile
  const int tc = threadIdx.x % 16;  // columns tc*4 + {0..3} and 64 + tc*4 + {0..3}

  const bool a_k_contiguous = !trans_a;
  const bool b_k_contiguous = trans_b;
  ALoader a_loader;
  BLoader b_loader;

  float acc[8][8] = {};
  const int64_t steps = (K + kBK - 1) / kBK;

  if (steps > 0) {  // prologue: step 0 into buffer 0
    a_loader.fetch(A, lda, a_k_contiguous, a_vec, row0, 0, M, K);
    b_loader.fetch(B, ldb, b_k_contiguous, b_vec, col0, 0, N, K);
    a_loader.store(a_k_contiguous, a_tile[0]);
    b_loader.store(b_k_contiguous, b_tile[0]);
    __syncthreads();
  }

  for (int64_t step = 0; step < steps; ++step) {
    const int cur = static_cast<int>(step & 1);
    const bool has_next = step + 1 < steps;
    if (has_next) {  // issue the next step's global loads now; they complete while we compute
      a_loader.fetch(A, lda, a_k_contiguous, a_vec, row0, (step + 1) * kBK, M, K);
      b_loader.fetch(B, ldb, b_k_contiguous, b_vec, col0, (step + 1) * kBK, N, K);
    }

#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      float4 a0 = *reinterpret_cast<const float4*>(&a_tile[cur][k][tr * 4]);
      float4 a1 = *reinterpret_cast<const float4*>(&a_tile[cur][k][kHalf + tr * 4]);
      float4 b0 = *reinterpret_cast<const float4*>(&b_tile[cur][k][tc * 4]);
      float4 b1 = *reinterpret_cast<const float4*>(&b_tile[cur][k][kHalf + tc * 4]);
      const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] += a[i] * b[j];
    }

    if (has_next) {
      // The other buffer was last read in the previous step, which ended
      // with a __syncthreads, so it is free to overwrite.
      a_loader.store(a_k_contiguous, a_tile[cur ^ 1]);
      b_loader.store(b_k_contiguous, b_tile[cur ^ 1]);
    }
    __syncthreads();  // next buffer complete, and everyone is done with this one
  }

  // acc[i][j] is C(row0 + row_of(i), col0 + col_of(j)).
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int64_t row = row0 + (i < 4 ? tr * 4 + i : kHalf + tr * 4 + (i - 4));
    if (row >= M) continue;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int64_t col = col0 + (j < 4 ? tc * 4 + j : kHalf + tc * 4 + (j - 4));
      if (col < N) cuda_gemm::store_c(C, ldc, row, col, acc[i][j], alpha, beta);
    }
  }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // TF32 keeps 10 mantissa bits, so results carry ~1e-3 relative error
  // instead of FP32's ~1e-7: only when the caller allows it (off by default),
  // and only on GPUs with TF32 tensor cores (compute capability 8.0+).
  if (allow_tf32() && nib::cuda::properties().major >= 8) {
    gemm_tf32(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (!cuda_gemm::check_gemm("cuda::gemm", M, N, K, lda, ldb, ldc, kBM)) return;
  dim3 grid(cuda_gemm::tiles(N, kBN), cuda_gemm::tiles(M, kBM));
  cuda_detail::launch(gemm_kernel, grid, kThreads, trans_a, trans_b, M, N, K, alpha, A, lda, cuda_gemm::can_load_float4(A, lda), B, ldb, cuda_gemm::can_load_float4(B, ldb), beta, C, ldc);
}

}  // namespace nib::kernels::cuda
