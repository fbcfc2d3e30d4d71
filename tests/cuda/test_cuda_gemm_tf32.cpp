// GEMM rung 5 (kernels::cuda::gemm_tf32, TF32 tensor cores) against the CPU
// reference, and kernels::cuda::gemm's choice between it and the FP32 rung 4.
//
// TF32 rounds every input to 10 mantissa bits, so the comparison cannot use
// the 1e-4 of the FP32 rungs (test_cuda_gemm_conv.cpp); see tf32_tolerance.
// Everything else is as strict: odd sizes off every tile multiple, all four
// transposes, unaligned and padded leading dimensions, beta != 0, and C
// starting as NaN when beta == 0 (a kernel that skips an element or reads C
// fails).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/registry.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using nib::testing::DeviceBuffer;
using nib::testing::random_vector;
using nib::testing::ScopedAllowTf32;

namespace {

// TF32 tensor cores exist from compute capability 8.0 (Ampere) on.
bool has_tf32_tensor_cores() {
  int device = 0, major = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return false;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) return false;
  return major >= 8;
}

// The tolerance for relative_error (max |got - expected| / max(1, max |expected|)).
// Rounding to TF32 (round to nearest) changes each input by at most 2^-11 of
// itself, so each product a*b by at most ~2^-10 of |a*b|, and the K products'
// errors add up: at worst 2^-10 * sum |a*b|, which for random normal inputs is
// about 6e-4 K, while max |C| grows like sqrt(K). So the bound grows like
// sqrt(K): 2e-3 up to K = 32, ~4e-3 at K = 130. Typical errors (random signs)
// are ~10x smaller; an indexing bug (a wrong or missing k-slice, a shifted
// row) gives errors of order 1e-1 to 1, far above it.
double tf32_tolerance(int64_t K) { return 2e-3 * std::max(1.0, std::sqrt(static_cast<double>(K) / 32.0)); }

struct GemmCase {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
  int64_t ld_extra;  // row padding of every operand: 0 tight, 3 unaligned for float4, 4 aligned but padded
};

// Host operands of one case: stored shapes A [M,K] (or [K,M] transposed),
// B [K,N] (or [N,K]), C [M,N], each row padded by ld_extra.
struct GemmData {
  int64_t lda, ldb, ldc;
  std::vector<float> A, B, C;

  explicit GemmData(const GemmCase& g) {
    const int64_t a_rows = g.ta ? g.K : g.M, a_cols = g.ta ? g.M : g.K;
    const int64_t b_rows = g.tb ? g.N : g.K, b_cols = g.tb ? g.K : g.N;
    lda = a_cols + g.ld_extra, ldb = b_cols + g.ld_extra, ldc = g.N + g.ld_extra;
    A = random_vector(size_t(a_rows * lda), 41);
    B = random_vector(size_t(b_rows * ldb), 42);
    // beta == 0 must not read C: start it as NaN then.
    C = g.beta == 0.0f ? std::vector<float>(size_t(g.M * ldc), NAN) : random_vector(size_t(g.M * ldc), 43);
  }
};

// The M x N window of a row-major C with leading dimension ldc (the padding
// columns are never written).
std::vector<float> window(const std::vector<float>& C, int64_t M, int64_t N, int64_t ldc) {
  std::vector<float> out;
  out.reserve(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) out.push_back(C[size_t(i * ldc + j)]);
  return out;
}

// C after running `fn` on the GPU (the M x N window).
std::vector<float> run_on_gpu(kernels::GemmFn* fn, const GemmCase& g, const GemmData& d) {
  DeviceBuffer<float> dA(d.A), dB(d.B), dC(d.C);
  fn(g.ta, g.tb, g.M, g.N, g.K, g.alpha, dA.get(), d.lda, dB.get(), d.ldb, g.beta, dC.get(), d.ldc);
  return window(dC.to_host(), g.M, g.N, d.ldc);
}

// C after the CPU reference (the M x N window).
std::vector<float> run_reference(const GemmCase& g, const GemmData& d) {
  std::vector<float> C = d.C;
  kernels::reference::gemm(g.ta, g.tb, g.M, g.N, g.K, g.alpha, d.A.data(), d.lda, d.B.data(), d.ldb, g.beta, C.data(),
                           d.ldc);
  return window(C, g.M, g.N, d.ldc);
}

void check_against_reference(kernels::GemmFn* fn, const char* name, const GemmCase& g, double tolerance) {
  const GemmData d(g);
  INFO(name << " trans_a=" << g.ta << " trans_b=" << g.tb << " M=" << g.M << " N=" << g.N << " K=" << g.K
            << " alpha=" << g.alpha << " beta=" << g.beta << " ld_extra=" << g.ld_extra);
  NIB_CHECK_CLOSE(run_on_gpu(fn, g, d), run_reference(g, d), tolerance);
}

