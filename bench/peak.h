// The CPU's FMA peak, measured rather than looked up: `nib bench peak`.
//
// Clock: a chain of dependent integer adds (one per cycle on every x86 core
// since the Pentium 4's successors) timed in this thread's CPU time, so the
// estimate holds on a shared machine too: a thread that waits for a core
// accrues no CPU time. FMA throughput: independent vfmadd231ps chains on
// 512-bit (AVX-512) or 256-bit (AVX2) registers, more chains than latency x
// pipes, timed the same way: FLOP per cycle = FLOPs / (seconds x clock).
// Peak = cores x clock x FLOP per cycle, the number GEMM efficiency is
// quoted against (bench/results/cpu_ops_*.md).
#pragma once

namespace nib::bench {

struct CpuPeak {
  double ghz = 0;              // cycles per nanosecond of thread CPU time
  double flops_per_cycle = 0;  // FP32, one core, measured
  int vector_bits = 0;         // 512 (AVX-512) or 256 (AVX2)
  int cores = 0;               // logical CPUs (the machine's, as OpenMP uses them)
  double core_gflops() const { return ghz * flops_per_cycle; }
  double machine_gflops() const { return core_gflops() * cores; }
};

CpuPeak measure_cpu_peak();

int peak(int argc, char** argv);  // `nib bench peak`

}  // namespace nib::bench
