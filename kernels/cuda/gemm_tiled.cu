// GEMM rung 2 of 5: shared-memory tiles.
//
// What changes from rung 1 (gemm_naive.cu): a block of 32 x 32 threads
// computes a 32 x 32 tile of C. It walks K in steps of 32; at each step the
// block copies a 32 x 32 tile of op(A) and one of op(B) into shared memory
// (one element per thread), waits, and then every thread does 32
// multiply-adds reading only shared memory.
//
// Why it helps: each element brought from global memory is now used by 32
// threads instead of one, so global traffic drops by a factor of the tile
// width (32). The copies are arranged so that consecutive threads read
// consecutive addresses whichever operand is transposed (coalescing), and
// the tiles have one padding column so that the transposed writes do not
// all land in the same shared-memory bank.
//
// What still limits it: each multiply-add needs two shared-memory loads, and
// shared memory, though fast, is far slower than registers. Rung 3 fixes
// that by computing several outputs per thread.
// Speed: measured in bench/ (pending a GPU run).
#include "device/cuda/context.h"
#include "device/cuda/launch.cuh"
#include "kernels/cuda/gemm_common.cuh"
#include "kernels/gemm.h"

namespace nib::kernels::cuda {

namespace {

constexpr int kTile = 32;  // block = kTile x kTile threads = one tile of C

__global__ void gemm_tiled_kernel(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                                  const float* __restrict__ A, int64_t lda, const float* __restrict__ B, int64_t ldb,
                                  float beta, float* __restrict__ C, int64_t ldc) {
  // a_tile[i][k] holds op(A)(row0 + i, k0 + k); b_tile[k][j] holds op(B)(k0 + k, col0 + j).
  // The +1 column keeps a column of the tile spread across all 32 banks.
  __shared__ float a_tile[kTile][kTile + 1];
  __shared__ float b_tile[kTile][kTile + 1];

  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTile;
  float acc = 0.0f;

  for (int64_t k0 = 0; k0 < K; k0 += kTile) {
    // Load op(A): tx runs along whichever index is contiguous in memory.
    if (!trans_a) {  // A[i * lda + k]: contiguous in k
      int64_t i = row0 + ty, k = k0 + tx;
      a_tile[ty][tx] = (i < M && k < K) ? A[i * lda + k] : 0.0f;
    } else {  // A[k * lda + i]: contiguous in i
      int64_t i = row0 + tx, k = k0 + ty;
      a_tile[tx][ty] = (i < M && k < K) ? A[k * lda + i] : 0.0f;
    }
    // Load op(B) likewise.
    if (!trans_b) {  // B[k * ldb + j]: contiguous in j
      int64_t k = k0 + ty, j = col0 + tx;
      b_tile[ty][tx] = (k < K && j < N) ? B[k * ldb + j] : 0.0f;
    } else {  // B[j * ldb + k]: contiguous in k
      int64_t k = k0 + tx, j = col0 + ty;
      b_tile[tx][ty] = (k < K && j < N) ? B[j * ldb + k] : 0.0f;
    }
    __syncthreads();  // the tiles are complete

#pragma unroll
    for (int k = 0; k < kTile; ++k) acc += a_tile[ty][k] * b_tile[k][tx];
    __syncthreads();  // everyone is done reading before the next tiles overwrite them
  }

  const int64_t i = row0 + ty, j = col0 + tx;
  if (i < M && j < N) cuda_gemm::store_c(C, ldc, i, j, acc, alpha, beta);
}

}  // namespace

void gemm_tiled(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (!cuda_gemm::check_gemm("cuda::gemm_tiled", M, N, K, lda, ldb, ldc, kTile)) return;
  dim3 block(kTile, kTile);
  dim3 grid(cuda_gemm::tiles(N, kTile), cuda_gemm::tiles(M, kTile));
  cuda_detail::launch(gemm_tiled_kernel, grid, block, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace nib::kernels::cuda
