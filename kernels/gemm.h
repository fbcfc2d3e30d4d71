// GEMM, the workhorse under linear layers and convolutions.
//
//   C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C
//
// Row-major. op(A) = A ([M,K], row stride lda) or, with trans_a, the
// transpose of a stored [K,M] matrix; likewise for B. beta == 0 means C is
// overwritten without being read (it may hold garbage or NaN).
#pragma once

#include <cstdint>

namespace nib::kernels {

using GemmFn = void(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

namespace reference {
GemmFn gemm;  // triple loop: the definition
}
namespace fast {
GemmFn gemm;  // packed panels + register-blocked micro-kernel, OpenMP
}
namespace cuda {
// The teaching ladder (kernels/cuda/gemm_*.cu); `gemm` is the production rung.
GemmFn gemm_naive;
GemmFn gemm_tiled;
GemmFn gemm_regblock;
GemmFn gemm_tf32;  // TF32 tensor cores (sm_80+); what gemm runs when kernels::allow_tf32()
GemmFn gemm;
}  // namespace cuda
namespace cublas {
GemmFn gemm;  // cuBLAS
}

}  // namespace nib::kernels
