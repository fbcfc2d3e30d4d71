// GEMM, the definition: for every output, a dot product over K.
// Slow (no reuse of A or B from cache) but obviously right; every other GEMM
// in nib is tested against it.
#include "kernels/gemm.h"

namespace nib::kernels::reference {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;  // double, so the reference is the more accurate side of every comparison
      for (int64_t k = 0; k < K; ++k) {
        float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += static_cast<double>(a) * b;
      }
      float prior = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
      C[i * ldc + j] = alpha * static_cast<float>(acc) + prior;
    }
  }
}

}  // namespace nib::kernels::reference
