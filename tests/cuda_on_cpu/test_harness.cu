// The CUDA-on-CPU harness itself (device/cuda/on_cpu/): the CUDA semantics
// nib's kernels rely on, and proof that it catches the bugs it exists to
// catch. Built only in the CUDA-on-CPU test binary (tests/cuda_on_cpu).
//
// The kernels below are deliberately small; each "broken" one is a copy of a
// correct one with one realistic mistake, and the test asserts that the
// harness computes a wrong result for it. If one of those tests fails, the
// harness has become blind to that kind of bug.
#include <doctest/doctest.h>
#include <mma.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "device/cuda/launch.cuh"
#include "tests/cuda/cuda_helpers.h"
#include "tests/helpers.h"

using nib::kernels::cuda_detail::launch;
using nib::testing::DeviceBuffer;

namespace {

// ---- Kernels that are right ------------------------------------------------

// out[t] = in[(t + 1) % n] through shared memory: needs the barrier between
// every thread's write and its neighbour's read.
__global__ void rotate_kernel(const float* in, float* out) {
  __shared__ float s[1024];
  const unsigned t = threadIdx.x, n = blockDim.x;
  s[t] = in[blockIdx.x * n + t];
  __syncthreads();
  out[blockIdx.x * n + t] = s[(t + 1) % n];
}

// Threads past `active` return at once; the others sum through shared memory
// with a barrier per halving step, as CUDA allows after an early return.
__global__ void early_return_sum_kernel(const float* in, int active, float* out) {
  __shared__ float s[256];
  const int t = threadIdx.x;
  if (t >= active) return;
  s[t] = in[t];
  for (int stride = 128; stride > 0; stride /= 2) {
    __syncthreads();
    if (t < stride && t + stride < active) s[t] += s[t + stride];
  }
  if (t == 0) *out = s[0];
}

// Per warp: the butterfly sum (xor), the sum gathered at lane 0 (down), an
// inclusive scan (up) and a broadcast of lane 5 (sync). Blocks are 2-D, so
// lanes are numbered x fastest, as in CUDA.
__global__ void warp_ops_kernel(const float* in, float* xor_sum, float* down_sum, float* scan, float* broadcast) {
  const unsigned t = threadIdx.x + blockDim.x * threadIdx.y;
  const float v = in[t];
  float x = v;
  for (int offset = 16; offset > 0; offset /= 2) x += __shfl_xor_sync(0xffffffffu, x, offset);
  float d = v;
  for (int offset = 16; offset > 0; offset /= 2) d += __shfl_down_sync(0xffffffffu, d, offset);
  float s = v;
  for (int offset = 1; offset < 32; offset *= 2) {
    const float up = __shfl_up_sync(0xffffffffu, s, offset);
    if (t % 32 >= static_cast<unsigned>(offset)) s += up;
  }
  xor_sum[t] = x;
  if (t % 32 == 0) down_sum[t / 32] = d;
  scan[t] = s;
  broadcast[t] = __shfl_sync(0xffffffffu, v, 5);
}

// Only warp 0 shuffles, after the other warps have finished: the pattern
// HIP-CPU's own yield-only shuffles get wrong.
__global__ void warp0_reduces_kernel(const float* in, float* out) {
  __shared__ float partial[32];
  const int t = threadIdx.x, lane = t % 32, warp = t / 32;
  float v = in[t];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp != 0) return;
  v = lane < static_cast<int>(blockDim.x / 32) ? partial[lane] : 0.0f;
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  if (lane == 0) *out = v;
}

__global__ void count_kernel(float* counter) { atomicAdd(counter, 1.0f); }

// ---- The same kernels, broken ----------------------------------------------

__global__ void rotate_without_barrier_kernel(const float* in, float* out) {
  __shared__ float s[1024];
  const unsigned t = threadIdx.x, n = blockDim.x;
  s[t] = in[blockIdx.x * n + t];
  // BUG: no __syncthreads(); the neighbour may not have written s[t + 1] yet.
  out[blockIdx.x * n + t] = s[(t + 1) % n];
}

__global__ void warp_sum_from_offset_8_kernel(const float* in, float* out) {
  const unsigned t = threadIdx.x;
  float v = in[t];
  for (int offset = 8; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);  // BUG: 16 first
  out[t] = v;
}

// Each lane writes its value to a per-warp scratch row, then reads its
// neighbour's: needs __syncwarp between the two.
__global__ void warp_exchange_kernel(const float* in, float* out, bool with_syncwarp) {
  __shared__ float scratch[32];
  const unsigned lane = threadIdx.x;
  scratch[lane] = in[lane];
  if (with_syncwarp) __syncwarp();  // BUG when false
  out[lane] = scratch[(lane + 1) % 32];
}

std::vector<float> iota(size_t n, float start) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

std::vector<float> rotated(const std::vector<float>& v, size_t block) {
  std::vector<float> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = v[i / block * block + (i % block + 1) % block];
  return r;
}

}  // namespace

TEST_CASE("cuda_on_cpu: the simulated device is an H200, so grid sizes take their GPU paths") {
  const cudaDeviceProp& p = nib::cuda::properties();
  CHECK(p.multiProcessorCount == 132);
  CHECK(p.major == 9);
  CHECK(p.minor == 0);
}

TEST_CASE("cuda_on_cpu: __syncthreads makes every thread wait, in every block") {
  const size_t threads = 96, blocks = 5;
  DeviceBuffer<float> in(iota(threads * blocks, 1.0f)), out(threads * blocks);
  launch(rotate_kernel, blocks, threads, in.get(), out.get());
  CHECK(out.to_host() == rotated(iota(threads * blocks, 1.0f), threads));
}

