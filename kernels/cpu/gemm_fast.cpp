// GEMM on the CPU, fast version (first cut: i-k-j order so the inner loop
// streams rows of B and C and vectorises; rows split over OpenMP threads).
#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/gemm.h"

namespace nib::kernels::fast {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // Materialise Bᵀ once so the inner loop is always unit-stride.
  std::vector<float> bt;
  const float* Bk = B;
  int64_t ldbk = ldb;
  if (trans_b) {
    bt.resize(static_cast<size_t>(K * N));
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) bt[k * N + j] = B[j * ldb + k];
    Bk = bt.data();
    ldbk = N;
  }
#pragma omp parallel for
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    for (int64_t k = 0; k < K; ++k) {
      float a = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
      const float* b = Bk + k * ldbk;
#pragma omp simd
      for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
    }
  }
}

}  // namespace nib::kernels::fast
