// GEMM rung 1 of 5: one thread per element of C.
//
// Thread (i, j) walks k = 0..K-1 and reads a row of op(A) and a column of
// op(B) straight from global memory. It is the CPU reference moved onto the
// GPU, and it is correct for every size, transpose and leading dimension,
// which makes it the baseline the other rungs are measured against.
//
// Why it is slow: every multiply-add needs two global loads (8 bytes for 2
// flops), and nothing loaded is shared between threads except by luck in the
// L1/L2 caches. The threads of a warp run along j (threadIdx.x), so the B
// loads (when B is not transposed) and the C stores are coalesced, while the
// A loads are one address broadcast to the warp. The kernel is limited by
// memory bandwidth long before the arithmetic units are busy.
// Speed: measured in bench/ (pending a GPU run).
#include "device/cuda/context.h"
#include "device/cuda/launch.cuh"
#include "kernels/cuda/gemm_common.cuh"
#include "kernels/gemm.h"

namespace nib::kernels::cuda {

namespace {

constexpr int kBlock = 16;  // 16 x 16 threads, one C element each

__global__ void gemm_naive_kernel(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                                  const float* __restrict__ A, int64_t lda, const float* __restrict__ B, int64_t ldb,
                                  float beta, float* __restrict__ C, int64_t ldc) {
  const int64_t i = static_cast<int64_t>(blockIdx.y) * kBlock + threadIdx.y;  // row of C
  const int64_t j = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x;  // column of C
  if (i >= M || j >= N) return;
  float acc = 0.0f;
  for (int64_t k = 0; k < K; ++k)
    acc += cuda_gemm::load_op_a(A, lda, trans_a, i, k) * cuda_gemm::load_op_b(B, ldb, trans_b, k, j);
  cuda_gemm::store_c(C, ldc, i, j, acc, alpha, beta);
}

}  // namespace

void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (!cuda_gemm::check_gemm("cuda::gemm_naive", M, N, K, lda, ldb, ldc, kBlock)) return;
  dim3 block(kBlock, kBlock);
  dim3 grid(cuda_gemm::tiles(N, kBlock), cuda_gemm::tiles(M, kBlock));
  cuda_detail::launch(gemm_naive_kernel, grid, block, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace nib::kernels::cuda
