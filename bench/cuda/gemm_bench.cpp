// GEMM rows: the teaching ladder against cuBLAS on square sizes, and the
// GEMMs behind every linear layer of the benchmarked networks.
//
// TF32: cuBLAS runs twice, with TF32 off (full FP32, nib's default) and on
// (CUBLAS_TF32_TENSOR_OP_MATH); nib's production rung runs with TF32 on too
// (kernels::set_allow_tf32(true), which kernels::cuda::gemm honours where it has a
// tensor-core path). Each TF32 row is compared with cuBLAS TF32; every
// row's error is measured against cuBLAS FP32.
#include <initializer_list>
#include <string>
#include <vector>

#include "bench/cuda/groups.h"
#include "kernels/gemm.h"
#include "kernels/registry.h"

namespace nib::bench::gpu {

namespace {

// One GEMM problem C[M,N] = op(A) op(B), with its operands on the GPU.
struct GemmProblem {
  bool trans_a = false, trans_b = false;
  int64_t M = 0, N = 0, K = 0;
  double flops() const { return 2.0 * M * N * K; }
  double bytes() const { return 4.0 * (M * K + K * N + M * N); }  // read A and B, write C (beta = 0)
};

struct Contender {
  std::string impl;
  kernels::GemmFn* fn;
  bool library, tf32;
};

// Times every contender on `p`; the FP32 library is timed first, its output
// is the reference for rel err and its time the baseline for vs lib.
void race(const Options& options, Results& results, const std::string& group, const std::string& model,
          const std::string& layer, const std::string& pass, const GemmProblem& p,
          const std::vector<Contender>& contenders) {
  DeviceBuffer A(p.M * p.K), B(p.K * p.N), C(p.M * p.N), C_fp32(p.M * p.N);
  fill_uniform(A, 1);
  fill_uniform(B, 2);
  // Row-major leading dimensions of the stored matrices: A is [M,K] or, transposed, [K,M].
  const int64_t lda = p.trans_a ? p.M : p.K, ldb = p.trans_b ? p.K : p.N, ldc = p.N;
  auto run = [&](kernels::GemmFn* fn, float* c) {
    fn(p.trans_a, p.trans_b, p.M, p.N, p.K, 1.0f, A.get(), lda, B.get(), ldb, 0.0f, c, ldc);
  };
  char shape[160];
  std::snprintf(shape, sizeof(shape), "M=%lld N=%lld K=%lld%s%s", static_cast<long long>(p.M),
                static_cast<long long>(p.N), static_cast<long long>(p.K), p.trans_a ? " A^T" : "",
                p.trans_b ? " B^T" : "");

  double library_ms[2] = {NAN, NAN};  // [tf32]
  std::vector<float> expected;
  for (const Contender& c : contenders) {
    Tf32Scope tf32(c.tf32);
    float* out = c.library && !c.tf32 ? C_fp32.get() : C.get();
    const Timing t = time_gpu([&] { run(c.fn, out); }, options.timing);
    Row row{group, model, layer, group, pass, shape, c.impl, c.library, c.tf32};
    row.flops = p.flops();
    row.bytes = p.bytes();
    row.ms = t.median_ms;
    row.samples = t.samples;
    if (c.library) library_ms[c.tf32] = t.median_ms;
    row.vs_library = library_ms[c.tf32] / t.median_ms;
    if (c.library && !c.tf32)
      expected = C_fp32.download();
    else if (!expected.empty())
      row.rel_error = relative_difference(C.download(), expected);
    results.add(std::move(row));
  }
}

}  // namespace

void bench_gemm(const Options& options, Results& results) {
  // --quick: 1024 and 2048; --headline: 4096, the size of the GEMM target.
  for (int64_t n : {1024, 2048, 4096, 8192}) {
    if (!options.runs(n <= 2048, n == 4096)) continue;
    // Libraries first (they set the baselines), then the ladder from the bottom.
    std::vector<Contender> contenders = {{"cublas", kernels::cublas::gemm, true, false},
                                         {"cublas-tf32", kernels::cublas::gemm, true, true}};
    // The naive rung (one thread per output, no reuse) takes seconds per call
    // above 2048 and teaches nothing new there: skipped.
    if (n <= 2048) contenders.push_back({"naive", kernels::cuda::gemm_naive, false, false});
    contenders.push_back({"tiled", kernels::cuda::gemm_tiled, false, false});
    contenders.push_back({"regblock", kernels::cuda::gemm_regblock, false, false});
    contenders.push_back({"cuda", kernels::cuda::gemm, false, false});
    contenders.push_back({"cuda-tf32", kernels::cuda::gemm, false, true});
    race(options, results, "gemm", "square", "n=" + std::to_string(n), "", GemmProblem{false, false, n, n, n},
         contenders);
    if (n > 2048) std::printf("   (naive rung skipped above n=2048: seconds per call, nothing new to learn)\n");
    cuda::empty_cache();
  }
}

// A linear layer y[B,out] = x[B,in] W[out,in]^T + b is three GEMMs per step:
//   fwd         y  = x  W^T       M=B,   N=out, K=in   (B transposed)
//   bwd-data    gx = gy W         M=B,   N=in,  K=out
//   bwd-weight  gW = gy^T x       M=out, N=in,  K=B    (A transposed)
void bench_linear(const Options& options, Results& results) {
  struct Linear {
    const char* model;
    const char* layer;
    int64_t batch, in, out;
    bool quick;
  };
  const std::vector<Linear> layers = {
      {"basic-cnn", "fc1", 128, 64 * 4 * 4, 128, true}, {"basic-cnn", "fc2", 128, 128, 10, true},
      {"vgg16", "fc6", 32, 512 * 7 * 7, 4096, false},   {"vgg16", "fc7", 32, 4096, 4096, false},
      {"vgg16", "fc8", 32, 4096, 1000, false},          {"mobilenetv2", "classifier", 64, 1280, 1000, false},
  };
  const std::vector<Contender> contenders = {{"cublas", kernels::cublas::gemm, true, false},
                                             {"cuda", kernels::cuda::gemm, false, false}};
  for (const Linear& l : layers) {
    if (!options.runs(l.quick, false)) continue;
    race(options, results, "linear", l.model, l.layer, "fwd", GemmProblem{false, true, l.batch, l.out, l.in},
         contenders);
    race(options, results, "linear", l.model, l.layer, "bwd-data", GemmProblem{false, false, l.batch, l.in, l.out},
         contenders);
    race(options, results, "linear", l.model, l.layer, "bwd-weight", GemmProblem{true, false, l.out, l.in, l.batch},
         contenders);
  }
  cuda::empty_cache();
}

}  // namespace nib::bench::gpu