struct Size {
  int64_t M, N, K;
};

// 1x1x1; sizes off every tile multiple (128 for M and N, 16 for K, 16 for a
// fragment); one crossing the 128 tiles in M and N with a K that ends in a
// partial k-step; an exact multiple of every tile; several blocks both ways.
const std::vector<Size> kSizes = {{1, 1, 1},       {17, 33, 9},    {65, 17, 33},  {3, 130, 9},
                                  {129, 127, 130}, {128, 128, 32}, {200, 260, 24}};

// Every size, every transpose, three (alpha, beta, padding) variants.
std::vector<GemmCase> all_cases() {
  std::vector<GemmCase> cases;
  for (const Size& s : kSizes)
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      cases.push_back({ta, tb, s.M, s.N, s.K, 1.0f, 0.0f, 0});
      cases.push_back({ta, tb, s.M, s.N, s.K, 1.5f, 0.5f, 3});
      cases.push_back({ta, tb, s.M, s.N, s.K, -0.75f, 0.0f, 4});
    }
  return cases;
}

}  // namespace

TEST_CASE("cuda gemm_tf32: matches the reference within TF32 tolerance on odd sizes and all transposes") {
  if (!has_tf32_tensor_cores()) {
    MESSAGE("skipped: this GPU has no TF32 tensor cores (compute capability < 8.0)");
    return;
  }
  for (const GemmCase& g : all_cases())
    check_against_reference(kernels::cuda::gemm_tf32, "kernels::cuda::gemm_tf32", g, tf32_tolerance(g.K));
}

TEST_CASE("cuda gemm_tf32: K == 0 scales C by beta (or zeroes it)") {
  if (!has_tf32_tensor_cores()) return;
  // ld_extra = 1 keeps the empty operands' buffers non-empty.
  check_against_reference(kernels::cuda::gemm_tf32, "kernels::cuda::gemm_tf32", {false, false, 5, 7, 0, 1.0f, 0.5f, 1},
                          1e-6);
  check_against_reference(kernels::cuda::gemm_tf32, "kernels::cuda::gemm_tf32", {true, true, 5, 7, 0, 1.0f, 0.0f, 1}, 1e-6);
}

TEST_CASE("cuda gemm: kernels::cuda::gemm stays FP32 by default and runs gemm_tf32 when TF32 is allowed") {
  SUBCASE("TF32 off: the FP32 rung, within the tight FP32 tolerance") {
    ScopedAllowTf32 tf32(false);
    for (const GemmCase& g : all_cases()) check_against_reference(kernels::cuda::gemm, "kernels::cuda::gemm", g, 1e-4);
  }

  SUBCASE("TF32 on: bit for bit what gemm_tf32 computes, and not what the FP32 rung computes") {
    if (!has_tf32_tensor_cores()) {
      MESSAGE("skipped: this GPU has no TF32 tensor cores (kernels::cuda::gemm stays FP32 there)");
      return;
    }
    // Large enough K that TF32 rounding certainly changes some results.
    const GemmCase g{false, true, 129, 127, 130, 1.0f, 0.0f, 0};
    const GemmData d(g);
    std::vector<float> fp32, tf32, dispatched;
    {
      ScopedAllowTf32 off(false);
      fp32 = run_on_gpu(kernels::cuda::gemm, g, d);
    }
    tf32 = run_on_gpu(kernels::cuda::gemm_tf32, g, d);  // the rung itself ignores the flag
    {
      ScopedAllowTf32 on(true);
      dispatched = run_on_gpu(kernels::cuda::gemm, g, d);
      CHECK(kernels::allow_tf32());
    }
    // Same kernel, same inputs: the results are identical (no atomics, fixed order).
    CHECK(std::memcmp(dispatched.data(), tf32.data(), tf32.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(dispatched.data(), fp32.data(), fp32.size() * sizeof(float)) != 0);
    NIB_CHECK_CLOSE(dispatched, run_reference(g, d), tf32_tolerance(g.K));
  }
}

TEST_CASE("cuda gemm: ScopedAllowTf32 restores the previous setting") {
  const bool before = kernels::allow_tf32();
  {
    ScopedAllowTf32 on(true);
    CHECK(kernels::allow_tf32());
    {
      ScopedAllowTf32 off(false);
      CHECK_FALSE(kernels::allow_tf32());
    }
    CHECK(kernels::allow_tf32());
  }
  CHECK(kernels::allow_tf32() == before);
}
