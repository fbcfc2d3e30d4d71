// fast::gemm against the reference on sizes that hit every edge of its
// blocking (partial register tiles, partial depth and panel blocks), every
// transpose combination, alpha/beta and leading dimensions wider than a row.
#include "kernels/gemm.h"

#include <cmath>
#include <limits>
#include <vector>

#include "tests/helpers.h"

using namespace nib;
using nib::testing::random_vector;

namespace {

struct GemmCase {
  int64_t M, N, K;
  bool trans_a, trans_b;
  float alpha, beta;
  int64_t extra_ld = 0;  // leading dimensions this much larger than the row length
};

// Runs both implementations on the same random data; C starts random too, so
// beta != 0 is checked against what it scaled.
void compare(const GemmCase& c) {
  int64_t a_rows = c.trans_a ? c.K : c.M, a_cols = c.trans_a ? c.M : c.K;
  int64_t b_rows = c.trans_b ? c.N : c.K, b_cols = c.trans_b ? c.K : c.N;
  int64_t lda = a_cols + c.extra_ld, ldb = b_cols + c.extra_ld, ldc = c.N + c.extra_ld;
  std::vector<float> A = random_vector(static_cast<size_t>(a_rows * lda), 1);
  std::vector<float> B = random_vector(static_cast<size_t>(b_rows * ldb), 2);
  std::vector<float> C_ref = random_vector(static_cast<size_t>(c.M * ldc), 3);
  std::vector<float> C_fast = C_ref;
  if (c.beta == 0.0f)  // beta == 0 must not read C: NaN there must not leak out
    std::fill(C_fast.begin(), C_fast.end(), std::numeric_limits<float>::quiet_NaN());

  kernels::reference::gemm(c.trans_a, c.trans_b, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta,
                           C_ref.data(), ldc);
  kernels::fast::gemm(c.trans_a, c.trans_b, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta,
                      C_fast.data(), ldc);

  // Compare only the M x N part: the padding columns beyond N are not C's.
  std::vector<float> ref, fast;
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) {
      ref.push_back(C_ref[i * ldc + j]);
      fast.push_back(C_fast[i * ldc + j]);
    }
  INFO("M=" << c.M << " N=" << c.N << " K=" << c.K << " trans_a=" << c.trans_a << " trans_b=" << c.trans_b
            << " alpha=" << c.alpha << " beta=" << c.beta << " extra_ld=" << c.extra_ld);
  // Sums of K products of unit normals grow like sqrt(K); float error with it.
  NIB_CHECK_CLOSE(fast, ref, 1e-5 * std::sqrt(static_cast<double>(c.K) + 1.0) * 4);
}

}  // namespace

TEST_CASE("fast gemm matches the reference for every transpose combination on odd sizes") {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {7, 5, 3}, {13, 35, 17}, {6, 32, 256},
                             {97, 33, 257}, {5, 70, 1}})
        compare({M, N, K, ta, tb, 1.0f, 0.0f});
}

TEST_CASE("fast gemm applies alpha and beta and respects leading dimensions") {
  compare({23, 41, 19, false, false, 0.5f, 1.0f});
  compare({23, 41, 19, true, false, -2.0f, 0.25f});
  compare({23, 41, 19, false, true, 1.0f, -1.0f, 3});
  compare({23, 41, 19, true, true, 1.5f, 0.0f, 5});
  compare({100, 9, 300, false, true, 1.0f, 2.0f, 1});  // several depth blocks: beta only on the first
}

TEST_CASE("fast gemm crosses its cache blocks on a product big enough to use threads") {
  compare({203, 2100, 300, false, false, 1.0f, 0.5f});  // > one A block, > one B panel, > one depth block
  compare({3100, 20, 40, true, false, 1.0f, 0.0f});    // > one A panel
  compare({130, 77, 520, true, true, 1.0f, 0.0f, 2});
}

TEST_CASE("gemm with K == 0 scales C by beta, and beta == 0 clears it") {
  for (auto* gemm : {kernels::reference::gemm, kernels::fast::gemm}) {
    std::vector<float> C = {1, 2, 3, 4};
    gemm(false, false, 2, 2, 0, 1.0f, nullptr, 0, nullptr, 2, 3.0f, C.data(), 2);
    CHECK(C == std::vector<float>{3, 6, 9, 12});
    std::fill(C.begin(), C.end(), std::numeric_limits<float>::quiet_NaN());
    gemm(false, false, 2, 2, 0, 1.0f, nullptr, 0, nullptr, 2, 0.0f, C.data(), 2);
    CHECK(C == std::vector<float>{0, 0, 0, 0});
  }
}
