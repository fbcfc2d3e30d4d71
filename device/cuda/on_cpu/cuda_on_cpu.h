// CUDA on the CPU: what nib's kernels need from CUDA, supplied on the host so
// that every hand-written kernel in kernels/cuda/*.cu runs in CI without a GPU
// (the `cuda_on_cpu` test; docs/kernels.md, "Running the CUDA kernels without
// a GPU").
//
// HIP-CPU (ROCm's header-only runtime, ../shared/third_party/hip-cpu) does the
// heavy lifting: it runs the blocks of a grid in parallel (one TBB task per
// block) and each thread of a block as a fiber on that block's OS thread, and
// it supplies threadIdx & co., dim3, float4, atomics and the math functions.
// This header adds the CUDA semantics nib relies on and HIP-CPU lacks:
//
//   1. Barriers that really wait. HIP-CPU's __syncthreads only yields to the
//      next fiber, which is right only when every thread passes the same
//      number of barriers. Here a block barrier (and a warp barrier) counts
//      arrivals and lets no thread past until every live thread of the block
//      (warp) has arrived; threads that returned from the kernel no longer
//      count, as on the GPU. Threads waiting forever are reported as a
//      deadlock instead of hanging.
//   2. 32-lane warps: __shfl_*_sync and __syncwarp with CUDA's semantics
//      (HIP-CPU's warps have 64 lanes). Lanes are numbered as CUDA does,
//      x fastest: lane = (x + y*Dx + z*Dx*Dy) % 32.
//   3. WMMA (nvcuda::wmma) for the TF32 GEMM: fragments with the documented
//      row/col-major and ldm semantics. Every lane holds the whole fragment
//      (the GPU spreads it over the warp); the results are the same.
//   4. A runtime stand-in with CUDA's names: memory is host memory, every
//      call and every kernel launch completes before it returns (so stream
//      order holds trivially), and the device reports itself as an H200
//      (132 SMs, compute capability 9.0) so that grid sizes, split-K and
//      grid-stride loops take the paths they take on the real thing.
//
// Only the harness build includes this header (through the cuda_runtime.h and
// mma.h next to it, found first on its include path); the CUDA sources are
// compiled unchanged. Launches go through nib::kernels::cuda_detail::launch
// (device/cuda/launch.cuh), which is the <<<>>> launch under nvcc and
// cuda_on_cpu::launch here.
//
// What this cannot see: out-of-bounds accesses (device memory is host
// memory), races that do not change a result, library calls (cuBLAS, cuDNN),
// the GPU math library's last bits, and speed.
#pragma once

#include <hip/hip_runtime.h>

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <type_traits>
#include <vector>

// ---- Keywords -------------------------------------------------------------
// HIP-CPU marks kernels and device functions for GCC's SIMD cloning, which
// only costs compile time here; __forceinline__ must stay `inline` in every
// build mode (HIP-CPU empties it without NDEBUG: multiple definitions).
#undef __global__
#define __global__
#undef __device__
#define __device__
#undef __forceinline__
#define __forceinline__ inline __attribute__((always_inline))
#define __grid_constant__
#define __align__(n) __attribute__((aligned(n)))

// CUDA's device-side min/max and isnan accept mixed integer types and live
// in the global namespace.
template <class A, class B>
inline std::common_type_t<A, B> min(A a, B b) {
  return b < a ? b : a;
}
template <class A, class B>
inline std::common_type_t<A, B> max(A a, B b) {
  return a < b ? b : a;
}
using std::isnan;

