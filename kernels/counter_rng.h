// A counter-based random number: the same (seed, index) gives the same value
// on the CPU and in a CUDA kernel, with no state to carry between calls.
// SplitMix64's finaliser mixes the pair into 64 well-distributed bits.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define NIB_HOST_DEVICE __host__ __device__
#else
#define NIB_HOST_DEVICE
#endif

namespace nib::kernels {

NIB_HOST_DEVICE inline uint64_t counter_hash(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 24 bits of precision.
NIB_HOST_DEVICE inline float counter_uniform(uint64_t seed, uint64_t index) {
  return static_cast<float>(counter_hash(seed, index) >> 40) * (1.0f / 16777216.0f);
}

}  // namespace nib::kernels
