// GEMM rung 3 of 5: register blocking (each thread computes an 8 x 8 tile of C).
//
// What changes from rung 2 (gemm_tiled.cu): a block of 64 threads computes a
// 64 x 64 tile of C, and each thread owns an 8 x 8 sub-tile held in 64
// registers. At every step k of a shared tile, the thread reads 8 values of
// op(A) (its rows) and 8 values of op(B) (its columns) into registers and
// does all 8 x 8 = 64 multiply-adds between them (an outer product).
//
// Why it helps:
//  - reuse in registers: 16 shared-memory loads feed 64 multiply-adds
//    (rung 2: 2 loads per multiply-add), so shared-memory bandwidth stops
//    being the limit and the arithmetic units get busy;
//  - the op(A) tile is stored k-major (a_tile[k][i]), so a thread's 8 rows
//    are contiguous and read as two float4; the same holds for op(B);
//  - global loads are float4 (16 bytes) when the pointer and the leading
//    dimension allow it (gemm_common.cuh), with a scalar path for the edges.
//
// What it costs: 64 accumulators per thread mean many registers per thread,
// so fewer threads fit on a multiprocessor (lower occupancy); the block is
// small (64 threads) and every tile still waits for its global loads
// (two __syncthreads per step, nothing overlapped). Rung 4 attacks that.
// Speed: measured in bench/ (pending a GPU run).
#include "device/cuda/context.h"
#include "device/cuda/launch.cuh"
#include "kernels/cuda/gemm_common.cuh"
#include "kernels/gemm.h"

namespace nib::kernels::cuda {

namespace {

constexpr int kBM = 64, kBN = 64, kBK = 8;  // block tile of C, and depth of one step
constexpr int kTM = 8, kTN = 8;             // thread tile of C
constexpr int kThreads = (kBM / kTM) * (kBN / kTN);  // 64

using ALoader = cuda_gemm::TileLoader<kBM, kBK, kThreads>;
using BLoader = cuda_gemm::TileLoader<kBN, kBK, kThreads>;

// At most 128 registers a thread, so that 8 blocks (16 warps) fit on a
// multiprocessor instead of 6 (12 warps). ptxas -v, sm_90, CUDA 13.0: 165
// registers and no spills before; 128 registers and 24 bytes spilled (stored
// and loaded) with __launch_bounds__(kThreads, 8). Expected to help this
// rung hide its unoverlapped global loads; not yet measured on a GPU.
__global__ void __launch_bounds__(kThreads, 8)
    gemm_regblock_kernel(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float* __restrict__ A, int64_t lda, bool a_vec, const float* __restrict__ B,
                         int64_t ldb, bool b_vec, float beta, float* __restrict__ C, int64_t ldc) {
  // a_tile[k][i] = op(A)(row0 + i, k0 + k);  b_tile[k][j] = op(B)(k0 + k, col0 + j);
  // rows padded to 68 floats, which makes the loader's stores conflict-free (gemm_common.cuh)
  __shared__ __align__(16) float a_tile[kBK][ALoader::kRowLength];
  __shared__ __align__(16) float b_tile[kBK][BLoader::kRowLength];

  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kBM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kBN;
  const int tr = threadIdx.x / (kBN / kTN);  // 0..7: this thread's rows are tr*8 .. tr*8+7 of the tile
  const int tc = threadIdx.x % (kBN / kTN);  // 0..7: its columns are tc*8 .. tc*8+7

  // Plain A is contiguous along k; plain B along j (see gemm_common.cuh).
  const bool a_k_contiguous = !trans_a;
  const bool b_k_contiguous = trans_b;
  ALoader a_loader;
  BLoader b_loader;

  float acc[kTM][kTN] = {};
  float a_reg[kTM], b_reg[kTN];

  for (int64_t k0 = 0; k0 < K; k0 += kBK) {
    a_loader.fetch(A, lda, a_k_contiguous, a_vec, row0, k0, M, K);
    b_loader.fetch(B, ldb, b_k_contiguous, b_vec, col0, k0, N, K);
    a_loader.store(a_k_contiguous, a_tile);
    b_loader.store(b_k_contiguous, b_tile);
    __syncthreads();

#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      // Two float4 reads each: rows tr*8.. and columns tc*8.. are contiguous.
      float4 a0 = *reinterpret_cast<const float4*>(&a_tile[k][tr * kTM]);
      float4 a1 = *reinterpret_cast<const float4*>(&a_tile[k][tr * kTM + 4]);
      float4 b0 = *reinterpret_cast<const float4*>(&b_tile[k][tc * kTN]);
      float4 b1 = *reinterpret_cast<const float4*>(&b_tile[k][tc * kTN + 4]);
      a_reg[0] = a0.x, a_reg[1] = a0.y, a_reg[2] = a0.z, a_reg[3] = a0.w;
      a_reg[4] = a1.x, a_reg[5] = a1.y, a_reg[6] = a1.z, a_reg[7] = a1.w;
      b_reg[0] = b0.x, b_reg[1] = b0.y, b_reg[2] = b0.z, b_reg[3] = b0.w;
      b_reg[4] = b1.x, b_reg[5] = b1.y, b_reg[6] = b1.z, b_reg[7] = b1.w;
#pragma unroll
      for (int i = 0; i < kTM; ++i)
#pragma unroll
        for (int j = 0; j < kTN; ++j) acc[i][j] += a_reg[i] * b_reg[j];
    }
    __syncthreads();  // before the next step overwrites the tiles
  }

#pragma unroll
  for (int i = 0; i < kTM; ++i) {
    const int64_t row = row0 + tr * kTM + i;
    if (row >= M) break;
#pragma unroll
    for (int j = 0; j < kTN; ++j) {
      const int64_t col = col0 + tc * kTN + j;
      if (col < N) cuda_gemm::store_c(C, ldc, row, col, acc[i][j], alpha, beta);
    }
  }
}

}  // namespace

void gemm_regblock(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                   int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (!cuda_gemm::check_gemm("cuda::gemm_regblock", M, N, K, lda, ldb, ldc, kBM)) return;
  dim3 grid(cuda_gemm::tiles(N, kBN), cuda_gemm::tiles(M, kBM));
  cuda_detail::launch(gemm_regblock_kernel, grid, kThreads, trans_a, trans_b, M, N, K, alpha, A, lda, cuda_gemm::can_load_float4(A, lda), B, ldb, cuda_gemm::can_load_float4(B, ldb), beta, C, ldc);
}

}  // namespace nib::kernels::cuda