namespace nib::cuda_on_cpu {

// ---- Block scheduling: barriers that wait ---------------------------------
// A block runs on one OS thread, its threads taking turns as fibers, so the
// state its threads share lives in a thread_local, reset when thread 0 (the
// first to run) starts.
struct Barrier {
  unsigned arrived = 0;
  uint64_t generation = 0;  // completed rounds: a waiter leaves when it changes
};

struct Warp {
  unsigned live = 0;  // lanes that exist and have not returned
  Barrier barrier;
  uint64_t slot[32];  // what each lane offers to a shuffle
};

struct Block {
  unsigned threads = 0;
  unsigned live = 0;
  Barrier barrier;
  std::vector<Warp> warps;
  std::vector<char> done;  // by fiber
  uint64_t progress = 0;   // arrivals and exits: a full round without any is a deadlock
};

inline Block& block() {
  thread_local Block b;
  return b;
}

// The fiber running now, which is also HIP-CPU's linear thread index.
inline unsigned fiber() { return id(::hip::detail::Fiber::this_fiber()); }

// CUDA's linear thread index (x fastest), which decides warps and lanes.
inline unsigned cuda_rank() {
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}

inline void switch_to(unsigned f) { ::hip::detail::Fiber::yield(::hip::detail::Tile::fibers()[f]); }

// Hands the OS thread to the next thread of the block that has not returned.
inline void yield_to_next() {
  Block& b = block();
  const unsigned self = fiber();
  for (unsigned k = 1; k < b.threads; ++k) {
    unsigned f = (self + k) % b.threads;
    if (!b.done[f]) return switch_to(f);
  }
}

[[noreturn]] inline void report_deadlock() {
  std::fprintf(stderr,
               "cuda_on_cpu: deadlock in block (%u, %u, %u): every live thread waits at a barrier that cannot "
               "complete (a __syncthreads or __syncwarp reached by only some threads?)\n",
               static_cast<unsigned>(blockIdx.x), static_cast<unsigned>(blockIdx.y),
               static_cast<unsigned>(blockIdx.z));
  std::abort();
}

template <class Done>
void wait_until(Done done) {
  Block& b = block();
  uint64_t seen = b.progress;
  int idle_rounds = 0;
  while (!done()) {
    yield_to_next();
    if (b.progress != seen) {
      seen = b.progress;
      idle_rounds = 0;
    } else if (++idle_rounds > 4) {
      report_deadlock();
    }
  }
}

// The last of `live` participants to arrive releases the others.
inline void release_if_complete(Barrier& bar, unsigned live) {
  if (bar.arrived > 0 && bar.arrived == live) {
    bar.arrived = 0;
    ++bar.generation;
  }
}

inline void arrive_and_wait(Barrier& bar, const unsigned& live) {
  Block& b = block();
  ++b.progress;
  const uint64_t generation = bar.generation;
  ++bar.arrived;
  release_if_complete(bar, live);
  wait_until([&] { return bar.generation != generation; });
}

inline void sync_block() { arrive_and_wait(block().barrier, block().live); }

inline void sync_warp() {
  Warp& w = block().warps[cuda_rank() / 32];
  arrive_and_wait(w.barrier, w.live);
}

inline void start_block() {
  Block& b = block();
  b.threads = count(dimensions(::hip::detail::Tile::this_tile()));
  b.live = b.threads;
  b.barrier = {};
  b.warps.assign((b.threads + 31) / 32, Warp{});
  for (unsigned w = 0; w < b.warps.size(); ++w) b.warps[w].live = std::min(32u, b.threads - 32 * w);
  b.done.assign(b.threads, 0);
  // After thread 0 returns, HIP-CPU walks the other fibers once more (see
  // finish_thread); it does so only when it believes a barrier was used.
  ::hip::detail::this_tile::has_barrier = b.threads > 1;
}

// A thread returned from the kernel. It stops counting for barriers, and it
// must not return to HIP-CPU before the whole block has finished: HIP-CPU
// would start the kernel again on a returned fiber. When the last thread
// returns, control goes to thread 0 (the OS thread's own stack), which hands
// back to HIP-CPU; HIP-CPU then resumes fibers 1, 2, ... in turn, each of
// which returns, and the block is over.
inline void finish_thread() {
  Block& b = block();
  const unsigned self = fiber();
  Warp& w = b.warps[cuda_rank() / 32];
  b.done[self] = 1;
  --b.live;
  --w.live;
  ++b.progress;
  release_if_complete(b.barrier, b.live);
  release_if_complete(w.barrier, w.live);
  if (b.live == 0) {
    if (self != 0) switch_to(0);
    return;
  }
  wait_until([&] { return b.live == 0; });
}

template <class... Params, class... Args>
void run_thread(void (*kernel)(Params...), const Args&... args) {
  if (fiber() == 0) start_block();
  kernel(args...);
  finish_thread();
}

// ---- Warps: 32 lanes, CUDA's shuffles -------------------------------------
// Every live lane of the warp publishes its value, waits for the others, reads
// its source lane and waits again so that no slot is overwritten early. A
// source outside the lane's `width` segment, or past the end of the block,
// gives the caller's own value, as CUDA does for out-of-range sources.
template <class T>
T shuffle(T value, int source_lane) {
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>, "shuffle of a scalar");
  Block& b = block();
  const unsigned rank = cuda_rank();
  Warp& w = b.warps[rank / 32];
  std::memcpy(&w.slot[rank % 32], &value, sizeof(T));
  sync_warp();
  T result = value;
  if (source_lane >= 0) {
    const unsigned source = rank / 32 * 32 + static_cast<unsigned>(source_lane);
    if (source < b.threads) std::memcpy(&result, &w.slot[source_lane], sizeof(T));
  }
  sync_warp();
  return result;
}