TEST_CASE("cuda_on_cpu: threads that return early no longer count at barriers") {
  DeviceBuffer<float> in(iota(256, 1.0f)), out(1);
  for (int active : {1, 37, 100, 256}) {
    CAPTURE(active);
    launch(early_return_sum_kernel, 1, 256, in.get(), active, out.get());
    CHECK(out.to_host()[0] == static_cast<float>(active * (active + 1) / 2));
  }
}

TEST_CASE("cuda_on_cpu: warps have 32 lanes numbered x fastest, with CUDA's shuffles") {
  const size_t n = 128;  // a 16 x 8 block: four warps of two rows each
  const std::vector<float> values = iota(n, 0.0f);
  DeviceBuffer<float> in(values), xor_sum(n), down_sum(n / 32), scan(n), broadcast(n);
  launch(warp_ops_kernel, 1, dim3(16, 8), in.get(), xor_sum.get(), down_sum.get(), scan.get(), broadcast.get());
  std::vector<float> want_sum(n), want_scan(n), want_broadcast(n);
  for (size_t t = 0; t < n; ++t) {
    const size_t first = t / 32 * 32;
    want_sum[t] = 0;
    for (size_t l = first; l < first + 32; ++l) want_sum[t] += values[l];
    want_scan[t] = 0;
    for (size_t l = first; l <= t; ++l) want_scan[t] += values[l];
    want_broadcast[t] = values[first + 5];
  }
  CHECK(xor_sum.to_host() == want_sum);
  const std::vector<float> down = down_sum.to_host();
  for (size_t w = 0; w < n / 32; ++w) CHECK(down[w] == want_sum[w * 32]);
  CHECK(scan.to_host() == want_scan);
  CHECK(broadcast.to_host() == want_broadcast);
}

TEST_CASE("cuda_on_cpu: one warp shuffles on after the other warps have returned") {
  DeviceBuffer<float> in(iota(256, 1.0f)), out(1);
  launch(warp0_reduces_kernel, 1, 256, in.get(), out.get());
  CHECK(out.to_host()[0] == 256.0f * 257.0f / 2.0f);
}

TEST_CASE("cuda_on_cpu: blocks run concurrently and atomics add up") {
  DeviceBuffer<float> counter(std::vector<float>{0.0f});
  launch(count_kernel, 300, 64, counter.get());
  CHECK(counter.to_host()[0] == 300.0f * 64.0f);
}

TEST_CASE("cuda_on_cpu: a launch the GPU would refuse is refused with a clear error") {
  DeviceBuffer<float> counter(1);
  const std::string error = nib::testing::error_of([&] { launch(count_kernel, 1, 1025, counter.get()); });
  CHECK(error.find("invalid configuration argument") != std::string::npos);
  CHECK(error.find("cudaErrorInvalidConfiguration") != std::string::npos);
}

TEST_CASE("cuda_on_cpu: __float_to_tf32 rounds to nearest with ties away from zero, keeping 10 mantissa bits") {
  using nvcuda::wmma::__float_to_tf32;
  const float ulp = 1.0f / 1024;  // TF32's spacing just above 1
  CHECK(__float_to_tf32(1.0f + ulp) == 1.0f + ulp);
  CHECK(__float_to_tf32(1.0f + ulp / 4) == 1.0f);
  CHECK(__float_to_tf32(1.0f + ulp * 3 / 4) == 1.0f + ulp);
  CHECK(__float_to_tf32(1.0f + ulp / 2) == 1.0f + ulp);  // a tie: away from zero
  CHECK(__float_to_tf32(-1.0f - ulp / 2) == -1.0f - ulp);
  CHECK(std::isinf(__float_to_tf32(INFINITY)));
  CHECK(std::isnan(__float_to_tf32(NAN)));
}

// ---- It catches bugs ---------------------------------------------------------

TEST_CASE("cuda_on_cpu catches a missing __syncthreads") {
  const size_t threads = 64;
  // The first launch leaves other values in shared memory than the second
  // stores, so stale reads cannot come out right by luck.
  DeviceBuffer<float> first(iota(threads, 1000.0f)), in(iota(threads, 1.0f)), out(threads);
  launch(rotate_kernel, 1, threads, first.get(), out.get());
  launch(rotate_without_barrier_kernel, 1, threads, in.get(), out.get());
  CHECK(out.to_host() != rotated(iota(threads, 1.0f), threads));
}

TEST_CASE("cuda_on_cpu catches a warp reduction that starts at the wrong offset") {
  DeviceBuffer<float> in(iota(32, 1.0f)), out(32);
  launch(warp_sum_from_offset_8_kernel, 1, 32, in.get(), out.get());
  const std::vector<float> sums = out.to_host();
  CHECK(sums[0] != 32.0f * 33.0f / 2.0f);  // lanes 0-15 only: 136, not 528
  CHECK(sums[0] == 16.0f * 17.0f / 2.0f);
}

TEST_CASE("cuda_on_cpu catches a missing __syncwarp") {
  DeviceBuffer<float> first(iota(32, 1000.0f)), in(iota(32, 1.0f)), out(32);
  const std::vector<float> want = rotated(iota(32, 1.0f), 32);
  launch(warp_exchange_kernel, 1, 32, first.get(), out.get(), true);
  launch(warp_exchange_kernel, 1, 32, in.get(), out.get(), true);
  CHECK(out.to_host() == want);
  launch(warp_exchange_kernel, 1, 32, first.get(), out.get(), true);
  launch(warp_exchange_kernel, 1, 32, in.get(), out.get(), false);
  CHECK(out.to_host() != want);
}
