// The groups of `nib bench gpu`, one file each; gpu_bench.cpp runs the ones
// asked for (--only gemm,conv,memory,train).
#pragma once

#include <cstdint>
#include <string>

#include "bench/cuda/results.h"
#include "bench/cuda/timing.h"
#include "kernels/registry.h"

namespace nib::bench::gpu {

struct Options {
  bool quick = false;     // a small subset of every group, for a smoke run
  bool headline = false;  // the cases the summaries quote (docs/kernels.md, scripts/gpu_check.sh)
  TimingOptions timing;
  int64_t train_steps = 20;        // timed steps per end-to-end measurement
  std::string python = "python3";  // runs the PyTorch reference
  std::string pytorch_script = "bench/pytorch_reference.py";

  // Whether a case runs: every case by default; with --quick and/or
  // --headline, the cases in either of the subsets asked for.
  bool runs(bool in_quick, bool in_headline) const {
    if (!quick && !headline) return true;
    return (quick && in_quick) || (headline && in_headline);
  }
};

// Sets kernels::allow_tf32 for one contender and restores it afterwards
// (also when the contender throws).
class Tf32Scope {
 public:
  explicit Tf32Scope(bool allow) : before_(kernels::allow_tf32()) { kernels::set_allow_tf32(allow); }
  ~Tf32Scope() { kernels::set_allow_tf32(before_); }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;

 private:
  bool before_;
};

// Square GEMMs (every rung of the ladder, cuBLAS with TF32 off and on) and
// the linear layers of the three networks (gemm_bench.cpp).
void bench_gemm(const Options& options, Results& results);
void bench_linear(const Options& options, Results& results);
// Every conv layer: fwd, bwd-data, bwd-weight, nib's cuda vs cuDNN (conv_bench.cpp).
void bench_conv(const Options& options, Results& results);
// Pooling, batch norm, softmax / cross-entropy, ReLU, add, Adam (memory_bench.cpp).
void bench_memory(const Options& options, Results& results);
// Training step of the basic CNN: nib cuda, nib cudnn+cublas, PyTorch (train_bench.cpp).
void bench_train(const Options& options, Results& results);

}  // namespace nib::bench::gpu