inline int lane() { return static_cast<int>(cuda_rank() % 32); }

}  // namespace nib::cuda_on_cpu

// Exited lanes are not tracked per shuffle: every kernel in nib shuffles with
// the full mask from converged code, and a lane that returned early leaves a
// stale slot that is read as-is (undefined on the GPU too).
template <class T>
T __shfl_sync(unsigned /*mask*/, T v, int src, int width = 32) {
  const int l = nib::cuda_on_cpu::lane();
  return nib::cuda_on_cpu::shuffle(v, l / width * width + src % width);
}
template <class T>
T __shfl_xor_sync(unsigned /*mask*/, T v, int lane_mask, int width = 32) {
  const int l = nib::cuda_on_cpu::lane(), src = l ^ lane_mask;
  return nib::cuda_on_cpu::shuffle(v, src / width > l / width ? -1 : src);
}
template <class T>
T __shfl_down_sync(unsigned /*mask*/, T v, unsigned delta, int width = 32) {
  const int l = nib::cuda_on_cpu::lane();
  return nib::cuda_on_cpu::shuffle(v, l % width + static_cast<int>(delta) >= width ? -1 : l + static_cast<int>(delta));
}
template <class T>
T __shfl_up_sync(unsigned /*mask*/, T v, unsigned delta, int width = 32) {
  const int l = nib::cuda_on_cpu::lane();
  return nib::cuda_on_cpu::shuffle(v, l % width < static_cast<int>(delta) ? -1 : l - static_cast<int>(delta));
}
inline void __syncwarp(unsigned /*mask*/ = 0xffffffffu) { nib::cuda_on_cpu::sync_warp(); }
#define __syncthreads() ::nib::cuda_on_cpu::sync_block()

[[noreturn]] inline void __trap() {
  std::fprintf(stderr, "cuda_on_cpu: a kernel called __trap() in block (%u, %u, %u), thread (%u, %u, %u)\n",
               static_cast<unsigned>(blockIdx.x), static_cast<unsigned>(blockIdx.y),
               static_cast<unsigned>(blockIdx.z), static_cast<unsigned>(threadIdx.x),
               static_cast<unsigned>(threadIdx.y), static_cast<unsigned>(threadIdx.z));
  std::abort();
}

#include "device/cuda/on_cpu/runtime_stand_in.h"

namespace nib::cuda_on_cpu {

// With NIB_CUDA_ON_CPU_KERNEL_LOG=FILE set, the address of each kernel that
// runs is appended to FILE once, as an offset into its binary that `nm`
// names: tests/cuda_on_cpu/run.sh checks with it that every __global__
// function in nib ran.
inline void log_kernel(const void* kernel) {
  static const char* const path = std::getenv("NIB_CUDA_ON_CPU_KERNEL_LOG");
  if (!path) return;
  static std::mutex mutex;
  static std::set<const void*> seen;
  std::lock_guard<std::mutex> lock(mutex);
  Dl_info info;
  if (!seen.insert(kernel).second || !dladdr(kernel, &info)) return;
  if (FILE* log = std::fopen(path, "a")) {
    std::fprintf(log, "%zx\n", static_cast<size_t>(static_cast<const char*>(kernel) -
                                                    static_cast<const char*>(info.dli_fbase)));
    std::fclose(log);
  }
}

// Runs `kernel` on a grid to completion: HIP-CPU runs the blocks in parallel,
// run_thread gives each thread CUDA's barriers. A configuration the GPU would
// refuse is refused the same way: nothing runs and cudaGetLastError() says
// cudaErrorInvalidConfiguration.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, const Args&... args) {
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  const bool valid = threads >= 1 && threads <= 1024 && block.z <= 64 && grid.x >= 1 && grid.x <= 0x7fffffffu &&
                     grid.y >= 1 && grid.y <= 65535 && grid.z >= 1 && grid.z <= 65535;
  if (!valid) {
    last_error() = cudaErrorInvalidConfiguration;
    return;
  }
  log_kernel(reinterpret_cast<const void*>(kernel));
  ::hip::detail::launch(
      grid, block, 0, nullptr, [kernel](const auto&... xs) { run_thread(kernel, xs...); },
      std::make_tuple(static_cast<std::decay_t<Params>>(args)...));
  hipDeviceSynchronize();
}

}  // namespace nib::cuda_on_cpu
