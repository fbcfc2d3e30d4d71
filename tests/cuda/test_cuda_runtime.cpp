// The CUDA runtime's copies and the caching allocator.
//
// Every test computes the same thing twice: kernels::reference on host
// vectors and nib's CUDA kernels on device buffers holding the same data,
// then compares (helpers: tests/cuda/cuda_helpers.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "device/cuda/allocator.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::random_vector;
using nib::testing::edge_sizes;

// ---- Runtime and allocator ------------------------------------------------------

TEST_CASE("cuda copies round-trip host -> device -> device -> host") {
  for (int64_t n : edge_sizes()) {
    std::vector<float> host = random_vector(static_cast<size_t>(n), 1);
    DeviceBuffer<float> a(host), b(static_cast<size_t>(n));
    nib::cuda::copy(b.get(), a.get(), sizeof(float) * n, nib::cuda::CopyKind::DeviceToDevice);
    CHECK(b.to_host() == host);
  }
}

TEST_CASE("allocator size classes: 512 B steps up to 1 MiB, 2 MiB steps above") {
  using A = nib::cuda::CachingAllocator;
  CHECK(A::round_size(1) == 512);
  CHECK(A::round_size(512) == 512);
  CHECK(A::round_size(513) == 1024);
  CHECK(A::round_size(size_t{1} << 20) == size_t{1} << 20);
  CHECK(A::round_size((size_t{1} << 20) + 1) == size_t{2} << 20);
  CHECK(A::round_size(size_t{5} << 20) == size_t{6} << 20);
}

TEST_CASE("allocator reuses a released block of the same size class") {
  void* first = nib::cuda::allocate(1000);
  nib::cuda::release(first);
  void* second = nib::cuda::allocate(900);  // same 1024-byte class
  CHECK(second == first);
  void* third = nib::cuda::allocate(900);  // the cached block is taken: a new one
  CHECK(third != second);
  nib::cuda::release(second);
  nib::cuda::release(third);
}

TEST_CASE("allocator statistics follow allocations, releases and empty_cache") {
  nib::cuda::empty_cache();
  nib::cuda::MemoryStats before = nib::cuda::memory_stats();
  CHECK(before.cached == 0);
  CHECK(before.device_total > 0);

  const size_t bytes = (size_t{3} << 20) + 5;  // a large request: rounds to 4 MiB
  const size_t rounded = nib::cuda::CachingAllocator::round_size(bytes);
  nib::cuda::reset_peak_memory();
  void* p = nib::cuda::allocate(bytes);
  nib::cuda::MemoryStats held = nib::cuda::memory_stats();
  CHECK(held.in_use == before.in_use + rounded);
  CHECK(held.peak >= held.in_use);

  nib::cuda::release(p);
  nib::cuda::MemoryStats released = nib::cuda::memory_stats();
  CHECK(released.in_use == before.in_use);
  CHECK(released.cached == rounded);
  CHECK(released.peak == held.in_use);  // the peak remembers

  nib::cuda::empty_cache();
  CHECK(nib::cuda::memory_stats().cached == 0);
  nib::cuda::reset_peak_memory();
  CHECK(nib::cuda::memory_stats().peak == nib::cuda::memory_stats().in_use);
}

TEST_CASE("allocator: an impossible request throws a clear out-of-memory error, and memory still works after") {
  const size_t huge = size_t{1} << 50;  // 1 PiB
  std::string message;
  try {
    nib::cuda::allocate(huge);
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("CUDA out of memory: tried to allocate") != std::string::npos);
  CHECK(message.find("in use") != std::string::npos);
  CHECK(message.find("device total") != std::string::npos);

  std::vector<float> host = random_vector(33, 2);  // the failed cudaMalloc left no error behind
  DeviceBuffer<float> d(host);
  CHECK(d.to_host() == host);
}

TEST_CASE("allocator rejects a pointer it did not hand out") {
  int on_the_stack = 0;
  CHECK_THROWS_AS(nib::cuda::release(&on_the_stack), Error);
}
