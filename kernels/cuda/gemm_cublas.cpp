// cublas::gemm: the same row-major GEMM through cuBLAS.
//
// cuBLAS is column-major. A row-major matrix X [rows, cols] with leading
// dimension ld is, byte for byte, the column-major matrix Xᵀ [cols, rows]
// with the same ld. So instead of C = op(A)·op(B) we ask cuBLAS for
//
//   Cᵀ = op(B)ᵀ · op(A)ᵀ        (an N x M column-major result = C row-major)
//
// passing B first and A second, with the sizes swapped (N, M, K) and each
// operand's transpose flag unchanged: the column-major view of a plain
// row-major B [K,N] already is Bᵀ = op(B)ᵀ, so it needs CUBLAS_OP_N, and a
// transposed one needs CUBLAS_OP_T.
//
// TF32 tensor cores only when kernels::allow_tf32(): nib's default is full
// FP32 so that results match the CPU reference.
#include <algorithm>
#include <climits>

#include "device/cuda/context.h"
#include "kernels/gemm.h"
#include "kernels/registry.h"
#include "util/error.h"

namespace nib::kernels::cublas {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  NIB_CHECK(M >= 0 && N >= 0 && K >= 0, "cublas::gemm: negative size M=", M, " N=", N, " K=", K);
  if (M == 0 || N == 0) return;
  NIB_CHECK(M <= INT_MAX && N <= INT_MAX && K <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX,
            "cublas::gemm: sizes beyond 2^31 are not supported by cublasSgemm (M=", M, " N=", N, " K=", K, ")");
  // cuBLAS validates ld >= the number of rows of each column-major view,
  // even when the view has a single column, where a row-major caller may
  // pass anything (the stride is never used); likewise for an empty
  // operand (K == 0). Raise such ld to the minimum;
  // with more than one column a short ld is a caller bug and is reported.
  //   A plain: view [K rows, M cols];  A transposed: view [M rows, K cols].
  //   B plain: view [N rows, K cols];  B transposed: view [K rows, N cols].
  auto fix_ld = [](const char* what, int64_t ld, int64_t rows, int64_t cols) {
    const int64_t need = std::max<int64_t>(rows, 1);
    if (cols <= 1 || rows == 0) return std::max(ld, need);  // one column, or an empty matrix
    NIB_CHECK(ld >= need, "cublas::gemm: ", what, "=", ld, " is smaller than the row length ", need);
    return ld;
  };
  lda = fix_ld("lda", lda, trans_a ? M : K, trans_a ? K : M);
  ldb = fix_ld("ldb", ldb, trans_b ? K : N, trans_b ? N : K);
  ldc = fix_ld("ldc", ldc, N, M);

  cublasHandle_t handle = nib::cuda::cublas();  // already bound to nib::cuda::stream()
  NIB_CUBLAS_CHECK(cublasSetMathMode(handle, allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  // With beta == 0 cuBLAS does not read C, matching gemm.h's contract.
  NIB_CUBLAS_CHECK(cublasSgemm(handle, op_b, op_a, static_cast<int>(N), static_cast<int>(M), static_cast<int>(K),
                               &alpha, B, static_cast<int>(ldb), A, static_cast<int>(lda), &beta, C,
                               static_cast<int>(ldc)));
}

}  // namespace nib::kernels::cublas
