// Inverted dropout: in training, each element is kept with probability 1 - p
// and scaled by 1/(1 - p), so evaluation needs no rescaling.
//
// Whether element i is kept depends only on (seed, i) through a counter-based
// hash (kernels/counter_rng.h), not on a sequential RNG: the CPU and the GPU
// drop exactly the same elements, and the mask can be recomputed anywhere.
#pragma once

#include <cstdint>

namespace nib::kernels {

// mask[i] = 1 if kept else 0; y = x * mask / (1 - p).
using DropoutForwardFn = void(int64_t n, const float* x, float p, uint64_t seed, uint8_t* mask, float* y);
using DropoutBackwardFn = void(int64_t n, const float* gy, const uint8_t* mask, float p, float* gx);

#define NIB_DECLARE_DROPOUT         \
  DropoutForwardFn dropout_forward; \
  DropoutBackwardFn dropout_backward;

namespace reference { NIB_DECLARE_DROPOUT }
namespace cuda { NIB_DECLARE_DROPOUT }
#undef NIB_DECLARE_DROPOUT

}  // namespace nib::kernels
