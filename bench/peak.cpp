#include "bench/peak.h"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "bench/bench_common.h"
#include "kernels/gemm.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#include "util/args.h"

#include <omp.h>

namespace nib::bench {

namespace {

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// 16 dependent adds per iteration: 16 cycles per iteration on any core that
// adds in one cycle. Returns cycles per second of thread CPU time.
double clock_hz() {
  double best = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const uint64_t iterations = 20'000'000;
    uint64_t counter = iterations, value = 0;
    const double t0 = thread_seconds();
#if defined(__x86_64__)
    asm volatile(
        "1:\n\t"
        "add $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\t"
        "add $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\t"
        "add $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\t"
        "add $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\t"
        "dec %0\n\tjnz 1b\n\t"
        : "+r"(counter), "+r"(value)
        :
        : "cc");
#endif
    const double seconds = thread_seconds() - t0;
    if (seconds > 0) best = std::max(best, 16.0 * static_cast<double>(iterations) / seconds);
  }
  return best;
}

// FP32 FLOPs per second of thread CPU time from 12 independent FMA chains.
double fma_flops_per_second(int* vector_bits) {
  double best = 0;
  *vector_bits = 0;
#if defined(__x86_64__) && (defined(__AVX512F__) || defined(__AVX2__))
#ifdef __AVX512F__
  *vector_bits = 512;
#define NIB_FMA(i) "vfmadd231ps %%zmm12, %%zmm13, %%zmm" #i "\n\t"
#define NIB_REG "zmm"
#else
  *vector_bits = 256;
#define NIB_FMA(i) "vfmadd231ps %%ymm12, %%ymm13, %%ymm" #i "\n\t"
#define NIB_REG "ymm"
#endif
  const double lanes = *vector_bits / 32.0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const uint64_t iterations = 10'000'000;
    uint64_t counter = iterations;
    const double t0 = thread_seconds();
    asm volatile(
        "vxorps %%xmm12, %%xmm12, %%xmm12\n\t"
        "vxorps %%xmm13, %%xmm13, %%xmm13\n\t"
        "1:\n\t" NIB_FMA(0) NIB_FMA(1) NIB_FMA(2) NIB_FMA(3) NIB_FMA(4) NIB_FMA(5) NIB_FMA(6) NIB_FMA(7)
            NIB_FMA(8) NIB_FMA(9) NIB_FMA(10) NIB_FMA(11) "dec %0\n\tjnz 1b\n\t"
        : "+r"(counter)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm12", "xmm13");
    const double seconds = thread_seconds() - t0;
    if (seconds > 0) best = std::max(best, 12.0 * lanes * 2.0 * static_cast<double>(iterations) / seconds);
  }
#undef NIB_FMA
#undef NIB_REG
#endif
  return best;
}

}  // namespace

CpuPeak measure_cpu_peak() {
  CpuPeak p;
  p.ghz = clock_hz() / 1e9;
  const double flops = fma_flops_per_second(&p.vector_bits);
  p.flops_per_cycle = p.ghz > 0 ? flops / (p.ghz * 1e9) : 0;
  p.cores = logical_cpus();
  return p;
}

namespace {

double process_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double wall_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// fast::gemm C = A·B on n x n matrices with `threads` threads: the best of
// `repeats` calls after a warm-up, as GFLOP/s of wall time and of CPU time
// (FLOPs / CPU seconds of all threads: what each running core achieved, which a
// shared machine does not lower as much; spinning at barriers counts as CPU).
struct GemmRate {
  double wall_gflops = 0, cpu_gflops_per_core = 0;
};
GemmRate gemm_rate(int64_t n, int threads, int repeats) {
  Generator gen(1);
  Tensor a = Tensor::randn({n, n}, gen), b = Tensor::randn({n, n}, gen), c = Tensor::zeros({n, n});
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  GemmRate best;
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  for (int i = 0; i <= repeats; ++i) {
    const double w0 = wall_seconds(), c0 = process_seconds();
    kernels::fast::gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    const double wall = wall_seconds() - w0, cpu = process_seconds() - c0;
    if (i == 0) continue;  // warm-up
    best.wall_gflops = std::max(best.wall_gflops, flops / wall / 1e9);
    best.cpu_gflops_per_core = std::max(best.cpu_gflops_per_core, flops / cpu / 1e9);  // cpu: all threads' seconds
  }
  omp_set_num_threads(saved);
  return best;
}

}  // namespace

int peak(int argc, char** argv) {
  Args args(argc, argv, 3, {"gemm"});
  const bool gemm = args.flag("gemm");
  const int64_t repeats = args.get_int("repeats", 3);
  args.finish();
  const CpuPeak p = measure_cpu_peak();
  std::printf("%s, load average %s\n", cpu_description().c_str(), load_average().c_str());
  std::printf("clock     %.2f GHz (16 dependent adds per loop, timed in thread CPU time)\n", p.ghz);
  std::printf("FMA       %.1f FP32 FLOP per cycle per core (%d-bit vfmadd231ps, 12 independent chains)\n",
              p.flops_per_cycle, p.vector_bits);
  std::printf("peak      %.1f GFLOP/s per core, %.1f GFLOP/s on %d cores\n", p.core_gflops(), p.machine_gflops(),
              p.cores);
  if (!gemm) return 0;
  std::printf("\nfast::gemm, n x n x n, best of %lld after a warm-up (load average %s):\n",
              static_cast<long long>(repeats), load_average().c_str());
  for (int64_t n : {1024, 4096}) {
    for (int threads : {1, p.cores}) {
      const GemmRate r = gemm_rate(n, threads, static_cast<int>(repeats));
      const double peak_used = p.core_gflops() * threads;
      std::printf("  n %5lld, %d thread%s: %7.1f GFLOP/s wall (%4.1f%% of %d-core peak), %7.1f GFLOP/s per core "
                  "of CPU time (%4.1f%% of a core's peak)\n",
                  static_cast<long long>(n), threads, threads == 1 ? " " : "s", r.wall_gflops,
                  100.0 * r.wall_gflops / peak_used, threads, r.cpu_gflops_per_core,
                  100.0 * r.cpu_gflops_per_core / p.core_gflops());
      if (threads == p.cores) break;
    }
  }
  return 0;
}

}  // namespace nib::bench
